"""JSON bodies as hand-built clients send them: Faker's pt_BR and en_US people in common
API shapes (a customer, an order with its shipping address, a support ticket with
multi-line notes), with 1 to 3 raw control characters (a tab, a line break, a carriage
return) typed into a free-text value, where strict JSON wants an escape.

Each case gives the body as sent (``raw``), the same document written as strict JSON
(``strict``), and the personal values planted in it."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from faker import Faker

LOCALES = ("pt_BR", "en_US")
# What a person types or a template joins free text with.
CONTROLS = ("\n", "\t", "\r\n", "\r")
CASES_PER_LOCALE = 60


@dataclass(frozen=True)
class Case:
    name: str
    raw: str
    strict: str
    planted: tuple[str, ...]


def _person(fake: Faker, locale: str) -> dict[str, str]:
    out = {
        "name": fake.name(),
        "email": fake.free_email(),
        "phone": fake.cellphone_number() if locale == "pt_BR" else fake.phone_number(),
    }
    if locale == "pt_BR":
        out["cpf"] = fake.cpf()
    return out


def _with_controls(rng: random.Random, text: str, name: str) -> str:
    """``text`` with 1 to 3 of its spaces (none inside ``name``) turned into raw control
    characters."""
    inside = set()
    at = text.find(name)
    while at >= 0:
        inside.update(range(at, at + len(name)))
        at = text.find(name, at + 1)
    spaces = [i for i, c in enumerate(text) if c == " " and i not in inside]
    chosen = sorted(rng.sample(spaces, min(len(spaces), rng.randint(1, 3))), reverse=True)
    for at in chosen:
        text = text[:at] + rng.choice(CONTROLS) + text[at + 1 :]
    return text


def _customer(fake: Faker, locale: str, person: dict[str, str]) -> dict:
    pt = locale == "pt_BR"
    return {
        "id": fake.random_int(1, 99999),
        "nome" if pt else "name": person["name"],
        "email": person["email"],
        "telefone" if pt else "phone": person["phone"],
        **({"cpf": person["cpf"]} if pt else {}),
        "observacoes" if pt else "notes": fake.sentence(nb_words=10),
    }


def _order(fake: Faker, locale: str, person: dict[str, str]) -> dict:
    pt = locale == "pt_BR"
    return {
        "order_id": fake.bothify("ORD-#####"),
        "customer": {"name": person["name"], "email": person["email"], "phone": person["phone"]},
        "shipping_address": {
            "street": fake.street_address(),
            "city": fake.city(),
            "postal_code": fake.postcode(),
            "complement": fake.sentence(nb_words=5),
        },
        "items": [
            {"sku": fake.bothify("SKU-####"), "quantity": fake.random_int(1, 5)} for _ in range(2)
        ],
        "delivery_notes" if not pt else "instrucoes_entrega": fake.sentence(nb_words=8),
    }


def _ticket(fake: Faker, locale: str, person: dict[str, str]) -> dict:
    pt = locale == "pt_BR"
    greeting = "Olá, meu nome é" if pt else "Hello, my name is"
    sign = "Atenciosamente," if pt else "Best regards,"
    return {
        "subject": fake.sentence(nb_words=4),
        "requester": {"name": person["name"], "email": person["email"]},
        "description": (
            f"{greeting} {person['name']}. {fake.sentence(nb_words=9)} {sign} {person['name']}"
        ),
        "priority": "high",
    }


_FREE_TEXT = {
    "customer": ("observacoes", "notes"),
    "order": ("instrucoes_entrega", "delivery_notes"),
    "ticket": ("description",),
}
_SHAPES = {"customer": _customer, "order": _order, "ticket": _ticket}


def cases() -> list[Case]:
    out = []
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(7)
        rng = random.Random(f"raw-controls-{locale}")
        for i in range(CASES_PER_LOCALE):
            shape = ("customer", "order", "ticket")[i % 3]
            person = _person(fake, locale)
            document = _SHAPES[shape](fake, locale, person)
            key = next(k for k in _FREE_TEXT[shape] if k in document)
            document[key] = _with_controls(rng, document[key], person["name"])
            strict = json.dumps(document, ensure_ascii=False)
            # The same document with its free text's controls left raw.
            raw = strict.replace(json.dumps(document[key], ensure_ascii=False), _raw(document[key]))
            planted = tuple(value for value in person.values() if value in strict)
            out.append(Case(f"{locale}-{shape}-{i}", raw, strict, planted))
    return out


def _raw(value: str) -> str:
    """``value`` as a JSON string literal with its control characters left raw."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
