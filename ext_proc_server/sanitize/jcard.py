"""jCard (RFC 7095), vCard written as JSON arrays, as RDAP answers carry a registrant
(``"vcardArray": ["vcard", [["fn", {}, "text", "Maria Souza"], ["adr", {}, "text",
["", "", "Rua das Flores, 123", ...]], ...]]``): each property's value is read as the
field its name names in a person's record (``fn``, ``n``, ``adr``, ``bday``, ``tel``).
The JSON walker sees only arrays there, with no key over the values.
"""

from __future__ import annotations

import json
import re

from ext_proc_server.sanitize import fields, key_lines
from ext_proc_server.sanitize.run import Run, is_token, quoted_json

MARK = '"vcard"'
# The types that carry jCard: RDAP's (RFC 9083) and jCard's own (RFC 7095).
JCARD_TYPES = frozenset({"application/rdap+json", "application/vcard+json"})
# A property: its name, its parameters (an object of plain values or lists of them), its
# value type, then the value (a string or an array of strings, read by the decoder).
_PROPERTY = re.compile(
    r'\[\s*"([A-Za-z][\w-]{0,40})"\s*,\s*\{(?:[^{}\[\]]|\[[^{}\[\]]*\])*\}\s*,\s*'
    r'"[A-Za-z-]{1,20}"\s*,\s*'
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_DECODER = json.JSONDecoder()
# An address's components (RFC 6350): post office box, extended address, street,
# locality, region, postal code, country. The city, state and country stay.
_ADDRESS_COMPONENTS = {0: "address", 1: "address", 2: "address", 5: "cep"}


# RDAP's member holding an entity's jCard (RFC 9083 5.1): RDAP is often served as
# plain application/json.
_RDAP_MEMBER = '"vcardArray"'


def may_hold(content_type: str, text: str) -> bool:
    """Whether a JSON body (as it came: a token holds an "A") of this type may hold
    jCard: one of its types, or RDAP's member. A capital "A" is looked for first, by
    memchr: a search for the member cost about 2.4 k instructions per 2 KiB body, and
    most JSON bodies hold no "A"."""
    return content_type in JCARD_TYPES or ("A" in text and _RDAP_MEMBER in text)


def _component_class(field: str, index: int, cls: str) -> str | None:
    if field != "endereco":
        return cls
    return _ADDRESS_COMPONENTS.get(index)


def sanitize_jcard(run: Run, text: str) -> str:
    """``text`` with its jCard properties' personal values replaced; the same object
    when there is none."""
    if MARK not in text:
        return text
    rules = run.scanner.field_rules
    edits: list[tuple[int, int, str]] = []
    for m in _PROPERTY.finditer(text):
        field = key_lines.person_record_field(m.group(1))
        found = fields.field_verdict(rules, key_lines.PERSON_PLACE, field, [])
        if found is None:
            continue
        try:
            value, end = _DECODER.raw_decode(text, m.end())
        except ValueError:
            continue
        if isinstance(value, str):
            strings = [(m.end(), end, value, found)]
        elif isinstance(value, list):
            strings = [
                (s.start(), s.end(), json.loads(s.group()), _component_class(field, i, found))
                for i, s in enumerate(_STRING.finditer(text, m.end(), end))
            ]
        else:
            continue
        for start, stop, decoded, cls in strings:
            if cls is None:
                continue
            if not decoded.strip() or is_token(decoded):
                continue
            if type(cls) is fields.Verdict and not fields.value_fits(cls, decoded):
                continue
            edits.append((start, stop, quoted_json(run.replace(fields.resolved(cls), decoded))))
    if not edits:
        return text
    out = []
    last = 0
    for start, stop, fresh in sorted(edits):
        if start < last:
            continue
        out += (text[last:start], fresh)
        last = stop
    return "".join([*out, text[last:]])
