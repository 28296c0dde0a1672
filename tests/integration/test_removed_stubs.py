"""A stub the loader removes is recorded again at its request's next capture, through
``mockado up`` (real Envoy, ext_proc, Redis, loader and WireMock): one past
``loader.stub_ttl_s``, and one written on an old format that a reload retires. Its claim
and the collector's in-process memory of it no longer say "already recorded"."""

from __future__ import annotations

import json
import time

import httpx
import redis
import yaml

from ext_proc_server.mapping.removals import READ_EVERY_S
from ext_proc_server.mapping.stub_format import on_old_format
from tests.support.metrics_text import scrape, total
from tests.support.processes import poll_until, wait_for_value
from tests.support.switch_upstream import switch_upstream

TTL_S = 2.0
FLUSH_S = 0.2
# The collector reads the log of removed stubs every READ_EVERY_S, after a flush interval:
# what a capture waits for after a removal, with room for a busy box.
FORGOTTEN_AFTER_S = READ_EVERY_S + FLUSH_S + 2.0
BODY = {"order": 7, "items": ["caneca"]}


def _stubs(stack, path: str) -> list[dict]:
    mappings = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()["mappings"]
    return [m for m in mappings if m["request"].get("urlPath") == path]


def _redis(stack) -> tuple[redis.Redis, str]:
    config = stack.effective_config
    return redis.Redis.from_url(config["loader"]["redis_url"]), config["loader"]["redis_queue"]


def _loader_metric(stack, name: str, **labels: str) -> float:
    port = stack.effective_config["loader"]["http_port"]
    return total(scrape(f"http://127.0.0.1:{port}/metrics"), name, **labels)


def test_a_stub_aged_out_is_recorded_again_at_its_next_capture(stack_factory):
    config = {"loader": {"stub_ttl_s": TTL_S, "stub_refresh_interval_s": 0.2},
              "collector": {"flush_interval": FLUSH_S}}  # fmt: skip
    with switch_upstream(200, {"brl": 5.1}) as upstream:
        stack = stack_factory(upstream=upstream.url, config_text=yaml.safe_dump(config))
        client, queue = _redis(stack)
        assert httpx.get(f"{stack.proxy_url}/api/rates", timeout=10).status_code == 200
        assert poll_until(lambda: _stubs(stack, "/api/rates"), timeout_s=30), "never recorded"

        # Nothing captures it for the TTL: removed from WireMock and from the record.
        assert poll_until(lambda: not _stubs(stack, "/api/rates"), timeout_s=TTL_S + 10)
        assert poll_until(lambda: not client.hkeys(f"{queue}:record:default"), timeout_s=10)
        # Counted once the shard's expired stubs are all removed: wait for it.
        expired = wait_for_value(
            lambda: _loader_metric(stack, "mockado_stubs_expired_total", shard="default"),
            timeout_s=10,
            what="the expiry counted",
        )
        assert expired == 1
        assert httpx.get(f"{stack.wiremock_url}/api/rates", timeout=5).status_code == 404

        # The request comes back once: recorded again, and the mock answers it again.
        time.sleep(FORGOTTEN_AFTER_S)
        upstream.answer = (200, {"brl": 5.3})
        assert httpx.get(f"{stack.proxy_url}/api/rates", timeout=10).status_code == 200
        wait_for_value(
            lambda: _stubs(stack, "/api/rates"), timeout_s=30, what="the aged-out stub again"
        )
        served = httpx.get(f"{stack.wiremock_url}/api/rates", timeout=5)
        assert served.status_code == 200
        assert served.json() == {"brl": 5.3}
        client.close()


def _as_old_format(mapping: dict) -> dict:
    """The stub as an earlier version wrote it: no priority scale and no body matcher,
    which nothing can make faithful for a POST (it is retired)."""
    meta = {k: v for k, v in mapping["metadata"]["mockado"].items() if k != "priority_scale"}
    request = {k: v for k, v in mapping["request"].items() if k != "bodyPatterns"}
    old = {**mapping, "request": request, "metadata": {**mapping["metadata"], "mockado": meta}}
    assert on_old_format(old)
    return old


def test_a_stub_retired_on_reload_is_recorded_again_at_its_next_capture(stack_factory):
    config = {"loader": {"resync_check_interval_s": 0.3},
              "collector": {"flush_interval": FLUSH_S}}  # fmt: skip
    stack = stack_factory(config_text=yaml.safe_dump(config))
    client, queue = _redis(stack)
    record = f"{queue}:record:default"
    sent = httpx.post(f"{stack.proxy_url}/echo", json=BODY, timeout=10)
    assert sent.status_code == 200
    recorded = wait_for_value(lambda: _stubs(stack, "/echo"), timeout_s=30, what="the stub")
    stub_id = recorded[0]["id"]
    assert poll_until(lambda: client.hget(record, stub_id), timeout_s=10)

    # The record holds it on the old format (as an earlier version wrote it), and
    # WireMock restarts empty: the reload retires it (a miss, not a wrong answer).
    old = _as_old_format(json.loads(client.hget(record, stub_id)))
    client.hset(record, stub_id, json.dumps(old))
    retired_before = _loader_metric(
        stack, "wiremock_loader_stubs_retired_total", reason="old_stub_body_unknown"
    )
    httpx.post(f"{stack.wiremock_url}/__admin/reset", timeout=5).raise_for_status()
    assert poll_until(lambda: client.hget(record, stub_id) is None, timeout_s=15), "not retired"
    assert not _stubs(stack, "/echo")
    retired = _loader_metric(
        stack, "wiremock_loader_stubs_retired_total", reason="old_stub_body_unknown"
    )
    assert retired > retired_before
    assert httpx.post(f"{stack.wiremock_url}/echo", json=BODY, timeout=5).status_code == 404

    # The request comes back once: recorded again on today's format, and answered again.
    time.sleep(FORGOTTEN_AFTER_S)
    assert httpx.post(f"{stack.proxy_url}/echo", json=BODY, timeout=10).status_code == 200
    again = wait_for_value(
        lambda: _stubs(stack, "/echo"), timeout_s=30, what="the retired stub again"
    )
    assert again[0]["id"] == stub_id
    assert not on_old_format(again[0])
    served = httpx.post(f"{stack.wiremock_url}/echo", json=BODY, timeout=5)
    assert served.status_code == 200
    assert served.json() == BODY
    client.close()
