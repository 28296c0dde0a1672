"""JSON strings holding XML (an API's NF-e in an ``xml`` field, SOAP in JSON): read as
text, without the findings in its names, namespaces and structural attributes
(``xml_structure.outside_structure``), as an XML body is."""

from __future__ import annotations

from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run
from ext_proc_server.sanitize.urls import scrub_with_urls, url_hits, with_url_fields
from ext_proc_server.sanitize.xml_structure import outside_structure


def is_markup(value: str) -> bool:
    """Whether a string reads as XML: it opens with a tag and closes one (C searches)."""
    return value[:1] == "<" and ("</" in value or "/>" in value)


def scrub_text(run: Run, value: str) -> str:
    """A string's text, as ``scrub_with_urls`` reads it; XML's findings in its names and
    namespaces dropped (``"xml": "<nfeProc xmlns=\\"http://…\\">…"``, SOAP in JSON)."""
    if not is_markup(value):
        return scrub_with_urls(run, value)
    hits = run.scanner.find(value)
    in_urls = url_hits(run, value)
    if in_urls:
        hits = with_url_fields(hits, in_urls)
    return run.scrub(value, outside_markup(value, hits))


def outside_markup(value: str, hits: list[Hit], offset: int = 0) -> list[Hit]:
    """``outside_structure`` for findings in ``value`` (which starts at ``offset`` in the
    text they index); one right after a "<" is a value in angle brackets
    (``<ana@x.com>``), never a name: no XML name holds "@" or starts with a digit."""
    inner, bracketed = [], []
    for hit in hits:
        at = hit.start - offset
        if value[at - 1 : at] == "<" or value[at - 2 : at] == "</":
            bracketed.append(hit)
        else:
            inner.append(hit._replace(start=at, end=hit.end - offset))
    kept = outside_structure(value, inner)
    if len(kept) == len(inner):
        return hits
    shifted = [hit._replace(start=hit.start + offset, end=hit.end + offset) for hit in kept]
    return resolve([*shifted, *bracketed]) if bracketed else shifted
