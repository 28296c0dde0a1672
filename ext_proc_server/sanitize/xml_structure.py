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
an element's or an attribute's name.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.hits import Hit

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
