"""Serving: host-isolated mappings, the catch-all and its miss counter, shard routing."""

from __future__ import annotations

import sys
from collections.abc import Callable

import httpx
import redis as redis_lib

from control_plane.local import procs
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.queue_entries import encode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.mapping.stubs import build_mapping
from tests.support.metrics_text import scrape, total
from tests.support.processes import poll_until, start_on_promised_ports, wait_for_value


def recorded_mapping(host: str, path: str, body: str) -> dict:
    config = CollectorConfig()
    normalizer = NoiseNormalizer(config)
    exchange = Exchange(
        id=f"{host}{path}",
        request=HttpRequest(method="GET", path=path, authority=host),
        response=HttpResponse(
            status=200, headers=(("content-type", "text/plain"),), body=body.encode()
        ),
        sanitized=True,
    )
    dedup_hash = Deduplicator(config, normalizer=normalizer).hash(exchange)
    mapping = build_mapping(exchange, dedup_hash=dedup_hash, config=config, normalizer=normalizer)
    assert mapping is not None
    return mapping


def start_loader(
    tmp_path, logs_dir, *, redis_url: str, queue: str, default_url: str, shards: str = "[]"
):
    config = tmp_path / "loader.yaml"

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        config.write_text(
            f"loader:\n  redis_url: {redis_url}\n  redis_queue: {queue}\n  wiremock_url: {default_url}\n"
            f"  http_port: {ports[0]}\n  shards: {shards}\n"
        )
        process = procs.ManagedProcess(
            "loader",
            [sys.executable, "-m", "control_plane.cli", "loader", "--config", str(config)],
            log_path=logs_dir / f"loader-serving-{ports[0]}.log",
        )
        return process, procs.http_ready(f"http://127.0.0.1:{ports[0]}/readyz")

    # Its port is bound only once it starts: started again elsewhere when it was taken.
    process, [http_port] = start_on_promised_ports(
        "loader", launch, started=lambda process: process, timeout_s=30
    )
    return process, f"http://127.0.0.1:{http_port}"


def test_a_loader_whose_port_was_taken_starts_on_another(
    squatter, tmp_path, logs_dir, redis_server, wiremock
):
    loader, loader_url = start_loader(
        tmp_path, logs_dir, redis_url=redis_server.url, queue="serving-ports",
        default_url=wiremock.url,
    )  # fmt: skip
    try:
        assert squatter.ports and loader_url != f"http://127.0.0.1:{squatter.ports[0]}"
        first = (logs_dir / f"loader-serving-{squatter.ports[0]}.log").read_text(errors="replace")
        assert "cannot listen" in first  # the first one could not listen there
        assert httpx.get(f"{loader_url}/readyz", timeout=5).status_code == 200
    finally:
        loader.stop()


def unmatched_total(metrics_url: str, shard: str) -> float:
    metrics = scrape(f"{metrics_url}/metrics")
    return total(metrics, "mockado_serving_unmatched_requests_total", shard=shard)


def test_two_shards_isolate_hosts_and_count_misses(
    tmp_path, logs_dir, redis_server, wiremock_factory
):
    shard_a, shard_b = wiremock_factory(), wiremock_factory()
    queue = "serving-test"
    loader, loader_url = start_loader(
        tmp_path, logs_dir, redis_url=redis_server.url, queue=queue, default_url=shard_a.url,
        shards=f'[{{host: "payments.*", wiremock_url: "{shard_b.url}"}}]',
    )  # fmt: skip
    try:
        client = redis_lib.Redis.from_url(redis_server.url)
        for host, body in (
            ("users.shop.svc", "users says hi"),
            ("payments.shop.svc", "payments says hi"),
        ):
            mapping = recorded_mapping(host, "/v1/status", body)
            client.xadd(RedisKeys(queue=queue).stream, encode_entry(mapping, host=host))

        def served(url: str, host: str) -> str | None:
            resp = httpx.get(f"{url}/v1/status", headers={"Host": host}, timeout=5)
            return resp.text if resp.status_code == 200 else None

        # The same path on two hosts: each host's own recording, each on its own shard.
        users = wait_for_value(
            lambda: served(shard_a.url, "users.shop.svc"), timeout_s=30, what="the users stub"
        )
        assert users == "users says hi"
        payments = wait_for_value(
            lambda: served(shard_b.url, "payments.shop.svc:80"),
            timeout_s=30,
            what="the payments stub",
        )
        assert payments == "payments says hi"
        # No single WireMock holds every stub: the users stub is not on the payments shard.
        assert served(shard_b.url, "users.shop.svc") is None
        ids_a = {m["id"] for m in shard_a.mappings()}
        ids_b = {m["id"] for m in shard_b.mappings()}
        assert not (
            ids_a & ids_b - {m["id"] for m in shard_a.mappings() if m.get("priority") == 10_000}
        )

        # A miss: the catch-all answers with a clear 404 and the loader counts it.
        before = unmatched_total(loader_url, "default")
        miss = httpx.post(
            f"{shard_a.url}/never/recorded?x=1", headers={"Host": "users.shop.svc"}, timeout=5
        )
        assert miss.status_code == 404
        assert miss.json() == {
            "error": "no recording matched", "method": "POST", "path": "/never/recorded", "shard": "default",
        }  # fmt: skip
        assert miss.headers["x-mockado-miss"] == "true"
        counted = poll_until(lambda: unmatched_total(loader_url, "default") > before, timeout_s=10)
        assert counted, "the miss was not counted"
    finally:
        loader.stop()


def test_a_restarted_shard_gets_its_catch_all_back(
    tmp_path, logs_dir, redis_server, wiremock_factory
):
    shard = wiremock_factory()
    queue = "catch-all-test"
    loader, loader_url = start_loader(
        tmp_path, logs_dir, redis_url=redis_server.url, queue=queue, default_url=shard.url
    )

    def unavailable() -> float:
        metrics = scrape(f"{loader_url}/metrics")
        name = "wiremock_loader_mappings_errors_total"
        return total(metrics, name, error_type="wiremock_unavailable")

    try:
        # Installed at start, beside the readiness probe: waited for, not assumed.
        assert poll_until(
            lambda: any(m.get("priority") == 10_000 for m in shard.mappings()), timeout_s=15
        )
        miss = httpx.get(f"{shard.url}/anything", timeout=5)
        assert miss.status_code == 404 and miss.json()["error"] == "no recording matched"
        # WireMock restarts empty (API-loaded stubs are not persisted) on the same port. The
        # loader sees it go, then is paused until the new one is looked at: its check every
        # few seconds could put the catch-all back first.
        before = unavailable()
        shard.process.stop()
        assert poll_until(lambda: unavailable() > before, timeout_s=15), "never seen down"
        loader.pause()
        try:
            restarted = wiremock_factory(port=shard.port)
            assert not any(m.get("priority") == 10_000 for m in restarted.mappings())
        finally:
            loader.resume()
        client = redis_lib.Redis.from_url(redis_server.url)
        mapping = recorded_mapping("users.shop.svc", "/after/restart", "back")
        client.xadd(RedisKeys(queue=queue).stream, encode_entry(mapping, host="users.shop.svc"))

        def recorded_served() -> bool:
            resp = httpx.get(
                f"{restarted.url}/after/restart", headers={"Host": "users.shop.svc"}, timeout=5
            )
            return resp.status_code == 200

        assert poll_until(recorded_served, timeout_s=30)
        # The loader checks every few seconds that each shard still has its catch-all.
        assert poll_until(
            lambda: any(m.get("priority") == 10_000 for m in restarted.mappings()), timeout_s=15
        )
        assert (
            httpx.get(f"{restarted.url}/still/missing", timeout=5).json()["error"]
            == "no recording matched"
        )
    finally:
        loader.stop()
