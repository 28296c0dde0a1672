"""Structure-aware walkers: form, multipart, XML, query, path, headers (JSON: json_body).

Each decodes before matching, replaces only the sensitive value in place and leaves
every other byte as it was.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable
from itertools import compress
from typing import NamedTuple
from urllib.parse import quote_plus, unquote_plus

from ext_proc_server.sanitize import (
    base64_json,
    base64_text,
    cpf_or_cnpj,
    devalue,
    geo,
    ip_addresses,
    js_literals,
    js_strings,
    key_lines,
)
from ext_proc_server.sanitize.challenges import CHALLENGE_HEADERS, sanitize_challenge
from ext_proc_server.sanitize.client_certs import CLIENT_CERT_HEADER, sanitize_client_cert
from ext_proc_server.sanitize.delimited import DELIMITED_TYPES, outside, sanitize_delimited
from ext_proc_server.sanitize.detectors import is_jwt
from ext_proc_server.sanitize.fields import (
    PROSE,
    FieldRules,
    flat_classes,
    resolved,
)
from ext_proc_server.sanitize.file_names import replace_file_names
from ext_proc_server.sanitize.form_text import encoded_name_hits
from ext_proc_server.sanitize.forms import checked, record_classes, unquote_lenient, url_document
from ext_proc_server.sanitize.free_text_names import name_hits
from ext_proc_server.sanitize.graphql_requests import Request, bound_variables, fields_request
from ext_proc_server.sanitize.hits import resolve
from ext_proc_server.sanitize.html_pages import page_hits
from ext_proc_server.sanitize.html_scripts import json_spans
from ext_proc_server.sanitize.identifier_names import kept_barcode
from ext_proc_server.sanitize.json_body import nested_json, sanitize_json
from ext_proc_server.sanitize.layered_values import sanitize_layers
from ext_proc_server.sanitize.run import (
    SURROGATE,
    Run,
    encode_query_value,
    is_token,
)
from ext_proc_server.sanitize.secret_keys import header_class
from ext_proc_server.sanitize.url_names import (
    PEOPLE_SEGMENTS,
    may_join_words,
    replace_written_name,
)
from ext_proc_server.sanitize.urls import scrub_with_urls, url_hits, with_url_fields
from ext_proc_server.sanitize.user_headers import names_person, spelled_out
from ext_proc_server.sanitize.xml_fields import find_xml_fields
from ext_proc_server.sanitize.xml_structure import outside_structure, scrub_keeping_structure

_PATH_SAFE = "!$&'()*+,;=:@~"
# -- multipart, text -------------------------------------------------------------


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(r'\bname="([^"]*)"', re.IGNORECASE)
_PART_TYPE = re.compile(r"^content-type:\s*([^;\r\n]+)", re.IGNORECASE | re.MULTILINE)


def _is_prose(classes: dict[str, str], name_match: re.Match[str] | None) -> bool:
    """Whether a part is a free-text field (``name="observacao"``)."""
    return name_match is not None and classes.get(name_match.group(1)) is PROSE


def sanitize_multipart(run: Run, text: str, content_type_header: str, where: str) -> str | None:
    """Each part by its own name and type; None when the boundary is missing."""
    found = _BOUNDARY.search(content_type_header)
    if not found:
        return None
    delimiter = "--" + found.group(1).strip()
    pieces = text.split(delimiter)
    if len(pieces) < 3:
        return None
    out = [run.scrub(pieces[0])]
    parts = [_part(piece) for piece in pieces[1:]]
    classes = _part_classes(text, parts, run.scanner.field_rules)
    for piece, part in zip(pieces[1:], parts, strict=True):
        if part is None:  # the closing delimiter and the epilogue, or no head
            out.append(run.scrub(piece))
            continue
        head, split_at, gap, body, tail = part
        name_match = _PART_NAME.search(head)
        cls = checked(classes.get(name_match.group(1)), body) if name_match else None
        part_type = _PART_TYPE.search(head)
        if cls is not None and body and not is_token(body):
            fresh = run.whole(resolved(cls), body)
        elif name_match and kept_barcode(name_match.group(1), body):
            fresh = body  # name="ean": a product's GTIN, kept as the query's is
        elif _is_prose(classes, name_match) and (names := name_hits(body)):
            fresh = run.scrub(body, resolve([*run.scanner.find(body), *names]))  # its names
        elif part_type and _is_json_type(part_type.group(1).strip().lower()):
            part_run = run.child()  # its JSON pointers are relative to the part: not kept
            fresh = sanitize_json(part_run, body, where)
            if fresh is None:
                fresh = run.scrub(body)
            else:
                run.add_counts(part_run.counts)
        elif _is_table(head, part_type) and (table := sanitize_delimited(run, body)) is not None:
            fresh = table  # an uploaded CSV: its columns read by their header
        elif (
            _is_key_lines(head, part_type, body)
            and (lines := key_lines.sanitize_key_lines(run, body)) is not None
        ):
            fresh = lines  # an uploaded vCard, calendar, YAML...: values read by key
        else:
            fresh = nested_json(run, body)
            if fresh is None:
                fresh = run.scrub(body)
        head = replace_file_names(run, run.scrub(head))  # filename="cv-maria-souza.pdf"
        out.append(head + piece[split_at : split_at + gap] + fresh + tail)
    result = delimiter.join(out)
    if result != text:
        run.locations.add(where)
    return result


class _Part(NamedTuple):
    head: str
    split_at: int  # where the blank line after the head starts
    gap: int  # its length
    body: str
    tail: str  # the line break before the next delimiter


def _part(piece: str) -> _Part | None:
    """A part's head and body; None for the closing delimiter (and the epilogue) or a
    piece without a blank line after its head."""
    if piece.startswith("--"):
        return None
    split_at, gap = piece.find("\r\n\r\n"), 4
    if split_at < 0:
        split_at, gap = piece.find("\n\n"), 2
    if split_at < 0:
        return None
    content = piece[split_at + gap :]
    for ending in ("\r\n", "\n"):
        if content.endswith(ending):
            return _Part(piece[:split_at], split_at, gap, content[: -len(ending)], ending)
    return _Part(piece[:split_at], split_at, gap, content, "")


def _part_classes(text: str, parts: list[_Part | None], rules: FieldRules) -> dict[str, str]:
    """Classes of the parts' names, read as a form's fields: a ``cpfCnpj`` part holding
    a CPF makes the record a person's (cpf_or_cnpj), as a ``cpf`` part does."""
    names = tuple(m.group(1) for m in _PART_NAME.finditer(text))
    if not cpf_or_cnpj.either_at(names):
        return flat_classes(names, rules)
    bodies: dict[str, str] = {}
    for part in parts:
        named = None if part is None else _PART_NAME.search(part.head)
        if part is not None and named is not None:
            bodies.setdefault(named.group(1), part.body)
    return flat_classes(cpf_or_cnpj.marked_names(names, lambda i: bodies.get(names[i], "")), rules)


_FILE_NAME = re.compile(r'\bfilename="[^"]*\.(?:csv|tsv)"', re.IGNORECASE)


def _is_table(head: str, part_type: re.Match[str] | None) -> bool:
    """A part holding a CSV or TSV file, by its type or its file name."""
    if part_type is not None and part_type.group(1).strip().lower() in DELIMITED_TYPES:
        return True
    return _FILE_NAME.search(head) is not None


_KEY_LINES_FILE = re.compile(
    r'\bfilename="[^"]*\.(?:vcf|vcard|ics|ldif|ya?ml|toml|properties)"', re.IGNORECASE
)


def _is_key_lines(head: str, part_type: re.Match[str] | None, body: str) -> bool:
    """A part holding key lines (a vCard, a calendar, YAML...), by its type, its file
    name or its first lines."""
    media_type = part_type.group(1).strip().lower() if part_type else "text/plain"
    return key_lines.is_key_lines(media_type, body) or _KEY_LINES_FILE.search(head) is not None


def _is_json_type(content_type: str) -> bool:
    return content_type.endswith(("/json", "+json")) or content_type == "application/x-ndjson"


def sanitize_xml(run: Run, text: str) -> str:
    """XML (or text that may be): every detector, and personal elements by name."""
    if ("<script" in text or "<SCRIPT" in text) and _HOLE not in text:
        spans = json_spans(text)  # JSON scripts, and JSON a script assigns
        if spans:
            return _with_json_scripts(run, text, spans)
    return _sanitize_markup(run, text)


# HTML values named by a label (<dt>, <th>), not by their element's name.
_LABELLED = re.compile(r"<(?:dd|td)\b", re.IGNORECASE)
_HOLE = "\x00"  # no text read holds one (charsets drops such bodies)


def _labelled(text: str) -> bool:
    """Whether markup may hold a <dd> or <td> (C finds first: most texts hold none)."""
    return ("<d" in text or "<t" in text or "<D" in text or "<T" in text) and bool(
        _LABELLED.search(text)
    )


def _with_json_scripts(run: Run, text: str, spans: list[tuple[int, int]]) -> str:
    """Each script's document edited as one (its keys name its values); the rest of
    the page, with a hole where each document was, as any markup."""
    bounds = [0, *(bound for span in spans for bound in span), len(text)]
    outside = [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    # A user's pattern matching across a hole would merge two pieces: zip then raises
    # and the body is dropped, as on any failure.
    pieces = _sanitize_markup(run, _HOLE.join(outside)).split(_HOLE)
    out = [pieces[0]]
    for (start, end), after in zip(spans, pieces[1:], strict=True):
        content = text[start:end]
        if devalue.is_payload(content):  # Nuxt 3's state: values under indexes
            document = devalue.sanitize_payload(run, content)
        elif js_strings.is_literal(content):  # JSON.parse('{"cliente": ...}')
            document = js_strings.sanitize_parsed(run, content)
        else:
            document = nested_json(run, content)
        if document is None:  # a JavaScript literal, or Nuxt 2's state
            document = js_literals.sanitize_literal(run, content)
        out.append(run.scrub(content) if document is None else document)
        out.append(after)
    return "".join(out)


def _sanitize_markup(run: Run, text: str) -> str:
    hits, key_seen = run.scanner.find_with_keys(text)
    if "<" in text and (key_seen or _labelled(text)):
        named = find_xml_fields(text, run.scanner.field_rules)
        if named:
            # An element named for its value is replaced whole: a free-text finding
            # inside it (an address's first line) would win and keep the rest.
            named = resolve(named)
            hits = resolve([*outside(hits, named), *named])
    if "<" in text and (in_page := page_hits(run, text)):  # "Olá, Maria Souza", "Nome: …"
        hits = resolve([*hits, *in_page])
    in_urls = url_hits(run, text)  # href="...?nome=...", href="/clientes/maria-souza"
    if in_urls:
        hits = with_url_fields(hits, in_urls)
    return scrub_keeping_structure(run, text, outside_structure(text, hits))  # xmlns="…ana@x.com"


# -- request line and headers --------------------------------------------------------


def sanitize_path(run: Run, path: str, where: str) -> str:
    plain = not run.scanner.has_custom
    if (
        plain
        and INERT_PATH.fullmatch(path)
        and not may_join_words(path)
        and not base64_json.may_hold(path)
    ) or run.scanner.known_clean(("path", path)):
        return path
    leading = path.startswith("/")
    segments = (path[1:] if leading else path).split("/")
    changed = False
    for i, segment in enumerate(segments):
        if not segment:
            continue
        people = i > 0 and segments[i - 1].lower() in PEOPLE_SEGMENTS
        named = replace_written_name(
            run, segment, plus=False, people=people
        )  # /clientes/joao-da-silva
        if named is not None:
            fresh = named
        elif plain and INERT_VALUE.fullmatch(segment) and not base64_json.may_hold(segment):
            continue
        elif SURROGATE.search(segment):
            fresh = run.replace("api_key", segment)
        else:
            fresh = run.scrub_url_value(segment, plus=False, safe=_PATH_SAFE)
            fresh = base64_json.rewrap(run, fresh)  # /sessions/eyJ...
        if fresh != segment:
            segments[i] = fresh
            changed = True
            run.locations.add(f"{where}.path.{i}")
    if not changed:
        run.scanner.remember_clean(("path", path))
        return path
    return ("/" if leading else "") + "/".join(segments)


def sanitize_query(
    run: Run, pairs: tuple[tuple[str, str], ...], where: str
) -> tuple[tuple[str, str], ...]:
    if not pairs:
        return pairs
    out = []
    changed = False
    plain = not run.scanner.has_custom
    names = [unquote_plus(name) if "%" in name or "+" in name else name for name, _ in pairs]
    classes = record_classes(run.scanner.field_rules, tuple(names), lambda i: pairs[i][1])
    coordinates = geo.coarsen_pairs(run, names, lambda i: pairs[i][1])
    graphql = fields_request(names, lambda i: unquote_lenient(pairs[i][1]))  # ?variables=
    for i, ((name, value), decoded_name) in enumerate(zip(pairs, names, strict=True)):
        layered = (  # ?nome=Maria%2520Souza: encoded twice ("%25", a C search, first)
            sanitize_layers(run, value, lambda inner, n=name: _query_layer(run, n, inner, where))
            if "%25" in value
            else None
        )
        if layered is not None:
            if layered != value:
                changed = True
                run.locations.add(f"{where}.query.{name}")
            out.append((name, layered))
            continue
        inert = plain and decoded_name not in classes and INERT_VALUE.fullmatch(value)
        if (
            inert
            and not may_join_words(value)
            and i not in coordinates
            and not base64_json.may_hold(value)
        ):
            fresh = base64_text.rewrap_value(run, value)  # base64url of text, no digit
            if fresh != value:
                changed = True
                run.locations.add(f"{where}.query.{name}")
            out.append((name, fresh))  # page=2, size=20: nothing to find, nothing to decode
            continue
        decoded = unquote_lenient(value)
        cls = checked(classes.get(decoded_name), decoded)
        if i in coordinates:
            fresh = coordinates[i]  # ?lat=-23.561414 -> -23.56
        elif SURROGATE.search(value):
            fresh = run.replace("api_key", value)
        elif cls is not None:
            keep = not decoded or is_token(decoded)  # else a pseudonym is encoded again
            fresh = value if keep else encode_query_value(value, run.whole(resolved(cls), decoded))
        elif (named := _named_value(run, value, classes.get(decoded_name))) is not None:
            fresh = named
        elif inert or kept_barcode(decoded_name, decoded):
            fresh = value  # sort=created-at: no name; ?ean=<a GTIN>: a product's, kept
        else:
            fresh = _document_value(run, value, graphql if decoded_name == "variables" else None)
            fresh = base64_json.rewrap(run, fresh)  # ?state=eyJ... (OAuth, cursors)
            if fresh == value:  # ?state=<base64url of text>, ?SAMLRequest=<deflated XML>
                fresh = base64_text.rewrap_value(run, value, decoded_name.lower())
        if fresh != value:
            changed = True
            run.locations.add(f"{where}.query.{name}")
        out.append((name, fresh))
    return tuple(out) if changed else pairs


def _document_value(run: Run, value: str, request: Request | None) -> str:
    """A query value, read as the JSON document it may hold, as captured (decoded) or
    still percent-encoded; a GraphQL ``request``'s ``?variables=`` as its variables."""
    bound = None if request is None else bound_variables(value, request, run, nested_json)
    return bound or url_document(run, value, request) or run.scrub_url_value(value, plus=True)


def _named_value(run: Run, value: str, cls: str | None) -> str | None:
    """A query value holding names: a free-text field's (``?obs=Ana+Costa+ligou``), or a
    name written as a search (``?q=Maria%20Souza``, ``?search=ana+paula+costa``)."""
    if cls is PROSE and (names := encoded_name_hits(run, value)):
        return run.scrub_url_value(run.apply(value, names), plus=True)
    return replace_written_name(run, value, plus=True)


def _query_layer(run: Run, name: str, inner: str, where: str) -> str:
    """A query value's innermost layer sanitized, encoded once (a value replaced by its
    field's class comes back as written: a pseudonym's space is encoded here)."""
    fresh = sanitize_query(run, ((name, inner),), where)[0][1]
    if fresh != inner and (" " in fresh or not fresh.isascii()):
        return quote_plus(fresh)
    return fresh


def sanitize_query_string(run: Run, query: str, where: str) -> str:
    if not query:
        return query
    parts = query.split("&")
    pairs = tuple((name, value) for name, _, value in (p.partition("=") for p in parts))
    fresh = sanitize_query(run, pairs, where)
    if fresh is pairs:
        return query
    return "&".join(
        name + ("=" if "=" in part else "") + value
        for (name, value), part in zip(fresh, parts, strict=True)
    )


def sanitize_authority(run: Run, authority: str) -> str:
    """Only userinfo ("user:pass@host") is sensitive in an authority."""
    if "@" not in authority:
        return authority
    userinfo, _, host = authority.rpartition("@")
    if ":" in userinfo:
        user, _, password = userinfo.partition(":")
        return f"{run.scrub_url_value(user, plus=False)}:{run.replace('password', password)}@{host}"
    return f"{run.replace('api_key', userinfo)}@{host}"


def sanitize_headers(
    run: Run, headers: tuple[tuple[str, str], ...], where: str | None
) -> tuple[tuple[str, str], ...]:
    if not headers:
        return headers
    out: list[tuple[str, str]] | None = None  # a copy only once something changes
    scanner = run.scanner
    plain = not scanner.has_custom  # the user's patterns may match anything
    rules = scanner.field_rules
    clean = scanner.clean_headers
    for index in _headers_to_read(headers, clean, plain=plain):
        pair = headers[index]
        name, value = pair
        lower, kind = _header_kind(rules, name)
        if (
            plain
            and value.isascii()
            and (kind == _BENIGN or (kind == _UNNAMED and _OPAQUE.fullmatch(value)))
        ):
            continue
        fresh = _header_value(run, lower, value, where)
        if fresh == value:
            scanner.remember_clean_header(pair)
            continue
        if out is None:
            out = list(headers)
        out[index] = (name, fresh)
        if where is not None:
            run.locations.add(f"{where}.header.{lower}")
    return headers if out is None else tuple(out)


_NAME, _VALUE = operator.itemgetter(0), operator.itemgetter(1)


def _headers_to_read(
    headers: tuple[tuple[str, str], ...], clean: dict[tuple[str, str], None], *, plain: bool
) -> Iterable[int]:
    """The indexes of the headers that need a look: all but those seen clean before
    and, when every value is ASCII and the user has no patterns, those with a benign
    name as HTTP/2 writes it (lower case): most headers, set aside by C calls rather
    than a Python step each."""
    unseen = map(operator.not_, map(clean.__contains__, headers))
    if not plain or not "".join(map(_VALUE, headers)).isascii():
        return compress(range(len(headers)), unseen)
    named = map(operator.not_, map(BENIGN_HEADERS.__contains__, map(_NAME, headers)))
    return compress(range(len(headers)), map(operator.and_, named, unseen))


def _header_value(run: Run, lower: str, value: str, where: str | None) -> str:
    if not value:
        return value
    if not value.isascii() and SURROGATE.search(value):
        # Non-UTF-8 bytes: cannot be checked with certainty.
        return run.replace("api_key", value)
    if lower.startswith(":"):
        if lower == ":authority":
            return sanitize_authority(run, value)
        if lower == ":path":
            path, sep, query = value.partition("?")
            base = where or "request"
            return sanitize_path(run, path, base) + sep + sanitize_query_string(run, query, base)
        return run.scrub(value)
    if lower == "cookie":
        return ";".join(_cookie_pair(run, pair) for pair in value.split(";"))
    if lower == "set-cookie":
        first, sep, attributes = value.partition(";")
        return _cookie_pair(run, first) + sep + run.scrub(attributes)
    if lower in CHALLENGE_HEADERS:
        return sanitize_challenge(run, value)
    if lower == CLIENT_CERT_HEADER:
        return sanitize_client_cert(run, value)
    cls = header_class(lower) or checked(_header_field(run, lower), value)
    if cls is not None:
        return value if is_token(value) else run.whole(resolved(cls), value)
    if names_person(lower, value):  # X-Remote-User: Maria Souza
        return run.whole("name", value)
    if lower in ip_addresses.HEADERS:  # X-Forwarded-For: 189.45.12.200, 10.1.2.3
        return ip_addresses.ADDRESS_LIKE.sub(lambda m: _coarsened_address(run, m.group()), value)
    if lower == "content-disposition":  # attachment; filename="extrato-maria-souza.pdf"
        value = replace_file_names(run, value)
    # Referer, Location, Link: their URLs' queries; X-Apigateway-Api-Userinfo: eyJ...
    # Location: /clientes/maria-souza (the paths of other headers' values are not read)
    fresh = base64_json.rewrap(run, scrub_with_urls(run, value, paths=lower in _URL_HEADERS))
    if fresh is value:  # X-User: base64 of "name;cpf", of XML...
        return base64_text.rewrap_value(run, value)
    return fresh


def _coarsened_address(run: Run, text: str) -> str:
    """A public address in a header's list coarsened (and counted), anything else kept."""
    return run.replace(ip_addresses.CLASS, text) if ip_addresses.coarsened(text) else text


# Headers holding a URL whose path may name a person.
_URL_HEADERS = frozenset({"location", "content-location", "referer", "link"})

# What a header's name says about its value.
_BENIGN, _NAMED, _UNNAMED = 0, 1, 2


@functools.lru_cache(maxsize=2048)
def _header_kind(rules: FieldRules, name: str) -> tuple[str, int]:
    """The lowered name, and whether it is a benign header (BENIGN_HEADERS), or one whose
    name alone makes its value sensitive (x-api-key, cookie, x-customer-name), or neither.
    Header names recur on every request: each is read once."""
    lower = name.lower()
    if lower in BENIGN_HEADERS:
        return lower, _BENIGN
    named = (
        header_class(lower) is not None
        or _header_field_class(rules, lower) is not None
        or lower in ip_addresses.HEADERS  # X-Forwarded-For: digits and dots, read all the same
    )
    return lower, _NAMED if named else _UNNAMED


def _header_field(run: Run, lower: str) -> str | None:
    """A header named like a personal field (x-customer-name) or by the user's rules."""
    return _header_field_class(run.scanner.field_rules, lower)


@functools.lru_cache(maxsize=1024)
def _header_field_class(rules: FieldRules, lower: str) -> str | None:
    spelled = spelled_out(lower)  # x-holdername: x-holderName lowered
    return flat_classes([spelled], rules).get(spelled)


# Values no detector can match: request and trace ids (hex with at least one letter,
# UUIDs), numbers too short for any class, IPv4 addresses. A number inside such an id
# has a letter or a hyphen next to it, which every numeric detector refuses anyway.
_OPAQUE = re.compile(
    r"(?=[0-9a-fA-F-]*[a-fA-F])[0-9a-fA-F]{8,64}(?:-[0-9a-fA-F]{4,32}){0,5}"
    r"|[0-9]{1,7}|(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?:,[ ]?(?:[0-9]{1,3}\.){3}[0-9]{1,3})*"
)
# Path segments and query values no detector can match: words without digits, short
# numbers (ids), and up to 13 word characters holding at most 4 digits (v1, page2,
# utf8): every numeric class needs 5 or more digits (a CEP, an RG) or a separator this
# leaves out, an alphanumeric CNPJ 14 characters, the rest "@", "." or a space.
_INERT = (
    r"(?:[A-Za-z_-]{1,64}|[0-9]{1,7}"
    r"|(?=[A-Za-z0-9_-]{2,13}(?![A-Za-z0-9_-]))[A-Za-z_-]*(?:[0-9][A-Za-z_-]*){1,4})"
)
INERT_VALUE = re.compile(_INERT)
# A path made only of such segments (/v1/orders/123456): one regex call, no split.
INERT_PATH = re.compile(rf"/?{_INERT}?(?:/{_INERT}?)*")
# Headers whose values have a fixed, harmless format: not scanned (unless the user
# has patterns of their own).
BENIGN_HEADERS = frozenset(
    {"content-type", "content-length", "accept", "accept-encoding", "accept-language",
     "accept-ranges", "cache-control", "connection", "date", "expires", "last-modified",
     "etag", "if-none-match", "if-modified-since", "vary", "age", "pragma", "keep-alive",
     "transfer-encoding", "content-encoding", "content-language", "te", "upgrade",
     "upgrade-insecure-requests", "sec-fetch-dest", "sec-fetch-mode", "sec-fetch-site",
     "sec-fetch-user", "sec-ch-ua", "sec-ch-ua-mobile", "sec-ch-ua-platform", "dnt",
     "x-content-type-options", "x-frame-options", "x-xss-protection",
     "strict-transport-security", "x-envoy-upstream-service-time",
     "x-envoy-expected-rq-timeout-ms", "x-envoy-attempt-count", "traceparent", "tracestate",
     "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags",
     "x-forwarded-proto", "x-forwarded-port", "server", "via",
     "access-control-allow-origin", "access-control-allow-methods",
     "access-control-allow-headers", "access-control-max-age",
     "access-control-allow-credentials", "access-control-expose-headers", ":method",
     ":scheme", ":status", "priority",
     # Istio's peer metadata (a sidecar's node id; base64 of its labels and names, 300-700
     # bytes, too long to be remembered clean): no stub keeps it (request headers are not
     # matched, x-envoy-* response headers are dropped: mapping.stubs).
     "x-envoy-peer-metadata", "x-envoy-peer-metadata-id"}
)  # fmt: skip


def _cookie_pair(run: Run, pair: str) -> str:
    name, eq, value = pair.partition("=")
    if not eq:
        # A nameless cookie ("Cookie: abc123"): the whole pair is the value.
        stripped = pair.strip()
        if not stripped or is_token(stripped):
            return pair
        lead = pair[: len(pair) - len(pair.lstrip())]
        return lead + run.replace("jwt" if is_jwt(stripped) else "cookie", stripped)
    stripped = value.strip().strip('"')
    if not stripped or is_token(stripped):
        return pair
    cls = "jwt" if is_jwt(stripped) else "cookie"
    return f"{name}={run.replace(cls, stripped)}"
