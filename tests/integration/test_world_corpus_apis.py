"""Other APIs of the world: the response examples of well-known public APIs from
APIs.guru's directory (payments, messaging, CRM and accounting, cloud; see
``tests/support/openapi_examples.py``) go through the pipeline's own steps.

* No e-mail address of the corpus, no person's name and not the client's token is in
  any queue entry.
* Each stub, loaded with the others into a real WireMock 3.13.2, answers its own
  sanitized request with the recorded status, headers and body; an exchange that gets no
  stub is counted with its reason.

What is personal here: every e-mail address, and a value whose key names a part of a
person's name (``first_name``, ``lastName``, ``FirstName``, ...). Other names (of
companies, products, servers, channels) name no person. A personal value that the same
exchange also holds in a place that is not personal is public there and is not looked
for.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from tests.support.openapi_examples import BEARER, DIRECTORY_SPECS, api_examples, directory_sources
from tests.support.processes import WireMockHandle
from tests.support.world_corpus import (
    EMAIL,
    SAME_STUB,
    Run,
    json_strings,
    pipeline_runs,
    queued,
    replay_corpus,
    stored_text,
)

pytestmark = pytest.mark.integration

# Enough of each API for every kind of its payloads, few enough to run in seconds.
PER_API = 80
# Keys that name a part of a person's name, in the spellings APIs use.
PERSON_NAME_KEY = re.compile(r"(first|last|given|family|full|middle|sur)_?name", re.IGNORECASE)


@pytest.fixture(scope="module")
def corpus_runs() -> list[Run]:
    return pipeline_runs(api_examples(directory_sources(), per_api=PER_API))


def personal_values(exchange: Exchange) -> tuple[set[str], set[str]]:
    """(the personal values of an exchange, those among them also held where they are
    public)."""
    request = exchange.request
    places: list[tuple[str, str]] = [("", request.path)]
    places += list((*request.query, *request.headers))
    for body in (request.body, exchange.response.body if exchange.response else b""):
        if body:
            places += [(key, value) for key, value, _, _ in json_strings(json.loads(body))]
    personal: set[str] = set()
    public: set[str] = set()
    for key, value in places:
        found = set(EMAIL.findall(value))
        if value.strip() and PERSON_NAME_KEY.fullmatch(key):
            found.add(value)
        personal |= found
        if not found:
            public.add(value)
    shared = {v for v in personal if any(v in text for text in public)}
    return personal, shared


def _word_in(name: str, stored: str) -> bool:
    """Whether a name stands in the entry as whole words (``est``, a lorem ipsum first
    name, is in every entry's ``request``)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", stored) is not None


def test_no_email_or_person_name_of_the_corpus_is_queued(corpus_runs: list[Run]) -> None:
    leaks: list[str] = []
    checked = Counter[str]()
    for run in corpus_runs:
        personal, shared = personal_values(run.example.exchange)
        stored = stored_text(run)
        if BEARER in stored:
            leaks.append(f"{run.what}: the token")
        for value in sorted(personal - shared):
            checked["email" if EMAIL.fullmatch(value) else "name"] += 1
            if queued(value, stored) and (EMAIL.fullmatch(value) or _word_in(value, stored)):
                leaks.append(f"{run.what}: {value!r}")
    # The scan is not vacuous: the corpus holds e-mails and names, and entries were queued.
    assert checked["email"] > 30 and checked["name"] > 10, checked
    assert {run.example.api for run in corpus_runs if run.mapping} == {
        source.name for source in directory_sources()
    }
    assert leaks == [], f"{len(leaks)} personal values queued: {leaks}"


def test_each_stub_answers_its_own_request_as_recorded(
    corpus_runs: list[Run], wiremock: WireMockHandle
) -> None:
    replay = replay_corpus(corpus_runs, wiremock)
    assert len(replay.replayed) > 50 * len(DIRECTORY_SPECS), (len(replay.replayed), replay.skipped)
    assert replay.wrong == [], (
        f"{len(replay.wrong)} of {len(replay.replayed)} stubs answer wrong: {replay.wrong}"
    )
    assert set(replay.skipped) <= {*STUB_SKIP_REASONS, SAME_STUB}, replay.skipped
