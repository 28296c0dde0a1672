"""The miss report end to end: ``mockado up`` (Envoy, the capture server, Redis, the loader,
WireMock), recordings captured through the proxy, canary calls that miss, and
``mockado misses`` naming each logical miss once with its closest recorded stub."""

from __future__ import annotations

import json

import httpx

from ext_proc_server.mapping.catch_all import catch_all_mapping
from ext_proc_server.misses import parse_miss_event
from tests.support.miss_traffic import (
    CANARY_CONFIG,
    HOST,
    miss,
    mockado_misses,
    record,
    wait_for_misses,
)
from tests.support.processes import poll_until
from tests.support.redis_dump import dump_redis
from tests.support.webhook_receiver import webhook_receiver

SECRETS = ("joana.silva@exemplo.com.br", "s3cr3t-t0ken-value", "Bearer abc.def.ghi")
WANTED = {("GET", "/api/users/{id}", ("email", "token")), ("DELETE", "/api/users/{id}", ()),
          ("POST", "/echo/orders", ())}  # fmt: skip


def test_a_canary_miss_is_reported_once_with_its_closest_stub(
    stack_factory, mockado_bin, clean_env
):
    stack = stack_factory(config_text=CANARY_CONFIG)
    record(stack)
    # The same logical miss three times: other ids, other values, secrets in the query.
    for user_id in (42, 43, 44):
        miss(stack, "GET", f"/api/users/{user_id}?email={SECRETS[0]}&token={SECRETS[1]}",
             headers={"Authorization": SECRETS[2]})  # fmt: skip
    miss(stack, "DELETE", "/api/users/1")
    miss(stack, "POST", "/echo/orders", json={"item": "quill-unique", "qty": 2})

    by_key = wait_for_misses(mockado_bin, stack, clean_env, WANTED, total=5)
    assert set(by_key) == WANTED
    assert len(json.loads(mockado_misses(mockado_bin, stack, clean_env, "--json"))) == 3

    ids = by_key["GET", "/api/users/{id}", ("email", "token")]
    assert ids["count"] == 3 and ids["host"] == HOST
    # The canary's namespace (config), and the one the closest stub was captured in.
    assert ids["namespaces"] == ["local", "shop"]
    assert ids["closest"]["url"] == "/api/users/1" and ids["closest"]["method"] == "GET"
    assert [(d["kind"], d["name"]) for d in ids["closest"]["differences"]] == [
        ("path segment", "3")
    ]

    deleted = by_key["DELETE", "/api/users/{id}", ()]["closest"]
    assert (deleted["method"], deleted["url"]) == ("GET", "/api/users/1")
    assert [d["kind"] for d in deleted["differences"]] == ["method"]

    order = by_key["POST", "/echo/orders", ()]["closest"]
    assert (order["method"], order["url"]) == ("POST", "/echo/orders")
    assert [(d["kind"], d["name"]) for d in order["differences"]] == [("body field", "/item")]

    # Filters and the table.
    table = mockado_misses(mockado_bin, stack, clean_env, "--namespace", "shop", "--host", HOST)
    assert "COUNT" in table and "/api/users/{id}?email&token" in table
    assert "GET /api/users/1" in table and "path segment 3" in table
    other = mockado_misses(mockado_bin, stack, clean_env, "--namespace", "elsewhere", "--json")
    assert json.loads(other) == []

    # No raw value of a miss was stored.
    stored = json.dumps(dump_redis(stack.effective_config["loader"]["redis_url"]))
    for secret in (*SECRETS, "abc.def.ghi", "quill-unique"):
        assert secret not in stored, secret


def test_the_catch_all_reports_the_port_each_miss_was_made_to(wiremock):
    """WireMock's webhook carries Host's port (80 when none), so the report tells one
    Service's ports apart."""
    with webhook_receiver() as (notify_url, received):
        catch_all = catch_all_mapping(shard="ports-test", notify_url=notify_url)
        created = httpx.post(f"{wiremock.url}/__admin/mappings", json=catch_all, timeout=10)
        assert created.is_success
        try:
            for host in ("api.shop:8080", "api.shop", "api.shop:9090"):
                got = httpx.get(f"{wiremock.url}/status", headers={"Host": host}, timeout=10)
                assert got.status_code == 404
            assert poll_until(lambda: len(received) == 3, timeout_s=20)
            events = [parse_miss_event(body) for body in received]
            assert sorted((e.host, e.port) for e in events) == [
                ("api.shop", 80), ("api.shop", 8080), ("api.shop", 9090)
            ]  # fmt: skip
        finally:
            httpx.delete(f"{wiremock.url}/__admin/mappings/{catch_all['id']}", timeout=10)
