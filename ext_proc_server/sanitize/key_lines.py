"""Text formats that name each value on its own line: vCard (``TEL;TYPE=cell:...``),
iCalendar (``ATTENDEE;CN=Maria Silva:mailto:...``), LDIF (``givenName: Maria``), YAML
(``nome: Maria``, nested by indentation), TOML and INI (``[cliente]`` then
``nome = "Maria"``) and Java ``.properties`` (``cliente.nome=Maria``).

Each value is read as the field its key names, in the place its parents make (a YAML
mapping, a TOML table, a dotted key), as a JSON body's keys are; every detector still
reads the whole text. A vCard is one person and an LDIF entry of people is too, so their
short property names (``FN``, ``N``, ``ADR``, ``BDAY``, ``cn``, ``sn``) name a person's
data there (and nowhere else: ``n: 3`` in YAML is a number).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple

from ext_proc_server.sanitize import cpf_or_cnpj, fields
from ext_proc_server.sanitize.free_text_names import name_hits
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.json_body import nested_json
from ext_proc_server.sanitize.name_pairs import is_pair
from ext_proc_server.sanitize.run import Run, is_token
from ext_proc_server.sanitize.urls import scrub_with_urls, url_field_hits, with_url_fields

LINE_TYPES = frozenset(
    {
        "text/vcard", "text/x-vcard", "text/directory", "text/calendar",
        "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml",
        "application/toml", "text/x-toml", "text/toml",
        "text/x-java-properties", "text/x-properties",
        "application/ldif", "text/x-ldif", "text/ldif",
    }
)  # fmt: skip

# One content line: an indent, a YAML list marker, the key (vCard's group prefix and
# parameters, "TEL;TYPE=cell"), then ":", "::" (LDIF's base64) or "=", and the value.
_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?:-[ \t]+)?"
    r"(?P<key>[A-Za-z_][\w.\-]*|\"[^\"\r\n]{1,80}\"|'[^'\r\n]{1,80}')"
    r"(?P<params>;[^:\r\n]*)?[ \t]*(?P<sep>::?|=)(?P<value>[^\r\n]*)",
    re.MULTILINE,
)
_SECTION = re.compile(r"[ \t]*\[\[?[ \t]*([^\]\r\n]+?)[ \t]*\]\]?[ \t]*(?:[#;].*)?")
# iCalendar's common name of an attendee, organizer or contact: "CN=Maria Silva" or
# "CN=\"Silva, Maria\"".
_COMMON_NAME = re.compile(r";CN=(?:\"([^\"\r\n]*)\"|([^;:\r\n]*))", re.IGNORECASE)
_DN_COMMON_NAME = re.compile(r"(?:^|(?<=[,+ ]))(?i:cn)[ \t]*=[ \t]*((?:[^,+\\\r\n]|\\.)+)")
_ORGANISATION = re.compile(r"^KIND:[ \t]*(?:org|group|location)\b", re.IGNORECASE | re.MULTILINE)
_PEOPLE_PROPERTIES = frozenset({"attendee", "organizer", "contact"})
# A person's record names its values with short words of its own.
_PERSON_RECORD_NAMES = {
    "fn": "nomeCompleto",
    "n": "nomeCompleto",
    "cn": "nomeCompleto",
    "sn": "sobrenome",
    "nickname": "nomeSocial",
    "displayname": "nomeCompleto",
    "bday": "birthday",
    "adr": "endereco",
    "label": "endereco",
    "homepostaladdress": "endereco",
    "postaladdress": "endereco",
    "registeredaddress": "endereco",
    "tel": "telefone",
    "homephone": "telefone",
    "pager": "telefone",
    "facsimiletelephonenumber": "telefone",
}
PERSON_PLACE = fields.object_place(fields.ROOT, "contato", frozenset())
_PLAIN_KEY_LINE = re.compile(r"[A-Za-z_][\w.\-]*[ \t]*[=:]")
_COMMENTS = ("#", ";", "!", "[")
_HEAD_CHARS = 1024
_HEAD_LINES = 3
_YAML_BLOCK = frozenset({"|", ">", "|-", ">-", "|+", ">+"})


class _Field(NamedTuple):
    start: int
    end: int
    path: tuple[str, ...]  # parents first, the key last


EVENT_STREAM = "text/event-stream"


def sanitize_event_stream(run: Run, text: str) -> str:
    """Server-Sent Events: each ``data:`` line holding a JSON document is edited as one
    (its keys name its values); every other line is read as text."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("data:"):
            head = 6 if line.startswith("data: ") else 5
            document = nested_json(run, line[head:].rstrip("\r"))
            if document is not None:
                lines[i] = line[:head] + document + ("\r" if line.endswith("\r") else "")
                continue
        lines[i] = run.scrub(line)
    return "\n".join(lines)


def is_key_lines(media_type: str, text: str) -> bool:
    """Whether a body of this media type reads as key lines: a type of the formats
    above, or plain text opening with a vCard, an iCalendar or an LDIF entry."""
    if media_type in LINE_TYPES:
        return True
    if media_type != "text/plain":
        return False
    head = text.lstrip()[:16].upper()
    if head.startswith(("BEGIN:VCARD", "BEGIN:VCALENDAR", "DN:", "VERSION: 1")):
        return True
    # Properties or INI as plain text: its first lines that are not comments all name
    # a value (a word or a dotted name, no spaces, before "=" or ":").
    lines = []
    for line in text[:_HEAD_CHARS].splitlines():
        if line.strip() and line.lstrip()[:1] not in _COMMENTS:
            lines.append(line)
            if len(lines) == _HEAD_LINES:
                break
    return len(lines) >= 2 and all(_PLAIN_KEY_LINE.match(line) for line in lines)


def sanitize_key_lines(run: Run, text: str) -> str | None:
    """The text with every detector's findings and its named values replaced; None
    when no line names a value."""
    person_record = _person_record(text)
    if person_record and ("\n " in text or "\n\t" in text) and _FOLD.search(text):
        unfolded = _FOLD.sub("", text)
        fresh = sanitize_key_lines(run, unfolded)
        if fresh is None:  # no line names a value: read as text, but still unfolded
            fresh = scrub_with_urls(run, unfolded)
        return _refolded(text, fresh)
    given = text
    if person_record and "::" in text:
        text = _encoded_values(run, text)
    found = _fields(text)
    if not found:
        return None if text is given else run.scrub(text)
    siblings: dict[tuple[str, ...], set[str]] = {}
    for item in found:
        siblings.setdefault(item.path[:-1], set()).add(item.path[-1])
    if not person_record and cpf_or_cnpj.may_name_record(text):
        # A record whose cpfCnpj holds a CPF is a person's, as a cpf beside its keys makes it
        values = ((item.path, text[item.start : item.end]) for item in found)
        cpf_or_cnpj.mark_records(values, siblings)
    rules = run.scanner.field_rules
    hits: list[Hit] = []
    for i, item in enumerate(found):
        key = item.path[-1]
        if person_record:
            key = person_record_field(key)
            place = PERSON_PLACE
        else:
            place = place_of(item.path[:-1], siblings)
        cls = fields.field_verdict(rules, place, key, list(item.path[:-1]))
        if cls is None and i and not person_record:  # "- name: USER_NAME" / "  value: ..."
            cls = _pair_class(text, found[i - 1], item, place)
        if cls is None:
            continue
        value = text[item.start : item.end]
        if not value or is_token(value):
            continue
        if cls is fields.PROSE:  # "observacao: João Pereira ligou": its names
            hits.extend(name_hits(value, item.start))
            continue
        if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
            continue
        hits.append(Hit(item.start, item.end, fields.resolved(cls)))
    if person_record:
        hits.extend(_common_names(text))
    if not hits:
        return None if text is given else run.scrub(text)
    found_hits = resolve([*run.scanner.find(text), *hits])
    in_urls = url_field_hits(run, text)  # "url: https://...?cpf=...&nome=..."
    return run.scrub(text, with_url_fields(found_hits, in_urls) if in_urls else found_hits)


def _pair_class(text: str, before: _Field, item: _Field, place: fields.Place) -> str | None:
    """The class of a name/value pair's value (a Pod's ``env``, YAML's ``- name: ...``
    then ``value: ...``), from the name on the line before; None when it is none."""
    if before.path[:-1] != item.path[:-1]:
        return None
    if not is_pair((before.path[-1], item.path[-1])):
        return None
    return fields.typed_class(place, text[before.start : before.end], pair=True)


# A folded line (vCard, iCalendar, LDIF): a line break then one space or tab continues
# the line before, anywhere, even inside a word or a UTF-8 character's bytes' place.
_FOLD = re.compile(r"\r?\n[ \t]")
_LINE_ENDS = re.compile(r"(?<=\n)")
_FOLD_OCTETS = 75  # RFC 6350 3.2, RFC 5545 3.1: lines of at most 75 octets


def _refolded(text: str, fresh: str) -> str:
    """``fresh`` (``text`` unfolded, then sanitized) folded again: each line as it was
    when nothing in it changed, else folded anew at 75 octets."""
    groups: list[str] = []
    for line in _LINE_ENDS.split(text):
        if groups and line[:1] in (" ", "\t"):
            groups[-1] += line
        else:
            groups.append(line)
    lines = _LINE_ENDS.split(fresh)
    if len(lines) != len(groups):
        return fresh  # unfolded is as valid: only longer lines
    brk = "\r\n" if "\r\n" in text else "\n"
    out = []
    for group, line in zip(groups, lines, strict=True):
        out.append(group if _FOLD.sub("", group) == line else _fold(line, brk))
    return "".join(out)


def _fold(line: str, brk: str) -> str:
    content = line.rstrip("\r\n")
    ending = line[len(content) :]
    pieces = []
    piece: list[str] = []
    octets = 0
    for char in content:
        size = len(char.encode("utf-8"))
        if octets + size > _FOLD_OCTETS:
            pieces.append("".join(piece))
            piece, octets = [" "], 1
        piece.append(char)
        octets += size
    pieces.append("".join(piece))
    return brk.join(pieces) + ending if len(pieces) > 1 else line


def _encoded_values(run: Run, text: str) -> str:
    """LDIF's values in base64 (``cn:: TWFyaWEgQ29uY2Vpw6fDo28=``, as LDIF writes any
    value that is not plain ASCII: most names with accents) read decoded, as the field
    their key names or as text, and written back in base64."""
    out = []
    last = 0
    for m in _LINE.finditer(text):
        if m.group("sep") != "::":
            continue
        raw = m.group("value").strip()
        try:
            decoded = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        field = person_record_field(m.group("key"))
        cls = fields.field_verdict(run.scanner.field_rules, PERSON_PLACE, field, [])
        if cls is not None and (type(cls) is not fields.Verdict or fields.value_fits(cls, decoded)):
            fresh = run.replace(fields.resolved(cls), decoded)
        elif field.lower() == "dn":  # "cn=Maria Conceição,ou=clientes,..."
            fresh = run.scrub(_DN_COMMON_NAME.sub(lambda cn: _common_name(run, cn), decoded))
        else:
            fresh = run.scrub(decoded)
        if fresh != decoded:
            start = m.start("value") + m.group("value").index(raw)
            out += (text[last:start], base64.b64encode(fresh.encode("utf-8")).decode("ascii"))
            last = start + len(raw)
    return "".join([*out, text[last:]]) if out else text


def _common_name(run: Run, cn: re.Match[str]) -> str:
    value = cn.group(1)
    if not value.strip() or is_token(value):
        return cn.group()
    return cn.group()[: cn.start(1) - cn.start()] + run.replace("name", value)


def person_record_field(name: str) -> str:
    """The field a vCard, jCard or LDIF property names (``fn``: a full name)."""
    return _PERSON_RECORD_NAMES.get(name.lower(), name)


def _person_record(text: str) -> bool:
    """A vCard (not an organisation's: ``KIND:org``), a calendar, or an LDIF file of
    entries (each opens with ``dn:``)."""
    head = text.lstrip()[:16].upper()
    if head.startswith("BEGIN:VCARD"):
        return _ORGANISATION.search(text) is None
    return head.startswith(("DN:", "VERSION: 1", "BEGIN:VCALENDAR"))


def place_of(parents: tuple[str, ...], siblings: dict[tuple[str, ...], set[str]]) -> fields.Place:
    """The place of a field under ``parents``; ``siblings``: each object's keys, by path."""
    place = fields.object_place(fields.ROOT, "", frozenset(siblings.get((), ())))
    for depth, parent in enumerate(parents):
        members = frozenset(siblings.get(parents[: depth + 1], ()))
        place = fields.object_place(place, parent, members)
    return place


def _fields(text: str) -> list[_Field]:
    """Every named value with its path: YAML nests by indentation, TOML and INI by
    their ``[section]``, ``.properties`` and TOML by dotted keys."""
    out: list[_Field] = []
    stack: list[tuple[int, str]] = []  # YAML: (indent, key) of each open mapping
    section: tuple[str, ...] = ()
    line_start = 0
    block = -1  # the indent of the key before, when its value is a block scalar ("|")
    for m in _LINE.finditer(text):
        between = text[line_start : m.start()]
        if "-" in between:  # a YAML list's items: "nomes:" then "  - Maria Souza"
            out.extend(_items(text, (line_start, m.start()), section, stack, block))
        line_start = m.end()
        for line in between.splitlines():
            sectioned = _SECTION.fullmatch(line)
            if sectioned:
                section = tuple(_unquoted(p) for p in sectioned.group(1).split("."))
                stack = []
        key = _unquoted(m.group("key"))
        indent = len(m.group("indent")) + (m.group().lstrip(" \t").startswith("-") * 2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        dotted = tuple(p for p in key.split(".") if p) if "." in key else (key,)
        path = (*section, *(k for _, k in stack), *dotted)
        raw = m.group("value")
        start, end = _value_span(raw, m.start("value"))
        block = indent if raw.strip() in _YAML_BLOCK else -1
        if start == end or block >= 0:
            if m.group("sep") == ":" and not raw.strip():
                stack.append((indent, key))  # a mapping opens
            continue
        if m.group("sep") == "::":  # LDIF's base64: read decoded before (_encoded_values)
            continue
        if text[start] == "[" and text[end - 1] == "]":  # YAML's flow list: [Ana, Rui]
            out.extend(_flow_items(text, start, end, path))
            continue
        out.append(_Field(start, end, path))
    if "-" in text[line_start:]:
        out.extend(_items(text, (line_start, len(text)), section, stack, block))
    return out


_FLOW_ITEM = re.compile(r"[^,\[\]{}\"']+")
_FLOW_PLAIN = re.compile(r"[^\[\]{}\"'\r\n]*")


def _flow_items(text: str, start: int, end: int, path: tuple[str, ...]) -> list[_Field]:
    """A flow list's plain items (``[Maria Souza, Ana Lima]``), each read as the
    field its key names; a list holding quotes, mappings or lists is read as text."""
    if not _FLOW_PLAIN.fullmatch(text, start + 1, end - 1):
        return []
    out = []
    for m in _FLOW_ITEM.finditer(text, start + 1, end - 1):
        item_start, item_end = _value_span(m.group(), m.start())
        if item_start < item_end:
            out.append(_Field(item_start, item_end, path))
    return out


# A YAML block sequence's item holding a scalar (``- Maria Souza``, ``- "Ana"``).
_ITEM = re.compile(r"^(?P<indent>[ \t]*)-[ \t]+(?P<value>[^\r\n]*)", re.MULTILINE)


def _items(
    text: str,
    span: tuple[int, int],
    section: tuple[str, ...],
    stack: list[tuple[int, str]],
    block: int,
) -> list[_Field]:
    """The scalar items of YAML lists in ``span`` of the text, each read as the
    field its list's key names (as a JSON array's strings are); the list's key is the
    innermost open mapping at the item's indent or less (``nomes:`` then ``- …`` at
    the same indent is YAML too). Lines of a block scalar (indented past ``block``,
    when it is not -1) are text, not items."""
    out = []
    for m in _ITEM.finditer(text, *span):
        indent = len(m.group("indent"))
        if 0 <= block < indent:
            continue
        owners = [key for level, key in stack if level <= indent]
        if not owners:
            continue
        item_start, item_end = _value_span(m.group("value"), m.start("value"))
        if item_start < item_end:
            out.append(_Field(item_start, item_end, (*section, *owners)))
    return out


def _value_span(raw: str, offset: int) -> tuple[int, int]:
    """Where the value is: without its quotes, leading blanks, or a trailing comment."""
    stripped = raw.strip(" \t")
    lead = len(raw) - len(raw.lstrip(" \t"))
    if len(stripped) > 1 and stripped[0] in "\"'" and stripped.find(stripped[0], 1) > 0:
        close = stripped.find(stripped[0], 1)
        return offset + lead + 1, offset + lead + close
    if " #" in stripped:  # a comment (YAML, TOML, INI)
        stripped = stripped[: stripped.find(" #")].rstrip(" \t")
    return offset + lead, offset + lead + len(stripped)


def _common_names(text: str) -> list[Hit]:
    """iCalendar's ``CN`` parameter of the people of an event, and the common name in
    an LDIF entry's distinguished name (``dn: cn=Maria Souza,ou=clientes,...``)."""
    hits = []
    for m in _LINE.finditer(text):
        key = m.group("key").lower()
        if key == "dn" and m.group("sep") == ":":
            found = _DN_COMMON_NAME.finditer(text, m.start("value"), m.end("value"))
            spans = [cn.span(1) for cn in found]
        elif key in _PEOPLE_PROPERTIES and m.group("params"):
            found = _COMMON_NAME.finditer(text, m.start("params"), m.end("params"))
            spans = [cn.span(1 if cn.group(1) is not None else 2) for cn in found]
        else:
            continue
        for start, end in spans:
            if text[start:end].strip() and not is_token(text[start:end]):
                hits.append(Hit(start, end, "name"))
    return hits


def _unquoted(key: str) -> str:
    key = key.strip()
    if len(key) > 1 and key[0] == key[-1] and key[0] in "\"'":
        return key[1:-1]
    return key
