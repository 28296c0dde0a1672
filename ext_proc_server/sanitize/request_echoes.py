"""Names the rest of the exchange revealed, in the request read before them.

The request is read first (its path, query and body before the answer), so a name its
own fields do not mark, one only the answer's ``"name": "…"`` or the request's body
says is a person's, went out in the request's query (``?q=Zuleica Brandemburgo``),
path (``/clientes/zuleica-brandemburgo``), form (``busca=Zuleica+Brandemburgo``),
multipart field or prose (``"nota": "cadastro de Zuleica Brandemburgo conferido"``).
Once the whole exchange is read, each name it replaced is looked for again in the
request's path segments, query values, form values, multipart fields and text body, as
a body's echoes are (echoed_names).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, unquote_plus

from ext_proc_server.core.exchange import HttpRequest, evolve, get_header
from ext_proc_server.sanitize import media
from ext_proc_server.sanitize.changed_places import changed_places
from ext_proc_server.sanitize.echoed_names import replace_echoed
from ext_proc_server.sanitize.run import Run, encode_query_value
from ext_proc_server.sanitize.wordlists import fold

_WHERE = "request"
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/"
_READ = (media.TEXT, media.UNKNOWN)  # an unknown type's body is text if it decodes
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_TYPE = re.compile(r"^content-type:\s*([^;\r\n]+)", re.IGNORECASE | re.MULTILINE)
# A slug's words: "zuleica-brandemburgo", "Zuleica_Brandemburgo", "zuleica.brandemburgo".
_SLUG_SEPARATOR = re.compile(r"[-._+ ]")
_PATH_SAFE = "!$&'()*+,;=:@~"


def echo_in_request(run: Run, request: HttpRequest) -> HttpRequest:
    """``request``, already sanitized, with the names ``run`` replaced anywhere in the
    exchange replaced in its query values and its UTF-8 text body too."""
    if not run.names_seen:  # most exchanges: no name replaced
        return request
    changes: dict[str, object] = {}
    path = _path(run, request.path)
    if path is not None:
        changes["path"] = path
    query = _query(run, request.query)
    if query is not None:
        changes["query"] = query
    body = _body(run, request)
    if body is not None:
        changes["body"] = body
    return evolve(request, changes) if changes else request


def _path(run: Run, path: str) -> str | None:
    """``path`` with each segment that is a replaced name, written as a slug
    (``/clientes/zuleica-brandemburgo``) or encoded (``Zuleica%20Brandemburgo``),
    replaced in the same writing; None when none is."""
    names = {tuple(fold(name).split()) for name in run.names_seen if " " in name.strip()}
    leading = path.startswith("/")
    segments = (path[1:] if leading else path).split("/")
    changed = False
    for i, segment in enumerate(segments):
        if not _SLUG_SEPARATOR.search(segment) and "%" not in segment:
            continue  # one word: "orders", "123"
        try:
            decoded = unquote(segment, errors="strict")
        except UnicodeDecodeError:
            continue
        separators = _SLUG_SEPARATOR.findall(decoded)
        words = tuple(_SLUG_SEPARATOR.split(fold(decoded)))
        if words not in names or len(set(separators)) != 1:
            continue
        fresh = run.replace("name", " ".join(_SLUG_SEPARATOR.split(decoded)))
        fresh = fresh.replace(" ", separators[0])
        segments[i] = fresh if fresh == quote(fresh, safe=_PATH_SAFE) else quote(fresh, safe="")
        changed = True
        run.locations.add(f"{_WHERE}.path.{i}")
    return ("/" if leading else "") + "/".join(segments) if changed else None


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
    header = get_header(request.headers, "content-type") or ""
    media_type = header.split(";", 1)[0].strip().lower()
    if media_type == _FORM:
        return _form(run, request.body)
    if media_type.startswith(_MULTIPART):
        return _multipart(run, request.body, header)
    if media.media_kind(media_type) not in _READ:
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


def _form(run: Run, body: bytes) -> bytes | None:
    try:
        text = body.decode("ascii")  # a form is percent-encoded: anything else is not one
    except UnicodeDecodeError:
        return None
    fresh = echo_in_form(run, text, f"{_WHERE}.body")
    return None if fresh is text else fresh.encode("ascii")


def echo_in_form(run: Run, text: str, where: str) -> str:
    """A form's values with the names ``run`` replaced, each decoded
    (``Zuleica+Brandemburgo``) and encoded again as it came; ``text`` itself when no
    name is in it. ``where``: the body's location (``request.body``)."""
    if not run.names_seen:
        return text
    fields = text.split("&")
    changed = False
    for i, field in enumerate(fields):
        name, eq, raw = field.partition("=")
        if not eq or not raw:
            continue
        value = unquote_plus(raw, errors="surrogateescape")
        fresh = replace_echoed(run, value)
        if fresh is value:
            continue
        fields[i] = f"{name}={encode_query_value(raw, fresh)}"
        changed = True
        run.locations.add(f"{where}.form.{unquote_plus(name)}")
    return "&".join(fields) if changed else text


def _multipart(run: Run, body: bytes, header: str) -> bytes | None:
    """A multipart's text parts (a field, an uploaded text file): each part's content
    read for the names; its headers and other parts' bytes stay as they came."""
    found = _BOUNDARY.search(header)
    if not found:
        return None
    # Bytes that are not UTF-8 (a file) read as surrogates and are written back as such.
    text = body.decode("utf-8", "surrogateescape")
    delimiter = "--" + found.group(1).strip()
    pieces = text.split(delimiter)
    changed = False
    for i, piece in enumerate(pieces[1:], start=1):
        head_end = piece.find("\r\n\r\n")
        head_end = head_end + 4 if head_end >= 0 else piece.find("\n\n") + 2
        if head_end < 2 or piece.startswith("--"):
            continue
        kind = _PART_TYPE.search(piece[:head_end])
        if kind and media.media_kind(kind.group(1).strip().lower()) not in _READ:
            continue  # an image, a PDF: its bytes are no text to read
        content = piece[head_end:]
        fresh = replace_echoed(run, content)
        if fresh is not content:
            pieces[i] = piece[:head_end] + fresh
            changed = True
    if not changed:
        return None
    run.locations.add(f"{_WHERE}.body")
    return delimiter.join(pieces).encode("utf-8", "surrogateescape")
