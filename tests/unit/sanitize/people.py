"""A person from Faker's pt_BR providers, and where a text still holds what was planted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from faker import Faker


@dataclass(frozen=True)
class Person:
    name: str
    first: str
    last: str
    cpf: str
    email: str
    phone: str
    birth: str  # ISO
    street: str
    number: str
    cep: str
    city: str


def seeded_faker(seed: int) -> Faker:
    """Faker's pt_BR providers, seeded: the same people on every run."""
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    return fake


def foreign_fakers(seed: int) -> tuple[Faker, list[Faker]]:
    """pt_BR's documents and addresses, and es_ES's and it_IT's names (names Faker's
    pt_BR lists do not hold), each seeded from ``seed``."""
    foreign = [Faker("es_ES"), Faker("it_IT")]
    for i, fake in enumerate(foreign):
        fake.seed_instance(seed + i + 1)
    return seeded_faker(seed), foreign


def person(fake: Faker) -> Person:
    first, last = fake.first_name(), fake.last_name()
    return Person(
        name=f"{first} {fake.last_name()} {last}",
        first=first,
        last=last,
        cpf=fake.cpf(),
        email=fake.free_email(),
        phone=fake.cellphone_number(),
        birth=fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
        street=fake.street_name(),
        number=fake.building_number(),
        cep=fake.postcode(),
        city=fake.random_element(("Campinas", "Curitiba", "Recife", "Belém", "Manaus")),
    )


def leaked(text: str, planted: list[str]) -> list[str]:
    """The planted values found in ``text``: as written, case-folded, or (numbers of
    8 digits or more) as their bare digits."""
    folded = text.casefold()
    bare = re.sub(r"\D", "", text)
    out = []
    for value in planted:
        digits = re.sub(r"\D", "", value)
        word = re.compile(rf"(?<!\w){re.escape(value.casefold())}(?!\w)")
        number = len(digits) >= 8 and 2 * len(digits) >= len(value)  # a CPF, a phone
        if (
            (len(value) >= 6 and value in text)
            or word.search(folded)
            or (number and digits in bare)
        ):
            out.append(value)
    return out
