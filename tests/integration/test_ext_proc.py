"""The ext_proc capture server behind a real Envoy 1.40.

Exact assembly is checked in-process (a ``CaptureServer`` whose sink records every
assembled exchange); what users run - ``mockado ext-proc`` as a subprocess writing to a
real Redis - is checked through the Redis stream and /metrics.
"""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from collections.abc import Iterator

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from ext_proc_server.capture import CaptureServer
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.exchange import Exchange
from tests.support.capture_seams import RecordingSink
from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)

pytestmark = pytest.mark.integration


def by_path(mappings: list[dict]) -> dict[str, dict]:
    return {m["request"].get("urlPath") or m["request"].get("url", ""): m for m in mappings}


class InProcessServer:
    """A ``CaptureServer`` on its own thread and loop, recording every assembled exchange."""

    def __init__(self, config: MockadoConfig) -> None:
        self.config = config
        self.sink = RecordingSink()
        self.exchanges = self.sink.exchanges
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> InProcessServer:
        started = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            ready = asyncio.Event()
            server = CaptureServer(self.config, sink=self.sink)
            task = asyncio.create_task(server.run(stop=self._stop, ready=ready))
            await asyncio.wait(
                {task, asyncio.create_task(ready.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
            started.set()
            await task

        self._thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
        self._thread.start()
        assert started.wait(30), "in-process ext_proc server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def find(self, method: str, path: str) -> Exchange:
        wait_until(
            lambda: any(
                e.request.method == method and e.request.path == path for e in self.exchanges
            ),
            what=f"{method} {path}",
        )
        return next(
            e for e in self.exchanges if e.request.method == method and e.request.path == path
        )


# -- exact assembly, in-process ---------------------------------------------------------


@pytest.fixture(scope="module")
def in_process(redis_server, upstream, envoy_factory) -> Iterator[tuple[InProcessServer, str]]:
    config = make_config(collector_settings(redis_server.url, body_limit_bytes=8192))
    with InProcessServer(config) as server:
        envoy = envoy_for(
            envoy_factory,
            config,
            upstream_port=upstream.port,
            ext_proc_port=config.collector.grpc_port,
            upstream_http2=False,
        )
        yield server, envoy.url
        envoy.process.stop()


def test_each_phase_assembles_and_the_client_gets_every_byte(in_process):
    server, base = in_process
    big = bytes(range(33, 127)) * 700  # ~64 KiB of text
    big = big[: 64 * 1024]
    chunks = [b'{"part":1,', b'"more":"' + b"c" * 3000 + b'",', b'"end":true}']
    with httpx.Client(timeout=10) as client:
        r = client.get(f"{base}/echo/get?id=42&tag=a%20b&tag=c", headers={"x-trace": "t1"})
        assert r.status_code == 200
        r = client.post(f"{base}/echo/json", json={"name": "n", "n": 1})
        assert r.json() == {"name": "n", "n": 1}
        r = client.post(f"{base}/echo/big", content=big, headers={"content-type": "text/plain"})
        assert r.content == big
        r = client.post(
            f"{base}/echo/chunked",
            content=iter(chunks),
            headers={"content-type": "application/json"},
        )
        assert r.content == b"".join(chunks)
        r = client.get(f"{base}/blob?size=20000&gzip=1")
        assert r.headers["content-encoding"] == "gzip" and len(r.content) == 20000
    with httpx.Client(http1=False, http2=True, timeout=10) as h2:
        r = h2.post(f"{base}/echo/h2", json={"proto": 2})
        assert r.http_version == "HTTP/2" and r.json() == {"proto": 2}

    get = server.find("GET", "/echo/get")
    assert get.request.query == (("id", "42"), ("tag", "a b"), ("tag", "c"))
    assert get.request.header("x-trace") == "t1"
    assert get.request.body == b"" and get.response.status == 200
    assert (get.namespace, get.workload) == ("local", "mockado-up")

    post = server.find("POST", "/echo/json")
    assert post.request.body == b'{"name":"n","n":1}'
    assert post.response.body == post.request.body and not post.truncated

    large = server.find("POST", "/echo/big")
    assert large.request.body == big[:8192] and large.request.body_truncated
    assert large.response.body == big[:8192] and large.response.body_truncated

    chunked = server.find("POST", "/echo/chunked")
    assert chunked.request.body == b"".join(chunks) and not chunked.truncated

    blob = server.find("GET", "/blob")
    payload = (b'{"data":"' + b"x" * 20000)[:19998] + b'"}'
    assert blob.response.body == payload
    assert blob.response.header("content-encoding") is None
    assert not blob.response.body_truncated

    h2 = server.find("POST", "/echo/h2")
    assert h2.request.body == b'{"proto":2}' and h2.response.body == b'{"proto":2}'
    assert h2.request.authority


# -- gRPC (HTTP/2 with trailers) ---------------------------------------------------------


@pytest.fixture(scope="module")
def grpc_upstream() -> Iterator[int]:
    ready = threading.Event()
    holder: dict = {}

    async def main() -> None:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health_aio.HealthServicer(), server)
        # Port 0: bound at once, so no other program can take it before the server does.
        holder["port"] = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        holder["stop"] = asyncio.Event()
        holder["loop"] = asyncio.get_running_loop()
        ready.set()
        await holder["stop"].wait()
        await server.stop(0)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield holder["port"]
    holder["loop"].call_soon_threadsafe(holder["stop"].set)
    thread.join(10)


async def _health_check(port: int) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="")
        )
        return reply.status


def test_grpc_traffic_is_proxied_and_its_answer_dropped_at_its_headers(
    redis_server, grpc_upstream, envoy_factory, ext_proc_factory
):
    """A gRPC answer with a message ends in trailers, which no stub can send: the capture
    drops it at its response headers (``grpc_body``), never waiting for its end; the call
    itself is unaffected."""
    collector = collector_settings(redis_server.url, binary_bodies="base64")
    ext = ext_proc_factory(collector)
    config = make_config(collector)
    envoy = envoy_for(
        envoy_factory, config, upstream_port=grpc_upstream, ext_proc_port=ext.grpc_port
    )
    assert "response_trailer_mode: SEND" in envoy.config_path.read_text()
    assert asyncio.run(_health_check(envoy.port)) == health_pb2.HealthCheckResponse.SERVING
    wait_until(
        lambda: ext.metric("collector_dropped_total", reason="grpc_body") == 1,
        what="the answer dropped",
        explain=lambda: counters(ext),
    )
    assert ext.captured() == []
    assert ext.metric("collector_dropped_total", reason="incomplete") == 0
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


def test_a_grpc_error_in_headers_alone_is_recorded(
    redis_server, grpc_upstream, envoy_factory, ext_proc_factory
):
    """A gRPC error answered in headers alone (trailers-only) has no trailers: it is kept,
    its grpc-status among the stub's headers (an answer with messages is not:
    ``grpc_body``, above; one of another protocol that ends in trailers is a counted
    ``response_trailers`` skip, test_capture_trailers)."""
    collector = collector_settings(redis_server.url, binary_bodies="base64")
    ext = ext_proc_factory(collector)
    config = make_config(collector)
    envoy = envoy_for(
        envoy_factory, config, upstream_port=grpc_upstream, ext_proc_port=ext.grpc_port
    )

    async def unknown_method() -> grpc.StatusCode:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await channel.unary_unary("/unknown.Service/Do")(b"\x0a\x01x")
            return failed.value.code()

    assert asyncio.run(unknown_method()) == grpc.StatusCode.UNIMPLEMENTED
    wait_until(lambda: len(ext.captured()) == 1, what="trailers-only capture")
    (mapping,) = ext.captured()
    assert mapping["request"]["urlPath"] == "/unknown.Service/Do"
    assert mapping["response"]["headers"]["grpc-status"] == "12"
    assert ext.metric("collector_stubs_skipped_total", reason="response_trailers") == 0
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


# -- the subprocess, as users run it -----------------------------------------------------


def test_subprocess_captures_to_redis_and_stops_cleanly(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    collector = collector_settings(
        redis_server.url, exclude_paths=["/echo/private"], body_limit_bytes=2048
    )
    ext = ext_proc_factory(collector)
    config = make_config(collector)
    envoy = envoy_for(
        envoy_factory, config, upstream_port=upstream.port, ext_proc_port=ext.grpc_port
    )
    assert httpx.get(f"http://127.0.0.1:{ext.http_port}/readyz", timeout=5).status_code == 200
    with httpx.Client(timeout=10) as client:
        for n in range(5):
            assert client.post(f"{envoy.url}/echo/item{n}", json={"n": n}).status_code == 200
        assert client.get(f"{envoy.url}/echo/private").status_code == 200
        assert (
            client.post(
                f"{envoy.url}/echo/large",
                content=b"y" * 5000,
                headers={"content-type": "text/plain"},
            ).status_code
            == 200
        )
        assert client.get(f"{envoy.url}/api/users").status_code == 200
    wait_until(lambda: len(ext.captured()) == 6, what="6 mappings in Redis")
    wait_until(
        lambda: ext.metric("collector_stubs_skipped_total", reason="request_truncated") == 1,
        what="the over-limit exchange counted as skipped",
    )
    mappings = by_path(ext.captured())
    assert "/echo/private" not in mappings
    # Served as recorded, byte for byte.
    assert mappings["/echo/item3"]["response"]["body"] == '{"n":3}'
    assert mappings["/echo/item3"]["metadata"]["mockado"]["namespace"] == "local"
    # Cut at the body limit: no stub (a stub would answer a partial body).
    assert "/echo/large" not in mappings
    users = mappings["/api/users"]["response"]
    # The sanitizer ran before Redis: the demo API's personal data never got there.
    assert "529.982.247-25" not in str(users) and "joana.silva" not in str(users)
    assert ext.metric("collector_requests_total", method="POST", status="2xx") == 6
    assert ext.metric("collector_dropped_total", reason="filtered") == 1
    assert ext.metric("collector_truncated_total") == 1
    assert ext.metric("collector_queue_size") == 0
    envoy.process.stop()
    ext.process.signal(signal.SIGTERM)
    ext.process.proc.wait(timeout=20)
    assert ext.process.proc.returncode == 0
    log = ext.process.log_text()
    assert "grpc port" in log and redis_server.url not in log


def test_blocking_mode_answers_and_closes_unsampled_streams(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    collector = collector_settings(redis_server.url, sample_rate=0.5)
    ext = ext_proc_factory(collector)
    config = make_config(collector)
    envoy = envoy_for(
        envoy_factory,
        config,
        upstream_port=upstream.port,
        ext_proc_port=ext.grpc_port,
        capture_mode="blocking",
    )
    assert "observability_mode: false" in envoy.config_path.read_text()
    body = {"k": "v" * 500}
    with httpx.Client(timeout=10) as client:
        for n in range(40):
            r = client.post(f"{envoy.url}/echo/b{n}", json=body)
            assert r.status_code == 200 and r.json() == body

    def envoy_stat(name: str) -> int:
        stats = httpx.get(f"{envoy.admin_url}/stats?filter=ext_proc", timeout=5).text
        match = re.search(rf"ext_proc\.mockado\.{name}: (\d+)", stats)
        return int(match.group(1)) if match else -1

    def decided() -> float:
        return (
            len(ext.captured())
            + ext.metric("collector_dropped_total", reason="not_sampled")
            + ext.metric("collector_dropped_total", reason="incomplete")
        )

    wait_until(lambda: decided() == 40, what="every stream decided", explain=lambda: counters(ext))
    not_sampled = ext.metric("collector_dropped_total", reason="not_sampled")
    assert 5 <= not_sampled <= 35
    # Every stream was answered: Envoy gave up on one only when this shared 2-core box
    # stalled the server past message_timeout (0.2 s); each such stream counts incomplete.
    stats = httpx.get(f"{envoy.admin_url}/stats?filter=ext_proc", timeout=5).text
    assert ext.metric("collector_dropped_total", reason="incomplete") <= envoy_stat(
        "message_timeouts"
    ), " ".join(line for line in stats.splitlines() if not line.endswith(": 0"))
    assert envoy_stat("failure_mode_allowed") == envoy_stat("message_timeouts")
    envoy.process.stop()
    ext.process.stop()


def test_workers_share_one_port_and_the_parent_aggregates_metrics(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector, workers=2)
    config = make_config(collector)
    envoy = envoy_for(
        envoy_factory, config, upstream_port=upstream.port, ext_proc_port=ext.grpc_port
    )
    # /readyz turns 200 only once every worker listens: then the gRPC port answers at once.
    wait_until(
        lambda: httpx.get(f"http://127.0.0.1:{ext.http_port}/readyz", timeout=5).status_code == 200,
        what="ready",
    )
    assert httpx.get(f"http://127.0.0.1:{ext.http_port}/readyz", timeout=5).json()["checks"] == {
        "redis": True,
        "workers": True,
    }
    log_text = ext.process.log_text()
    # Worker 0 is the parent and listens before it spawns the others: a connection made
    # while they start is served, never refused.
    assert log_text.index("ext_proc server 0 started") < log_text.index("ext_proc server 1 started")
    with httpx.Client(timeout=10) as client:
        for n in range(20):
            assert client.get(f"{envoy.url}/echo/w{n}").status_code == 200
    wait_until(lambda: len(ext.captured()) == 20, what="20 mappings")
    # Worker 0's streams are counted at the scrape, the other's within a second.
    wait_until(
        lambda: ext.metric("collector_requests_total", method="GET", status="2xx") == 20,
        what="20 requests counted",
        explain=lambda: counters(ext),
    )
    # The gauge is summed over the live workers, not reported per process.
    assert ext.metric("collector_queue_size") == 0
    assert "collector_queue_size{pid=" not in ext.metrics()
    envoy.process.stop()
    assert ext.process.stop(timeout_s=30) == 0
