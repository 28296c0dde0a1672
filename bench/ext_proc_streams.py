"""Per-stream CPU of the ext_proc servicer against the floor's, in-process, side by side.

No sockets, no Envoy: each servicer's ``Process`` is driven with a stand-in context that
replays one stream's messages as Envoy 1.40 sends them in observability mode (serialized,
and parsed back as grpc.aio's deserializer does), so both pay the same parsing and
the difference is each servicer's own Python per stream. mockado's streams repeat
exchanges recorded first (the repeat fast path: no exchange is built, nothing is
submitted). Rounds alternate the sides; each figure is the lowest round.

Two sets of the same requests: the bench's Envoy's (cluster ``upstream``, authority
``orders.bench``, namespace and workload in the gRPC metadata), and the same as Istio
sidecars send them (:func:`mesh_streams`: outbound and inbound cluster names, short
authorities made canonical from the namespace, the workload from the node attributes,
and the headers the sidecars add that the capture filter sees: :func:`mesh_headers`).

``python -m bench.ext_proc_streams [ours|floor|ours_mesh|floor_mesh] [rounds]`` runs one
side only, for ``valgrind --tool=callgrind`` (instruction counts: run it with rounds 1 and
N and divide the difference by (N - 1) x STREAMS).
"""

from __future__ import annotations

import base64
import random
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from google.protobuf import struct_pb2

from bench.ext_proc_servers import FloorServicer, json_body
from ext_proc_server.capture import ExtProcServicer, protos
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.names import (
    ATTR_CLUSTER_NAME,
    ATTR_NAMESPACE,
    ATTR_WORKLOAD,
    META_BODY_LIMIT,
    META_NAMESPACE,
    META_WORKLOAD,
)
from ext_proc_server.mapping.repeats import RepeatIndex

STREAMS = 300
ROUNDS = 5
Metadata = tuple[tuple[str, str], ...]
# The gRPC metadata the bench's Envoy sends with every stream.
METADATA: Metadata = (
    ("x-forwarded-for", "192.0.2.2"),
    (META_NAMESPACE, "local"),
    (META_WORKLOAD, "mockado-up"),
    ("x-envoy-internal", "true"),
)
# The bench's Envoy's node and addresses (request attributes), and its upstream cluster.
BENCH_NODE = {
    ATTR_WORKLOAD: "mockado-up", ATTR_NAMESPACE: "local", "xds.node.id": "mockado-local",
    "source.address": "127.0.0.1:42966", "destination.address": "127.0.0.1:44397"}  # fmt: skip
BENCH_CLUSTER = "upstream"

# -- the mesh: web calls orders, both in namespace shop ------------------------------------

MESH_NAMESPACE = "shop"
MESH_FQDN = f"orders.{MESH_NAMESPACE}.svc.cluster.local"
# The names a caller in the namespace gives the Service (each made canonical: MESH_FQDN).
MESH_AUTHORITIES = ("orders", "orders:8080", f"orders.{MESH_NAMESPACE}")
Pairs = tuple[tuple[str, str], ...]


class Pod(NamedTuple):
    """A meshed pod: its workload, its name and IP, and its service account."""

    workload: str
    name: str
    ip: str
    service_account: str

    @property
    def spiffe_id(self) -> str:
        return f"spiffe://cluster.local/ns/{MESH_NAMESPACE}/sa/{self.service_account}"

    @property
    def peer_id(self) -> str:
        """``x-envoy-peer-metadata-id``: the sidecar's node id."""
        return f"sidecar~{self.ip}~{self.name}.{MESH_NAMESPACE}~{MESH_NAMESPACE}.svc.cluster.local"


WEB = Pod("web", "web-6d5f8c7b9-x2x7q", "10.244.1.17", "web")
ORDERS = Pod("orders", "orders-5c8d7f6b4-k2p9z", "10.244.2.9", "orders")


def peer_metadata(pod: Pod) -> str:
    """``x-envoy-peer-metadata``: base64 of the serialized ``google.protobuf.Struct`` an
    Istio sidecar (1.22 on, the ``istio.peer_metadata`` filter) sends: the pod, its
    namespace, workload, cluster, canonical labels, owner and locality."""
    metadata = struct_pb2.Struct()
    metadata.update({
        "NAME": pod.name, "NAMESPACE": MESH_NAMESPACE, "WORKLOAD_NAME": pod.workload,
        "CLUSTER_ID": "Kubernetes",
        "LABELS": {"service.istio.io/canonical-name": pod.workload,
                   "service.istio.io/canonical-revision": "v1",
                   "app": pod.workload, "version": "v1"},
        "OWNER": f"kubernetes://apis/apps/v1/namespaces/{MESH_NAMESPACE}/deployments/{pod.workload}",
        "REGION": "europe-west1", "ZONE": "europe-west1-b"})  # fmt: skip
    return base64.b64encode(metadata.SerializeToString(deterministic=True)).decode()


class Trace(NamedTuple):
    """One request's trace context and request id, in their real formats (uuid4, B3 and
    W3C ids: random hex)."""

    request_id: str
    trace_id: str
    span_id: str
    parent_span_id: str

    @classmethod
    def of(cls, n: int) -> Trace:
        rng = random.Random(n)
        request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return cls(request_id, *(f"{rng.getrandbits(b):0{b // 4}x}" for b in (128, 64, 64)))


def mesh_headers(direction: str, trace: Trace) -> tuple[Pairs, Pairs]:
    """-> (request, response) headers Istio adds that the capture filter sees, where the
    rendered EnvoyFilter puts it: just before the router, so after ``istio.metadata_exchange``
    (first in both chains) on requests and before it on responses.

    Outbound (web's sidecar): the exchange filter has just added web's own peer metadata
    to the request; the response still carries the one orders' sidecar added (the filter
    reads and removes it after the capture filter). The app propagates the trace context
    it received; the router adds the attempt count only after the capture filter.

    Inbound (orders' sidecar): the exchange filter has already removed web's peer
    metadata from the request, and adds orders' to the response only after the capture
    filter; the connection manager has set the client certificate (mTLS); the B3 ids,
    attempt count and decorator are those web's router sent.
    """
    # The app's own context, as it propagates it (the sidecars' tracer writes B3 only).
    w3c = ("traceparent", f"00-{trace.trace_id}-{trace.parent_span_id}-01")
    baggage = ("baggage", "tenant=acme,channel=web")
    if direction == "outbound":
        request = (
            ("x-envoy-peer-metadata", peer_metadata(WEB)),
            ("x-envoy-peer-metadata-id", WEB.peer_id),
            ("x-b3-traceid", trace.trace_id), ("x-b3-spanid", trace.parent_span_id),
            ("x-b3-sampled", "1"), w3c, baggage,
        )  # fmt: skip
        response = (
            ("server", "istio-envoy"),
            ("x-envoy-peer-metadata", peer_metadata(ORDERS)),
            ("x-envoy-peer-metadata-id", ORDERS.peer_id),
        )
        return request, response
    xfcc = f'By={ORDERS.spiffe_id};Hash={_cert_hash(WEB)};Subject="";URI={WEB.spiffe_id}'
    request = (
        ("x-forwarded-client-cert", xfcc),
        ("x-b3-traceid", trace.trace_id), ("x-b3-spanid", trace.span_id),
        ("x-b3-parentspanid", trace.parent_span_id), ("x-b3-sampled", "1"), w3c, baggage,
        ("x-envoy-attempt-count", "1"),
        ("x-envoy-decorator-operation", f"{MESH_FQDN}:8080/*"),
    )  # fmt: skip
    return request, ()


def _cert_hash(pod: Pod) -> str:
    """The SHA-256 of the pod's client certificate, as XFCC's ``Hash`` (64 hex)."""
    return f"{random.Random(pod.name).getrandbits(256):064x}"


class Sidecar(NamedTuple):
    """An Istio sidecar that captures: the gRPC metadata its stream carries (the rendered
    EnvoyFilter's ``initial_metadata``, no workload: a namespace's filter serves all its
    workloads, and what Envoy adds), its node as request attributes, the cluster its
    route picks (a response attribute), and its direction (which headers it sees)."""

    metadata: Metadata
    node: dict[str, str]
    cluster: str
    direction: str


def _sidecar(pod: Pod, *, direction: str, cluster: str) -> Sidecar:
    metadata = (
        ("x-forwarded-for", pod.ip),
        (META_NAMESPACE, MESH_NAMESPACE),
        (META_BODY_LIMIT, "8192"),
        ("x-mockado-direction", direction),
        ("x-envoy-internal", "true"),
    )
    node = {
        ATTR_WORKLOAD: pod.workload, ATTR_NAMESPACE: MESH_NAMESPACE, "xds.node.id": pod.peer_id,
        "source.address": f"{WEB.ip}:41562",
        "destination.address": "10.96.14.2:8080" if direction == "outbound" else f"{pod.ip}:8080",
    }  # fmt: skip
    return Sidecar(metadata, node, cluster, direction)


# The caller's sidecar (outbound: the cluster names the destination's FQDN) and the
# callee's (inbound: the cluster names only the port).
OUTBOUND = _sidecar(WEB, direction="outbound", cluster=f"outbound|8080||{MESH_FQDN}")
INBOUND = _sidecar(ORDERS, direction="inbound", cluster="inbound|8080||")


class Stream(NamedTuple):
    """One stream's serialized messages and its gRPC metadata."""

    messages: list[bytes]
    metadata: Metadata


def envoy_stream(
    n: int,
    *,
    authority: str = "orders.bench",
    node: dict[str, str] | None = None,
    cluster: str = BENCH_CLUSTER,
    request_id: str = "",
    request_headers: Pairs = (),
    response_headers: Pairs = (),
) -> list[bytes]:
    """The serialized messages of the bench's exchange ``n`` as Envoy sends them (taken
    from the bench's Envoy): attributes, eight request headers, each body in one chunk at
    its Content-Length followed by an empty end-of-stream chunk. ``authority``, ``node``
    (request attributes), ``cluster``, ``request_id`` and headers added to the request's
    and the response's: as another Envoy sends them."""

    def headers(pairs: list[tuple[str, str]], end: bool = False) -> protos.HttpHeaders:
        values = [protos.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
        return protos.HttpHeaders(headers=protos.HeaderMap(headers=values), end_of_stream=end)

    def attributes(fields: dict[str, str]) -> dict[str, Any]:
        return {"envoy.filters.http.ext_proc": {"fields": {
            k: {"string_value": v} for k, v in fields.items()}}}  # fmt: skip

    request_id = request_id or f"ac033846-388c-4bf6-805f-{n:012d}"
    request, response = json_body(n), json_body(0)
    req = [(":authority", authority), (":path", f"/api/rec/order{n}?page={n}"),
           (":method", "POST"), (":scheme", "http"), ("content-type", "application/json"),
           ("content-length", str(len(request))), ("x-forwarded-proto", "http"),
           ("x-request-id", request_id), *request_headers]  # fmt: skip
    resp = [(":status", "200"), ("content-type", "application/json"),
            ("content-length", str(len(response))), ("x-envoy-upstream-service-time", "1"),
            *response_headers]  # fmt: skip
    request_attributes = {**(BENCH_NODE if node is None else node), "request.id": request_id}
    Request = protos.ProcessingRequest
    messages = [
        Request(request_headers=headers(req), attributes=attributes(request_attributes)),
        Request(request_body=protos.HttpBody(body=request)),
        Request(request_body=protos.HttpBody(end_of_stream=True)),
        Request(
            response_headers=headers(resp), attributes=attributes({ATTR_CLUSTER_NAME: cluster})
        ),
        Request(response_body=protos.HttpBody(body=response)),
        Request(response_body=protos.HttpBody(end_of_stream=True)),
    ]
    for message in messages:
        message.observability_mode = True
    return [message.SerializeToString() for message in messages]


def bench_streams(count: int = STREAMS) -> list[Stream]:
    """The bench's streams: its Envoy's cluster, authority and metadata."""
    return [Stream(envoy_stream(n), METADATA) for n in range(count)]


def mesh_streams(count: int = STREAMS, *, sidecar_headers: bool = True) -> list[Stream]:
    """The same requests in an Istio mesh: even ones as the caller's sidecar sends them
    (:data:`OUTBOUND`), odd ones as the callee's (:data:`INBOUND`), each to one of the
    Service's short names in turn (:data:`MESH_AUTHORITIES`, every pairing in six), with
    the headers the sidecar adds (:func:`mesh_headers`; ``sidecar_headers`` False: none,
    to see what they cost)."""
    streams = []
    for n in range(count):
        sidecar = OUTBOUND if n % 2 == 0 else INBOUND
        authority = MESH_AUTHORITIES[n % len(MESH_AUTHORITIES)]
        trace = Trace.of(n)
        request, response = mesh_headers(sidecar.direction, trace) if sidecar_headers else ((), ())
        messages = envoy_stream(
            n, authority=authority, node=sidecar.node, cluster=sidecar.cluster,
            request_id=trace.request_id, request_headers=request, response_headers=response,
        )  # fmt: skip
        streams.append(Stream(messages, sidecar.metadata))
    return streams


class ReplayContext:
    """A ``grpc.aio.ServicerContext`` stand-in: ``read()`` parses the next serialized
    message (as grpc.aio's deserializer does), then EOF."""

    __slots__ = ("_messages", "_metadata", "_next")

    def __init__(self, messages: list[bytes], metadata: tuple[tuple[str, str], ...]) -> None:
        self._messages = messages
        self._metadata = metadata
        self._next = 0

    async def read(self) -> Any:
        if self._next == len(self._messages):
            import grpc

            return grpc.aio.EOF
        self._next += 1
        return protos.ProcessingRequest.FromString(self._messages[self._next - 1])

    async def write(self, message: Any) -> None:
        raise AssertionError("observability mode: nothing is written")

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


def drive(servicer: Any, messages: list[bytes], metadata: Metadata = METADATA) -> None:
    """Run one ``Process`` call to its end; it never suspends on a replayed stream."""
    call = servicer.Process(None, ReplayContext(messages, metadata))
    try:
        call.send(None)
    except StopIteration:
        return
    raise RuntimeError("a replayed stream suspended")


class Recorded(NamedTuple):
    """mockado's servicer after every stream of a set went through it once and was
    recorded: ``recorded`` holds those exchanges; ``submitted`` what it submits since
    (nothing, while every stream repeats)."""

    servicer: ExtProcServicer
    repeats: RepeatIndex
    recorded: list[Exchange]
    submitted: list[Exchange]


def recorded_servicer(streams: list[Stream], config: CollectorConfig | None = None) -> Recorded:
    config = config or CollectorConfig()
    repeats = RepeatIndex(config)
    submitted: list[Exchange] = []

    def submit(exchange: Exchange) -> bool:
        submitted.append(exchange)
        return True

    ours = ExtProcServicer(config=config, submit=submit, repeats=repeats)
    for messages, metadata in streams:
        drive(ours, messages, metadata)
    for exchange in submitted:
        repeats.remember(repeats.key_of(exchange), "recorded")
    recorded = list(submitted)
    submitted.clear()
    return Recorded(ours, repeats, recorded, submitted)


# Each side: mockado (its streams recorded first, so they repeat) or the floor, on the
# bench's streams or the mesh's.
SIDES = ("ours", "floor", "ours_mesh", "floor_mesh")


def side(name: str) -> tuple[Any, list[Stream], Callable[[], bool]]:
    """-> the side's servicer, its streams, and a check that it handled them as meant."""
    streams = mesh_streams() if name.endswith("_mesh") else bench_streams()
    if name.startswith("floor"):
        return FloorServicer(deque(maxlen=10_000), [0]), streams, lambda: True
    recorded = recorded_servicer(streams)
    return recorded.servicer, streams, lambda: not recorded.submitted


def cpu_us_per_stream(servicer: Any, streams: list[Stream]) -> float:
    started = time.process_time()
    for messages, metadata in streams:
        drive(servicer, messages, metadata)
    return (time.process_time() - started) / len(streams) * 1e6


def stream_costs(rounds: int = ROUNDS) -> dict[str, float]:
    """-> ``ext_proc.stream_repeat_us`` (mockado, a repeat), ``ext_proc.stream_floor_us``
    (the floor, the same messages) and their ratio; the same on the mesh's streams
    (``ext_proc.stream_repeat_mesh_us``, ``stream_floor_mesh_us``,
    ``stream_repeat_mesh_ratio_to_floor``)."""
    sides = {name: side(name) for name in SIDES}
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, (servicer, streams, _check) in sides.items():
            cost = cpu_us_per_stream(servicer, streams)
            best[name] = min(best.get(name, cost), cost)
    for name, (_servicer, _streams, check) in sides.items():
        if not check():
            raise RuntimeError(f"bench: {name} did not handle the streams as repeats")
    return {
        "ext_proc.stream_repeat_us": round(best["ours"], 1),
        "ext_proc.stream_floor_us": round(best["floor"], 1),
        "ext_proc.stream_repeat_ratio_to_floor": round(best["ours"] / best["floor"], 2),
        "ext_proc.stream_repeat_mesh_us": round(best["ours_mesh"], 1),
        "ext_proc.stream_floor_mesh_us": round(best["floor_mesh"], 1),
        "ext_proc.stream_repeat_mesh_ratio_to_floor": round(
            best["ours_mesh"] / best["floor_mesh"], 2
        ),
    }


def _one_side(name: str, rounds: int) -> None:
    servicer, streams, check = side(name)
    for _ in range(rounds):
        cpu_us_per_stream(servicer, streams)
    assert check()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _one_side(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS)
    else:
        print(stream_costs())
