"""The world corpus through the pipeline, and its stubs replayed: shared by the corpus
tests (``tests/integration/test_world_corpus*.py``).

Each example goes through the pipeline's own steps (sanitize, dedup off, mapping, the
queue entry); its stub, loaded with the others into a real WireMock, must answer its
own request with the recorded status, the headers that matter and the same body bytes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import Prepared, Skipped, default_stages, prepare
from ext_proc_server.sanitize import Sanitizer
from tests.integration.wiremock_stubs import load_stubs
from tests.support.openapi_examples import ApiExample
from tests.support.processes import WireMockHandle

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Response headers a client reads: the stub must serve them as recorded.
HEADERS_THAT_MATTER = ("content-type", "location", "link")
MATCHED_STUB = "matched-stub-id"
SAME_STUB = "same_stub"


@dataclass(frozen=True)
class Run:
    """One example through the pipeline: its sanitized exchange and what was queued."""

    example: ApiExample
    clean: Exchange
    mapping: dict[str, Any] | None
    skip: str = ""

    @property
    def what(self) -> str:
        request = self.clean.request
        api = f"{self.example.api}: " if self.example.api else ""
        return f"{api}{self.example.operation_id} {request.method} {request.path}"


def pipeline_runs(examples: list[ApiExample]) -> list[Run]:
    """Each example through the default stages (dedup off), with what it queued."""
    config = CollectorConfig()
    stages = default_stages(config, redis=None, keys=RedisKeys(queue="world"))
    sanitizer = Sanitizer(config)
    runs = []
    for example in examples:
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


def json_strings(
    value: Any, key: str = "", holder: str = ""
) -> Iterator[tuple[str, str, dict, str]]:
    """Every string of a JSON value with its key, and its object with the key holding
    that object (a list's items are held by the list's key)."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, str):
                yield name, item, value, key
            else:
                yield from json_strings(item, name, key)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item, key, holder)


def stored_text(run: Run) -> str:
    """What a run queued, as the text a scan looks into."""
    return json.dumps(run.mapping, ensure_ascii=False) if run.mapping else ""


def queued(value: str, stored: str) -> bool:
    return value in stored or json.dumps(value)[1:-1] in stored


def replayable(runs: list[Run]) -> tuple[list[Run], Counter[str]]:
    """The runs whose stub is theirs alone, and why the others have none to replay.

    Two requests that sanitize alike share a stub: neither can be told apart (counted).
    """
    skipped = Counter(run.skip for run in runs if run.mapping is None)
    by_id: dict[str, list[Run]] = {}
    for run in runs:
        if run.mapping is not None:
            by_id.setdefault(run.mapping["id"], []).append(run)
    shared = {stub_id for stub_id, same in by_id.items() if len(same) > 1}
    skipped[SAME_STUB] = sum(len(by_id[stub_id]) for stub_id in shared)
    return [same[0] for stub_id, same in sorted(by_id.items()) if stub_id not in shared], skipped


def _stored_body(mapping: dict[str, Any]) -> bytes:
    response = mapping["response"]
    if "body" in response:
        return response["body"].encode()
    if "jsonBody" in response:
        return json.dumps(response["jsonBody"]).encode()
    assert "base64Body" not in response, "a JSON example stored as bytes"
    return b""


def _replayed(client: httpx.Client, url: str, exchange: Exchange) -> httpx.Response:
    request = exchange.request
    headers = {name: value for name, value in request.headers}
    headers["Host"] = request.authority
    return client.request(
        request.method,
        url + request.path,
        params=list(request.query),
        content=request.body or None,
        headers=headers,
    )


def _differences(served: httpx.Response, run: Run) -> list[str]:
    assert run.mapping is not None
    recorded = run.mapping["response"]
    kept = {k.lower(): v for k, v in (recorded.get("headers") or {}).items()}
    problems = []
    if served.status_code != recorded["status"]:
        problems.append(f"status {served.status_code} != {recorded['status']}")
    if served.content != _stored_body(run.mapping):
        problems.append("body differs")
    for name in HEADERS_THAT_MATTER:
        if name in kept and served.headers.get(name) != kept[name]:
            problems.append(f"{name} {served.headers.get(name)!r} != {kept[name]!r}")
        if run.clean.response and run.clean.response.header(name) and name not in kept:
            problems.append(f"{name} not kept")
    return problems


@dataclass(frozen=True)
class Replay:
    """A corpus's stubs replayed: those loaded, why the others got none, and each wrong
    answer."""

    replayed: list[Run]
    skipped: Counter[str]
    wrong: list[str]


def replay_corpus(runs: list[Run], wiremock: WireMockHandle) -> Replay:
    """The runs' own stubs loaded together into a real WireMock (emptied before and
    after), each asked with its recorded and its sanitized request."""
    replayed, skipped = replayable(runs)
    wiremock.reset()
    try:
        load_stubs(wiremock.url, [run.mapping for run in replayed if run.mapping])
        wrong = wrong_answers(wiremock.url, replayed)
    finally:
        wiremock.reset()
    return Replay(replayed, skipped, wrong)


def wrong_answers(url: str, replayed: list[Run]) -> list[str]:
    """Each loaded stub asked with its recorded and its sanitized request: every answer
    that is not that stub's, or that differs from what it recorded."""
    wrong: list[str] = []
    with httpx.Client(timeout=10) as client:
        for run in replayed:
            assert run.mapping is not None
            raw = _replayed(client, url, run.example.exchange)
            if raw.headers.get(MATCHED_STUB) != run.mapping["id"]:
                wrong.append(f"{run.what}: the recorded request is not matched ({raw.status_code})")
            served = _replayed(client, url, run.clean)
            if served.headers.get(MATCHED_STUB) != run.mapping["id"]:
                wrong.append(f"{run.what}: not matched ({served.status_code})")
                continue
            problems = _differences(served, run)
            if problems:
                wrong.append(f"{run.what}: {'; '.join(problems)}")
    return wrong
