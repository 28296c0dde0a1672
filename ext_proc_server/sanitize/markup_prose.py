"""People's names in the prose a markup string holds under a key that names none.

An e-mail API's message body is HTML written to its reader (SendGrid's
``content[].value``, Mailgun's ``html``, Brevo's ``htmlContent``, Mandrill's
``message.html``: ``"<p>Olá Maria Souza, seu pedido...</p>"``), and a SOAP fault a
JSON error payload echoes says whom it failed for in its ``faultstring`` (SOAP 1.1).
Neither is read by an element's name, so the
names there stayed. HTML's text, and a fault's message, are read by
``free_text_names`` as a note's are; a tag (its name, attributes and styles) never
is, and XML that is neither keeps being read by its elements' names alone.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.free_text_names import find_markup_names
from ext_proc_server.sanitize.hits import Hit

# Elements only HTML's text uses (an XML vocabulary naming one "p" or "td" is rare,
# and its text is prose too): sre looks for "<" then one of these names.
_HTML_ELEMENT = re.compile(
    r"<(?:p|div|span|br|body|html|table|td|li|h[1-6]|strong|em|font|a)[\s/>]", re.IGNORECASE
)
# SOAP 1.1's <faultstring>: a message to a person, not a code (SOAP 1.2's <Text> is
# read by its name already, as any element named for text).
_FAULT_TEXT = re.compile(r"<((?:[\w.-]+:)?faultstring)\b[^<>]*>([^<]*)</\1>")


def is_html(document: str) -> bool:
    """Whether a document holds an element only HTML's text uses."""
    return _HTML_ELEMENT.search(document) is not None


def prose_name_hits(document: str) -> list[Hit]:
    """The names in ``document``'s HTML text or SOAP 1.1 fault messages (none inside a
    tag), as ``name`` findings; [] for other markup (C searches first)."""
    if _HTML_ELEMENT.search(document):
        return text_name_hits(document)
    if "faultstring" not in document:
        return []
    return [hit for m in _FAULT_TEXT.finditer(document) for hit in _names(m[2], m.start(2))]


def text_name_hits(document: str) -> list[Hit]:
    """The names in markup's text, none inside a tag, as ``name`` findings."""
    return [hit for hit in _names(document, 0) if not _in_tag(document, hit.start)]


def _names(text: str, offset: int) -> list[Hit]:
    return [
        Hit(offset + a, offset + b, "name", escaped="&" in text[a:b])
        for a, b in find_markup_names(text)
    ]


def _in_tag(document: str, at: int) -> bool:
    """Whether ``at`` lies inside a tag (an attribute's value: ``alt``, ``style``)."""
    return document.rfind("<", 0, at) > document.rfind(">", 0, at)
