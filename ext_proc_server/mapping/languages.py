"""A response in a language chosen by the request's ``Accept-Language``, without
``Vary: Accept-Language``.

Spring MVC resolves the locale from ``Accept-Language`` and sets the answer's
``Content-Language`` (the servlet container writes it from the response's locale), and
names neither in ``Vary``; so do many hand-written i18n handlers. One stub held the
Portuguese and the English answer of a path, and the one recorded last answered both. So an
answer that states its language (``Content-Language``) is taken as chosen by the request's
``Accept-Language``, as a ``Vary`` naming it would say: its stub matches the values as sent,
and, when the request sent none, only requests that send none (the server's default
language). Sent values join the request's key (each language its own stub); a request that
sent none keeps the key and the stub id it had. An answer that varies on
``Accept-Language`` already keeps its ``Vary`` matcher.
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.core.exchange import Exchange

ACCEPT_LANGUAGE_HEADER = "accept-language"
_CONTENT_LANGUAGE = "content-language"
_REDACTED = f"request.header.{ACCEPT_LANGUAGE_HEADER}"


def chosen_languages(
    exchange: Exchange, varied_names: frozenset[str], hole: Any
) -> tuple[Any, ...] | None:
    """The request's ``Accept-Language`` values as sent (a sanitized one as ``hole``; ()
    when it sent none) when its answer states a language and does not vary on
    ``Accept-Language``, else None."""
    response = exchange.response
    if response is None or ACCEPT_LANGUAGE_HEADER in varied_names:
        return None
    for name, value in response.headers:
        if name.lower() == _CONTENT_LANGUAGE and value.strip():
            break
    else:
        return None
    sent = tuple(
        value for key, value in exchange.request.headers if key.lower() == ACCEPT_LANGUAGE_HEADER
    )
    return tuple(hole for _ in sent) if sent and _REDACTED in exchange.redactions else sent
