"""Other APIs of the world: the response examples of well-known public APIs from
APIs.guru's directory (payments, messaging, CRM and accounting, cloud, and APIs whose
payloads hold people: court records, KYC, a Brazilian shop's customers, video meetings,
identity checks, hotel bookings; see ``tests/support/openapi_examples.py``) go through
the pipeline's own steps.

* No personal value of the corpus (below) and not the client's token is in any queue
  entry.
* Each stub, loaded with the others into a real WireMock 3.13.2, answers its own
  sanitized request with the recorded status, headers and body; an exchange that gets no
  stub is counted with its reason.

What is personal here: every e-mail address, and a value whose key names personal data
of the kinds below (the key spelled as APIs do: ``first_name``, ``lastName``,
``FirstName``, ...): a part of a person's name; a phone number (with at least 7
digits); a birth date; a street address line; a person's document or tax number (with
at least 5 digits). A phone, a street or a tax or document number is a person's only in
a person's record, an object that holds a part of a person's name (itself or in its
``name``) or is held by one: a store's phone, a depot's street, a company's VAT number
are not. Other names (of companies, products, servers, channels) name no person. A
personal value that the same exchange also holds in a place that is not personal is
public there and is not looked for, nor a placeholder repeating its key.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from tests.support.openapi_examples import BEARER, api_examples, directory_sources
from tests.support.processes import WireMockHandle
from tests.support.world_corpus import (
    EMAIL,
    SAME_STUB,
    Run,
    pipeline_runs,
    queued,
    replay_corpus,
    stored_text,
)

pytestmark = pytest.mark.integration

# A string of an exchange: its key, itself, and the objects that hold it (innermost first).
Place = tuple[str, str, tuple[dict[str, Any], ...]]

# Enough of each API for every kind of its payloads, few enough to run in seconds.
PER_API = 80
# Keys that name personal data, in the spellings APIs use, each with what its value
# holds when it is that data (a key named ``phone`` may hold a flag or a country code).
# A phone, an address, a tax or other document number may be a business's: they are
# a person's only within a person's record.
PERSON_NAME_KEY = re.compile(r"(first|last|given|family|full|middle|sur)_?name", re.I)
OF_PERSON_RECORDS = frozenset({"phone", "street", "tax or document number"})
PERSONAL_KEYS = {
    "name": (PERSON_NAME_KEY, r"\w"),
    "phone": (
        re.compile(r"((home|work|mobile|cell|business)_?)?(phone|mobile|fax)(_?number)?", re.I),
        r"^\D*(\d\D?){7,15}$",
    ),
    "birth date": (re.compile(r"(date_?of_?)?birth_?(date|day)?|dob", re.I), r"\d"),
    "street": (
        re.compile(r"street(_?(address|name|line_?\d?))?|address_?line_?\d?|address_?[12]", re.I),
        r"[^\W\d_]{2}",
    ),
    "identity document": (
        re.compile(
            r"ssn|cpf|national_?id(_?number)?|passport_?number|id_?number|document_?number",
            re.I,
        ),
        r"(\d\D?){5}",
    ),
    "tax or document number": (re.compile(r"tax_?(id|number)|document", re.I), r"(\d\D?){5}"),
}


@pytest.fixture(scope="module")
def corpus_runs() -> list[Run]:
    return pipeline_runs(api_examples(directory_sources(), per_api=PER_API))


def _names_a_person(obj: dict[str, Any]) -> bool:
    """Whether an object is a person's record: it holds a part of a person's name,
    itself or in its ``name`` (``{"name": {"firstName": ...}}``)."""
    name = obj.get("name")
    return any(
        isinstance(value, str) and PERSON_NAME_KEY.fullmatch(key)
        for held in (obj, name if isinstance(name, dict) else {})
        for key, value in held.items()
    )


def _body_places(value: Any, key: str = "", within: tuple[dict, ...] = ()) -> Iterator[Place]:
    """Every string of a JSON value with its key and the objects that hold it, innermost
    first."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, str):
                yield name, item, (value, *within)
            else:
                yield from _body_places(item, name, (value, *within))
    elif isinstance(value, list):
        for item in value:
            yield from _body_places(item, key, within)


def personal_kind(key: str, value: str, within: tuple[dict, ...]) -> str:
    """The kind of personal data a key's value is, or ``""``. In a body, some kinds are
    a person's only within a person's record (a store's phone, a company's tax number
    are not); a placeholder that repeats its key (``"street": "street"``) names
    nobody."""
    if value.lower() == key.lower():
        return ""
    for kind, (key_pattern, holds) in PERSONAL_KEYS.items():
        if key_pattern.fullmatch(key) and re.search(holds, value):
            person = kind not in OF_PERSON_RECORDS or not within
            person = person or any(map(_names_a_person, within))
            return kind if person else ""
    return ""


def personal_values(exchange: Exchange) -> tuple[dict[str, str], set[str]]:
    """(the personal values of an exchange with their kind, those among them also held
    where they are public)."""
    request = exchange.request
    places: list[Place] = [("", request.path, ())]
    places += [(name, value, ()) for name, value in (*request.query, *request.headers)]
    for body in (request.body, exchange.response.body if exchange.response else b""):
        if body:
            places += _body_places(json.loads(body))
    personal: dict[str, str] = {}
    public: set[str] = set()
    for key, value, within in places:
        found = dict.fromkeys(EMAIL.findall(value), "email")
        kind = personal_kind(key, value.strip(), within)
        if kind:
            found[value] = kind
        personal |= found
        if not found:
            public.add(value)
    shared = {v for v in personal if any(v in text for text in public)}
    return personal, shared


def _word_in(name: str, stored: str) -> bool:
    """Whether a value stands in the entry as whole words (``est``, a lorem ipsum first
    name, is in every entry's ``request``)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", stored) is not None


def test_no_personal_value_of_the_corpus_is_queued(corpus_runs: list[Run]) -> None:
    leaks: list[str] = []
    checked = Counter[str]()
    for run in corpus_runs:
        personal, shared = personal_values(run.example.exchange)
        stored = stored_text(run)
        if BEARER in stored:
            leaks.append(f"{run.what}: the token")
        for value, kind in sorted(personal.items()):
            if value in shared:
                continue
            checked[kind] += 1
            if queued(value, stored) and (kind == "email" or _word_in(value, stored)):
                leaks.append(f"{run.what}: {kind} {value!r}")
    # The scan is not vacuous: the corpus holds each kind, and entries were queued.
    assert checked["email"] > 30 and checked["name"] > 10, checked
    assert min(checked[kind] for kind in PERSONAL_KEYS) > 5, checked
    assert {run.example.api for run in corpus_runs if run.mapping} == {
        source.name for source in directory_sources()
    }
    assert leaks == [], f"{len(leaks)} personal values queued: {leaks}"


def test_each_stub_answers_its_own_request_as_recorded(
    corpus_runs: list[Run], wiremock: WireMockHandle
) -> None:
    replay = replay_corpus(corpus_runs, wiremock)
    # Nearly every example is replayed (a few answers carry credentials: no stub).
    assert len(replay.replayed) > 0.9 * len(corpus_runs), (len(replay.replayed), replay.skipped)
    assert replay.wrong == [], (
        f"{len(replay.wrong)} of {len(replay.replayed)} stubs answer wrong: {replay.wrong}"
    )
    assert set(replay.skipped) <= {*STUB_SKIP_REASONS, SAME_STUB}, replay.skipped
