"""Personal fields in XML, by element (and attribute) name and where the element sits.

NF-e's ``<dest>`` is a person (``<xNome>``, ``<enderDest><xLgr>``, ``<CEP>`` are
replaced) unless it holds a ``<CNPJ>`` and no ``<CPF>``: a company's (company_parties);
``<emit>`` is the issuing company (kept). The document is read with a tag scanner, not
a parser: bodies may be truncated or not well-formed, and every byte outside the
replaced values stays as it was.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from ext_proc_server.sanitize import cpf_or_cnpj, fields, record_kinds, sensitive_names
from ext_proc_server.sanitize.company_parties import CompanyParties
from ext_proc_server.sanitize.diagnosis_text import person_diagnoses
from ext_proc_server.sanitize.free_text_names import find_markup_names, find_names
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.xml_structure import Structure

_TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)([^<>]*?)(/?)>|<!\[CDATA\[|<!--|<[?!]")
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_SKIP_TO = {"<![CDATA[": "]]>", "<!--": "-->", "<?": "?>", "<!": ">"}
# HTML's custom data attributes: <div data-nome="..." data-cpf="..."> (names read
# without the prefix: field_names.key_words).
_DATA_PREFIX = "data-"
# HL7 FHIR's XML namespace: its resources are elements named as their type
# (<Condition>, <Patient>), and every primitive's value is its element's value
# attribute (<code value="B20"/>, <valueString value="O+"/>).
_FHIR_NAMESPACE = '"http://hl7.org/fhir"'
_FHIR_RESOURCE = frozenset({sensitive_names.RESOURCE_MARK})


@dataclass
class _Element:
    name: str  # local name, without a namespace prefix
    parent: int
    attributes: tuple[int, int]  # the start tag's attribute text
    children: list[str] = field(default_factory=list)
    content: tuple[int, int] | None = None  # text of a leaf element
    inner: tuple[int, int] | None = None  # what any closed element holds, tags and all


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _elements(text: str) -> list[_Element]:
    elements: list[_Element] = []
    stack: list[int] = []
    opened: dict[int, int] = {}  # element -> where its content starts
    skip_to = 0  # the end of a comment, CDATA section or processing instruction
    # One finditer: no tag match starting inside a skipped part runs past its end (each
    # ends at the first ">", and every skipped part ends with one).
    for m in _TAG.finditer(text):
        if m.start() < skip_to:
            continue
        slash, raw_name, _, self_closing = m.groups()
        if raw_name is None:  # CDATA, comment, processing instruction, doctype
            closing = _SKIP_TO.get(m.group(), ">")
            end = text.find(closing, m.end())
            skip_to = len(text) if end < 0 else end + len(closing)
            continue
        name = raw_name.rpartition(":")[2]
        if slash:  # an end tag
            if stack and elements[stack[-1]].name == name:
                index = stack.pop()
                element = elements[index]
                element.inner = (opened[index], m.start())
                if not element.children:
                    element.content = element.inner
            continue
        parent = stack[-1] if stack else -1
        if parent >= 0:
            elements[parent].children.append(name)
        elements.append(_Element(name, parent, m.span(3)))
        if not self_closing:
            stack.append(len(elements) - 1)
            opened[len(elements) - 1] = m.end()
    return elements


# Long because one pass reads each element's text, its label and its attributes in order.
def find_xml_fields(text: str, rules: fields.FieldRules) -> list[Hit]:
    """Findings for personal elements and attributes."""
    elements = _elements(text)
    places: list[fields.Place] = []
    hits: list[Hit] = []
    has_rules = bool(rules)
    labels = _Labels(text, elements)
    controls = _Controls(text, elements)
    cpf_records = _cpf_records(text, elements)
    companies = CompanyParties()  # <dest> holding a <CNPJ>: a company's, kept
    fhir = _FHIR_NAMESPACE in text
    structure = Structure(text)  # xmlns, xsi:type, xml:lang: kept (read when first asked)
    for index, element in enumerate(elements):
        parent_place = places[element.parent] if element.parent >= 0 else fields.ROOT
        members = _members(text, element)
        if index in cpf_records:  # <cpfCnpj> holding a CPF: as a <CPF> child makes it
            members |= {cpf_or_cnpj.MARK}
        if fhir and element.name[:1].isupper():  # a resource, as "resourceType" makes one
            members |= _FHIR_RESOURCE
        place = fields.object_place(parent_place, element.name, members)
        if place.owner == fields.PERSON:
            place = companies.place(index, element.parent, element.children, parent_place, place)
        places.append(place)
        parents = _parents(elements, element) if has_rules else []
        # An HTML value's name is its label's text: <dt>Nome</dt><dd>...</dd>, a
        # table's header cell, or the <th> before it in its row. Every cell is read,
        # leaf or not, so columns stay counted right.
        label = labels.read(index, element)
        if element.content is not None:
            name = label or element.name
            if name == "AttributeValue" and element.parent >= 0:  # SAML: the Attribute's
                named = _saml_attribute(text, elements[element.parent])
                if named is not None:
                    name, parent_place = named, _SUBJECT
            cls = (
                fields.field_verdict(rules, parent_place, name, parents)
                if has_rules
                else fields.builtin_verdict(parent_place, name)
            )
            if label and cls in _UNSURE:  # its table's other columns may make it a person's
                cls = labels.verdict(rules, element, parent_place, label, parents) or cls
            elif cls is None and companies.as_person:  # a company's name: a sole trader's?
                cls = companies.legal_name(
                    element.parent, name, _value(text[slice(*element.content)])
                )
            if cls is not None:
                _add(hits, text, *element.content, cls)
                if cls is fields.PROSE:
                    _add_diagnoses(hits, text, *element.content, parent_place)
        elif fhir and element.name == "div" and element.inner is not None:
            # A FHIR narrative's XHTML: every run of its text is the resource's.
            cls = fields.field_verdict(rules, parent_place, element.name, parents)
            if cls is sensitive_names.SENSITIVE:
                _add_runs(hits, text, element.inner, cls)
        elif label and element.inner is not None:
            # A value cell holding markup: <td><span>Maria Souza</span></td>.
            _add_marked_up(
                hits, text, element.inner, fields.field_verdict(rules, parent_place, label, parents)
            )
        start, end = element.attributes
        if start < end and "=" in text[start:end]:
            own = [*parents, element.name]
            # An HTML form control names its field in an attribute:
            # <input name="telefone" value="...">, <textarea name="nome">...</textarea>.
            named: str | None = None
            value_span: tuple[int, int] | None = None
            for m in _ATTRIBUTE.finditer(text, start, end):
                group = 2 if m.group(2) is not None else 3
                attribute = _local(m.group(1))
                lowered = attribute.lower()
                if lowered == "name":
                    named = html.unescape(m.group(group))
                elif lowered == "value":
                    value_span = m.span(group)
                    if fhir:  # the element's own value: read by the element's name
                        cls = fields.field_verdict(rules, parent_place, element.name, parents)
                        if cls is not None:
                            _add(hits, text, *value_span, cls)
                            if cls is fields.PROSE:
                                _add_diagnoses(hits, text, *value_span, parent_place)
                        continue
                cls = fields.field_verdict(rules, place, attribute, own)
                if cls is not None and not structure.is_structural(m.group(1), m.group(group)):
                    _add(hits, text, m.start(group), m.end(group), cls)
            span = value_span or (element.content if element.name.lower() == "textarea" else None)
            if named and span is not None:
                cls = fields.field_verdict(rules, parent_place, named, parents)
                if cls is None:  # its form's other controls may make it a person's
                    cls = controls.verdict(rules, index, parent_place, named, parents)
                if cls is not None:
                    _add(hits, text, *span, cls)
    return hits


# A SAML assertion is about its subject, a person: its attributes are that person's.
_SUBJECT = fields.object_place(fields.ROOT, "contato", frozenset())
# Attribute names written as LDAP's OIDs (SAML's "urn:oid:" name format, as Shibboleth,
# gov.br and most identity providers send them), and LDAP's short names, as the
# fields they are.
_SAML_NAMES = {
    "2.5.4.3": "nomeCompleto", "cn": "nomeCompleto", "2.5.4.4": "sobrenome",
    "sn": "sobrenome", "2.5.4.42": "givenName", "2.16.840.1.113730.3.1.241": "displayName",
    "2.5.4.20": "telefone", "telephonenumber": "telefone", "0.9.2342.19200300.100.1.41": "celular",
    "2.5.4.9": "street", "2.5.4.16": "endereco", "postaladdress": "endereco",
    "2.5.4.17": "postalCode", "0.9.2342.19200300.100.1.3": "email",
}  # fmt: skip


def _saml_attribute(text: str, attribute: _Element) -> str | None:
    """The field a SAML ``<Attribute Name="..." FriendlyName="...">`` names: its
    friendly name, else its name's last part (``urn:oid:2.5.4.42``, a claim URI's
    ``.../claims/givenname``)."""
    if attribute.name != "Attribute":
        return None
    names = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _ATTRIBUTE.finditer(text, *attribute.attributes)
    }
    raw = names.get("friendlyname") or names.get("name")
    if not raw:
        return None
    last = raw.rstrip("/").rpartition("/")[2]
    if last.startswith("urn:oid:"):
        last = last[8:]
    elif last.startswith("urn:"):
        last = last.rpartition(":")[2]
    return _SAML_NAMES.get(last.lower(), last)


_LABEL_MAX_CHARS = 40
_MARKUP = re.compile(r"<[^<>]*>")


_CONTROLS = frozenset({"input", "select", "textarea"})


class _Controls:
    """The names of an HTML form's controls, as a form-urlencoded body's names are read:
    <input name="cep"> in a form that also holds nome and cpf is a person's CEP. Read
    once, when a control's own name says nothing."""

    def __init__(self, text: str, elements: list[_Element]) -> None:
        self.text = text
        self.elements = elements
        self.form_of: dict[int, int] | None = None  # control -> its form (-1: none)
        self.names: dict[int, frozenset[str]] = {}  # form -> its controls' names

    def verdict(
        self, rules: fields.FieldRules, index: int, parent: fields.Place, name: str,
        parents: list[str],
    ) -> str | None:  # fmt: skip
        if self.form_of is None:
            self._read()
        form = self.form_of.get(index, -1) if self.form_of is not None else -1
        place = fields.object_place(parent, "", self.names.get(form, frozenset()))
        return fields.field_verdict(rules, place, name, parents)

    def _read(self) -> None:
        self.form_of, names = {}, {}
        for index, element in enumerate(self.elements):
            if element.name.lower() not in _CONTROLS:
                continue
            for m in _ATTRIBUTE.finditer(self.text, *element.attributes):
                if m.group(1).lower() == "name":
                    form = self._form(element)
                    self.form_of[index] = form
                    names.setdefault(form, set()).add(html.unescape(m.group(2) or m.group(3)))
        self.names = {form: frozenset(found) for form, found in names.items()}

    def _form(self, element: _Element) -> int:
        parent = element.parent
        while parent >= 0 and self.elements[parent].name.lower() != "form":
            parent = self.elements[parent].parent
        return parent


# Verdicts a label's list or table may settle: none yet, or a name if the value reads as one.
_UNSURE = (None, fields.MAYBE_NAME, fields.NAME_IF_WORDS)


class _Labels:
    """The labels of HTML values, read in document order: a <dd>'s is the <dt> before
    it; a <td>'s the <th> before it in its row, or the first <td> of a row of two, or,
    when a row holds only <th> cells, the header cell of its column."""

    def __init__(self, text: str, elements: list[_Element]) -> None:
        self.text = text
        self.elements = elements
        self.last: dict[int, str] = {}  # parent -> the text of its last <dt> or <th>
        self.columns: dict[int, int] = {}  # row -> the next cell's column
        self.headers: dict[int, dict[int, str]] = {}  # table -> column -> header text
        self.terms: dict[int, frozenset[str]] | None = None  # <dl> -> its <dt> texts

    def read(self, index: int, element: _Element) -> str | None:
        name = element.name.lower()
        if name not in ("dt", "dd", "th", "td"):
            return None
        parent = element.parent
        column = self.columns.get(parent, 0)
        self.columns[parent] = column + 1
        if name in ("dt", "th"):
            label = self._text(element)
            self.last[parent] = label
            row = self.elements[parent] if parent >= 0 else None
            if name == "th" and row is not None and all(c.lower() == "th" for c in row.children):
                self.headers.setdefault(self._table(parent), {})[column] = label
            return None
        label = self.last.pop(parent, "")
        if not label and name == "td":
            label = self.headers.get(self._table(parent), {}).get(column, "")
        if name == "td" and column == 0 and self._label_row(parent):
            # A two-column table of <td> cells: the first names the second
            # (<tr><td>CPF</td><td>...</td></tr>, <td>Nome:</td><td>...</td>).
            self.last[parent] = self._text(element)
        return label or None

    def verdict(
        self, rules: fields.FieldRules, element: _Element, parent: fields.Place, label: str,
        parents: list[str],
    ) -> str | None:  # fmt: skip
        """A cell's verdict read with its table's header cells as its row's members (a
        table with Nome and CPF columns is of people: its CEP column too), a <dd>'s
        with its list's <dt> terms."""
        if element.parent < 0:
            return None
        name = element.name.lower()
        if name == "td":
            headers = self.headers.get(self._table(element.parent))
            members = frozenset(headers.values()) if headers else None
        elif name == "dd":
            members = self._terms().get(self._term_list(element.parent))
        else:
            return None
        if not members:
            return None
        place = fields.object_place(parent, "", members)
        return fields.field_verdict(rules, place, label, parents)

    def _terms(self) -> dict[int, frozenset[str]]:
        """Every <dt>'s text by its <dl> (through a <div> grouping a term and its
        value), read once: a term after the <dd> counts too."""
        if self.terms is None:
            found: dict[int, set[str]] = {}
            for element in self.elements:
                if element.name.lower() == "dt" and element.parent >= 0:
                    owner = self._term_list(element.parent)
                    found.setdefault(owner, set()).add(self._text(element))
            self.terms = {parent: frozenset(texts) for parent, texts in found.items()}
        return self.terms

    def _term_list(self, parent: int) -> int:
        """What a term belongs to: its <dl>; outside one (pairs in a <div>, a table's
        cell), the element holding its pairs: its parent, or the parent's parent when
        the parent wraps one pair, so that terms of a page's blocks are not pooled."""
        dl = self._enclosing(parent, "dl")
        if dl >= 0:
            return dl
        if sum(c.lower() == "dt" for c in self.elements[parent].children) > 1:
            return parent
        return self.elements[parent].parent

    def _label_row(self, row: int) -> bool:
        if row < 0:
            return False
        cells = self.elements[row].children
        return len(cells) == 2 and cells[0].lower() == "td" and cells[1].lower() == "td"

    def _text(self, element: _Element) -> str:
        if element.inner is None:
            return ""
        inner = self.text[slice(*element.inner)]
        if element.content is None:  # <td><strong>CPF:</strong></td>
            inner = _MARKUP.sub("", inner)
        label = html.unescape(inner).strip().rstrip(":").strip()
        return label if len(label) <= _LABEL_MAX_CHARS else ""

    def _table(self, row: int) -> int:
        return self._enclosing(row, "table")

    def _enclosing(self, index: int, tag: str) -> int:
        while index >= 0 and self.elements[index].name.lower() != tag:
            index = self.elements[index].parent
        return index


# Markup a value cell may hold around its text (not a nested table or list).
_INLINE_ONLY = re.compile(r"<(?:table|tr|td|th|ul|ol|li|dl|div|p|script|style)\b", re.IGNORECASE)
_VALUE_MAX_CHARS = 200


def _add_marked_up(hits: list[Hit], text: str, inner: tuple[int, int], cls: str | None) -> None:
    """A labelled cell's text runs, read as one value (``<b>Maria</b> <i>Souza</i>``
    is one name): each run is replaced when the whole fits the label's class."""
    if cls is None:
        return
    start, end = inner
    content = text[start:end]
    if _INLINE_ONLY.search(content):
        return
    runs = []
    at = start
    for tag in _MARKUP.finditer(text, start, end):
        if text[at : tag.start()].strip():
            runs.append((at, tag.start()))
        at = tag.end()
    if text[at:end].strip():
        runs.append((at, end))
    value = html.unescape(" ".join(text[a:b].strip() for a, b in runs)).strip()
    if not value or len(value) > _VALUE_MAX_CHARS:
        return
    if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
        return
    for a, b in runs:
        _add(hits, text, a, b, fields.resolved(cls))


def _add_diagnoses(hits: list[Hit], text: str, start: int, end: int, place: fields.Place) -> None:
    """The diagnoses a person's free text names (diagnosis_text), each replaced alone."""
    value = text[start:end]
    hits.extend(person_diagnoses(place, value, start, escaped="&" in value))


def _add_runs(hits: list[Hit], text: str, inner: tuple[int, int], cls: str) -> None:
    """Every run of text between the tags ``inner`` holds, each replaced whole."""
    at, end = inner
    for tag in _MARKUP.finditer(text, *inner):
        _add(hits, text, at, tag.start(), cls)
        at = tag.end()
    _add(hits, text, at, end, cls)


def _members(text: str, element: _Element) -> frozenset[str]:
    """An element's children and its data attributes: data-cpf makes a data-cep a
    person's."""
    if text.find(_DATA_PREFIX, *element.attributes) < 0:
        return frozenset(element.children)
    names = (m.group(1) for m in _ATTRIBUTE.finditer(text, *element.attributes))
    return frozenset([*element.children, *(n for n in names if n.startswith(_DATA_PREFIX))])


# Long because one pass gathers each candidate record's members: children, a child's
# own leaves (a kind one level down), attributes.
def _cpf_records(text: str, elements: list[_Element]) -> set[int]:
    """The elements their document or their kind says are a person's record, read as
    every other format reads them (cpf_or_cnpj): a CPF under ``<cpfCnpj>`` or
    ``<documento>``, ``<tipoPessoa>F</tipoPessoa>``, ``tipoInscricao="1"`` beside
    ``numeroInscricao``, a kind one level down (``<tipo_pessoa><codigo_tipo_pessoa>F``),
    a document two levels down in an identification wrapper (NFS-e's
    ``<Tomador><IdentificacaoTomador><CpfCnpj><Cpf>``);
    a CNPJ or a company's kind leaves its record as its other members make it."""
    if not cpf_or_cnpj.may_name_record(text):
        return set()
    records: dict[int, list[tuple[str, object]]] = {}  # a candidate -> its members
    for index, element in enumerate(elements):
        if element.parent >= 0 and record_kinds.decides(element.name):
            records.setdefault(element.parent, [])
        start, end = element.attributes
        if start < end and cpf_or_cnpj.may_name_record(text[start:end]):
            found = [
                (_local(m.group(1)), _value(m.group(2) if m.group(2) is not None else m.group(3)))
                for m in _ATTRIBUTE.finditer(text, start, end)
            ]
            if any(record_kinds.decides(name) for name, _ in found):
                records.setdefault(index, []).extend(found)
    if not records:
        return set()
    nested: dict[int, list[tuple[str, object]]] = {}  # a candidate's child -> its leaves
    for index, element in enumerate(elements):
        members, inner = records.get(element.parent), nested.get(element.parent)
        if members is None and inner is None:
            continue
        if element.content is None:
            if members is not None:
                members.append((element.name, nested.setdefault(index, [])))
            if inner is not None and _wrapped(elements, element):  # <CpfCnpj> in a wrapper
                inner.append((element.name, nested.setdefault(index, [])))
            continue
        value = _value(text[slice(*element.content)])
        for found in (members, inner):  # a child's leaf is its own too: <tipo_pessoa>'s
            if found is not None:
                found.append((element.name, value))
    return {
        index
        for index, members in records.items()
        if cpf_or_cnpj.persons_record(
            tuple(name for name, _ in members), lambda i, members=members: members[i][1]
        )
    }


def _wrapped(elements: list[_Element], element: _Element) -> bool:
    """Whether an element stands in an identification wrapper that is a candidate's
    child (``<Tomador><IdentificacaoTomador><CpfCnpj>``): the document it holds, two
    levels below the record, says whose the record is (record_kinds.wrapped_kind)."""
    if record_kinds.member_role(elements[element.parent].name) != record_kinds.WRAPPER:
        return False
    return record_kinds.member_role(element.name) in _WRAPPED_DOCUMENTS


_WRAPPED_DOCUMENTS = (record_kinds.EITHER, record_kinds.NUMBERED)


def _value(raw: str) -> str:
    """An element's or an attribute's text as it reads: CDATA's, entities decoded."""
    if raw.startswith("<![CDATA[") and raw.endswith("]]>"):
        return raw[9:-3].strip()
    return (html.unescape(raw) if "&" in raw else raw).strip()


def _parents(elements: list[_Element], element: _Element) -> list[str]:
    names = []
    index = element.parent
    while index >= 0:
        names.append(elements[index].name)
        index = elements[index].parent
    return names[::-1]


def _add(hits: list[Hit], text: str, start: int, end: int, cls: str) -> None:
    raw = text[start:end]
    cdata = raw.startswith("<![CDATA[") and raw.endswith("]]>")
    if cdata:  # its text is literal: "&amp;" there is five characters
        start, end = start + 9, end - 3
        raw = text[start:end]
    stripped = raw.strip()
    if not stripped or stripped.startswith("SANITIZED_"):
        return
    start += len(raw) - len(raw.lstrip())
    end = start + len(stripped)
    escaped = "&" in stripped and not cdata
    if cls is fields.PROSE:  # <infCpl>Entregar para Maria da Silva</infCpl>: its names
        found = find_markup_names(stripped) if escaped else find_names(stripped)
        hits.extend(Hit(start + a, start + b, "name", escaped=escaped) for a, b in found)
        return
    value = html.unescape(stripped) if escaped else stripped
    if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
        return
    hits.append(Hit(start, end, fields.resolved(cls), escaped=escaped))
