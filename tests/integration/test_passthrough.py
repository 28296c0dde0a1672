"""Pass-through on miss end to end through ``mockado up`` (real WireMock, Envoy with
ext_proc capture, Redis and the loader): a canary host with ``on_miss: passthrough``
gets the real answer for a call nothing recorded, that call is captured through the
capturing proxy, and the next one is served by the new stub without reaching the service.
A host left at ``fail`` still gets the catch-all's 404."""

from __future__ import annotations

import httpx
import yaml

from ext_proc_server.mapping.catch_all import passthrough_mapping
from tests.support.processes import poll_until, wait_for_value
from tests.support.switch_upstream import switch_upstream

PASSED = "rates.example.com"
FAILED = "ledger.example.com"
CONFIG = yaml.safe_dump(
    {
        "control_plane": {
            "namespaces": {
                "shop": {
                    "enabled": False,
                    "canary": {
                        "workload_labels": {"track": "canary"},
                        "hosts": [PASSED, FAILED],
                        "on_miss_hosts": {PASSED: "passthrough"},
                    },
                }
            }
        }
    }
)


def _recorded(stack) -> list[dict]:
    mappings = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()["mappings"]
    return [m for m in mappings if not m.get("metadata", {}).get("mockado", {}).get("catch_all")]


def _fallback_hosts(stack) -> list[str]:
    mappings = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()["mappings"]
    metas = [m.get("metadata", {}).get("mockado", {}) for m in mappings]
    return [meta["host"] for meta in metas if meta.get("on_miss") == "passthrough"]


def test_a_passthrough_miss_gets_the_real_answer_and_the_next_call_is_mocked(stack_factory):
    with switch_upstream(200, {"brl": 5.1, "usd": 1.0}) as upstream:
        stack = stack_factory(upstream=upstream.url, config_text=CONFIG)
        mocks = httpx.Client(base_url=stack.wiremock_url, timeout=10)
        # The loader writes the fallbacks (catch-all, pass-through) once it runs.
        assert poll_until(lambda: _fallback_hosts(stack) == [PASSED], timeout_s=30)
        assert _recorded(stack) == []

        first = mocks.get("/api/rates", headers={"Host": PASSED})
        assert first.status_code == 200
        assert first.json() == {"brl": 5.1, "usd": 1.0}  # the real service answered
        assert upstream.calls == ["/api/rates"]

        # Captured through the proxy like any other call: a stub for that host appears.
        stubs = wait_for_value(
            lambda: _recorded(stack), timeout_s=30, what="the pass-through call recorded"
        )
        [stub] = stubs
        assert stub["metadata"]["mockado"]["host"] == PASSED
        assert stub["request"]["urlPath"] == "/api/rates"

        # The service changes its answer; the second call is the mock's, not the service's.
        upstream.answer = (200, {"brl": 9.9, "usd": 1.0})
        second = mocks.get("/api/rates", headers={"Host": PASSED})
        assert second.status_code == 200
        assert second.json() == {"brl": 5.1, "usd": 1.0}
        assert upstream.calls == ["/api/rates"]

        # A host left at on_miss: fail never reaches the service.
        miss = mocks.get("/api/ledger", headers={"Host": FAILED})
        assert miss.status_code == 404
        assert miss.headers["x-mockado-miss"] == "true"
        assert upstream.calls == ["/api/rates"]


def test_a_passthrough_miss_reaches_the_port_it_was_made_to(wiremock):
    """A Service answering on two ports: a miss on each goes to that port of the real
    service (WireMock reads it from Host), not to port 80; the answer is passed on as it
    came, template-like text included."""
    fallback = passthrough_mapping(shard="default", host="127.0.0.1")
    loaded = httpx.post(f"{wiremock.url}/__admin/mappings", json=fallback, timeout=10)
    assert loaded.status_code == 201
    try:
        with (
            switch_upstream(200, {"port": "app", "raw": "{{request.port}}"}) as app,
            switch_upstream(200, {"port": "admin"}) as admin,
        ):
            for upstream, name in ((app, "app"), (admin, "admin")):
                got = httpx.get(
                    f"{wiremock.url}/status?x=1",
                    headers={"Host": f"127.0.0.1:{upstream.port}"},
                    timeout=10,
                )
                assert got.status_code == 200
                assert got.json()["port"] == name
                assert upstream.calls == ["/status?x=1"]
            raw = httpx.get(
                f"{wiremock.url}/raw", headers={"Host": f"127.0.0.1:{app.port}"}, timeout=10
            )
            assert raw.json()["raw"] == "{{request.port}}"
    finally:
        httpx.delete(f"{wiremock.url}/__admin/mappings/{fallback['id']}", timeout=10)
