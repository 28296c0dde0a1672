"""The world's payloads: every request and response example of GitHub's REST API
description (``@octokit/openapi``, see ``tests/support/openapi_examples.py``) goes through
the pipeline's own steps (sanitize, dedup, mapping, the queue entry).

* No personal value of the corpus (nor the client's token) is in any queue entry.
* Each stub, loaded with the others into a real WireMock 3.13.2, answers its own
  sanitized request with the recorded status, headers and body; an exchange that gets no
  stub is counted with its reason.

What is personal (LGPD: data about an identified or identifiable natural person):
every e-mail address; a person's name, i.e. the ``name`` of a user account (an object
with a ``login`` whose ``type`` is ``User``), of a git identity (the ``author``,
``committer`` or ``tagger`` of a commit or tag), and a SCIM user's ``displayName`` (in
an object with a ``userName``) and the parts of its ``name``. Not personal: repository, organisation,
team and app names and ids, which name no person; a ``login`` (and a
``twitter_username``), a public handle that every URL of the account carries, kept as
mockado keeps logins that do not read as a name (docs/sanitizer.md); a profile's
``location`` (a city, kept everywhere), ``company`` (an employer, an "other" object),
``blog`` (a public URL) and ``bio`` (free text, read by the text detectors). A
personal value that the same exchange also holds in a place that is not personal (a
name equal to its login) is public there and is not looked for.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from tests.support.openapi_examples import TOKEN, api_examples
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

GIT_IDENTITIES = frozenset({"author", "committer", "tagger"})
SCIM_NAME_PARTS = frozenset({"formatted", "familyName", "givenName", "middleName"})


@pytest.fixture(scope="module")
def corpus_runs() -> list[Run]:
    return pipeline_runs(api_examples())


# -- leaks -------------------------------------------------------------------------------


def personal_values(exchange: Exchange) -> tuple[set[str], set[str]]:
    """(the personal values of an exchange, those among them also held where they are
    public)."""
    request = exchange.request
    places: list[tuple[str, str, dict, str]] = [("", request.path, {}, "")]
    places += [(name, value, {}, "") for name, value in (*request.query, *request.headers)]
    for body in (request.body, exchange.response.body if exchange.response else b""):
        if body:
            places += json_strings(json.loads(body))
    personal: set[str] = set()
    public: set[str] = set()
    for key, value, parent, holder in places:
        found = set(EMAIL.findall(value))
        account = "login" in parent and parent.get("type") == "User"
        if key == "name" and value and (account or holder in GIT_IDENTITIES):
            found.add(value)
        if value and (
            (key == "displayName" and "userName" in parent)
            or (holder == "name" and key in SCIM_NAME_PARTS)
        ):
            found.add(value)
        personal |= found
        if not found:
            public.add(value)
    shared = {v for v in personal if any(v in text for text in public)}
    return personal, shared


def test_no_personal_value_of_the_corpus_is_queued(corpus_runs: list[Run]) -> None:
    leaks: list[str] = []
    checked = Counter[str]()
    for run in corpus_runs:
        personal, shared = personal_values(run.example.exchange)
        stored = stored_text(run)
        if TOKEN in stored:
            leaks.append(f"{run.example.operation_id}: the token")
        for value in sorted(personal - shared):
            checked["email" if EMAIL.fullmatch(value) else "name"] += 1
            if queued(value, stored):
                leaks.append(f"{run.example.operation_id}: {value!r}")
    # The scan is not vacuous: the corpus holds e-mails and names, and entries were queued.
    assert checked["email"] > 50 and checked["name"] > 20, checked
    assert sum(1 for run in corpus_runs if run.mapping) > 800
    assert leaks == [], f"{len(leaks)} personal values queued: {leaks}"


# -- replay ------------------------------------------------------------------------------


def test_each_stub_answers_its_own_request_as_recorded(
    corpus_runs: list[Run], wiremock: WireMockHandle
) -> None:
    replay = replay_corpus(corpus_runs, wiremock)
    assert len(replay.replayed) > 800, (len(replay.replayed), replay.skipped)
    assert replay.wrong == [], (
        f"{len(replay.wrong)} of {len(replay.replayed)} stubs answer wrong: {replay.wrong}"
    )
    assert set(replay.skipped) <= {*STUB_SKIP_REASONS, SAME_STUB}, replay.skipped
