"""Query strings of URLs inside text (a Referer or Location header, a JSON string such
as ``"next"``, an HTML ``href``), and fragments written as one (``#nome=...&cpf=...``):
each parameter read as a field its name names, as the request's own query is
(``?cpf=...&nome=Jo%C3%A3o+Pereira``).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote_plus

from ext_proc_server.sanitize.cpf_or_cnpj import marked_names
from ext_proc_server.sanitize.fields import (
    FieldRules,
    Verdict,
    flat_classes,
    resolved,
    value_fits,
)
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.percent_layers import peeled_all, wrapped_again
from ext_proc_server.sanitize.run import Run, is_token, quote_plus_lazy
from ext_proc_server.sanitize.secret_keys import API_KEY, PASSWORD
from ext_proc_server.sanitize.url_names import (
    PEOPLE_SEGMENTS,
    may_join_words,
    reads_as_written_name,
    replace_written_name,
)

WRITTEN_NAME = Verdict("name")  # a value that reads as a person's name (url_names)
# A query string: from "?" to the end of the URL (a space, a quote, "<", ">" or "#");
# or a fragment of parameters, as OAuth's implicit flow and single-page apps write
# them ("#access_token=…&state=…", "#nome=…").
_QUERY = re.compile(r"[?#]([^\s\"'<>#?=&]+=[^\s\"'<>#]*)")
_PARAMETER = re.compile(r"([^&;=]+)=([^&;]*)")


@functools.lru_cache(maxsize=1024)
def _classes(rules: FieldRules, names: tuple[str, ...]) -> dict[str, str]:
    """A page's links repeat their parameters: each set is read once (the dict is
    shared: read it, never change it)."""
    return flat_classes(names, rules)


# A URL's path, or a path alone: after the authority, or where a word can start.
_PATH = re.compile(r"(?:https?://[^/\s\"'<>?#]+|(?<![^\s\"'(<=]))(/[^\s\"'<>?#]+)")


def path_name_hits(run: Run, text: str) -> list[Hit]:
    """Findings for the path segments of the URLs in ``text`` that are a person's name
    (``Location: /clientes/maria-souza``, a ``Referer``, an access log's request line),
    each replaced as the request's own path segment is (url_names)."""
    if "/" not in text or not may_join_words(text):
        return []
    hits = []
    for path in _PATH.finditer(text):
        at, before = path.start(1), ""
        for segment in path.group(1).split("/"):
            if segment and may_join_words(segment):
                people = before.lower() in PEOPLE_SEGMENTS
                fresh = replace_written_name(run, segment, plus=False, people=people)
                if fresh is not None:
                    hits.append(Hit(at, at + len(segment), "name", fresh))
            at, before = at + len(segment) + 1, segment
    return hits


def scrub_with_urls(run: Run, text: str, *, paths: bool = True) -> str:
    """``run.scrub``, and the personal parameters of the URLs in the text; with
    ``paths``, their path segments that are a person's name too (a HAL link's
    ``"href": "/clientes/maria-souza"``, a JSON string's URL)."""
    found = url_hits(run, text) if paths else url_field_hits(run, text)
    if not found:
        return run.scrub(text)
    return run.scrub(text, with_url_fields(run.scanner.find(text), found))


def url_hits(run: Run, text: str) -> list[Hit]:
    """The URLs' personal parameters (url_field_hits) and the path segments that are a
    person's name (path_name_hits)."""
    named = path_name_hits(run, text)
    in_query = url_field_hits(run, text)
    return resolve([*in_query, *named]) if named and in_query else named or in_query


def with_url_fields(hits: list[Hit], in_urls: list[Hit]) -> list[Hit]:
    """The findings and the URL parameters no finding overlaps (a detector's finding
    in a parameter's value is replaced as it found it)."""
    return resolve(
        [*hits, *(u for u in in_urls if all(h.end <= u.start or h.start >= u.end for h in hits))]
    )


def url_field_hits(run: Run, text: str) -> list[Hit]:
    """Findings for the parameters whose names make them personal, each replaced by
    its value's replacement encoded as the URL's other values are."""
    if "=" not in text or ("?" not in text and "#" not in text):
        return []
    hits = []
    rules = run.scanner.field_rules
    for query in _QUERY.finditer(text):
        parameters = list(_PARAMETER.finditer(text, query.start(1), query.end(1)))
        names = tuple(unquote_plus(p.group(1)) for p in parameters)
        marked = marked_names(names, lambda i, ps=parameters: unquote_plus(ps[i].group(2)))
        classes = _classes(rules, marked)
        for parameter, name in zip(parameters, names, strict=True):
            cls = classes.get(name)
            raw = parameter.group(2)
            if cls is None and (may_join_words(raw) or "%25" in raw):
                cls = WRITTEN_NAME  # ?q=maria+souza: a name in a search
            if type(cls) is not Verdict or cls in (API_KEY, PASSWORD):
                continue  # a secret's name: the key=value detector's
            value, layers = peeled_all(raw)  # Maria%2520Souza: encoded twice
            if not value or is_token(value):
                continue
            if not (
                reads_as_written_name(value) if cls is WRITTEN_NAME else value_fits(cls, value)
            ):
                continue
            fresh = wrapped_again(quote_plus_lazy(run.replacer(resolved(cls), value)), layers)
            hits.append(Hit(parameter.start(2), parameter.end(2), resolved(cls), fresh))
    return hits
