"""A street address in free text was found only after a street type (Rua, Av.,
Travessa, Alameda...): an address on Faker pt_BR's other street prefixes ("Vila Souza,
12", "Quadra Pereira, 4", "Condomínio de Moraes, 310") went out as it came.

The prefixes are read from Faker's pt_BR address provider here, not copied, so a
prefix Faker adds is held too. Many are common words ("Via", "Campo", "Vale", "Setor"),
so prose using them stays.
"""

from __future__ import annotations

import unicodedata

import pytest
from faker import Faker
from faker.providers.address.pt_BR import Provider as Address
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.people import seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-street-prefixes")
PREFIXES = tuple(Address.street_prefixes)


def _text(body: str, sanitizer_=SANITIZER) -> str:
    exchange = request_exchange(body=body, content_type="text/plain; charset=utf-8")
    return sanitizer_.sanitize(exchange).request.body.decode()


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@pytest.mark.parametrize("prefix", PREFIXES)
def test_every_faker_street_prefix_is_an_address_in_text(prefix: str) -> None:
    for street in (f"{prefix} Souza, 12", f"{prefix} de Moraes, 310", f"{prefix} Ana Lima nº 4"):
        out = _text(f"Entregar em {street} amanhã cedo.")
        assert out == "Entregar em SANITIZED_ADDRESS amanhã cedo.", street


# "Area" unaccented is an English word ("Area 51, 3"): only "Área" is read.
@pytest.mark.parametrize("prefix", [p for p in PREFIXES if _plain(p) not in (p, "Area")])
def test_a_prefix_written_without_its_accent_is_an_address(prefix: str) -> None:
    assert _text(f"Mora na {_plain(prefix)} Souza, 12.") == "Mora na SANITIZED_ADDRESS."


def test_faker_street_addresses_in_text_are_replaced() -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(20261205)
    numbered = [a for a in (fake.street_address() for _ in range(1000)) if "," in a]
    assert len(numbered) > 700  # Faker writes one in seven without a number
    left = [a for a in numbered if a in _text(f"Endereço de entrega: {a} - ligar antes")]
    assert left == []


def test_a_pseudonym_keeps_the_prefix() -> None:
    out = _text("Entregar na Vila Souza, 12 hoje.", PSEUDONYMS)
    assert out.startswith("Entregar na Vila ") and "Souza" not in out and ", 12 " not in out


# Prose using the prefixes as words, dates after a city, English.
KEPT = [
    "Campo Grande, 15 de março de 2024",
    "Vale lembrar: 3 dias úteis para a entrega.",
    "Via de regra, 3 tentativas.",
    "O setor financeiro, 2º andar, atende até as 18h.",
    "Jardim, 12 mudas de ipê.",
    "Send the event via Lambda, 3 retries at most.",
    "VALE 12",
    "Parque: 12 vagas",
    "Area 51, 3 visitors",
    "Campo obrigatório (1 de 3)",
]


@pytest.mark.parametrize("text", KEPT)
def test_prose_with_those_words_stays(text: str) -> None:
    assert _text(text) == text


_WORDS = st.sampled_from(["pedido", "entrega", "hoje", "cliente", "ok", "valor", "frete"])


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.sampled_from(PREFIXES),
    name=st.sampled_from(tuple(seeded_faker(90).last_name() for _ in range(60))),
    number=st.integers(1, 99999),
    before=st.lists(_WORDS, max_size=4),
    after=st.lists(_WORDS, max_size=4),
)
def test_an_address_on_any_prefix_is_replaced_and_the_prose_kept(
    prefix: str, name: str, number: int, before: list[str], after: list[str]
) -> None:
    head, tail = " ".join(before), " ".join(after)
    text = f"{head} {prefix} {name}, {number} {tail}".strip()
    out = _text(text)
    assert name not in out and str(number) not in out.replace(head, "").replace(tail, "")
    assert out.startswith(head) and out.endswith(tail)
