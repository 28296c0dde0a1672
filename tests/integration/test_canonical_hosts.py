"""One host per Kubernetes Service, against the real Envoy 1.40 and WireMock 3.13.2.

* Envoy sends the upstream cluster's name (``xds.cluster_name``) with the response
  headers, where the collector reads an Istio outbound cluster's destination FQDN.
* A mapping captured under any name of a Service matches every alias of that Service
  (with or without a port) in WireMock, and no other Service's name.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from ext_proc_server.capture import CaptureServer
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.names import ATTR_CLUSTER_NAME, EXT_PROC_FILTER_NAME
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, build_mapping
from tests.support.capture_seams import ContextInterceptor, RecordingSink
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config, wait_until

pytestmark = pytest.mark.integration


class _Recording:
    """A context whose ``read`` keeps every message the servicer reads."""

    def __init__(self, context: grpc.aio.ServicerContext, kept: list[Any]) -> None:
        self._context = context
        self._kept = kept

    async def read(self) -> Any:
        message = await self._context.read()
        if message is not grpc.aio.EOF:
            self._kept.append(message)
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class KeepMessages(ContextInterceptor):
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def wrap(self, context: grpc.aio.ServicerContext) -> Any:
        return _Recording(context, self.messages)


@pytest.fixture
def recording_server(redis_server) -> Iterator[tuple[Any, KeepMessages, RecordingSink]]:
    config = make_config(collector_settings(redis_server.url))
    keep, sink = KeepMessages(), RecordingSink()
    started, holder = threading.Event(), {}

    async def main() -> None:
        holder["loop"], holder["stop"] = asyncio.get_running_loop(), asyncio.Event()
        server = CaptureServer(config, sink=sink, interceptors=[keep], serve_http=False)
        ready = asyncio.Event()
        task = asyncio.create_task(server.run(stop=holder["stop"], ready=ready))
        await asyncio.wait({task, asyncio.create_task(ready.wait())}, return_when="FIRST_COMPLETED")
        started.set()
        await task

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    assert started.wait(30), "capture server did not start"
    yield config, keep, sink
    holder["loop"].call_soon_threadsafe(holder["stop"].set)
    thread.join(30)


def test_envoy_sends_the_upstream_cluster_name_with_the_response_headers(
    recording_server, upstream, envoy_factory
) -> None:
    config, keep, sink = recording_server
    envoy = envoy_for(
        envoy_factory,
        config,
        upstream_port=upstream.port,
        ext_proc_port=config.collector.grpc_port,
        upstream_http2=False,
    )
    try:
        assert httpx.get(f"{envoy.url}/echo/get?x=1", timeout=10).status_code == 200
        wait_until(lambda: bool(sink.exchanges), what="the exchange")
    finally:
        envoy.process.stop()
    by_phase = {m.WhichOneof("request"): m for m in keep.messages}
    response_fields = by_phase["response_headers"].attributes[EXT_PROC_FILTER_NAME].fields
    # The local bootstrap names its upstream cluster "upstream"; an Istio sidecar names it
    # outbound|PORT|SUBSET|FQDN, which the collector turns into the destination host.
    assert response_fields[ATTR_CLUSTER_NAME].string_value == "upstream"
    # Not known yet when the request headers go out: the route is chosen after them.
    request_attributes = by_phase["request_headers"].attributes[EXT_PROC_FILTER_NAME].fields
    assert ATTR_CLUSTER_NAME not in request_attributes


def _mapping(authority: str, namespace: str, body: bytes) -> dict[str, Any]:
    config = CollectorConfig(cluster_namespaces=["payments"])
    normalizer = NoiseNormalizer(config)
    exchange = Exchange(
        id="x",
        sanitized=True,
        namespace=namespace,
        request=HttpRequest(method="GET", path="/balance", authority=authority),
        response=HttpResponse(
            status=200, headers=(("content-type", "application/json"),), body=body
        ),
    )
    dedup = Deduplicator(config, normalizer=normalizer)
    mapping = build_mapping(
        exchange, dedup_hash=dedup.hash(exchange), config=config, normalizer=normalizer
    )
    assert mapping is not None
    return mapping


@pytest.mark.parametrize(
    ("captured_as", "namespace", "port"),
    [
        ("api", "payments", ""),
        ("api.payments:8080", "orders", ":8080"),
        ("api.payments.svc.cluster.local", "", ""),
    ],
)
def test_every_alias_of_a_service_matches_and_another_service_does_not(
    wiremock, captured_as: str, namespace: str, port: str
) -> None:
    """Every name of the Service, on the port it was called on (none: none or :80)."""
    wiremock.reset()
    mapping = _mapping(captured_as, namespace, b'{"service":"api.payments"}')
    external = _mapping("api.payments.example.com", "payments", b'{"service":"external"}')
    for stub in (mapping, external):
        httpx.post(f"{wiremock.url}/__admin/mappings", json=stub, timeout=10).raise_for_status()

    def served(host: str) -> str | None:
        # A fresh connection per call: Jetty may keep a connection's first Host.
        response = httpx.get(f"{wiremock.url}/balance", headers={"Host": host}, timeout=10)
        return response.json().get("service") if response.status_code == 200 else None

    names = ("api", "API", "api.payments", "api.payments.svc", "api.payments.svc.cluster.local",
             "api.payments.svc.cluster.local.")  # fmt: skip
    for alias in names:
        assert served(alias + port) == "api.payments", alias
        assert served(alias + (port or ":80")) == "api.payments", alias
        assert served(alias + (":8443" if port else ":8080")) is None, alias
    for other in ("web", "api.orders", "web.payments.svc.cluster.local", "api.payments.svc.x"):
        assert served(other + port) is None, other
    # An external host matches only itself.
    assert served("api.payments.example.com") == "external"
    assert served("API.Payments.Example.com:80") == "external"
    assert served("api.payments.example.com:443") is None
