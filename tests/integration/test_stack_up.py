"""``mockado up`` end to end: a request through Envoy becomes a WireMock stub."""

from __future__ import annotations

import json
import socket
import subprocess

import httpx
import psutil

from tests.support.processes import poll_until, promised_port, wait_for_value


def test_request_through_proxy_becomes_a_served_stub(stack_factory):
    stack = stack_factory()
    assert stack.proxy_url in stack.summary
    assert stack.wiremock_url in stack.summary
    assert "/metrics" in stack.summary and "logs" in stack.summary

    direct = httpx.get(f"{stack.proxy_url}/api/users", timeout=10)
    assert direct.status_code == 200
    original = direct.json()
    assert original["users"][0]["email"] == "joana.silva+compras@exemplo.com.br"

    def served():
        resp = httpx.get(f"{stack.wiremock_url}/api/users", timeout=5)
        return resp if resp.status_code == 200 else None

    mocked = wait_for_value(served, timeout_s=30, what="the stub served")
    body = mocked.json()
    # The same shape as the upstream's answer, with personal data sanitized.
    assert body["total"] == original["total"]
    assert body["users"][0]["name"] == "SANITIZED_NAME"  # a person's name is personal data
    assert body["users"][0]["id"] == 1
    text = json.dumps(body)
    for secret in ("joana.silva+compras@exemplo.com.br", "529.982.247-25", "4111 1111 1111 1111"):
        assert secret not in text
    assert "SANITIZED_EMAIL" in text

    # A request never captured gets the catch-all's clear 404.
    miss = httpx.get(f"{stack.wiremock_url}/never/captured", timeout=5)
    assert miss.status_code == 404
    assert miss.json()["error"] == "no recording matched"


def test_stop_leaves_no_process_behind(stack_factory):
    stack = stack_factory()
    children = stack.children
    assert len(children) >= 6  # redis, wiremock, demo api, ext-proc, loader, envoy
    assert stack.stop() == 0
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"


def test_upstream_flag_with_any_http_server(stack_factory, upstream):
    stack = stack_factory(upstream=upstream.url)
    resp = httpx.post(f"{stack.proxy_url}/echo", content=b"hello mockado", timeout=10)
    assert resp.status_code == 200
    assert resp.content == b"hello mockado"


def test_busy_port_is_one_clear_error(tmp_path, mockado_bin, clean_env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [mockado_bin, "up", "--proxy-port", str(port), "--state-dir", str(tmp_path / "s")],
            capture_output=True, text=True, env=clean_env, timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"envoy: port {port} is busy" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_binary_names_the_part(tmp_path, mockado_bin, clean_env):
    env = {**clean_env, "MOCKADO_WIREMOCK_JAR": str(tmp_path / "missing.jar")}
    result = subprocess.run(
        [mockado_bin, "up", "--proxy-port", str(promised_port()),
         "--wiremock-port", str(promised_port()), "--state-dir", str(tmp_path / "s")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "wiremock:" in result.stderr and "missing.jar" in result.stderr


def test_two_shards_behind_mockado_up_serve_each_host_its_own_recording(stack_factory):
    config = "serving:\n  shard_groups:\n    payments: ['payments.*']\n"
    stack = stack_factory(config_text=config)
    assert "routed by Host to 2 shards" in stack.summary
    for host in ("users.shop.local", "payments.shop.local"):
        resp = httpx.get(f"{stack.proxy_url}/api/users/1", headers={"Host": host}, timeout=10)
        assert resp.status_code == 200

    def served(host: str):
        resp = httpx.get(f"{stack.wiremock_url}/api/users/1", headers={"Host": host}, timeout=5)
        return resp if resp.status_code == 200 else None

    for host in ("users.shop.local", "payments.shop.local"):
        assert poll_until(lambda host=host: served(host), timeout_s=30), f"{host} never served"
    # Each recording sits only on its own shard: ask each shard directly.
    effective = stack.effective_config
    [payments_url] = [s["wiremock_url"] for s in effective["loader"]["shards"]]
    default_url = effective["loader"]["wiremock_url"]

    def hosts_on(url: str) -> set[str]:
        mappings = httpx.get(f"{url}/__admin/mappings", timeout=10).json()["mappings"]
        return {
            m["metadata"]["mockado"]["host"]
            for m in mappings
            if not m.get("metadata", {}).get("mockado", {}).get("catch_all")
        }

    assert hosts_on(payments_url) == {"payments.shop.local"}
    assert hosts_on(default_url) == {"users.shop.local"}
    # A host never captured gets the catch-all of the shard that would serve it.
    miss = httpx.get(
        f"{stack.wiremock_url}/api/users/1", headers={"Host": "payments.other"}, timeout=5
    )
    assert miss.status_code == 404
    assert miss.json()["shard"] == "payments"
