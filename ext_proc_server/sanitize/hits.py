"""A finding: where a sensitive value is, its class, and which finding wins an overlap."""

from __future__ import annotations

from itertools import pairwise
from typing import NamedTuple

# Lower number wins when two findings overlap: the user's patterns, then context
# (a field named password), then shapes from the most to the least specific, then
# personal data read from its context.
PRIORITY = {
    # A PIX code is rewritten whole, its key, name and CEP replaced inside it (brcode).
    "pix_code": -1,
    "custom": 0,
    "password": 1,
    "api_key": 1,
    "cookie": 1,
    "jwt": 2,
    "email": 3,
    "cnpj": 4,
    "cpf": 5,
    "card": 6,
    "phone": 7,
    # Personal data found by context ("nascida em", "Rua ..., 123", "Sra.").
    "rg": 8,
    "birth_date": 8,
    "sensitive": 8,  # read by its field's name (sensitive_names)
    "name": 9,
    "address": 9,
    "cep": 9,
    "plate": 9,
    "bank_account": 9,
}


class Hit(NamedTuple):
    start: int
    end: int
    cls: str
    # The user's replacement for custom patterns; None for built-in classes.
    fixed: str | None = None
    # The value is XML or HTML text holding references ("Jo&#227;o", "Ana &amp; Cia"):
    # read decoded, and its replacement written escaped, so the markup stays well-formed.
    escaped: bool = False


def resolve(hits: list[Hit]) -> list[Hit]:
    """Drop findings that overlap a higher-priority one; return the rest by position."""
    if len(hits) < 2:
        return hits
    ordered = sorted(hits)
    if all(a.end <= b.start for a, b in pairwise(ordered)):
        return ordered  # the usual case, no overlap: skip the quadratic pass
    # Ties keep the detectors' order (a stable sort of the list as found).
    hits.sort(key=lambda h: (PRIORITY[h.cls], h.start))
    kept: list[Hit] = []
    for hit in hits:
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    kept.sort()
    return kept
