"""The per-stream bench's streams: the mesh's take the mesh host path, and every stream of
both sets repeats once recorded."""

from __future__ import annotations

from bench.ext_proc_streams import (
    INBOUND,
    MESH_AUTHORITIES,
    MESH_FQDN,
    MESH_NAMESPACE,
    OUTBOUND,
    SIDES,
    bench_streams,
    drive,
    mesh_streams,
    recorded_servicer,
    side,
    stream_costs,
)
from ext_proc_server.capture import protos
from ext_proc_server.core.hosts import port_of
from ext_proc_server.core.names import ATTR_CLUSTER_NAME, EXT_PROC_FILTER_NAME, META_WORKLOAD
from ext_proc_server.mapping.repeats import RepeatIndex, response_facts

STREAMS = 12


def _key_with_host(repeats: RepeatIndex, exchange, host: str):
    request = exchange.request
    return repeats.key(
        method=request.method,
        host=host,
        path=request.path,
        query=request.query,
        body=request.body,
        body_state="",
        response=response_facts(exchange.response),
        content_type=request.header("content-type") or "",
    )


def _sent(messages: list[bytes]) -> tuple[str, str]:
    """A stream's :authority and the cluster its response names."""
    first = protos.ProcessingRequest.FromString(messages[0])
    (authority,) = (
        h.raw_value.decode() for h in first.request_headers.headers.headers if h.key == ":authority"
    )
    response = protos.ProcessingRequest.FromString(messages[3])
    fields = response.attributes[EXT_PROC_FILTER_NAME].fields
    return authority, fields[ATTR_CLUSTER_NAME].string_value


def test_mesh_streams_come_from_both_sidecars_with_every_short_name() -> None:
    streams = mesh_streams(STREAMS)
    sent = {(_sent(s.messages), s.metadata) for s in streams}
    assert {(a, c) for (a, c), _m in sent} == {
        (authority, sidecar.cluster)
        for authority in MESH_AUTHORITIES
        for sidecar in (OUTBOUND, INBOUND)
    }
    assert OUTBOUND.cluster == f"outbound|8080||{MESH_FQDN}"
    assert INBOUND.cluster.startswith("inbound|")
    # As the rendered filter sends them: the namespace, no workload.
    for sidecar in (OUTBOUND, INBOUND):
        assert ("x-mockado-namespace", MESH_NAMESPACE) in sidecar.metadata
        assert META_WORKLOAD not in dict(sidecar.metadata)


def test_mesh_streams_are_recorded_under_the_services_fqdn() -> None:
    recorded = recorded_servicer(mesh_streams(STREAMS))
    exchanges = recorded.recorded
    assert len(exchanges) == STREAMS
    repeats = recorded.repeats
    for exchange in exchanges:
        assert exchange.namespace == MESH_NAMESPACE
        # The workload comes from the sidecar's node attributes.
        assert exchange.workload in ("web", "orders")
        key = repeats.key_of(exchange)
        # Under the FQDN, on the port called (orders:8080 is another port than orders).
        port = port_of(exchange.request.authority)
        fqdn = repeats.destination(f"{MESH_FQDN}:{port}" if port else MESH_FQDN, namespace="")
        assert fqdn.startswith(MESH_FQDN)
        assert key.local == _key_with_host(repeats, exchange, fqdn).local
        assert key.local != _key_with_host(repeats, exchange, "orders").local
    # Outbound: the authority became the cluster's FQDN (the port kept); inbound: the
    # short name, made canonical from the namespace.
    by_workload = {}
    for exchange in exchanges:
        by_workload.setdefault(exchange.workload, set()).add(exchange.request.authority)
    assert by_workload["web"] == {MESH_FQDN, f"{MESH_FQDN}:8080"}
    assert by_workload["orders"] == set(MESH_AUTHORITIES)


def test_bench_streams_keep_their_plain_host() -> None:
    recorded = recorded_servicer(bench_streams(4))
    for exchange in recorded.recorded:
        assert exchange.request.authority == "orders.bench"
        assert (exchange.namespace, exchange.workload) == ("local", "mockado-up")
        key = recorded.repeats.key_of(exchange)
        assert key.local == _key_with_host(recorded.repeats, exchange, "orders.bench").local


def test_every_recorded_stream_repeats() -> None:
    for streams in (mesh_streams(STREAMS), bench_streams(STREAMS)):
        recorded = recorded_servicer(streams)
        before = len(recorded.repeats)
        assert before == STREAMS
        for messages, metadata in streams:
            drive(recorded.servicer, messages, metadata)
        assert recorded.submitted == []
        assert recorded.repeats.drain_counts() == {"recorded": STREAMS}


def test_each_side_handles_its_streams_and_the_costs_name_every_key() -> None:
    for name in SIDES:
        servicer, streams, check = side(name)
        assert len(streams) > 0
        for messages, metadata in streams[:3]:
            drive(servicer, messages, metadata)
        assert check()
    costs = stream_costs(rounds=1)
    assert set(costs) == {
        f"ext_proc.{key}"
        for key in (
            "stream_repeat_us",
            "stream_floor_us",
            "stream_repeat_ratio_to_floor",
            "stream_repeat_mesh_us",
            "stream_floor_mesh_us",
            "stream_repeat_mesh_ratio_to_floor",
        )
    }
    assert all(value > 0 for value in costs.values())
