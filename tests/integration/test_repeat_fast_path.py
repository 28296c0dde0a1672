"""The repeat fast path across two replicas: real Envoy 1.40, two ``mockado ext-proc``
processes sharing a Redis and a dedup key from the environment.

Replica A records a request; replica B recognizes its repeat through A's repeat claim in
Redis without sanitizing it; a request differing only in a secret is deduplicated after
sanitizing. Redis then holds no planted secret and no digest of raw data that can be
computed without the key.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse

import httpx
import pytest
import redis as redis_sync

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping.repeats import RepeatIndex
from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)
from tests.support.redis_dump import dump_redis

pytestmark = pytest.mark.integration

DEDUP_KEY = "dedup-key-3c9a1f7e5b2d8c4a6e0f"
TOKEN_A = "tok-55e1c0a9b7f3d2e8"
TOKEN_B = "tok-0d7b3e9a1c5f8e24"
CPF = "529.982.247-25"
BODY = json.dumps({"customer": {"cpf": CPF, "name": "Ana"}, "amount": 10}).encode()


def _unkeyed_digests(*values: bytes) -> set[str]:
    out = set()
    for value in values:
        for name in ("md5", "sha1", "sha256", "sha512", "blake2b", "blake2s"):
            out.add(hashlib.new(name, value).hexdigest())
        out.add(hashlib.blake2b(value, digest_size=16).hexdigest())
    return out


def _raw_exchange(url: str, token: str, response: httpx.Response) -> Exchange:
    parts = urllib.parse.urlsplit(url)
    return Exchange(
        id="x",
        request=HttpRequest(
            method="POST",
            path=parts.path,
            query=tuple(urllib.parse.parse_qsl(parts.query)),
            authority=parts.netloc,
            # As sent: a body's Content-Type is part of the repeat key.
            headers=(("content-type", "application/json"),),
            body=BODY,
        ),
        response=HttpResponse(
            status=response.status_code,
            headers=(("content-type", response.headers["content-type"]),),
            body=response.content,
        ),
    )


def _replicas(redis_server, upstream, envoy_factory, ext_proc_factory) -> tuple[list, list, str]:
    """Two collectors on one Redis queue with one dedup key, each behind its own Envoy."""
    env = {"MOCKADO_COLLECTOR__DEDUP_KEY": DEDUP_KEY}
    first = collector_settings(redis_server.url)
    second = collector_settings(redis_server.url, redis_queue=first["redis_queue"])
    replicas = [ext_proc_factory(settings, env=env) for settings in (first, second)]
    envoys = [
        envoy_for(
            envoy_factory,
            make_config(settings),
            upstream_port=upstream.port,
            ext_proc_port=settings["grpc_port"],
            upstream_http2=False,
        )
        for settings in (first, second)
    ]
    return replicas, envoys, first["redis_queue"]


def _redis_contents(url: str, queue: str) -> tuple[str, set[str]]:
    """Every key and value, and the names of the repeat claims."""
    client = redis_sync.Redis.from_url(url)
    try:
        seen = {
            key.decode().rpartition(":")[2] for key in client.scan_iter(match=f"{queue}:seen:*")
        }
    finally:
        client.close()
    # Only this test's queue: the session's Redis holds other tests' keys too.
    return "\n".join(dump_redis(url, match=f"{queue}*").values()), seen


def test_replicas_share_repeats_through_redis_without_any_raw_digest(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    replicas, envoys, queue = _replicas(redis_server, upstream, envoy_factory, ext_proc_factory)
    path = "/echo/payments/charge"

    def send(envoy, token: str) -> tuple[str, httpx.Response]:
        url = f"{envoy.url}{path}?access_token={token}&currency=BRL"
        response = httpx.post(
            url, content=BODY, headers={"content-type": "application/json"}, timeout=10
        )
        assert response.status_code == 200
        return url, response

    a, b = replicas
    url_a, response_a = send(envoys[0], TOKEN_A)
    wait_until(lambda: len(a.captured()) == 1, what="A records", explain=lambda: counters(a))
    # A's repeat ends at its stream; B has never seen it and finds A's repeat claim.
    send(envoys[0], TOKEN_A)
    wait_until(lambda: a.metric("collector_repeats_total", level="local") >= 1, what="A repeat")
    send(envoys[1], TOKEN_A)
    wait_until(
        lambda: b.metric("collector_repeats_total", level="redis") == 1,
        what="B's repeat found in Redis",
        explain=lambda: counters(b),
    )
    assert b.metric("collector_sanitized_bytes_total") == 0  # B sanitized nothing
    # Another token only: the full path on B, deduplicated after sanitizing (the repeat
    # counted one duplicate already).
    duplicates = b.metric("collector_deduplication_operations_total", result="duplicate")
    assert duplicates == 1
    send(envoys[1], TOKEN_B)
    wait_until(
        lambda: (
            b.metric("collector_deduplication_operations_total", result="duplicate")
            == duplicates + 1
        ),
        what="B dedups the secret-only variant",
        explain=lambda: counters(b),
    )
    assert b.metric("collector_sanitized_bytes_total") > 0
    assert len(a.captured()) == 1

    dump, seen = _redis_contents(redis_server.url, queue)
    # No planted secret, in any form.
    for secret in (TOKEN_A, TOKEN_B, CPF, CPF.replace(".", "").replace("-", "")):
        assert secret not in dump
    # No digest of raw data computable without the key.
    raw = _raw_exchange(url_a, TOKEN_A, response_a)
    for digest in _unkeyed_digests(
        TOKEN_A.encode(), TOKEN_B.encode(), CPF.encode(), BODY, url_a.encode()
    ):
        assert digest not in dump
    wrong_key = RepeatIndex(CollectorConfig(dedup_key="another-key-0123456789abcdef"))
    assert RepeatIndex.redis_name(wrong_key.key_of(raw)) not in dump
    # The repeat claims are there, keyed: the right key computes A's exactly.
    right_key = RepeatIndex(CollectorConfig(dedup_key=DEDUP_KEY))
    assert RepeatIndex.redis_name(right_key.key_of(raw)) in seen
