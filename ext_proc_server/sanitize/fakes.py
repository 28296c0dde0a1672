"""Realistic pseudonyms for personal data: a fake name, a nearby date, an address.

Each is keyed (HMAC via ``pick``) and built word by word, so one word always becomes
the same fake word: "Maria Souza" in a request and "MARIA DA SILVA SOUZA" in the
response share their fake first and last names, and keep their own casing and shape.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable

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


def fake_address(pick: Pick, value: str) -> str:
    """Same shape: street types, complements and state codes kept, each other word a
    fake one, each number new digits of the same length."""
    lists = word_lists()
    tokens = _TOKEN.findall(value)
    kept = [
        fold(t) in _STREET_KEPT
        or fold(t) in lists.street_prefixes_folded
        or fold(t) in _PARTICLES
        or (len(t) == 2 and t.isupper() and t in lists.states)
        for t in tokens
    ]
    # "Centro" or "Jardim" alone is the neighbourhood itself: then nothing is kept.
    keep_any = any(not k for t, k in zip(tokens, kept, strict=True) if t[0].isalpha())
    out = []
    for token, keep in zip(tokens, kept, strict=True):
        if token.isdecimal():
            out.append(fake_digits(pick, "address_number", token))
        elif not token[0].isalpha() or (keep and keep_any) or token in _ORDINALS:
            out.append(token)
        else:
            out.append(_word(pick, lists.last, "street", token))
    return "".join(out)


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


_ISO = re.compile(r"(\d{4})([-/.]?)(\d{2})\2(\d{2})(.*)", re.S)
_DMY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(.*)", re.S)
_MONTHS_PT = (
    "janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro",
    "outubro", "novembro", "dezembro",
)  # fmt: skip
_WRITTEN = re.compile(r"(\d{1,2})(º|°)?(\s+de\s+)([^\W\d_]+)(\s+de\s+)(\d{4})", re.I)
_MIN_SHIFT_DAYS = 30
_MAX_SHIFT_DAYS = 400


def _shifted(pick: Pick, date: datetime.date) -> datetime.date:
    span = _MAX_SHIFT_DAYS - _MIN_SHIFT_DAYS + 1
    days = _MIN_SHIFT_DAYS + pick("birth_date", date.isoformat(), 2 * span)
    if days >= _MIN_SHIFT_DAYS + span:
        days = -(days - span)
    try:
        return date + datetime.timedelta(days=days)
    except OverflowError:
        return date - datetime.timedelta(days=abs(days))


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def fake_date(pick: Pick, value: str) -> str:
    """A date 30 to 400 days away, written the same way (ISO, dd/mm/yyyy, yyyymmdd,
    "14 de março de 1985"); anything else gets new digits in the same layout."""
    text = value.strip()
    m = _ISO.fullmatch(text)
    if m and (date := _date(int(m[1]), int(m[3]), int(m[4]))):
        fake = _shifted(pick, date)
        sep = m[2]
        return value.replace(
            text, f"{fake.year:04d}{sep}{fake.month:02d}{sep}{fake.day:02d}{m[5]}", 1
        )
    m = _DMY.fullmatch(text)
    if m:
        year = int(m[4]) + (1900 if len(m[4]) == 2 else 0)
        if date := _date(year, int(m[3]), int(m[1])):
            fake = _shifted(pick, date)
            day = f"{fake.day:0{len(m[1])}d}"
            month = f"{fake.month:0{len(m[3])}d}"
            year_text = f"{fake.year % 100:02d}" if len(m[4]) == 2 else f"{fake.year:04d}"
            return value.replace(text, f"{day}{m[2]}{month}{m[2]}{year_text}{m[5]}", 1)
    m = _WRITTEN.fullmatch(text)
    if m and fold(m[4]) in {fold(n) for n in _MONTHS_PT}:
        month = [fold(n) for n in _MONTHS_PT].index(fold(m[4])) + 1
        if date := _date(int(m[6]), month, int(m[1])):
            fake = _shifted(pick, date)
            name = _cased(_MONTHS_PT[fake.month - 1], m[4])
            written = f"{fake.day}{m[2] or ''}{m[3]}{name}{m[5]}{fake.year}"
            return value.replace(text, written, 1)
    return fake_in_layout(pick, "birth_date", value)
