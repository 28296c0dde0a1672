"""Staleness end to end through ``mockado up`` (real Envoy, ext_proc, Redis, loader and
WireMock): repeats keep a stub alive and counted; once nothing captures it for
``loader.stub_ttl_s`` it is removed from WireMock and from its shard's record."""

from __future__ import annotations

import time

import httpx
import redis
import yaml

from tests.support.metrics_text import scrape, total
from tests.support.processes import wait_for_value
from tests.support.switch_upstream import switch_upstream

TTL_S = 2.0
CONFIG = yaml.safe_dump({"loader": {"stub_ttl_s": TTL_S, "stub_refresh_interval_s": 0.2}})


def _stub(stack) -> dict | None:
    mappings = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()["mappings"]
    found = [m for m in mappings if m["request"].get("urlPath") == "/api/rates"]
    return found[0] if found else None


def test_repeats_keep_a_stub_alive_and_a_stub_past_its_ttl_disappears(stack_factory):
    with switch_upstream(200, {"brl": 5.1}) as upstream:
        stack = stack_factory(upstream=upstream.url, config_text=CONFIG)
        assert httpx.get(f"{stack.proxy_url}/api/rates", timeout=10).status_code == 200
        first = wait_for_value(lambda: _stub(stack), timeout_s=30, what="the stub recorded")
        lifecycle = first["metadata"]["mockado"]
        assert lifecycle["capture_count"] == 1
        assert lifecycle["first_seen"] == lifecycle["last_seen"]

        def stamped() -> dict | None:
            stub = _stub(stack)
            assert stub is not None, "expired while still captured"
            return stub if stub["metadata"]["mockado"]["capture_count"] > 5 else None

        # Captured again and again for longer than the TTL, and until the repeats are
        # stamped (on a busy box fewer captures fit in that time): the stub stays, and its
        # last_seen and capture_count follow the repeats.
        until = time.monotonic() + TTL_S * 2
        deadline = time.monotonic() + 60
        kept = None
        while time.monotonic() < until or kept is None:
            assert time.monotonic() < deadline, f"repeats not stamped on the stub: {_stub(stack)}"
            assert httpx.get(f"{stack.proxy_url}/api/rates", timeout=10).status_code == 200
            kept = stamped()
            time.sleep(0.2)
        meta = kept["metadata"]["mockado"]
        assert meta["first_seen"] == lifecycle["first_seen"]
        assert meta["last_seen"] >= lifecycle["last_seen"] + TTL_S

        # Nothing captures it any more: gone from WireMock (the catch-all answers) and
        # from the shard's record, which resync and later backups read.
        wait_for_value(lambda: _stub(stack) is None, timeout_s=TTL_S + 30, what="the expiry")
        assert httpx.get(f"{stack.wiremock_url}/api/rates", timeout=5).status_code == 404
        config = stack.effective_config
        client = redis.Redis.from_url(config["loader"]["redis_url"])
        queue = config["loader"]["redis_queue"]
        # The loader deletes from WireMock first, then from the record, then counts.
        wait_for_value(
            lambda: client.hkeys(f"{queue}:record:default") == [],
            timeout_s=10,
            what="the record emptied",
        )
        assert client.zcard(f"{queue}:seen-at:default") == 0

        def expired() -> float:
            metrics = scrape(f"http://127.0.0.1:{config['loader']['http_port']}/metrics")
            return total(metrics, "mockado_stubs_expired_total", shard="default")

        assert wait_for_value(expired, timeout_s=10, what="the expiry counted") == 1
