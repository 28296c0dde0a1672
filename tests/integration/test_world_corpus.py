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
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import Prepared, Skipped, default_stages, prepare
from ext_proc_server.sanitize import Sanitizer
from tests.integration.wiremock_stubs import load_stubs
from tests.support.openapi_examples import HOST, TOKEN, ApiExample, api_examples

pytestmark = pytest.mark.integration

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
GIT_IDENTITIES = frozenset({"author", "committer", "tagger"})
SCIM_NAME_PARTS = frozenset({"formatted", "familyName", "givenName", "middleName"})
# Response headers a client reads: the stub must serve them as recorded.
HEADERS_THAT_MATTER = ("content-type", "location", "link")
MATCHED_STUB = "matched-stub-id"


@dataclass(frozen=True)
class Run:
    """One example through the pipeline: its sanitized exchange and what was queued."""

    example: ApiExample
    clean: Exchange
    mapping: dict[str, Any] | None
    skip: str = ""


@pytest.fixture(scope="module")
def corpus_runs() -> list[Run]:
    config = CollectorConfig()
    stages = default_stages(config, redis=None, keys=RedisKeys(queue="world"))
    sanitizer = Sanitizer(config)
    runs = []
    for example in api_examples():
        result = prepare(example.exchange, stages, dedup_enabled=False)
        clean = sanitizer.sanitize(example.exchange)
        if isinstance(result, Prepared) and result.entry is not None:
            runs.append(Run(example, clean, decode_entry(result.entry)[0]))
        elif isinstance(result, Skipped):
            assert result.reason in STUB_SKIP_REASONS
            runs.append(Run(example, clean, None, result.reason))
        else:
            runs.append(Run(example, clean, None, "dropped"))
    return runs


# -- leaks -------------------------------------------------------------------------------


def _strings(value: Any, key: str = "", holder: str = "") -> Iterator[tuple[str, str, dict, str]]:
    """Every string of a JSON value with its key, and its object with the key holding
    that object (a list's items are held by the list's key)."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, str):
                yield name, item, value, key
            else:
                yield from _strings(item, name, key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key, holder)


def personal_values(exchange: Exchange) -> tuple[set[str], set[str]]:
    """(the personal values of an exchange, those among them also held where they are
    public)."""
    request = exchange.request
    places: list[tuple[str, str, dict, str]] = [("", request.path, {}, "")]
    places += [(name, value, {}, "") for name, value in (*request.query, *request.headers)]
    for body in (request.body, exchange.response.body if exchange.response else b""):
        if body:
            places += _strings(json.loads(body))
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
        stored = json.dumps(run.mapping, ensure_ascii=False) if run.mapping else ""
        if TOKEN in stored:
            leaks.append(f"{run.example.operation_id}: the token")
        for value in sorted(personal - shared):
            checked["email" if EMAIL.fullmatch(value) else "name"] += 1
            if value in stored or json.dumps(value)[1:-1] in stored:
                leaks.append(f"{run.example.operation_id}: {value!r}")
    # The scan is not vacuous: the corpus holds e-mails and names, and entries were queued.
    assert checked["email"] > 50 and checked["name"] > 20, checked
    assert sum(1 for run in corpus_runs if run.mapping) > 800
    assert leaks == [], f"{len(leaks)} personal values queued: {leaks}"


# -- replay ------------------------------------------------------------------------------


def _stored_body(mapping: dict[str, Any]) -> bytes:
    response = mapping["response"]
    if "body" in response:
        return response["body"].encode()
    if "jsonBody" in response:
        return json.dumps(response["jsonBody"]).encode()
    assert "base64Body" not in response, "a JSON example stored as bytes"
    return b""


def _replayed(client: httpx.Client, url: str, clean: Exchange) -> httpx.Response:
    request = clean.request
    headers = {name: value for name, value in request.headers}
    headers["Host"] = HOST
    return client.request(
        request.method,
        url + request.path,
        params=list(request.query),
        content=request.body or None,
        headers=headers,
    )


def test_each_stub_answers_its_own_request_as_recorded(
    corpus_runs: list[Run], wiremock: Any
) -> None:
    skipped = Counter(run.skip for run in corpus_runs if run.mapping is None)
    by_id: dict[str, list[Run]] = {}
    for run in corpus_runs:
        if run.mapping is not None:
            by_id.setdefault(run.mapping["id"], []).append(run)
    # Two requests that sanitize alike share a stub: neither can be told apart (counted).
    shared = {stub_id for stub_id, runs in by_id.items() if len(runs) > 1}
    skipped["same_stub"] = sum(len(by_id[stub_id]) for stub_id in shared)
    replayed = [runs[0] for stub_id, runs in sorted(by_id.items()) if stub_id not in shared]
    wiremock.reset()
    load_stubs(wiremock.url, [run.mapping for run in replayed if run.mapping])
    wrong: list[str] = []
    with httpx.Client(timeout=10) as client:
        for run in replayed:
            assert run.mapping is not None
            mapping = run.mapping
            what = f"{run.example.operation_id} {run.clean.request.method} {run.clean.request.path}"
            raw = _replayed(client, wiremock.url, run.example.exchange)
            if raw.headers.get(MATCHED_STUB) != mapping["id"]:
                wrong.append(f"{what}: the recorded request is not matched ({raw.status_code})")
            served = _replayed(client, wiremock.url, run.clean)
            if served.headers.get(MATCHED_STUB) != mapping["id"]:
                wrong.append(f"{what}: not matched ({served.status_code})")
                continue
            recorded = mapping["response"]
            kept = {k.lower(): v for k, v in (recorded.get("headers") or {}).items()}
            problems = []
            if served.status_code != recorded["status"]:
                problems.append(f"status {served.status_code} != {recorded['status']}")
            if served.content != _stored_body(mapping):
                problems.append("body differs")
            for name in HEADERS_THAT_MATTER:
                if name in kept and served.headers.get(name) != kept[name]:
                    problems.append(f"{name} {served.headers.get(name)!r} != {kept[name]!r}")
                if run.clean.response and run.clean.response.header(name) and name not in kept:
                    problems.append(f"{name} not kept")
            if problems:
                wrong.append(f"{what}: {'; '.join(problems)}")
    wiremock.reset()
    assert len(replayed) > 800, (len(replayed), skipped)
    assert wrong == [], f"{len(wrong)} of {len(replayed)} stubs answer wrong: {wrong}"
    assert set(skipped) <= {*STUB_SKIP_REASONS, "same_stub"}, skipped
