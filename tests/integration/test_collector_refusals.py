"""``refused_captures`` against a real Envoy, in the local bootstrap the capture tests run and
in the sidecar bootstrap: a hung collector holds each capture stream open, so past
``control_plane.collector.max_requests`` Envoy refuses the rest and the helper counts them;
under the limit it counts none."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from control_plane.render import LOCAL_COLLECTOR_CLUSTER
from control_plane.render.clusters import istio_cluster_name
from ext_proc_server.core.config import MockadoConfig
from tests.support.collector_streams import refused_captures
from tests.support.ext_proc_rig import envoy_for, make_config
from tests.support.sidecar_stats import OUTBOUND_PREFIX, hung_collector, istio_sidecar_bootstrap

pytestmark = pytest.mark.integration

REQUESTS = 20


def _send(url: str) -> None:
    # Capture fails open: every request is answered whatever the collector does.
    with httpx.Client(timeout=10) as client:
        for _ in range(REQUESTS):
            resp = client.get(f"{url}/healthz", headers={"x-request-id": str(uuid.uuid4())})
            assert resp.status_code == 200


def _streams_started(admin_url: str) -> int:
    text = httpx.get(f"{admin_url}/stats", params={"filter": r"\.streams_started$"}).text
    return sum(int(n) for n in re.findall(r"\.ext_proc\.[^:]+\.streams_started: (\d+)", text))


def _envoy(bootstrap: str, config: MockadoConfig, envoy_factory, upstream, collector_port: int):
    if bootstrap == "local":
        return envoy_for(
            envoy_factory, config, upstream_port=upstream.port, ext_proc_port=collector_port
        )
    return envoy_factory(istio_sidecar_bootstrap(
        config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port,
        collector_port=collector_port,
    ))  # fmt: skip


@pytest.mark.parametrize("bootstrap", ["local", "sidecar"])
@pytest.mark.parametrize("max_requests", [2, REQUESTS])
def test_refused_captures_counts_the_streams_past_max_requests(
    bootstrap, max_requests, envoy_factory, upstream
):
    config = make_config(
        {}, control_plane={"namespaces": {"shop": {}}, "collector": {"max_requests": max_requests}}
    )
    cluster = LOCAL_COLLECTOR_CLUSTER if bootstrap == "local" else istio_cluster_name(
        config.control_plane.collector
    )  # fmt: skip
    with hung_collector() as port:
        envoy = _envoy(bootstrap, config, envoy_factory, upstream, port)
        assert refused_captures(envoy.admin_url, cluster) == 0
        # Each stream stays open for the deferred close (1 s) after its response: past
        # max_requests the next requests find every slot taken.
        _send(envoy.url)
        refused = refused_captures(envoy.admin_url, cluster)
        started = _streams_started(envoy.admin_url)
        envoy.process.stop(timeout_s=15)
    # Each request either got a stream or was refused one.
    assert started + refused == REQUESTS
    if max_requests < REQUESTS:
        assert refused >= REQUESTS / 2
    else:
        assert refused == 0
