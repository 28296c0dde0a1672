"""The sanitizer's metrics: exact counts, added once per exchange."""

from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY

from ext_proc_server.core.metrics import COLLECTOR_SANITIZATION, COLLECTOR_SANITIZE_BYTES
from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf, request_exchange, sanitizer


def _sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def _counts() -> tuple[float, float, float]:
    return (
        _sample("collector_sanitization_operations_total", {"type": "email"}),
        _sample("collector_sanitization_operations_total", {"type": "cpf"}),
        _sample("collector_sanitized_bytes_total"),
    )


def test_counts_are_exact_and_added_once_per_exchange(monkeypatch: pytest.MonkeyPatch) -> None:
    s = sanitizer()  # its counters are the labelled children, built now
    calls: list[tuple[str, float]] = []
    for name, counter in (
        ("email", COLLECTOR_SANITIZATION.labels(type="email")),
        ("bytes", COLLECTOR_SANITIZE_BYTES),
    ):
        real = counter.inc

        def spy(amount: float = 1, _name: str = name, _real=real) -> None:
            calls.append((_name, amount))
            _real(amount)

        monkeypatch.setattr(counter, "inc", spy)
    body = json.dumps({"email": "bia@y.com", "cpf": fmt_cpf(make_cpf("123456789"))})
    response_body = json.dumps({"contact": "caio@z.com"})
    exchange = request_exchange(
        path="/users/ana@x.com",
        headers=(("x-user", "ana@x.com"),),
        body=body,
        response_body=response_body,
    )
    before = _counts()
    out = s.sanitize(exchange)
    after = _counts()
    assert "ana@x.com" not in out.request.path and b"caio@z.com" not in out.response.body
    # One per value replaced (path, header, request body, response body), as before.
    assert after[0] - before[0] == 4 and after[1] - before[1] == 1
    assert after[2] - before[2] == len(body) + len(response_body)
    assert sorted(calls) == [("bytes", len(body) + len(response_body)), ("email", 4)]


def test_a_body_that_is_not_read_is_not_counted() -> None:
    exchange = request_exchange(body="{}", response_body=b"\x1f\x8b compressed")
    response = exchange.response
    assert response is not None
    gzipped = response.replace(headers=(*response.headers, ("content-encoding", "gzip")))
    before = _counts()
    out = sanitizer().sanitize(exchange.replace(response=gzipped))
    assert out.response is not None and out.response.body_dropped
    assert _counts()[2] - before[2] == 2  # the request's "{}" only
