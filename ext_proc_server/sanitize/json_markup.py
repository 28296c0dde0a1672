"""JSON strings holding XML (an API's NF-e in an ``xml`` field, SOAP in JSON): read as
text and by its elements' names (``xml_fields.find_xml_fields``: ``<xNome>``,
``<xLgr>``, ``<fone>``), without the findings in its names, namespaces and structural
attributes (``xml_structure.outside_structure``), as an XML body is; HTML's text and a
SOAP fault's message read as prose too (``markup_prose``)."""

from __future__ import annotations

import re

from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.markup_prose import prose_name_hits
from ext_proc_server.sanitize.run import Run
from ext_proc_server.sanitize.urls import scrub_with_urls, url_hits, with_url_fields
from ext_proc_server.sanitize.xml_fields import find_xml_fields
from ext_proc_server.sanitize.xml_structure import outside_structure, scrub_keeping_structure


def is_markup(value: str) -> bool:
    """Whether a string reads as XML: it opens with a tag, after any whitespace (a
    pretty-printed document's "\\n  <nfeProc"), and closes one (C searches)."""
    opening = value[:1]
    if opening != "<" and not (opening.isspace() and value.lstrip()[:1] == "<"):
        return False
    return "</" in value or "/>" in value


# A string opening with spaces and a tag: any run of them (a template's indentation,
# "  <nfeProc"); other whitespace is escaped in JSON, and such strings are read anyway.
_SPACED_OPENING = re.compile(r'" {2,}<')


def may_hold_markup(text: str) -> bool:
    """Whether a JSON text may hold a string that opens with a tag, or spaces and one
    (a quote before "<" or " <": JSON has no "<" outside a string; C searches, and sre
    only past a quote and two spaces)."""
    if '"<' in text or '" <' in text:
        return True
    return '"  ' in text and _SPACED_OPENING.search(text) is not None


def xml_hits(run: Run, document: str, hits: list[Hit]) -> list[Hit]:
    """A document's findings ``hits`` with its elements and attributes read by name
    (``<xNome>Maria Souza</xNome>``, ``<xLgr>``): an XML body's, a decoded one's, one in
    a JSON string's."""
    named = find_xml_fields(document, run.scanner.field_rules)
    return resolve([*hits, *named, *prose_name_hits(document)])


def scrub_text(run: Run, value: str) -> str:
    """A string's text, as ``scrub_with_urls`` reads it; XML's elements read by name too,
    and its findings in its names and namespaces dropped (``"xml": "<nfeProc
    xmlns=\\"http://…\\">…"``, SOAP in JSON)."""
    if not is_markup(value):
        return scrub_with_urls(run, value)
    hits = xml_hits(run, value, run.scanner.find(value))
    in_urls = url_hits(run, value)
    if in_urls:
        hits = with_url_fields(hits, in_urls)
    return scrub_keeping_structure(run, value, outside_markup(value, hits))


def scrub_found(run: Run, value: str, hits: list[Hit]) -> str:
    """``run.scrub`` with the findings ``hits`` (a free-text field's names and shapes);
    a string that reads as XML (a SOAP body under ``"body"``) keeps its names,
    namespaces and structural attributes, as under any other key."""
    if not is_markup(value):
        return run.scrub(value, hits)
    return scrub_keeping_structure(run, value, outside_markup(value, hits))


def inside_markup(run: Run, value: str, hits: list[Hit], offset: int) -> list[Hit]:
    """The findings ``hits`` in ``value`` (XML, starting at ``offset`` in the text they
    index), with those of its elements' names added and none in its structure."""
    named = find_xml_fields(value, run.scanner.field_rules) + prose_name_hits(value)
    if named:
        moved = [hit._replace(start=hit.start + offset, end=hit.end + offset) for hit in named]
        hits = resolve([*hits, *moved])
    return outside_markup(value, hits, offset)


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
