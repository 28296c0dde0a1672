"""Realistic pseudonyms for personal data: a fake name, an address, digits in place.

Birth dates are fake_dates'.

Each is keyed (HMAC via ``pick``) and built word by word, so one word always becomes
the same fake word: "Maria Souza" in a request and "MARIA DA SILVA SOUZA" in the
response share their fake first and last names, and keep their own casing and shape.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ext_proc_server.sanitize.street_words import (
    SPANISH_PLACE_TYPES,
    SPANISH_STREET_TYPES,
    US_STREET_SUFFIXES,
    US_SUFFIX_ABBREVIATIONS,
)
from ext_proc_server.sanitize.wordlists import fold, word_lists

# pick(label, normalized value, n) -> a keyed number in range(n).
Pick = Callable[[str, str, int], int]

_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "du", "del", "van", "von"})
_ORDINALS = frozenset({"ª", "º"})
# A title before a name is no part of it: "Sr. João Silva" keeps its "Sr." (a fake
# first name in its place left "Danilo. Rafael Novais").
_HONORIFICS = frozenset(
    {"sr", "sra", "srta", "dr", "dra", "prof", "profa", "senhor", "senhora", "dona", "mr",
     "mrs", "ms", "miss"}
)  # fmt: skip
_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d+|\s+|.", re.S)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _cased(fake: str, original: str) -> str:
    """``fake`` in the original's casing, without accents if the original had none."""
    if original.isascii():
        fake = _plain(fake)
    if original.isupper() and len(original) > 1:
        return fake.upper()
    if original.islower():
        return fake.lower()
    return fake


def _word(pick: Pick, pool: tuple[str, ...], label: str, word: str) -> str:
    folded = fold(word)
    index = pick(label, folded, len(pool))
    fake = pool[index]
    if fold(fake) == folded:  # never the same word back
        fake = pool[(index + 1) % len(pool)]
    return _cased(fake, word)


def fake_name(pick: Pick, value: str) -> str:
    """Same words, particles and casing; first names stay first names (of the same
    gender when known), every other word a last name."""
    lists = word_lists()
    out = []
    first_done = False
    for token in _TOKEN.findall(value):
        if not token[0].isalpha():
            out.append(token)
            continue
        folded = fold(token)
        if folded in _PARTICLES or (not first_done and folded in _HONORIFICS):
            out.append(token)
            continue
        if len(token) == 1:  # an initial
            out.append(_cased(chr(ord("A") + pick("initial", folded, 26)), token))
        elif folded in lists.first_folded or (not first_done and folded not in lists.last_folded):
            female = folded in lists.female_folded
            pool = lists.female_first if female else lists.male_first
            out.append(_word(pick, pool, "first_f" if female else "first_m", token))
        else:
            out.append(_word(pick, lists.last, "last", token))
        first_done = True
    return "".join(out)


_STREET_KEPT = frozenset(
    {"rua", "r", "avenida", "av", "travessa", "trav", "tv", "alameda", "al", "praca", "pca",
     "estrada", "estr", "rodovia", "rod", "largo", "lgo", "viela", "beco", "ladeira",
     "servidao", "passagem", "vila", "quadra", "qd", "setor", "conjunto", "apto", "apt", "ap",
     "apartamento", "bloco", "bl", "casa", "sala", "cj", "conj", "andar", "lote", "lt", "loja",
     "fundos", "sobrado", "torre", "km", "cep", "n", "no", "numero", "street", "st",
     "avenue", "ave", "road", "rd", "suite", "unit", "floor", "jardim", "jd", "parque",
     "centro"}
)  # fmt: skip


# Spain's street types ("Calle", "Plaza", "C.") and articles, kept when the address opens
# with one; elsewhere "Camino" or "Ronda" may be a name.
_SPANISH_ABBREVIATIONS = ("c", "avda", "pza", "pl", "ctra", "pso", "urb")
_SPANISH_TYPES = frozenset(
    fold(w) for w in (*SPANISH_STREET_TYPES, *SPANISH_PLACE_TYPES, *_SPANISH_ABBREVIATIONS)
)
_SPANISH_ARTICLES = frozenset({"la", "las", "los", "el", "del"})
# The United States' order: a number, a name, the suffix kept ("141 Hodges Mountains").
_US_SUFFIX = "|".join(sorted((*US_STREET_SUFFIXES, *US_SUFFIX_ABBREVIATIONS), key=len)[::-1])
_US_STREET = re.compile(
    rf"\s*\d{{1,6}}[A-Za-z]?\s+(?:[A-Z][\w'\u2019]*\.?\s+){{1,3}}({_US_SUFFIX})\b"
)
# "S/N" (no number) is no personal datum; a postal code is faked whole, in its
# country's layout.
_NO_NUMBER = r"(?i:\bs/n[º°o]?)(?![\w/])"
_POSTAL = r"(?<![\w.-])(?:\d{2}\.?\d{3}-\d{3}|\d{4}-\d{3}|\d{5}-\d{4})(?![\w-])"
_ADDRESS_TOKEN = re.compile(rf"{_NO_NUMBER}|{_POSTAL}|{_TOKEN.pattern}", re.S)
_NO_NUMBER_TOKEN = re.compile(_NO_NUMBER)
_BARE_POSTAL_DIGITS = 5


def _address_kept(tokens: list[str], value: str) -> list[bool]:
    lists = word_lists()
    words = [i for i, t in enumerate(tokens) if t[0].isalpha()]
    spanish = bool(words) and fold(tokens[words[0]]) in _SPANISH_TYPES
    kept = [
        fold(t) in _STREET_KEPT
        or fold(t) in lists.street_prefixes_folded
        or fold(t) in _PARTICLES
        or (spanish and fold(t) in _SPANISH_ARTICLES)
        or (len(t) == 2 and t.isupper() and t in lists.states)
        for t in tokens
    ]
    if spanish:
        kept[words[0]] = True
    if (m := _US_STREET.match(value)) is not None:
        at = 0
        for index, token in enumerate(tokens):
            if at == m.start(1):
                kept[index] = True
            at += len(token)
    return kept


def fake_address(pick: Pick, value: str) -> str:
    """Same shape: street types (Portuguese, Spanish, the United States' suffixes),
    complements, "S/N" and state codes kept, each other word a fake one, each number new
    digits of the same length, a postal code one of its country's."""
    lists = word_lists()
    tokens = _ADDRESS_TOKEN.findall(value)
    kept = _address_kept(tokens, value)
    # "Centro" or "Jardim" alone is the neighbourhood itself: then nothing is kept.
    keep_any = any(not k for t, k in zip(tokens, kept, strict=True) if t[0].isalpha())
    out = []
    numbers = 0
    for token, keep in zip(tokens, kept, strict=True):
        numbers += token[0].isdecimal()
        if _NO_NUMBER_TOKEN.fullmatch(token):
            out.append(token)
        elif token[0].isdecimal() and (
            not token.isdecimal() or (numbers > 1 and len(token) == _BARE_POSTAL_DIGITS)
        ):
            # A punctuated code, or five digits after the house number ("28001 Madrid").
            out.append(fake_postal_code(pick, token))
        elif token.isdecimal():
            out.append(fake_digits(pick, "address_number", token))
        elif not token[0].isalpha() or (keep and keep_any) or token in _ORDINALS:
            out.append(token)
        else:
            out.append(_word(pick, lists.last, "street", token))
    return "".join(out)


# Spain's codes open with a province's number, 01 to 52 (the United States' five
# digits may too).
_SPANISH_PROVINCES = 52


def fake_postal_code(pick: Pick, value: str) -> str:
    """New digits in the code's layout: Portugal's 1234-567, Brazil's 12345-678, the
    United States' 12345-6789; five digits that could be Spain's stay so."""
    fake = fake_in_layout(pick, "cep", value)
    digits = "".join(c for c in value if c.isdecimal())
    if len(digits) == 5 and value.strip().isdecimal() and int(digits[:2]) <= _SPANISH_PROVINCES:
        province = 1 + int(fake.strip()[:2]) % _SPANISH_PROVINCES
        fake = fake.replace(fake.strip(), f"{province:02d}{fake.strip()[2:]}", 1)
    return fake


def fake_digits(pick: Pick, label: str, digits: str) -> str:
    """New digits, same count; no leading zero unless the original had one."""
    number = pick(label, digits, 10 ** len(digits))
    fake = str(number).zfill(len(digits))
    if fake == digits:
        fake = str((number + 1) % 10 ** len(digits)).zfill(len(digits))
    if digits[0] != "0" and fake[0] == "0":
        fake = str(1 + int(digits[0]) % 9) + fake[1:]
    return fake


def fake_in_layout(pick: Pick, label: str, value: str) -> str:
    """Every decimal digit replaced (keyed on all of them), the rest kept. Decimal, not
    ``isdigit``: a superscript "²" is a digit that ``int`` cannot read."""
    digits = "".join(c for c in value if c.isdecimal())
    if not digits:
        return value
    fresh = iter(fake_digits(pick, label, digits))
    return "".join(next(fresh) if c.isdecimal() else c for c in value)
