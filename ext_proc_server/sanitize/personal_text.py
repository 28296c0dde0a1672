"""Personal data in free text, found by its context: "nascida em 14/03/1985", "mora na
Av. Paulista 1000", "Rua das Flores, 123, apto 45 - Jardim Paulista", "cliente Maria da
Silva", "Sra. Souza", "RG 12.345.678-9", "tel 4004-1234".

A lowered-bytes probe (RE2 for long texts) rules the detectors out for most texts before
any of their regexes runs.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import re2

from ext_proc_server.sanitize import phones
from ext_proc_server.sanitize.fields import reads_as_name

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_CAP_WORD = rf"(?:[{_UP}][{_LO}'\u2019]+|[{_UP}]{{2,}})"
_PARTICLE = r"(?:d[aeo]s?|D[AEO]S?|e|E)(?!\w)"
_NAME_RUN = rf"{_CAP_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_CAP_WORD}){{0,6}}"
_HONORIFIC = (
    r"(?P<abbreviated>(?i:\b(?:sr|sra|srta|dr|dra)\.))"
    r"|(?<![Nn]ossa )(?<![Nn]osso )(?i:\b(?:senhora?|dona)\b)"
)
_HOLDER = (
    r"(?i:\b(?:cliente|titular|paciente|benefici[aá]ri[oa]|respons[aá]vel|segurad[oa]"
    r"|portador(?:a)?|nome(?:[ \t]+completo)?|m[aã]e|pai|filh[oa][ \t]+de))\b"
)
_NAME_AFTER = re.compile(
    rf"(?:(?P<honorific>{_HONORIFIC})|{_HOLDER})[ \t]*[:\-\u2013]?[ \t]*"
    rf"(?P<v>(?(abbreviated)(?:{_PARTICLE}[ \t]+)?){_NAME_RUN})"
)

_MONTHS = (
    r"janeiro|fevereiro|mar[cç]o|abril|maio|junho|julho|agosto|setembro|outubro|novembro"
    r"|dezembro|january|february|march|april|may|june|july|august|september|october"
    r"|november|december|jan|fev|feb|mar|abr|apr|mai|jun|jul|ago|aug|set|sep|out|oct|nov"
    r"|dez|dec"
)
_DATE = (
    rf"\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})(?![\d/.-]\d)|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}[º°]?[ \t]+de[ \t]+(?:{_MONTHS})\.?[ \t]+de[ \t]+\d{{4}}"
    rf"|(?:{_MONTHS})\.?[ \t]+\d{{1,2}},?[ \t]+\d{{4}}"
    rf"|\d{{1,2}}[ \t]+(?:{_MONTHS})\.?,?[ \t]+\d{{4}}"
)
_BIRTH = re.compile(
    r"(?i)(?<![a-z])(?:nascid[oa]s?|nasceu|(?:data[ _\t]*(?:de[ _\t]*)?)?nascimento"
    r"|(?:data|dt)[ _\t]*(?:de[ _\t]*)?nasc\.?|dt\.?[ _\t]*nasc\.?|nasc\.|born"
    r"|date[ _\t]*of[ _\t]*birth|birth[ _\t-]*date|birthday|d\.o\.b\.?|dob|dn)(?![a-z])"
    r"(?:[ \t:=,\-\u2013]|\bem\b|\bon\b|\bno[ \t]+dia\b|\bin\b|\bde\b){0,6}"
    rf"(?P<v>{_DATE})"
)

_STREET_TYPE = (
    r"(?i:\b(?:rua|avenida|travessa|alameda|pra[cç]a|estrada|rodovia|largo|viela|beco"
    r"|ladeira|servid[aã]o|passagem)\b|\b(?:r|av|trav|tv|al|p[cç]a|estr|rod|lgo)\.|\bav\b)"
)
_STREET_WORD = r"[\w'\u2019ºª°.-]+"
_COMPLEMENT = (
    r"(?i:apto?\.?|apartamento|ap\.|bloco|bl\.|casa|sala|cj\.?|conj\.?|conjunto|andar|lote"
    r"|lt\.|loja|fundos|sobrado|torre|km)[ \t]*[\w-]*"
)
_PLACE_WORD = rf"(?:[{_UP}][\w'\u2019]+|\d{{1,3}}[ªº°])"
_PLACE = rf"{_PLACE_WORD}(?:[ \t]+(?:{_PARTICLE}|{_PLACE_WORD})){{0,4}}"
_CEP = r"(?:(?i:cep):?[ \t]*)?\d{5}-?\d{3}\b"
_TAIL_PART = rf"(?:{_CEP}|{_COMPLEMENT}|[A-Z]{{2}}\b|{_PLACE})"
_ADDRESS = re.compile(
    rf"{_STREET_TYPE}[ \t]+{_STREET_WORD}(?:[ \t]+{_STREET_WORD}){{0,6}}?[ \t]*,?[ \t]*"
    r"(?:(?i:n[º°o.]|n[uú]mero)[ \t]*)?\d{1,6}[A-Za-z]?\b"
    rf"(?:[ \t]*(?:,|-|\u2013|/)?[ \t]*{_TAIL_PART}){{0,6}}"
)
_RG = re.compile(
    r"\b(?:RG|R\.G\.|rg|Rg|(?i:identidade))[ \t]*(?:(?i:n[º°o.])[ \t]*)?[:.\-]?[ \t]*"
    r"(?P<v>(?:[A-Z]{2}[- ]?)?\d{1,2}\.?\d{3}\.?\d{3}(?:-?[\dXx])?|\d{5,10}(?:-[\dXx])?)\b"
)
_PHONE_CUE = re.compile(
    r"(?i:\b(?:tel|telefone|fone|celular|cel|whatsapp|whats|zap|wpp|ligue(?:[ \t]+para)?"
    r"|ligar[ \t]+para|phone|mobile|fax|contato|sac)\b)\.?[ \t]*[:=\-\u2013]?[ \t]*"
    r"(?P<v>\+?[0-9(][0-9 ().-]{6,22}[0-9])"
)

# Lowered ASCII bytes ("?" for other characters): the words every detector needs.
_CUES = (
    rb"nasc|birth|born|d\.o\.b|\bdob\b|\bdn\b|\brua\b|\bav\b|\bav\.|avenida|travessa|trav\."
    rb"|\btv\.|alameda|\bal\.|pra.a|p.a\.|estrada|estr\.|rodovia|\brod\.|largo|lgo\.|viela"
    rb"|\bbeco\b|ladeira|servid|passagem|\br\.|cliente|titular|paciente|benefici|respons"
    rb"|segurad|portador|nome|m.e\b|\bpai\b|filh|\bsr|\bdr|senhor|\bdona\b|\brg\b|r\.g\."
    rb"|identidade|\btel|fone|celular|\bcel\b|whats|\bzap\b|\bwpp\b|ligu|ligar|phone"
    rb"|mobile|\bfax\b|contato|\bsac\b"
)


def _dfa(pattern: bytes) -> re2._Regexp:
    options = re2.Options()
    options.never_capture = True
    options.encoding = re2.Options.Encoding.LATIN1
    return re2.compile(pattern, options)


_CUES_SHORT = re.compile(_CUES)
_CUES_LONG = _dfa(_CUES)
_LONG_TEXT_CHARS = 256


_BIRTH_CUES = (b"nasc", b"birth", b"born", b"dob", b"d.o.b", b"dn")


class Finding(NamedTuple):
    start: int
    end: int
    cls: str


def may_hold_personal(probe: bytes) -> bool:
    """Whether a text (as lowered ASCII bytes) holds a word some detector needs."""
    cues = _CUES_LONG if len(probe) >= _LONG_TEXT_CHARS else _CUES_SHORT
    return cues.search(probe) is not None


def find_personal(text: str, probe: bytes) -> list[Finding]:
    """Personal data in ``text`` found by context; ``probe`` is its lowered ASCII bytes."""
    if not may_hold_personal(probe):
        return []
    found: list[Finding] = []
    if any(cue in probe for cue in _BIRTH_CUES):
        for m in _BIRTH.finditer(text):
            found.append(Finding(m.start("v"), m.end("v"), "birth_date"))
    for m in _ADDRESS.finditer(text):
        found.append(Finding(m.start(), m.end(), "address"))
    for m in _NAME_AFTER.finditer(text):
        name = m.group("v")
        if m.group("honorific") or reads_as_name(name, known=True):
            found.append(Finding(m.start("v"), m.end("v"), "name"))
    if b"rg" in probe or b"r.g." in probe or b"identidade" in probe:
        for m in _RG.finditer(text):
            found.append(Finding(m.start("v"), m.end("v"), "rg"))
    for m in _PHONE_CUE.finditer(text):
        if phones.could_be_phone(m.group("v")):
            found.append(Finding(m.start("v"), m.end("v"), "phone"))
    return found
