"""Request headers an answer shows it was chosen by, though no ``Vary`` names them.

* ``Accept-Language``, to an answer that states its language (``Content-Language``).
  Spring MVC resolves the locale from ``Accept-Language`` and the servlet container writes
  ``Content-Language`` from it, naming neither in ``Vary``; so do many hand-written i18n
  handlers. One stub held the Portuguese and the English answer of a path, and the one
  recorded last answered both.
* ``Last-Event-ID``, to an event stream (``text/event-stream``). A client that lost its
  connection reconnects with the id of the last event it read, and the server resumes
  after it (the HTML Living Standard's EventSource; ``sse-starlette``, Spring's
  ``SseEmitter`` handlers, Mercure). The stub of the first connection served the whole
  stream again to the reconnection: every event read twice.

Each is matched as sent, and, when the request sent none, only by requests that send none
(the server's default language, a first connection), as a ``Vary`` naming it would say.
Sent values join the request's key (each language its own stub); a request that sent none
keeps the key and the stub id it had. An answer that varies on the header already keeps its
``Vary`` matcher.
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.core.exchange import Exchange

ACCEPT_LANGUAGE_HEADER = "accept-language"
LAST_EVENT_ID_HEADER = "last-event-id"
EVENT_STREAM = "text/event-stream"


def answer_choices(
    exchange: Exchange, varied_names: frozenset[str], hole: Any
) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """Each header the answer shows it was chosen by and does not vary on, sorted by
    name, with the request's values as sent (a sanitized one as ``hole``; (): none sent)."""
    response = exchange.response
    if response is None:
        return ()
    names = []
    for name, value in response.headers:
        lower = name.lower()
        if lower == "content-language" and value.strip():
            names.append(ACCEPT_LANGUAGE_HEADER)
        elif lower == "content-type" and value.split(";", 1)[0].strip().lower() == EVENT_STREAM:
            names.append(LAST_EVENT_ID_HEADER)
    if not names:
        return ()
    request, redactions = exchange.request, exchange.redactions
    chosen = []
    for name in sorted(set(names) - varied_names):
        sent = tuple(value for key, value in request.headers if key.lower() == name)
        if sent and f"request.header.{name}" in redactions:
            sent = tuple(hole for _ in sent)
        chosen.append((name, sent))
    return tuple(chosen)
