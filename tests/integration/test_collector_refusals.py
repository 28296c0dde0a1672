"""``refused_captures`` against a real Envoy, in the local bootstrap the capture tests run and
in the sidecar bootstrap. A hung collector holds each capture stream open, so past
``control_plane.collector.max_requests`` Envoy refuses the rest and the helper counts them;
under the limit it counts none. Envoy 1.40 counts the two ways a stream is refused in
different counters: one past max_requests on a connection that is up in
``upstream_rq_active_overflow``, one that finds the queue waiting for the first connection
full in ``upstream_rq_pending_overflow``: requests one by one, and a burst at start. The
sidecar bootstrap runs on the sidecars' Envoy 1.37 too, which counts both in
``upstream_rq_pending_overflow`` and has no ``upstream_rq_active_overflow``."""

from __future__ import annotations

import re
import socket
import uuid

import h2.config
import h2.connection
import h2.events
import httpx
import pytest

from control_plane.local.procs import find_envoy
from control_plane.render import LOCAL_COLLECTOR_CLUSTER
from control_plane.render.clusters import istio_cluster_name
from ext_proc_server.core.config import MockadoConfig
from tests.support.collector_streams import refused_captures
from tests.support.ext_proc_rig import envoy_for, make_config
from tests.support.paths import sidecar_envoy
from tests.support.sidecar_stats import (
    OUTBOUND_PREFIX,
    hung_collector,
    istio_sidecar_bootstrap,
    start_envoy,
)

pytestmark = pytest.mark.integration

REQUESTS = 20


def _one_by_one(port: int) -> None:
    # Capture fails open: every request is answered whatever the collector does.
    with httpx.Client(timeout=10) as client:
        for _ in range(REQUESTS):
            headers = {"x-request-id": str(uuid.uuid4())}
            resp = client.get(f"http://127.0.0.1:{port}/healthz", headers=headers)
            assert resp.status_code == 200


def _burst(port: int) -> None:
    """Every request on one HTTP/2 connection in one write: Envoy reads them all before its
    first connection to the collector is up."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    streams = [1 + 2 * n for n in range(REQUESTS)]
    for stream_id in streams:
        conn.send_headers(stream_id, [
            (":method", "GET"), (":path", "/healthz"), (":authority", "shop.test"),
            (":scheme", "http"), ("x-request-id", str(uuid.uuid4())),
        ], end_stream=True)  # fmt: skip
    statuses: dict[int, int] = {}
    ended: set[int] = set()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(conn.data_to_send())
        while ended != set(streams):
            data = sock.recv(65536)
            assert data, f"connection closed after {sorted(ended)}"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    statuses[event.stream_id] = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                    ended.add(event.stream_id)
            sock.sendall(conn.data_to_send())
    assert statuses == dict.fromkeys(streams, 200)


def _streams_started(admin_url: str) -> int:
    text = httpx.get(f"{admin_url}/stats", params={"filter": r"\.streams_started$"}).text
    return sum(int(n) for n in re.findall(r"\.ext_proc\.[^:]+\.streams_started: (\d+)", text))


def _envoy(
    bootstrap: str, binary, config: MockadoConfig, envoy_factory, upstream, collector_port: int
):
    if bootstrap == "local":
        # HTTP/1.1 to the demo app whatever the client speaks.
        return envoy_for(
            envoy_factory, config, upstream_port=upstream.port, ext_proc_port=collector_port,
            upstream_http2=False,
        )  # fmt: skip
    return start_envoy(envoy_factory, istio_sidecar_bootstrap(
        config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port,
        collector_port=collector_port,
    ), binary)  # fmt: skip


# The sidecar bootstrap speaks the client's protocol to the app, and the demo app has no
# HTTP/2: the burst goes through the local bootstrap only. The local bootstrap is the bundled
# Envoy's; the sidecar's runs on the sidecars' own Envoy (1.37) and on the bundled one.
@pytest.mark.parametrize(
    ("send", "bootstrap", "binary"),
    [
        (_one_by_one, "local", find_envoy),
        (_one_by_one, "sidecar", sidecar_envoy),
        (_one_by_one, "sidecar", find_envoy),
        (_burst, "local", find_envoy),
    ],
    ids=["one_by_one-local", "one_by_one-sidecar-sidecars", "one_by_one-sidecar-bundled",
         "burst-local"],
)  # fmt: skip
@pytest.mark.parametrize("max_requests", [2, REQUESTS])
def test_refused_captures_counts_the_streams_past_max_requests(
    send, bootstrap, binary, max_requests, envoy_factory, upstream
):
    config = make_config(
        {}, control_plane={"namespaces": {"shop": {}}, "collector": {"max_requests": max_requests}}
    )
    cluster = LOCAL_COLLECTOR_CLUSTER if bootstrap == "local" else istio_cluster_name(
        config.control_plane.collector
    )  # fmt: skip
    with hung_collector() as port:
        envoy = _envoy(bootstrap, binary, config, envoy_factory, upstream, port)
        assert refused_captures(envoy.admin_url, cluster) == 0
        # Each stream stays open for the deferred close (1 s) after its response: past
        # max_requests the next requests find every slot taken.
        send(envoy.port)
        refused = refused_captures(envoy.admin_url, cluster)
        started = _streams_started(envoy.admin_url)
        envoy.process.stop(timeout_s=15)
    # Each request either got a stream or was refused one.
    assert started + refused == REQUESTS
    if max_requests < REQUESTS:
        assert refused >= REQUESTS / 2
    else:
        assert refused == 0
