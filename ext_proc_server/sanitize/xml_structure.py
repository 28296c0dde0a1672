"""Attributes that shape an XML document rather than hold its data.

A namespace declaration (``xmlns``, ``xmlns:p``), XML Schema's instance attributes
(``xsi:type``, ``xsi:schemaLocation``, ``xsi:noNamespaceSchemaLocation``, ``xsi:nil``),
a SOAP envelope's (``soap:mustUnderstand``, ``soap:encodingStyle``) and the XML
namespace's own (``xml:lang``, ``xml:space``, ``xml:base``) are kept
wherever they sit, as is any attribute whose value is a namespace the document
declares (WSDL's ``targetNamespace``): replacing one would
move every element into another namespace, or none, and a client's parser would read
the document wrong. An element named for personal or sensitive data keeps them too,
and no shape found inside them (an e-mail, a phone-like number, a name in a
namespace's URL) is replaced: ``outside_structure`` drops such findings, and those in
an element's or an attribute's name. Nor is an escape decoded there
(``maria%40mail.com``, ``maria&#64;mail.com``): ``scrub_keeping_structure`` leaves
each structural value as written while every other encoded word is decoded and read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ext_proc_server.sanitize.hits import Hit

if TYPE_CHECKING:
    from ext_proc_server.sanitize.run import Run

XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
# SOAP 1.1's and 1.2's envelopes: every attribute they define (mustUnderstand,
# encodingStyle, actor, role, relay) tells a processor how to read the message.
_SOAP_NAMESPACES = frozenset(
    {"http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope"}
)
_XSI_ATTRIBUTES = frozenset({"type", "schemaLocation", "noNamespaceSchemaLocation", "nil"})
_XML_ATTRIBUTES = frozenset({"lang", "space", "base"})
_TAG_NAME = re.compile(r"</?([A-Za-z_][\w.:-]*)")
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
# What Run.scrub decodes and reads again: a percent escape, a character reference or
# an entity (XML's five predefined ones excepted), a JSON escape.
_ENCODED = re.compile(
    r"%[0-9A-Fa-f]{2}|&(?!(?:amp|lt|gt|quot|apos);)(?:#[0-9]|#[xX][0-9A-Fa-f]|[A-Za-z])"
    r"|\\u[0-9A-Fa-f]{4}"
)
_HARMLESS_ENTITIES = ("&amp;", "&lt;", "&gt;", "&quot;", "&apos;")
_DECLARATION = re.compile(r"\bxmlns(?::([A-Za-z_][\w.-]*))?\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


class Structure:
    """The namespaces one document declares, read once when first asked (declarations
    are pooled, not scoped: a prefix bound anywhere counts everywhere)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.prefixes: dict[str, set[str]] | None = None  # prefix ("" by default) -> URIs
        self.uris: frozenset[str] = frozenset()

    def is_structural(self, name: str, value: str) -> bool:
        """Whether the attribute ``name`` (as written, prefix and all) holding ``value``
        shapes the document: kept whatever its element's name says."""
        if name == "xmlns" or name.startswith("xmlns:"):
            return True
        prefix, colon, local = name.rpartition(":")
        if colon and prefix == "xml" and local in _XML_ATTRIBUTES:
            return True
        if self.prefixes is None:
            self._read()
        if colon:
            bound = self.prefixes.get(prefix, set()) if self.prefixes is not None else set()
            # Unbound (a fragment cut from its envelope): "xsi" is the prefix everyone uses.
            xsi = XSI_NAMESPACE in bound if bound else prefix == "xsi"
            if (xsi and local in _XSI_ATTRIBUTES) or not bound.isdisjoint(_SOAP_NAMESPACES):
                return True
        return value.strip() in self.uris

    def _read(self) -> None:
        prefixes: dict[str, set[str]] = {}
        for m in _DECLARATION.finditer(self.text):
            uri = (m.group(2) if m.group(2) is not None else m.group(3)).strip()
            prefixes.setdefault(m.group(1) or "", set()).add(uri)
        self.prefixes = prefixes
        self.uris = frozenset(uri for uris in prefixes.values() for uri in uris if uri)


def outside_structure(text: str, hits: list[Hit]) -> list[Hit]:
    """``hits`` without those inside a start or end tag's name, an attribute's name or a
    structural attribute's value: a namespace is a name, rarely data, and a mock that
    rewrote one would answer its clients another vocabulary."""
    if not hits or "<" not in text:
        return hits
    structure = Structure(text)
    kept_by_tag: dict[int, list[tuple[int, int]]] = {}  # tag -> spans no finding may touch
    kept = []
    for hit in hits:
        opened = text.rfind("<", 0, hit.start)
        if opened < 0 or text.rfind(">", 0, hit.start) > opened:
            kept.append(hit)  # in text, not inside a tag (C searches: most findings)
            continue
        spans = kept_by_tag.get(opened)
        if spans is None:
            spans = kept_by_tag[opened] = _named_spans(text, opened, structure)
        if all(hit.end <= start or hit.start >= end for start, end in spans):
            kept.append(hit)
    return kept if len(kept) < len(hits) else hits


def _named_spans(text: str, opened: int, structure: Structure) -> list[tuple[int, int]]:
    """The spans of the tag opened at ``opened`` that name or shape: its name, its
    attributes' names, and the values of its structural attributes."""
    m = _TAG_NAME.match(text, opened)
    if m is None:  # "<" in text, a comment, a processing instruction
        return []
    closing = text.find(">", m.end())
    end = len(text) if closing < 0 else closing
    spans = [m.span(1)]
    for attribute in _ATTRIBUTE.finditer(text, m.end(), end):
        group = 2 if attribute.group(2) is not None else 3
        spans.append(attribute.span(1))
        if structure.is_structural(attribute.group(1), attribute.group(group)):
            spans.append(attribute.span(group))
    return spans


def scrub_keeping_structure(run: Run, text: str, hits: list[Hit]) -> str:
    """``run.scrub`` with findings ``hits`` (none in structure: ``outside_structure``'s),
    and no encoded word decoded inside a structural value
    (``xmlns:p="https://x/maria%40mail.com/v1"``): decoded there, it would be replaced
    and the namespace renamed."""
    kept = _encoded_structure(text)
    if not kept:
        return run.scrub(text, hits)
    out = []
    last = 0
    for start, end in kept:  # no finding crosses one: outside_structure dropped those
        inside = [hit for hit in hits if last <= hit.start and hit.end <= start]
        out.append(run.scrub(text[last:start], _shifted(inside, -last)))
        out.append(text[start:end])
        last = end
    inside = [hit for hit in hits if hit.start >= last]
    out.append(run.scrub(text[last:], _shifted(inside, -last)))
    return "".join(out)


def _shifted(hits: list[Hit], by: int) -> list[Hit]:
    return [hit._replace(start=hit.start + by, end=hit.end + by) for hit in hits]


def _encoded_structure(text: str) -> list[tuple[int, int]]:
    """The structural values (as ``_named_spans`` finds them) that hold an escape, in
    order; none without an escape Run.scrub would decode (C counts first)."""
    if "<" not in text:
        return []
    if "%" not in text and "\\" not in text and _only_harmless_entities(text):
        return []
    structure = Structure(text)
    read: set[int] = set()  # tags whose spans were read
    kept: set[tuple[int, int]] = set()
    for m in _ENCODED.finditer(text):
        at = m.start()
        opened = text.rfind("<", 0, at)
        if opened < 0 or opened in read or text.rfind(">", 0, at) > opened:
            continue
        read.add(opened)
        for start, end in _named_spans(text, opened, structure):
            if _ENCODED.search(text, start, end):  # a value: no name holds "%" or "&"
                kept.add((start, end))
    return sorted(kept)


def _only_harmless_entities(text: str) -> bool:
    """Whether every "&" (if any) starts one of XML's five predefined entities."""
    return text.count("&") == sum(map(text.count, _HARMLESS_ENTITIES))
