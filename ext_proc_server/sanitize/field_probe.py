"""Whether a body may hold a personal field, without parsing it.

One RE2 pass over the body's lowered bytes finds keys (JSON ``"key":``, XML ``<key``,
form ``key=``) holding a personal word. Only then is the key read: most ``name`` keys
name products, so an ambiguous one counts only if its value reads like a person's
name. A body with no such key is not parsed for personal fields at all.
"""

from __future__ import annotations

import functools
import html
import re
from urllib.parse import unquote_plus

from ext_proc_server.sanitize import (
    clinical_records,
    fields,
    free_text_names,
    sensitive_names,
    spanish_fields,
)
from ext_proc_server.sanitize.dfa import compile_dfa
from ext_proc_server.sanitize.field_names import key_words
from ext_proc_server.sanitize.name_pairs import is_pair

# Any word other than "name"/"nome" that can make a key (the last part of a path, at
# the root) hold or announce personal data, read from field_class and
# announces_personal: when none occurs, only keys holding "name"/"nome" can, and those
# are found by a byte search instead of reading every key. Substrings, so a superset:
# "cel" also meets "cancel", which only costs the full read; "wa" only as a whole word
# (keys are read lowered, so a word ends where letters do) or in "wa_id". JSON keys
# with "?" (non-ASCII), "%" or "+" are read in full as well. tests/unit/sanitize/
# test_field_probe.py holds the shortcut to the full read's answers.
_NAME_ONLY = (b"name", b"nome")
_OTHER_PLAIN = b"|".join(
    [re.escape(w.encode()) for w in fields.PROBE_WORDS if w.encode() not in _NAME_ONLY]
    + [re.escape(w.encode()) for w in fields.OTHER_PROBE_WORDS]
    + [re.escape(w.encode()) for w in spanish_fields.PROBE_WORDS]  # "nombre", "direccion"
    + [rb"wa[ _-]*id", rb"id[ _-]*card", rb"id[ _-]*number", rb"registro[ _-]*geral"]
    # An IP address's key: "ip", "ipv4", "ip_address", "remote_addr"; not "description".
    + [rb"ip(?:v|addr|[_ .-])", rb"(?:remote|client)[ _-]*addr"]
    + [rb"resourcetype"]  # a FHIR resource's: its place says what is sensitive
)
# LGPD's sensitive names (raca_cor, religiao, diagnostico): a DFA of their own, read only
# in a body WORDS finds nothing in. With WORDS (and in the detectors' gate) they cost 2 %
# of a first-seen exchange; a body with personal words is walked anyway, and one whose
# only words are product names ("name": "Camiseta") is no person's record.
SENSITIVE_WORDS = b"|".join(sensitive_names.PROBE_PATTERNS)
# HL7 FHIR's XML namespace (xmlns="http://hl7.org/fhir"), as the probe holds it.
_FHIR_NAMESPACE = b'"http://hl7.org/fhir"'
# What _JSON_KEY reads as a key: anything a key can hold unescaped ("contato/telefone",
# "$phone"); a body with a backslash is walked whatever the probe says.
_KEY_CHARS = rb'[^"\\\x00-\x1f]'
_KEY_END = rb'"[ \t\r\n]*:'
OTHER_WORDS = b"|".join(
    [_OTHER_PLAIN, rb"[^a-z]wa[^a-z]", rb'ip"', rb"ip=",
     b'"' + _KEY_CHARS + b"*[?%+]" + _KEY_CHARS + b"*" + _KEY_END]
)  # fmt: skip
# A body with none of these has no key that holds or announces personal data.
WORDS = b"|".join([*_NAME_ONLY, OTHER_WORDS])
# OTHER_WORDS inside a JSON key as _JSON_KEY reads one (the word, then key characters
# up to '":'): a word in a value ("PAID" holds "pai") does not call for the full read.
OTHER_KEY_WORDS = b"|".join(
    [
        b"(?:" + _OTHER_PLAIN + b")" + _KEY_CHARS + b"*" + _KEY_END,
        rb'[^a-z]wa(?:"[ \t\r\n]*:|[^a-z"]' + _KEY_CHARS + b"*" + _KEY_END + b")",
        b"ip" + _KEY_END,  # "clientIp":, "ip":
        b'"' + _KEY_CHARS + b"*[?%+]" + _KEY_CHARS + b"*" + _KEY_END,
    ]
)
# Keys, found in the lowered ASCII bytes and read from the text at the same offsets
# (case kept: "mobilePhone" is two words, "mobilephone" none): JSON "key":, XML <key,
# form key=. Any length.
_JSON_KEY = re.compile(b'"(' + _KEY_CHARS + b"+)" + _KEY_END)
_XML_TAG = re.compile(rb"<([a-z_?][a-z0-9_.:?-]*)[ \t\r\n/>]")
# Attributes: their names (<pedido telefone="...">), and what an HTML form control's
# name attribute names (<input name="telefone" value="...">).
_XML_ATTRIBUTE = re.compile(rb"[ \t\r\n]([a-z_?][a-z0-9_.:?-]*)[ \t\r\n]*=[ \t\r\n]*[\"']")
_XML_NAMED = re.compile(rb"[ \t\r\n]name[ \t\r\n]*=[ \t\r\n]*[\"']([^\"'<>]+)[\"']")
_COLON = re.compile(rb"[ \t\r\n]*:")
# A typed entry's type member ({"tipo": "rg", "valor": "..."}) names what its value
# member holds, as a key would: a superset of typed_entries' type keys, lowered, each
# with the string it holds. One search (sre skips to each quote): a gate of substring
# searches for the openings cost more than the search itself.
_TYPE_MEMBER = re.compile(
    rb'"((?:tipo|type|kind|categor|document|contact)[a-z_ -]{0,16}'
    rb'|name|nome|key|chave|field|campo|label)"[ \t\r\n]*:'
    rb'[ \t\r\n]*"([^"\\]{1,40})"'
)
_FORM_KEY = re.compile(rb"(?:^|[&?;\n])([^&=;?\n]+)=")
# The values of bare "name"/"nome" keys that could read as a name (letters, "'", "-",
# "." and spaces; "?" stands for non-ASCII; fields.reads_as_name decides, a known first
# name alone included): a product's "Camiseta 42" or "SKU-1" is refused by sre without a
# Python step.
_NAME_LIKE_VALUE = re.compile(rb'"n[ao]me"[ \t\r\n]*:[ \t\r\n]*(?:\[[ \t\r\n]*)?"([a-z?\'. \t-]+)"')


@functools.lru_cache(maxsize=8192)
def _verdict(key: str) -> str | None:
    """ "yes" if the key holds or announces personal data wherever it is, "value" if
    only a name-like value makes it so, "prose" if only a name in its text does, None
    if it never does."""
    if "?" in key or not key.isascii():
        return "yes"  # non-ASCII in the name ("endereço"): read the body to be sure
    if "%" in key or "+" in key:
        key = unquote_plus(key)
    key = key.rpartition(":")[2]  # an XML namespace prefix
    name = re.split(r"[\[\].]", key.rstrip("]"))
    last = next((part for part in reversed(name) if part), "")
    if not last:
        return None
    found = fields.field_class(fields.ROOT, last)
    if "".join(key_words(last)) in clinical_records.COMPLAINTS:
        return "yes"  # a symptom by the record it stands in (clinical_records)
    if fields.announces_personal(last) or _holds_record(last):
        return "yes"  # before a login's "value": SCIM's userName makes its object a person's
    if found == fields.MAYBE_NAME:
        return "value"
    if found is fields.PROSE:
        return "prose"  # personal only if a name stands in it
    return "yes" if found is not None else None


# Last words of a key holding a record whose owner an earlier word names ("pacienteInfo",
# "patient_data", "customerDetails"): the object is that person's (fields.object_place),
# and a person's record is read for what only a person's holds (sensitive_names).
_RECORD_LAST = frozenset(
    {"info", "infos", "information", "informacao", "informacoes", "data", "dados",
     "details", "detail", "detalhe", "detalhes", "record", "records", "registro",
     "cadastro", "ficha"}
)  # fmt: skip


def _holds_record(key: str) -> bool:
    words = key_words(key)
    return (
        len(words) > 1
        and words[-1] in _RECORD_LAST
        and fields.object_place(fields.ROOT, key, frozenset()).owner == fields.PERSON
    )


@functools.lru_cache(maxsize=4096)
def _keys_verdict(keys: frozenset[str]) -> tuple[tuple[str, str], ...] | None:
    """None if some key holds or announces personal data, else the keys whose values
    decide, each with how ("value": reads as a name; "prose": a name stands in it).
    Bodies of one endpoint share their set of keys: it is read once."""
    by_value = []
    for key in keys:
        verdict = _verdict(key)
        if verdict == "yes":
            return None
        if verdict is not None:
            by_value.append((key, verdict))
    return tuple(by_value)


@functools.lru_cache(maxsize=1024)
def _value_finder(kind: str, text_key: str) -> re.Pattern[bytes]:
    # Matched in the probe: the key as the probe holds it.
    key = re.escape(text_key.encode("ascii", "replace").lower())
    if kind == "json":
        # The string's content too: the probe has the text's quotes and backslashes.
        # A list's first item too ("nomes": ["Maria Souza", ...]: the walk reads them all).
        return re.compile(
            rb'"' + key + rb'"[ \t\r\n]*:[ \t\r\n]*(?:\[[ \t\r\n]*)?"((?:[^"\\]|\\.)*)"'
        )
    if kind == "xml":
        return re.compile(rb"<" + key + rb"(?:[ \t\r\n][^>]*)?>")
    return re.compile(rb"(?:^|[&?;\n])" + key + rb"=")


class FieldProbe:
    """Built once per Sanitizer; ``user`` is the user's rules' probe (FieldRules)."""

    def __init__(self, user: bytes | None) -> None:
        self._words = compile_dfa(WORDS)
        self._others = compile_dfa(OTHER_KEY_WORDS)
        self._user = None if user is None else compile_dfa(user)
        self._sensitive = compile_dfa(SENSITIVE_WORDS)

    @property
    def reads_any_body(self) -> bool:
        """Whether ``may_hold`` reads the probe even when its words are not seen (the
        user's rules, the sensitive names)."""
        return True

    def may_hold(
        self,
        text: str,
        probe: bytes,
        *,
        words_seen: bool | None = None,
        others_seen: bool | None = None,
    ) -> bool:
        """``probe``: ``text`` as lowered ASCII bytes, "?" for other characters;
        ``words_seen``/``others_seen``: whether it holds one of WORDS/OTHER_KEY_WORDS, when
        the caller knows."""
        if self._user is not None and self._user.search(probe):
            return True
        if words_seen is None:
            words_seen = self._words.search(probe) is not None
        if not words_seen:
            if self._sensitive.search(probe) is None:
                return False
            others_seen = True  # every key is read
        first = probe.lstrip()[:1]
        kind = "json" if first in (b"{", b"[") else "xml" if first == b"<" else "form"
        if kind == "json":
            if others_seen is None:
                others_seen = self._others.search(probe) is not None
            if not others_seen and _bare_name_keys(probe):
                return any(
                    fields.reads_as_name(text[m.start(1) : m.end(1)], known=True)
                    for m in _NAME_LIKE_VALUE.finditer(probe)
                ) or _types_personal(probe)
            keys = _keys(_JSON_KEY, text, probe) if others_seen else _json_name_keys(text, probe)
        elif kind == "xml" and _FHIR_NAMESPACE in probe:
            return True  # FHIR: its values are attributes, and its places say what is sensitive
        else:
            keys = _keys(_XML_TAG if kind == "xml" else _FORM_KEY, text, probe)
            if kind == "xml":
                # An attribute's value is not read by _values: any verdict reads the body.
                named = _keys(_XML_ATTRIBUTE, text, probe) + _keys(_XML_NAMED, text, probe)
                if any(_verdict(key) is not None for key in set(named)):
                    return True
        by_value = _keys_verdict(frozenset(keys))
        if by_value is None:
            return True
        return any(
            bool(free_text_names.find_names(value))
            if how == "prose"
            else fields.reads_as_name(value, known=True)
            for key, how in by_value
            for value in _values(text, probe, kind, key)
        ) or (kind == "json" and _types_personal(probe))


def _types_personal(probe: bytes) -> bool:
    """Whether a typed entry's type names a personal field (fields.typed_class)."""
    return any(_type_names_personal(*m.group(1, 2)) for m in _TYPE_MEMBER.finditer(probe))


# Type members recur across exchanges ("tipo": "CELULAR"): each pair is classified once.
@functools.lru_cache(maxsize=4096)
def _type_names_personal(type_key: bytes, kind: bytes) -> bool:
    keys = (type_key.decode(), "valor")
    return (
        fields.typed_pair(keys) is not None
        and fields.typed_class(fields.ROOT, kind.decode(), pair=is_pair(keys)) is not None
    )


def _keys(pattern: re.Pattern[bytes], text: str, probe: bytes) -> list[str]:
    """The keys ``pattern`` finds in the probe, as the text spells them."""
    return [text[m.start(1) : m.end(1)] for m in pattern.finditer(probe)]


def _bare_name_keys(probe: bytes) -> bool:
    """Whether every "name"/"nome" in a JSON body is a whole string of its own: then the
    only keys _json_name_keys can find are those two (both decided by their values)."""
    return probe.count(b"name") == probe.count(b'"name"') and probe.count(b"nome") == probe.count(
        b'"nome"'
    )


def _json_name_keys(text: str, probe: bytes) -> set[str]:
    """The JSON keys holding "name" or "nome" (a superset of those _JSON_KEY reads):
    a key has no quote, so it runs from the quote before the word to the one after."""
    keys = set()
    find, rfind = probe.find, probe.rfind
    for word in _NAME_ONLY:
        at = find(word)
        while at >= 0:
            end = find(b'"', at)
            if end < 0:
                break
            start = rfind(b'"', 0, at)
            if start >= 0 and _COLON.match(probe, end + 1):
                keys.add(text[start + 1 : end])
            at = find(word, end)
    return keys


def _values(text: str, probe: bytes, kind: str, key: str) -> list[str]:
    if kind == "json":
        return [text[m.start(1) : m.end(1)] for m in _value_finder(kind, key).finditer(probe)]
    out = []
    for m in _value_finder(kind, key).finditer(probe):
        end = m.end()
        if kind == "xml":
            stop = text.find("<", end)
            out.append(html.unescape(text[end : stop if stop >= 0 else len(text)]))  # Jo&#227;o
        else:
            stop = text.find("&", end)
            out.append(unquote_plus(text[end : stop if stop >= 0 else len(text)]))
    return out
