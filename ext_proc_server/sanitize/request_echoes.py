"""Names the rest of the exchange revealed, in the request read before them.

The request is read first (its query before its body), so a name its own fields do
not mark, one only the answer's ``"name": "…"`` or the request's body says is a
person's, went out in the request's query (``?q=Zuleica Brandemburgo``) or prose
(``"nota": "cadastro de Zuleica Brandemburgo conferido"``). Once the whole exchange is
read, each name it replaced is looked for again in the request's query values and
text body, as a body's echoes are (echoed_names).
"""

from __future__ import annotations

from ext_proc_server.core.exchange import HttpRequest, evolve, get_header
from ext_proc_server.sanitize import media
from ext_proc_server.sanitize.changed_places import changed_places
from ext_proc_server.sanitize.echoed_names import replace_echoed
from ext_proc_server.sanitize.run import Run

_WHERE = "request"
# Bodies whose names are written with spaces: a form's or a multipart's are encoded.
_ENCODED = ("application/x-www-form-urlencoded", "multipart/")
_READ = (media.TEXT, media.UNKNOWN)  # an unknown type's body is text if it decodes


def echo_in_request(run: Run, request: HttpRequest) -> HttpRequest:
    """``request``, already sanitized, with the names ``run`` replaced anywhere in the
    exchange replaced in its query values and its UTF-8 text body too."""
    if not run.names_seen:  # most exchanges: no name replaced
        return request
    changes: dict[str, object] = {}
    query = _query(run, request.query)
    if query is not None:
        changes["query"] = query
    body = _body(run, request)
    if body is not None:
        changes["body"] = body
    return evolve(request, changes) if changes else request


def _query(run: Run, pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...] | None:
    out = []
    changed = False
    for name, value in pairs:
        fresh = replace_echoed(run, value)
        if fresh is not value:
            changed = True
            run.locations.add(f"{_WHERE}.query.{name}")
        out.append((name, fresh))
    return tuple(out) if changed else None


def _body(run: Run, request: HttpRequest) -> bytes | None:
    if not request.body or request.body_dropped:
        return None
    media_type = (get_header(request.headers, "content-type") or "").split(";", 1)[0]
    media_type = media_type.strip().lower()
    if media_type.startswith(_ENCODED) or media.media_kind(media_type) not in _READ:
        return None
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return None  # another charset: left as the body's own reading wrote it
    fresh = replace_echoed(run, text)
    if fresh is text:
        return None
    where = f"{_WHERE}.body"
    run.locations.update(changed_places(text, fresh, content_type=media_type, where=where))
    return fresh.encode("utf-8")
