"""A vehicle's plate: it points at its owner (DENATRAN's register), so a private car's
plate is personal data. Brazil's plates are three letters and four digits
(``ABC-1234``, ``ABC1234``) or, since 2018, Mercosul's three letters, a digit, a
letter and two digits (``BRA2E19``). A plate is replaced only where a field names it
(``placa``, ``plate``, ``licensePlate``) and after ``placa`` in text, and only when it
has one of those shapes: ``"placa": "RTX 4090"`` (a graphics card) stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable

CLASS = "plate"
PLATE = re.compile(r"[A-Za-z]{3}-?[0-9](?:[0-9]|[A-Za-z])[0-9]{2}")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def is_plate(value: str) -> bool:
    return PLATE.fullmatch(value.strip()) is not None


def fake_plate(pick: Callable[[str, str, int], int], value: str) -> str:
    """Another plate of the same shape and case: each letter and digit replaced, keyed
    on the whole plate."""
    normalized = value.upper().replace("-", "")
    out = []
    at = 0  # the place among letters and digits: "ABC-1234" and "ABC1234" agree
    for char in value:
        if char.isdigit():
            out.append(str(pick(f"{CLASS}{at}", normalized, 10)))
        elif char.isalpha():
            letter = _LETTERS[pick(f"{CLASS}{at}", normalized, 26)]
            out.append(letter if char.isupper() else letter.lower())
        else:
            out.append(char)
            continue
        at += 1
    fresh = "".join(out)
    return fresh if fresh.upper() != value.upper() else fresh[::-1].swapcase()
