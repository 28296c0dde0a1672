"""Personal data in free text, found by its context: "nascida em 14/03/1985", "mora na
Av. Paulista 1000", "Rua das Flores, 123, apto 45 - Jardim Paulista", "cliente Maria da
Silva", "Sra. Souza", "RG 12.345.678-9", "CNH 53818602560", "tel 4004-1234".

A lowered-bytes probe (RE2 for long texts) rules the detectors out for most texts before
any of their regexes runs.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ext_proc_server.sanitize import month_names, phones, validators
from ext_proc_server.sanitize.delivery_cues import (
    DELIVERY_PHRASES,
    US_DELIVERY_CUE,
    US_DELIVERY_PROBE,
    delivered_to_a_place,
)
from ext_proc_server.sanitize.dfa import WordGate, compile_dfa
from ext_proc_server.sanitize.fields import reads_as_name
from ext_proc_server.sanitize.street_words import (
    BRASILIA_SECTOR,
    BRASILIA_UNIT,
    BRAZIL_STREET_TYPES,
    SPANISH_PLACE_TYPES,
    SPANISH_STREET_TYPES,
    US_COMMON_SUFFIXES,
    US_STREET_SUFFIXES,
    US_SUFFIX_ABBREVIATIONS,
    names_a_product,
)
from ext_proc_server.sanitize.titled_towns import is_whole_town
from ext_proc_server.sanitize.word_trie import trie_pattern
from ext_proc_server.sanitize.wordlists import fold

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

_MONTHS = month_names.PATTERN
_DATE = (
    rf"\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})(?![\d/.-]\d)|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}[º°]?[ \t]+de[ \t]+(?:{_MONTHS})\.?[ \t]+de[ \t]+\d{{4}}"
    rf"|(?:{_MONTHS})\.?[ \t]+\d{{1,2}},?[ \t]+\d{{4}}"
    rf"|\d{{1,2}}[ \t]+(?:{_MONTHS})\.?,?[ \t]+\d{{4}}"
)
# After a birth cue only: eight digits that read as a date (yyyymmdd, as a record
# layout or an API writes one: "DN 19850314"); elsewhere such a run is an id.
_COMPACT_DATE = r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"
_BIRTH = re.compile(
    r"(?i)(?<![a-z])(?:nascid[oa]s?|nasceu|(?:data[ _\t]*(?:de[ _\t]*)?)?nascimento"
    r"|nacid[oa]s?|naci[oó]|nacimiento"
    r"|(?:data|dt)[ _\t]*(?:de[ _\t]*)?nasc\.?|dt\.?[ _\t]*nasc\.?|nasc\.|born"
    r"|date[ _\t]*of[ _\t]*birth|birth[ _\t-]*date|birthday|d\.o\.b\.?|dob|dn|nasc)(?![a-z])"
    r"(?:[ \t:=,\-\u2013]|\bem\b|\bon\b|\bno[ \t]+dia\b|\bin\b|\bde\b|\bel\b){0,6}"
    rf"(?P<v>{_DATE}|{_COMPACT_DATE})"
)

_STREET_TYPE = (
    r"(?i:\b(?:rua|avenida|travessa|alameda|pra[cç]a|estrada|rodovia|largo|viela|beco"
    r"|ladeira|servid[aã]o|passagem|" + "|".join(SPANISH_STREET_TYPES) + r")\b"
    r"|\b(?:r|av|trav|tv|al|p[cç]a|estr|rod|lgo)\.|\bav\b)"
)
_STREET_WORD = r"[\w'\u2019ºª°.-]+"
_COMPLEMENT = (
    r"(?i:apto?\.?|apartamento|ap\.|bloco|bl\.|casa|sala|cj\.?|conj\.?|conjunto|andar|lote"
    r"|lt\.|loja|fundos|sobrado|torre|km|piso|puerta|suite|ste\.|unit|#)[ \t]*[\w-]*"
)
_PLACE_WORD = rf"(?:[{_UP}][\w'\u2019]+|\d{{1,3}}[ªº°])"
_PLACE = rf"{_PLACE_WORD}(?:[ \t]+(?:{_PARTICLE}|{_PLACE_WORD})){{0,4}}"
_CEP = r"(?:(?i:cep):?[ \t]*)?\d{5}-?\d{3}\b"
# Other countries' postal codes in an address's tail: Portugal's "1234-567", Spain's
# and the United States' five digits ("MT 87630", "87630-1234").
_POSTAL_CODE = r"\d{4}-\d{3}\b|\d{5}(?:-\d{4})?\b"
_BAIRRO = rf"(?i:bairro|b\.)[ \t]*:?[ \t]*{_PLACE}"
_TAIL_PART = rf"(?:{_CEP}|{_POSTAL_CODE}|{_COMPLEMENT}|{_BAIRRO}|[A-Z]{{2}}\b|{_PLACE})"
# Places named like streets (Faker's other pt_BR street prefixes: "Vila Souza, 12",
# "Quadra Pereira, 4", "Condomínio de Moraes, 310"): many are common words too ("Via",
# "Campo", "Setor", "Vale"), so one counts only as a proper name's start: written
# capitalised, a capitalised name after it, then a comma (or "nº") and a number that
# opens no date ("Campo Grande, 15 de março").
_PLACE_TYPES = (
    "Aeroporto", "Área", "Campo", "Chácara", "Colônia", "Condomínio", "Conjunto", "Distrito",
    "Esplanada", "Estação", "Favela", "Fazenda", "Feira", "Jardim", "Lago", "Lagoa",
    "Loteamento", "Morro", "Núcleo", "Parque", "Passarela", "Pátio", "Praia", "Quadra",
    "Recanto", "Residencial", "Setor", "Sítio", "Trecho", "Trevo", "Vale", "Vereda", "Via",
    "Viaduto", "Vila", *BRAZIL_STREET_TYPES,
)  # fmt: skip
# Also written without accents ("Chacara", "Condominio"), but for "Area": English.
_PLACE_SPELLINGS = [
    spelling for word in _PLACE_TYPES for spelling in {word, fold(word).capitalize()} - {"Area"}
]
_SPANISH_SPELLINGS = [
    spelling for word in SPANISH_PLACE_TYPES for spelling in {word, fold(word).capitalize()}
]
_PLACE_TYPE = trie_pattern([s for w in _PLACE_SPELLINGS for s in (w, w.upper())]) + r"(?![\w])"
_SPANISH_TYPE = (
    "(?:" + "|".join(f"{w}|{w.upper()}" for w in sorted(_SPANISH_SPELLINGS)) + r")(?![\w])"
)
_NUMBER_MARK = r"(?i:n[º°o.]|n[uú]mero)"
# A number, or none written as such: "Praça de Vaz, S/N", "Rua X, s/nº".
_HOUSE_NUMBER = r"(?:\d{1,6}[A-Za-z]?\b|(?i:s/n)[º°o.]?(?![\w/]))"
# A number that counts time is no house number: "mora na Av. Brasil há 10 anos", "Rua
# Augusta desde 2019", "Calle Mayor desde hace 3 años" (the street alone is replaced,
# after a word that says one lives there: _LIVED_IN_STREET).
_TIME_BEFORE = "".join(
    rf"(?<!(?i:{word})[ \t])" for word in ("há", "ha", "faz", "hace", "desde", "since", "for")
)
_TIME_AFTER = (
    r"(?![ \t]*(?i:anos?|m[eê]s(?:es)?|dias?|semanas?|horas?|años?|d[ií]as|years?|months?"
    r"|weeks?|days?|hours?)\b)"
)
_PLACE_STREET = (
    rf"(?:{_PLACE_TYPE}|{_SPANISH_TYPE})[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_CAP_WORD}"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_CAP_WORD}){{0,5}}"
    rf"(?:[ \t]*,[ \t]*(?:{_NUMBER_MARK}[ \t]*)?|[ \t]+{_NUMBER_MARK}[ \t]*)"
    rf"{_HOUSE_NUMBER}(?![ \t]+(?i:de)\b)"
)
# Spain writes the number after the name with no comma ("Plaza de Teodora Porta 19",
# "C. de Nieves Verdú 12"): on a type that is a common word too, two capitalised words
# at least ("Acceso Total 24 horas" stays).
_SPANISH_STREET = (
    rf"(?:{_SPANISH_TYPE}|C\.)[ \t]+(?:(?:de|del|de[ \t]+la)[ \t]+)?{_CAP_WORD}"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_CAP_WORD}){{1,4}}[ \t]+"
    rf"\d{{1,5}}[A-Za-z]?\b(?![ \t]+(?i:de)\b)(?![.,]\d){_TIME_AFTER}"
)
_TYPED_STREET = (
    rf"{_STREET_TYPE}[ \t]+{_STREET_WORD}(?:[ \t]+{_STREET_WORD}){{0,6}}?[ \t]*,?[ \t]*"
    # Not glued to a word: "Quadro Avenida Paulista 50x70" is a product's size.
    rf"(?:{_NUMBER_MARK}[ \t]*|(?<!\w){_TIME_BEFORE}){_HOUSE_NUMBER}{_TIME_AFTER}"
)
_US_SUFFIX = (
    "(?:(?:" + "|".join(sorted(US_STREET_SUFFIXES, key=lambda w: (-len(w), w))) + r")\b"
    "|(?:" + "|".join(sorted(US_SUFFIX_ABBREVIATIONS, key=lambda w: (-len(w), w))) + r")\b\.?)"
)
# The United States' order: the number first ("141 Hodges Mountains", "12 Oak St.
# Apt. 4"), a capitalised name of one to three words ("5 Old Mill Road", "77 N Main
# St", "9 Martin Luther King Blvd"), then a street suffix.
_US_NAME_WORD = r"(?:[A-Z][a-z'\u2019]+|[NSEW]\.?)"
# A fourth word if it says which of a name's bearers: "9 Martin Luther King Jr Blvd".
_US_GENERATION = r"(?:(?:Jr|Sr|JR|SR)\.?[ \t]+)?"
_US_STREET = (
    rf"(?<![\w.,/#$€£-])(?<![Tt]op )(?<![Tt]he )\d{{1,6}}[ \t]+"
    rf"(?P<us>(?:{_US_NAME_WORD}[ \t]+){{1,3}}{_US_GENERATION}){_US_SUFFIX}"
)
# A Brazilian street's name with no number, written as a proper name ("Rua das
# Acácias", "Avenida Paulista"): a person's address only beside their bairro ("Rua das
# Acácias, bairro Centro") or after a word that says one lives there (_RESIDENT_STREET).
_CAPITAL_STREET_TYPE = (
    r"(?:Rua|RUA|Avenida|AVENIDA|Av\.|AV\.|Travessa|TRAVESSA|Alameda|ALAMEDA|Pra[çc]a"
    r"|PRA[ÇC]A|Estrada|ESTRADA|Rodovia|RODOVIA|Largo|LARGO|Viela|Beco|Ladeira|R\.)"
)
_STREET_NAME = (
    # One capital letter names a street of a new quarter's plan ("Rua A", "Rua X").
    rf"[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}(?:{_CAP_WORD}|[{_UP}](?![\w.]))"
    rf"(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_CAP_WORD}){{0,5}}"
)
# After words that say one lives there ("mora na Rua das Acácias", "reside na Avenida
# Paulista", "vive en", "lives at"): tried only where no other street matched, as
# lookbehinds of fixed width (one per width, its phrases an alternation).
_LIVES_PHRASES = [
    *(f"{verb} {to} "
      for verb in ("mora", "moro", "moram", "reside", "resido", "residente", "domiciliado",
                   "domiciliada")
      for to in ("na", "no", "em", "à")),
    *(f"{verb} en {the}" for verb in ("vive", "vivo", "reside", "resido", "viven", "vivimos")
      for the in ("", "la ", "el ")),
    "lives at ", "lives on ", "living at ", "living on ", "lived at ", "lived on ", "morada: ",
    *DELIVERY_PHRASES,
]  # fmt: skip
_LIVES_THERE = "|".join(
    "(?<=(?i:" + "|".join(p for p in _LIVES_PHRASES if len(p) == width) + "))"
    for width in sorted({len(p) for p in _LIVES_PHRASES})
)
# Spain's types, capitalised: "vivo en la Calle Mayor desde hace 3 años".
_CAPITAL_SPANISH_TYPE = (
    "(?:" + "|".join(f"{w.capitalize()}|{w.upper()}" for w in SPANISH_STREET_TYPES) + r")(?!\w)"
)
# Written in lower case, as a chat writes it ("mora na rua das flores e trabalha no
# centro"): up to four words, none a word that ends the street's name (a number ends
# it too: "mora na rua das flores 10 anos").
_NAME_END = (
    r"(?:e|y|com|con|desde|h[aá]|faz|hace|perto|cerca|junto|mas|que|em|no|na|nos|nas|ao"
    r"|aos|à|at[eé]|para|pra|por|pelo|pela|onde|porque|quando|aqui|ali|l[aá]|sozinh[oa]s?)"
    r"(?![\w])"
)
_LOWER_STREET = (
    rf"(?:rua|avenida|av\.|travessa|alameda|pra[cç]a|estrada|rodovia|largo|calle)"
    rf"(?:[ \t]+(?:d[aeo]s?[ \t]+)?(?!{_NAME_END})[{_LO}][\w'\u2019-]*){{1,4}}"
)
_LIVED_IN_STREET = (
    rf"(?:{_LIVES_THERE})(?P<lived>(?:{_CAPITAL_STREET_TYPE}|{_PLACE_TYPE}|{_CAPITAL_SPANISH_TYPE}"
    rf"|{_SPANISH_TYPE}){_STREET_NAME}|{_LOWER_STREET})"
)
# Brasília's addresses: a sector's initials, its number, then a block, a group or a
# house ("SQN 308 Bloco C", "QI 5 Conjunto 2 Casa 10").
_BRASILIA_STREET = (
    rf"(?<![\w-]){BRASILIA_SECTOR}[ \t]+\d{{1,3}}[A-Z]?[ \t]*,?[ \t]*{BRASILIA_UNIT}[ \t]*"
    rf"[\w-]+"
)
_BAIRRO_STREET = (
    rf"(?:{_CAPITAL_STREET_TYPE}|{_PLACE_TYPE}){_STREET_NAME}(?=[ ]*(?:,|-|\u2013)[ ]*{_BAIRRO})"
)
_ADDRESS = re.compile(
    rf"(?:{_TYPED_STREET}|{_PLACE_STREET}|{_SPANISH_STREET}|{_US_STREET}|{_BAIRRO_STREET}"
    rf"|{_LIVED_IN_STREET}|{_BRASILIA_STREET})"
    # Spaces only: a tab ends a table's cell, and what follows is another column.
    rf"(?:[ ]*(?:,|-|\u2013|/)?[ ]*{_TAIL_PART}){{0,6}}"
)
# A United States street with no number after a word that says one lives there ("lives
# on Old Mill Road", "moved to Elm Street", "her address is Oak Avenue"): only before a
# common suffix ("moved to Palm Springs" is a city).
_COMMON_WORDS = sorted(set(US_COMMON_SUFFIXES) - set(US_SUFFIX_ABBREVIATIONS))
_COMMON_ABBREVIATIONS = sorted(set(US_COMMON_SUFFIXES) & set(US_SUFFIX_ABBREVIATIONS))
# A dot after an abbreviation only: after a word it ends the sentence.
_US_COMMON_SUFFIX = (
    rf"(?:(?:{'|'.join(_COMMON_WORDS)})\b|(?:{'|'.join(_COMMON_ABBREVIATIONS)})\b\.?)"
)
_US_STREET_AFTER_CUE = re.compile(
    r"(?i:(?:lives|lived|living|resides|resided)[ \t]+(?:on|at)|moved[ \t]+(?:in[ \t]+)?to"
    rf"|address[ \t]+is|{US_DELIVERY_CUE})[ \t]+"
    rf"(?P<v>(?:{_US_NAME_WORD}[ \t]+){{1,3}}{_US_GENERATION}{_US_COMMON_SUFFIX}"
    rf"(?:[ ]*(?:,|-|\u2013|/)?[ ]*{_TAIL_PART}){{0,6}})"
)
_RG = re.compile(
    r"\b(?:RG|R\.G\.|rg|Rg|(?i:identidade))[ \t]*(?:(?i:n[º°o.])[ \t]*)?[:.\-]?[ \t]*"
    r"(?P<v>(?:[A-Z]{2}[- ]?)?\d{1,2}\.?\d{3}\.?\d{3}(?:-?[\dXx])?|\d{5,10}(?:-[\dXx])?)\b"
)
# Other identity documents after their name: a driving licence, PIS/PASEP/NIS/NIT, the
# SUS card, a voter's card. The number must pass one of their check digits (each
# accepts one number in 10 to 300: a cue and a checksum together are a document).
_ID_DOCUMENT = re.compile(
    r"(?i:\b(?:cnh|pis(?:[ \t]*/[ \t]*pasep)?|pasep|nis|nit|cns"
    r"|t[ií]tulo(?:[ \t]+de)?[ \t]+eleitor(?:al)?|cart[aã]o[ \t]+(?:do[ \t]+)?sus"
    r"|cart[aã]o[ \t]+nacional[ \t]+de[ \t]+sa[uú]de|habilita[cç][aã]o))\b"
    r"[ \t]*(?:(?i:n[º°o.])[ \t]*)?[:.\-=]?[ \t]*"
    r"(?P<v>\d(?:[ .\-/]?\d){10,14})(?!\d)"
)
# A word may say which plate it is: "placa antiga ABC-1234" (the grey one before
# Mercosul's), "placa nova BRA2E19"; the plate's shape must follow all the same.
_PLATE = re.compile(
    r"(?i:\bplaca)(?:[ \t]+(?:do[ \t]+)?ve[ií]culo)?"
    r"(?:[ \t]+(?i:antiga|anterior|nova|atual|mercosul|original|cinza))?"
    r"[ \t]*(?:(?i:n[º°o.])[ \t]*)?[:\-=]?[ \t]*"
    r"(?P<v>[A-Za-z]{3}-?[0-9][A-Za-z0-9][0-9]{2})\b"
)
_ID_CHECKS = {
    11: (validators.pis_valid, validators.cnh_valid),
    12: (validators.voter_id_valid,),
    15: (validators.cns_valid,),
}
# A postal code after its name in prose: "CEP 01310-100", "código postal 1234-567", "ZIP
# 94105". Not a field written "cep=..." or a line "cep: ...": those are read by name, as
# a record's field (a company's CEP stays; _named_field).
_CEP_AFTER_CUE = re.compile(
    r"(?i:\b(?:cep|c[oó]digo[ \t]+postal|zip(?:[ \t_-]*code)?|postal[ \t_-]*code"
    r"|post[ \t_-]?code))\b[ \t]*(?:(?i:n[º°o.])[ \t]*)?(?P<sep>[:=.\-\u2013]?)[ \t]*"
    r"(?P<v>\d{2}\.?\d{3}-?\d{3}|\d{4}-\d{3}|\d{5}(?:-\d{4})?)(?![\d.,/-]*\d)"
)
_PHONE_CUE = re.compile(
    r"(?i:\b(?:tel|telefone|fone|celular|cel|whatsapp|whats|zap|wpp|ligue(?:[ \t]+para)?"
    r"|ligar[ \t]+para|phone|mobile|fax|contato|sac)\b)\.?[ \t]*[:=\-\u2013]?[ \t]*"
    r"(?P<v>\+?[0-9(][0-9 ().-]{6,22}[0-9])"
)


def _cue_word(spelling: str) -> bytes:
    """A spelling as the probe holds it: lowered, "?" for a non-ASCII letter; a word
    boundary before it when it starts with an ASCII letter."""
    lowered = "".join(c if c.isascii() else "?" for c in spelling.lower())
    start = rb"\b" if spelling[0].isascii() else b""
    return start + re.escape(lowered).encode() + rb"\b"


def _cue_words(spellings: list[str]) -> bytes:
    """``_cue_word`` of each spelling, one pattern for a word and its spelling without
    accents ("ch[a?]cara" for "Chácara" and "Chacara"): a smaller DFA (it opens the regex
    on a mix of the two spellings too, which the regex then refuses)."""
    groups: dict[str, set[str]] = {}
    for spelling in spellings:
        groups.setdefault(fold(spelling), set()).add(spelling.lower())
    cues = []
    for folded, lowered in groups.items():
        accented = [w for w in lowered if w != folded]
        if (
            folded in lowered
            and len(accented) == 1
            and len(accented[0]) == len(folded)
            and folded[0] == accented[0][0]
        ):
            pairs = zip(accented[0], folded, strict=True)
            cues.append(
                rb"\b" + "".join(c if c == f else f"[{f}?]" for c, f in pairs).encode() + rb"\b"
            )
        else:
            cues += [_cue_word(w) for w in sorted(lowered)]
    return b"".join(b"|" + cue for cue in cues)


# Where each detector's regex may start, on lowered ASCII bytes ("?" for non-ASCII):
# RE2 (a DFA: one pass at C speed) finds the cues, and each detector's regex is only
# matched there, never scanned over the whole text (sre would try it at every byte).
_CUES = {
    "birth_date": rb"\bd(?:t|ata)[ _.\t]*(?:de[ _\t]*)?nasc|nasc|date[ _\t]*of[ _\t]*birth|birth"
    rb"|born|\bd\.o\.b|\bdob\b|\bdn\b|\bnac(?:id[oa]s?|imiento)\b|\bnaci\?",
    "address": rb"\b(?:rua|avenida|travessa|alameda|pra.a|estrada|rodovia|largo|viela|beco"
    rb"|ladeira|servid.o|passagem)\b|\b(?:r|av|trav|tv|al|p.a|estr|rod|lgo)\.|\bav\b"
    + _cue_words([*_PLACE_SPELLINGS, *_SPANISH_SPELLINGS])
    + b"".join(b"|" + _cue_word(w) for w in SPANISH_STREET_TYPES)
    # A United States street is cued by one word between its number and its suffix;
    # by two or three before the commonest suffixes only ("9 martin luther king blvd"):
    # a longer run multiplies the states of the DFA (its matches may hold more words).
    + rb"|\bc\.[ \t]+[a-z]|\b\d{1,6}[ \t]+[a-z']+[ \t]+(?:"
    + "|".join((*US_STREET_SUFFIXES, *US_SUFFIX_ABBREVIATIONS)).lower().encode()
    + rb")\b|\b\d{1,6}(?:[ \t]+[a-z']+){2,3}[ \t]+(?:"
    + "|".join(US_COMMON_SUFFIXES).lower().encode()
    + rb")\b|\b\d{1,6}(?:[ \t]+[a-z']+){3}[ \t]+[js]r\.?[ \t]+(?:"
    + "|".join(US_COMMON_SUFFIXES).lower().encode()
    + rb")\b"
    # Brasília's sector before its number ("sqn 308"): the regex reads the block after it.
    + rb"|\b(?:sq[ns]w?|shi[ns]|s?cl[ns]w?|cr[ns]w?|eq[ns]w?|q[eilnr][a-z]?)[ \t]+\d"
    # A postal code's name and its first digit (a JSON key "cep" is no cue: its fields
    # are read by name), read by the address's finder: one scan less (_CEP_AFTER_CUE).
    + rb"|\b(?:cep|c.digo[ \t]+postal|zip(?:[ \t_-]*code)?|postal[ \t_-]*code|post[ \t_-]?code)\b"
    rb"[ \t]*(?:n.[ \t]*)?[:=.?-]?[ \t]*\d",
    "us_street": rb"\b(?:(?:lives|lived|living|resides|resided)[ \t]+(?:on|at)"
    rb"|moved[ \t]+(?:in[ \t]+)?to|address[ \t]+is|" + US_DELIVERY_PROBE + rb")[ \t]+[a-z]",
    "name": rb"\b(?:sr|sra|srta|dr|dra)\.|\b(?:senhora?|dona|cliente|titular|paciente|nome|m.e"
    rb"|pai)\b|\b(?:benefici|respons|segurad|portador|filh)",
    "rg": rb"\brg\b|\br\.g\.|\bidentidade\b",
    "plate": rb"\bplaca\b",
    "id_document": rb"\b(?:cnh|pis|pasep|nis|nit|cns|t.tulo|cart.o|habilita..o)\b",
    "phone": rb"\b(?:tel|telefone|fone|celular|cel|whatsapp|whats|zap|wpp|ligue|ligar|phone"
    rb"|mobile|fax|contato|sac)\b",
}
_DETECTORS = {
    "birth_date": (_BIRTH, "v"),
    "address": (_ADDRESS, 0),
    "us_street": (_US_STREET_AFTER_CUE, "v"),
    "name": (_NAME_AFTER, "v"),
    "rg": (_RG, "v"),
    "id_document": (_ID_DOCUMENT, "v"),
    "plate": (_PLATE, "v"),
    "phone": (_PHONE_CUE, "v"),
}


# RE2 at every size: sre tries a large alternation at every byte, slower than RE2's
# fixed per-call cost even on a 100-byte header value.
ANY_CUE = b"|".join(_CUES.values())
_ANY_CUE = compile_dfa(ANY_CUE)
_CUE_FINDERS = tuple((cls, compile_dfa(cue)) for cls, cue in _CUES.items())
# Which detectors' cues a text holds, in one pass: only theirs are scanned for.
_CLASS_GATE = WordGate(tuple(_CUES.values()))


class Finding(NamedTuple):
    start: int
    end: int
    cls: str


def find_personal(text: str, probe: bytes) -> list[Finding]:
    """Personal data in ``text`` found by context; ``probe`` is its lowered ASCII bytes
    (same length)."""
    if _ANY_CUE.search(probe) is None:
        return []
    return find_cued_personal(text, probe)


def find_cued_personal(text: str, probe: bytes) -> list[Finding]:
    """``find_personal`` for a probe already known to hold a cue (ANY_CUE)."""
    found: list[Finding] = []
    for index in sorted(_CLASS_GATE.present(probe)):  # the order of _CUES breaks ties
        cls, cues = _CUE_FINDERS[index]
        pattern, group = _DETECTORS[cls]
        done_to = 0
        for cue in cues.finditer(probe):
            at = cue.start()
            if at < done_to:
                continue
            m = pattern.match(text, at)
            if m is not None and _accepted(cls, m):
                found.append(Finding(m.start(group), m.end(group), _CLASSES.get(cls, cls)))
                done_to = m.end()
            elif cls == "address" and (m := _CEP_AFTER_CUE.match(text, at)) is not None:
                if _named_field(text, m):
                    continue
                found.append(Finding(m.start("v"), m.end("v"), "cep"))
                done_to = m.end()
    return found


def _named_field(text: str, m: re.Match[str]) -> bool:
    """A key=value pair, or a key line among others: "cep: ..." the whole of its line,
    in a text of lines (a note's "Cep: 29.160-541| Bairro ..." is prose)."""
    if m["sep"] == "=":
        return True
    if m["sep"] != ":" or "\n" not in text:
        return False
    before = text[: m.start()].rstrip(" \t")
    after = text[m.end() :].lstrip(" \t\r")
    return (not before or before.endswith("\n")) and (not after or after.startswith("\n"))


# A document is replaced as an RG is (SANITIZED_DOCUMENT); a street found after its cue
# as any address.
_CLASSES = {"id_document": "rg", "us_street": "address"}


def _accepted(cls: str, m: re.Match[str]) -> bool:
    if cls == "name":
        if m.group("honorific") and is_whole_town(m.string, m.start()):
            return False  # "Dona Emma" alone is the town's (IBGE, ViaCEP)
        return bool(m.group("honorific")) or reads_as_name(m.group("v"), known=True)
    if cls == "phone":
        return phones.could_be_phone(m.group("v"))
    if cls == "us_street":  # no number: no one word alone tells a street
        return not names_a_product(m.group("v").split(), after_number=False)
    if cls == "address" and (name := m.group("us")):
        # One word is the street's ("141 Hodges Mountains"); of several, none a shop's
        # or a product's ("4 Seasons Hotel Park").
        words = name.split()
        return len(words) == 1 or not names_a_product(words, after_number=True)
    if cls == "address" and (street := m.group("lived")):
        return not delivered_to_a_place(m.string, m.start(), street)
    if cls == "id_document":
        digits = validators.only_digits(m.group("v"))
        return any(valid(digits) for valid in _ID_CHECKS.get(len(digits), ()))
    return True
