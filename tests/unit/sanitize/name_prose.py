"""Names in prose, as the name tests read them: a note in an order's JSON, the words of a
name still standing after it is sanitized, and Faker's people of a locale."""

from __future__ import annotations

import json
import re

from faker import Faker

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

TOKENS = sanitizer()
_PARTICLES = {"da", "de", "do", "das", "dos", "e", "di", "del", "la", "y"}


def order_note(text: str, key: str = "observacao") -> str:
    """``text`` as the tokens-mode sanitizer leaves it in an order's free-text field."""
    body = json.dumps({"pedido": 12, key: text}, ensure_ascii=False)
    out = json.loads(TOKENS.sanitize(request_exchange(body=body)).request.body)
    assert out["pedido"] == 12
    return out[key]


def words_kept(name: str, text: str) -> list[str]:
    """The words of ``name`` (particles aside) still standing in ``text``."""
    return [
        w
        for w in name.split()
        if w.lower() not in _PARTICLES and re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)
    ]


def faker_people(locale: str, seed: int) -> list[str]:
    """80 of the locale's people: first and last names, and two first names and a last."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    out = []
    for _ in range(40):
        out.append(f"{fake.first_name()} {fake.last_name()}")
        out.append(f"{fake.first_name()} {fake.first_name()} {fake.last_name()}")
    return out
