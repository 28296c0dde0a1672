"""Field names read as words, and the user's rules that name fields
(``collector.sanitize_fields``): both compare names in any casing or separator and
without accents."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from ext_proc_server.sanitize.spanish_fields import portuguese_words
from ext_proc_server.sanitize.wordlists import fold

_DATA_ATTRIBUTE = "data-"
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


@functools.lru_cache(maxsize=8192)
def key_words(name: str) -> tuple[str, ...]:
    """The lower-case words of a field name, Spanish ones read as their Portuguese peers
    (spanish_fields: "nombre" as "nome")."""
    return portuguese_words(written_words(name))


@functools.lru_cache(maxsize=8192)
def written_words(name: str) -> tuple[str, ...]:
    """The lower-case words of a field name as written; NF-e's "x" prefix (xNome, xLgr)
    and an HTML data attribute's "data-" (data-nome, data-rg) dropped: there "data" is
    no date."""
    plain = name if name.isascii() else _unaccented(name)
    if ":" in plain or "/" in plain:
        # A claim's URI or namespace names it by its last part: WS-Federation's
        # ".../identity/claims/givenname", Cognito's "custom:cpf", Auth0's
        # "https://app.example.com/roles".
        plain = re.split(r"[:/]", plain.rstrip(":/"))[-1] or plain
    words = tuple(w.lower() for w in _WORD.findall(plain))
    if len(words) > 1 and (words[0] == "x" or plain.startswith(_DATA_ATTRIBUTE)):
        return words[1:]
    return words


def _unaccented(name: str) -> str:
    """A name without accents, its case kept where ASCII holds it: "clienteTeléfono"
    is two words as "clienteTelefone" is."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(
        c if c.isascii() else fold(c) for c in decomposed if not unicodedata.combining(c)
    )


class FieldRule(NamedTuple):
    segments: tuple[re.Pattern[str], ...]  # parents first, the field last
    cls: str  # a built-in class or the name of one of the user's sanitize_patterns


def folded_name(name: str) -> str:
    """A field name as rules compare it: folded, letters and digits only (as written:
    the user's rule for "nombre" names no "nome")."""
    return "".join(written_words(name))


def compile_rule(pattern: str, cls: str) -> FieldRule:
    """``cliente.apelido``: a field ``apelido`` directly inside ``cliente``; ``*`` and
    ``?`` are wildcards within one name."""
    segments = []
    for segment in pattern.split("."):
        parts = re.split(r"([*?])", segment)
        regex = "".join(
            ".*" if p == "*" else "." if p == "?" else re.escape(folded_name(p)) for p in parts
        )
        segments.append(re.compile(regex))
    return FieldRule(tuple(segments), cls)


class FieldRules:
    """The user's ``collector.sanitize_fields``, matched against a field's path."""

    def __init__(self, rules: Iterable[FieldRule]) -> None:
        self._rules = tuple(rules)

    def __bool__(self) -> bool:
        return bool(self._rules)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one instance per Sanitizer
    def _for_field(self, name: str) -> tuple[FieldRule, ...]:
        folded = folded_name(name)
        return tuple(r for r in self._rules if r.segments[-1].fullmatch(folded))

    def match(self, name: str, parents: Iterable[str]) -> FieldRule | None:
        """The first rule naming this field (its parents, nearest last)."""
        if not self._rules:
            return None
        candidates = self._for_field(name)
        if not candidates:
            return None
        folded_parents: list[str] | None = None
        for rule in candidates:
            if len(rule.segments) == 1:
                return rule
            if folded_parents is None:
                folded_parents = [folded_name(p) for p in parents]
            wanted = rule.segments[:-1]
            if len(folded_parents) >= len(wanted) and all(
                w.fullmatch(p) for w, p in zip(wanted, folded_parents[-len(wanted) :], strict=True)
            ):
                return rule
        return None

    def probe_pattern(self) -> bytes | None:
        """A regex over a body's lowered ASCII bytes ("?" for non-ASCII) that finds
        every field some rule may name, whatever its separators (over-approximate)."""
        if not self._rules:
            return None
        alternatives = []
        for rule in self._rules:
            chars = []
            for piece in re.split(r"(\.\*|\.)", rule.segments[-1].pattern):
                if piece in (".*", "."):
                    chars.append(rb"[a-z0-9_.?-]*")
                    continue
                for ch in piece.replace("\\", ""):
                    chars.append(b"[" + re.escape(ch).encode() + rb"?][_.-]?")
            alternatives.append(b"".join(chars))
        return b"(?:" + b"|".join(alternatives) + b")"
