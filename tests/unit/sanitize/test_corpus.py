"""The labelled corpus (tests/unit/sanitize/sanitize_corpus/corpus.json): 0 leaks, 0 decoys lost."""

from __future__ import annotations

import json

import pytest

from ext_proc_server.core.exchange import Exchange, HttpRequest
from tests.unit.sanitize import labelled_cases
from tests.unit.sanitize.sanitize_helpers import sanitizer

CASES = labelled_cases.load()


def _haystack(request: HttpRequest) -> str:
    return "\n".join(
        [request.path, request.authority]
        + [f"{n}={v}" for n, v in request.query]
        + [f"{n}: {v}" for n, v in request.headers]
        + [request.body.decode("utf-8", "replace")]
    )


def test_corpus_is_labelled() -> None:
    assert sum(len(c["secrets"]) for c in CASES) >= 50
    assert sum(len(c["decoys"]) for c in CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_no_leak_and_no_decoy_destroyed(case: dict) -> None:
    request = labelled_cases.request(case)
    out = sanitizer().sanitize(Exchange(id=case["name"], request=request)).request
    before, after = _haystack(request), _haystack(out)
    # Labels also list decoded forms (ana@x.com for ana%40x.com), so only some appear raw.
    assert not case["secrets"] or any(s in before for s in case["secrets"])
    assert [i for i, s in enumerate(case["secrets"]) if s in after] == []
    assert [i for i, d in enumerate(case["decoys"]) if after.count(d) < before.count(d)] == []
    if case["content_type"].endswith("json"):
        json.loads(out.body)
