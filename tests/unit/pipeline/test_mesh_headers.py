"""Exchanges captured by Istio sidecars, with the headers the sidecars (and apps echoing
them) add, through the real sanitize -> dedup -> mapping -> queue entry: no stub matches
or replays one hop's headers, exchanges that differ only there give one stub, and none
of their values reaches what is written to Redis."""

from __future__ import annotations

import base64
import json

from google.protobuf import struct_pb2

from bench.ext_proc_streams import (
    INBOUND,
    ORDERS,
    OUTBOUND,
    WEB,
    Trace,
    drive,
    envoy_stream,
    mesh_headers,
    mesh_streams,
    peer_metadata,
    recorded_servicer,
)
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping import NoiseNormalizer
from ext_proc_server.mapping.stubs import response_definition
from ext_proc_server.misses import MissEvent, closest_stub, describe_miss, miss_sanitizer
from ext_proc_server.pipeline import Prepared, Stages, default_stages, prepare
from ext_proc_server.sanitize.formats import BENIGN_HEADERS

STREAMS = 12
# Headers that belong to one hop of one request: never a matcher, never replayed.
HOP_HEADERS = (
    "x-envoy-peer-metadata", "x-envoy-peer-metadata-id", "x-forwarded-client-cert",
    "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "traceparent",
    "baggage", "x-request-id", "x-envoy-attempt-count", "x-envoy-decorator-operation",
)  # fmt: skip


def legacy_peer_metadata() -> str:
    """The value Istio before 1.22 sent (the whole node metadata, the pod IP included)."""
    metadata = struct_pb2.Struct()
    metadata.update({
        "APP_CONTAINERS": "web", "CLUSTER_ID": "Kubernetes", "INSTANCE_IPS": WEB.ip,
        "ISTIO_VERSION": "1.20.3", "MESH_ID": "cluster.local", "NAME": WEB.name,
        "NAMESPACE": "shop", "WORKLOAD_NAME": "web", "PLATFORM_METADATA": {},
        "LABELS": {"app": "web", "pod-template-hash": "6d5f8c7b9",
                   "security.istio.io/tlsMode": "istio",
                   "service.istio.io/canonical-name": "web"},
        "OWNER": "kubernetes://apis/apps/v1/namespaces/shop/deployments/web"})  # fmt: skip
    return base64.b64encode(metadata.SerializeToString(deterministic=True)).decode()


def echoed(exchange: Exchange, n: int) -> Exchange:
    """The exchange as an app that echoes the request id and trace context (and the old
    sidecars' metadata) would answer it."""
    trace = Trace.of(n)
    response = exchange.response
    assert response is not None
    extra = (
        ("x-request-id", trace.request_id),
        ("traceparent", f"00-{trace.trace_id}-{trace.span_id}-01"),
        ("x-b3-traceid", trace.trace_id), ("baggage", "tenant=acme,channel=web"),
        ("x-envoy-peer-metadata", legacy_peer_metadata()),
    )  # fmt: skip
    return exchange.replace(response=response.replace(headers=response.headers + extra))


def hop_values(exchange: Exchange) -> set[str]:
    """Every value of a hop header the exchange carries, and the pods' IPs and ids."""
    values = {WEB.ip, ORDERS.ip, WEB.peer_id, ORDERS.peer_id, legacy_peer_metadata()}
    response = exchange.response
    assert response is not None
    for name, value in exchange.request.headers + response.headers:
        if name in HOP_HEADERS and len(value) > 2:  # "1": also a digit of other values
            values.add(value)
    return values


def world() -> list[Exchange]:
    """The mesh streams' exchanges as the real assembler made them, half echoed."""
    exchanges = recorded_servicer(mesh_streams(STREAMS)).recorded
    assert len(exchanges) == STREAMS
    return [echoed(e, n) if n % 4 < 2 else e for n, e in enumerate(exchanges)]


def the_stages() -> Stages:
    return default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="q"))


def entry_of(exchange: Exchange, stages: Stages) -> tuple[bytes, dict]:
    prepared = prepare(exchange, stages, dedup_enabled=True)
    assert isinstance(prepared, Prepared) and prepared.entry is not None
    raw = b"".join(v if isinstance(v, bytes) else v.encode() for v in prepared.entry.values())
    mapping, _host = decode_entry(prepared.entry)
    return raw, mapping


def test_the_world_carries_the_sidecars_headers() -> None:
    exchanges = world()
    seen = {name for e in exchanges for name, _ in e.request.headers}
    assert {"x-envoy-peer-metadata", "x-forwarded-client-cert", "traceparent"} <= seen
    outbound = [e for e in exchanges if e.workload == "web"]
    inbound = [e for e in exchanges if e.workload == "orders"]
    assert outbound and inbound
    for exchange in outbound:
        assert exchange.request.header("x-envoy-peer-metadata") == peer_metadata(WEB)
        assert exchange.response is not None
        assert exchange.response.header("server") == "istio-envoy"
    for exchange in inbound:
        # The exchange filter removed the caller's metadata before the capture filter.
        assert exchange.request.header("x-envoy-peer-metadata") is None
        assert WEB.spiffe_id in (exchange.request.header("x-forwarded-client-cert") or "")


def test_no_stub_matches_or_replays_a_hop_header_and_nothing_raw_is_queued() -> None:
    stages = the_stages()
    for exchange in world():
        raw, mapping = entry_of(exchange, stages)
        request_pattern = json.dumps(mapping["request"]).lower()
        assert all(name not in request_pattern for name in HOP_HEADERS)
        served = mapping["response"].get("headers", {})
        # A request id the app echoed is served as the replayed request's own, not as
        # recorded (docs/mappings.md, "Responses").
        own = {name: f"{{{{request.headers.{name.lower()}}}}}" for name in served}
        replayed = {name.lower() for name, value in served.items() if value != own[name]}
        assert not replayed & set(HOP_HEADERS)
        assert not any(name.startswith("x-envoy-") for name in replayed)
        # The stub keeps what the client saw of the response itself.
        assert mapping["response"]["headers"]["content-type"] == "application/json"
        for value in hop_values(exchange):
            assert value.encode() not in raw, value
        # The pods' identities are not sanitized (no detector names them) and never
        # reach a stub: the client certificate is a request header.
        assert b"spiffe://" not in raw


def test_exchanges_differing_only_in_hop_headers_give_one_stub() -> None:
    stages = the_stages()
    for exchange in world()[:4]:
        trace = Trace.of(1000)
        direction = "outbound" if exchange.workload == "web" else "inbound"
        request_extra, _response_extra = mesh_headers(direction, trace)
        kept = tuple((k, v) for k, v in exchange.request.headers if k not in HOP_HEADERS)
        twin = exchange.replace(
            id=exchange.id + "-twin",
            request=exchange.request.replace(
                headers=kept + request_extra + (("x-request-id", trace.request_id),)
            ),
            response=_echoing(exchange, trace.request_id),
        )
        assert twin.request.headers != exchange.request.headers
        first, second = (
            prepare(exchange, stages, dedup_enabled=True),
            prepare(twin, stages, dedup_enabled=True),
        )
        assert isinstance(first, Prepared) and isinstance(second, Prepared)
        assert first.dedup_hash == second.dedup_hash
        assert first.entry is not None and second.entry is None  # a local duplicate
        # And the mapping either would write is the same one.
        keyed = [stages.dedup(stages.sanitize(e)) for e in (exchange, twin)]
        assert stages.build_mapping(keyed[0]) == stages.build_mapping(keyed[1])


def _echoing(exchange: Exchange, request_id: str):
    """The exchange's response, echoing ``request_id`` where it echoed the request's id."""
    response = exchange.response
    assert response is not None
    sent = exchange.request.header("x-request-id")
    headers = tuple(
        (k, request_id if k == "x-request-id" and v == sent else v) for k, v in response.headers
    )
    return response.replace(headers=headers)


def test_a_stream_differing_only_in_hop_headers_repeats_on_the_fast_path() -> None:
    recorded = recorded_servicer(mesh_streams(STREAMS))
    for n in range(STREAMS):
        sidecar = OUTBOUND if n % 2 == 0 else INBOUND
        trace = Trace.of(5000 + n)
        request, response = mesh_headers(sidecar.direction, trace)
        authority = ("orders", "orders:8080", "orders.shop")[n % 3]
        messages = envoy_stream(
            n, authority=authority, node=sidecar.node, cluster=sidecar.cluster,
            request_id=trace.request_id, request_headers=request, response_headers=response,
        )  # fmt: skip
        drive(recorded.servicer, messages, sidecar.metadata)
    assert recorded.submitted == []
    assert sum(recorded.repeats.drain_counts().values()) == STREAMS


def test_peer_metadata_is_left_unscanned_only_because_no_stub_keeps_it() -> None:
    """The exchange headers are benign to the sanitizer (not scanned: long base64, never
    remembered clean) on the condition that nothing stores them."""
    planted = "senha=hunter2 cpf 390.533.447-05 maria@example.com"
    for name in ("x-envoy-peer-metadata", "x-envoy-peer-metadata-id"):
        assert name in BENIGN_HEADERS
        exchange = world()[0]
        response = exchange.response
        assert response is not None
        planted_exchange = exchange.replace(
            request=exchange.request.replace(headers=(*exchange.request.headers, (name, planted))),
            response=response.replace(headers=(*response.headers, (name, planted))),
        )
        stages = the_stages()
        clean = stages.sanitize(planted_exchange)
        assert clean.request.header(name) is not None
        assert name not in response_definition(clean.response).get("headers", {})
        raw, _mapping = entry_of(planted_exchange, stages)
        for part in ("hunter2", "390.533.447-05", "maria@example.com"):
            assert part.encode() not in raw


def test_peer_metadata_is_still_scanned_for_the_users_own_patterns() -> None:
    pod = {"name": "pod", "regex": WEB.name, "replacement": "SANITIZED_POD"}
    config = CollectorConfig.model_validate({"sanitize_patterns": [pod]})
    stages = default_stages(config, redis=None, keys=RedisKeys(queue="q"))
    outbound = world()[0]
    assert outbound.workload == "web"
    clean = stages.sanitize(outbound)
    assert clean.request.header("x-envoy-peer-metadata-id") != WEB.peer_id
    assert "request.header.x-envoy-peer-metadata-id" in clean.redactions


def test_a_canarys_miss_with_sidecar_headers_keeps_none_of_their_values() -> None:
    stages = the_stages()
    exchanges = world()
    _raw, mapping = entry_of(exchanges[1], stages)
    request, _response = mesh_headers("inbound", Trace.of(77))
    event = MissEvent(
        shard="default", method="POST", host="orders.shop.svc.cluster.local",
        url="/api/rec/order999?page=999", headers=request, body=b"{}", seen_at_s=1.0,
    )  # fmt: skip
    config = CollectorConfig()
    sample = describe_miss(
        event, sanitizer=miss_sanitizer(config), normalizer=NoiseNormalizer(config)
    )
    closest = closest_stub(sample, [mapping])
    assert closest is not None
    described = json.dumps(closest.as_dict())
    for _name, value in request:
        if len(value) > 2:
            assert value not in described
