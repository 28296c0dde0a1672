"""The fixtures start real processes that answer."""

from __future__ import annotations

import httpx
import redis


def test_redis_answers(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    assert client.ping() is True
    client.set("mockado:smoke", "1")
    assert client.get("mockado:smoke") == b"1"


def test_wiremock_serves_an_imported_stub(wiremock):
    stub = {
        "request": {"method": "GET", "urlPath": "/smoke"},
        "response": {"status": 200, "body": "hello"},
    }
    httpx.post(f"{wiremock.url}/__admin/mappings", json=stub, timeout=10).raise_for_status()
    resp = httpx.get(f"{wiremock.url}/smoke", timeout=10)
    assert resp.status_code == 200
    assert resp.text == "hello"


def test_redis_factory_instance_can_be_killed(redis_factory):
    handle = redis_factory()
    assert handle.process.alive
    handle.process.kill()
    assert not handle.process.alive
