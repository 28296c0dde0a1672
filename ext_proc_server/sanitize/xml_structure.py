"""Attributes that shape an XML document rather than hold its data.

A namespace declaration (``xmlns``, ``xmlns:p``), XML Schema's instance attributes
(``xsi:type``, ``xsi:schemaLocation``, ``xsi:noNamespaceSchemaLocation``, ``xsi:nil``)
and the XML namespace's own (``xml:lang``, ``xml:space``, ``xml:base``) are kept
wherever they sit, as is any attribute whose value is a namespace the document
declares (WSDL's ``targetNamespace``, a SOAP ``encodingStyle``): replacing one would
move every element into another namespace, or none, and a client's parser would read
the document wrong. An element named for personal or sensitive data keeps them too.
"""

from __future__ import annotations

import re

XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
_XSI_ATTRIBUTES = frozenset({"type", "schemaLocation", "noNamespaceSchemaLocation", "nil"})
_XML_ATTRIBUTES = frozenset({"lang", "space", "base"})
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
        if colon and local in _XSI_ATTRIBUTES and self._is_xsi(prefix):
            return True
        return value.strip() in self.uris

    def _is_xsi(self, prefix: str) -> bool:
        bound = self.prefixes.get(prefix) if self.prefixes is not None else None
        # Unbound (a fragment cut from its envelope): "xsi" is the prefix everyone uses.
        return XSI_NAMESPACE in bound if bound else prefix == "xsi"

    def _read(self) -> None:
        prefixes: dict[str, set[str]] = {}
        for m in _DECLARATION.finditer(self.text):
            uri = (m.group(2) if m.group(2) is not None else m.group(3)).strip()
            prefixes.setdefault(m.group(1) or "", set()).add(uri)
        self.prefixes = prefixes
        self.uris = frozenset(uri for uris in prefixes.values() for uri in uris if uri)
