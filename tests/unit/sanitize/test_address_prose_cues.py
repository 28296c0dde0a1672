"""Streets in prose that went out whole or took a time phrase with them: a number that
counts time read as a house number ("Moro na Av. Brasil há 10 anos" left "anos"), USPS
suffixes missing (Boulevard), a United States street with no number after a word that
says one lives there ("lives on Old Mill Road"), a four-word name ending in Jr, and a
Brazilian street written in lower case after such a word ("mora na rua das flores").
Streets from Faker's en_US and pt_BR providers (fixed seeds), USPS Publication 28's
suffixes; product names, titles and times stay.
"""

from __future__ import annotations

import json

import pytest
from faker import Faker
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitized_plain_text, sanitizer

SANITIZER = sanitizer()


def _text(body: str) -> str:
    return sanitized_plain_text(SANITIZER, body)


@pytest.mark.parametrize(
    ("text", "left"),
    [("Moro na Av. Brasil há 10 anos", "Moro na SANITIZED_ADDRESS há 10 anos"),
     ("Moro na Rua X desde 2019", "Moro na SANITIZED_ADDRESS desde 2019"),
     ("Moro na Rua Augusta desde 2019", "Moro na SANITIZED_ADDRESS desde 2019"),
     ("mora na Rua das Flores 15 anos", "mora na SANITIZED_ADDRESS 15 anos"),
     ("Reside na Avenida Paulista faz 3 meses", "Reside na SANITIZED_ADDRESS faz 3 meses"),
     ("vivo en la Calle Mayor desde hace 3 años", "vivo en la SANITIZED_ADDRESS desde hace 3 años"),
     ("vive en Calle Mayor hace 2 años", "vive en SANITIZED_ADDRESS hace 2 años"),
     ("lived on Main Street for 10 years", "lived on SANITIZED_ADDRESS for 10 years"),
     ("Rua Augusta, 1500 há 2 anos", "SANITIZED_ADDRESS há 2 anos")],
)  # fmt: skip
def test_a_time_phrase_after_a_street_is_no_house_number(text: str, left: str) -> None:
    assert _text(text) == left


# USPS Publication 28, C1: primary street suffixes and their standard abbreviations.
@pytest.mark.parametrize(
    "suffix",
    ["Boulevard", "Blvd", "Parkway", "Pkwy", "Terrace", "Ter", "Highway", "Hwy",
     "Expressway", "Expy", "Circle", "Cir", "Court", "Ct", "Place", "Pl", "Square", "Sq",
     "Trail", "Trl", "Way", "Alley", "Aly", "Bend", "Bluff", "Annex", "Commons",
     "Crossroads", "Freeway", "Fwy", "Turnpike", "Tpke"],
)  # fmt: skip
def test_a_us_street_with_any_common_usps_suffix_is_replaced(suffix: str) -> None:
    assert _text(f"Ship to 1200 Ocean {suffix} today") == "Ship to SANITIZED_ADDRESS today"


@pytest.mark.parametrize(
    ("text", "left"),
    [("She lives on Old Mill Road.", "She lives on SANITIZED_ADDRESS."),
     ("They moved to Elm Street last year", "They moved to SANITIZED_ADDRESS last year"),
     ("her address is Oak Avenue", "her address is SANITIZED_ADDRESS"),
     ("He resides at Sunset Boulevard, Los Angeles", "He resides at SANITIZED_ADDRESS"),
     ("lives on Main St. Apt 4, Springfield IL 62704", "lives on SANITIZED_ADDRESS"),
     ("Lives at 9 Martin Luther King Jr Blvd, call first.", "Lives at SANITIZED_ADDRESS, call first."),
     ("Lives at 9 Martin Luther King Jr. Boulevard", "Lives at SANITIZED_ADDRESS")],
)  # fmt: skip
def test_a_us_street_after_where_one_lives_is_replaced(text: str, left: str) -> None:
    assert _text(text) == left


_COMMON = ("Street", "Avenue", "Road", "Drive", "Lane", "Boulevard", "Court", "Place", "Way")


@pytest.mark.parametrize("cue", ["lives on", "lived at", "moved to", "Her address is"])
def test_faker_us_streets_with_no_number_after_a_cue_are_replaced(cue: str) -> None:
    fake = Faker("en_US")
    fake.seed_instance(11)
    for _ in range(30):
        street = f"{fake.last_name()} {fake.random_element(_COMMON)}"
        out = _text(f"Client {cue} {street} since 2015, no pets.")
        assert street not in out and "SANITIZED_ADDRESS since 2015" in out, out


@pytest.mark.parametrize(
    ("text", "left"),
    [("mora na rua das flores", "mora na SANITIZED_ADDRESS"),
     ("moro na avenida brasil, 200", "moro na SANITIZED_ADDRESS"),
     ("moro na avenida brasil e trabalho no centro", "moro na SANITIZED_ADDRESS e trabalho no centro"),
     ("mora na rua das flores há 10 anos", "mora na SANITIZED_ADDRESS há 10 anos"),
     ("reside na travessa do ouvidor, perto do metrô", "reside na SANITIZED_ADDRESS, perto do metrô")],
)  # fmt: skip
def test_a_lowercase_street_after_where_one_lives_is_replaced(text: str, left: str) -> None:
    assert _text(text) == left


_LOWER_TYPES = ("Rua", "Avenida", "Travessa", "Alameda", "Praça", "Estrada", "Rodovia", "Largo")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_faker_pt_br_streets_written_in_lower_case_are_replaced(seed: int) -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    for _ in range(30):
        street = f"{fake.random_element(_LOWER_TYPES)} {fake.last_name()}".lower()
        out = _text(f"cliente mora na {street} desde 2020")
        assert out == "cliente mora na SANITIZED_ADDRESS desde 2020", street


_WORD = st.sampled_from(
    ["acácias", "flores", "paulista", "ipiranga", "mendes", "moreira", "luz", "oliveira",
     "rosa", "azevedo", "brasil", "andradas", "palmeiras", "dias", "costa"]
)  # fmt: skip
_TIME = st.sampled_from(["há 10 anos", "desde 2019", "faz 2 meses", "há 3 semanas"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["rua", "avenida", "travessa"]), st.sampled_from(["", "das ", "do "]),
       st.lists(_WORD, min_size=1, max_size=3), _TIME)  # fmt: skip
def test_a_lowercase_street_goes_and_its_time_phrase_stays(
    kind: str, particle: str, words: list[str], time: str
) -> None:
    street = f"{kind} {particle}{' '.join(words)}"
    assume(not is_token(street))
    assert _text(f"moro na {street} {time}.") == f"moro na SANITIZED_ADDRESS {time}."


@pytest.mark.parametrize(
    "text",
    ["Quadro Avenida Paulista 50x70", "Wall Street Journal", "I read the Wall Street Journal",
     "Sesame Street", "We watched Sesame Street", "Abbey Road (album)", "há 10 anos",
     "Moro aqui há 10 anos", "8 Bit Arcade", "moved to Palm Springs", "moved to Beverly Hills",
     "lives at Central Park", "lives in São Paulo", "Av. Brasil, 10 anos de história",
     "mora na rua", "a rua está em obras há 10 anos", "The 5 Guys Burger Place",
     "moved to Pizza Place", "vive en la ciudad desde hace 3 años"],
)  # fmt: skip
def test_product_names_titles_and_times_stay(text: str) -> None:
    assert _text(text) == text


def test_a_product_record_named_after_a_street_stays() -> None:
    body = json.dumps(
        {"product": {"sku": "LP-1969", "title": "Abbey Road (album)", "artist": "The Beatles"},
         "related": ["Sesame Street", "Wall Street Journal", "Quadro Avenida Paulista 50x70"]}
    )  # fmt: skip
    exchange = request_exchange(body=body)
    assert json.loads(SANITIZER.sanitize(exchange).request.body) == json.loads(body)
