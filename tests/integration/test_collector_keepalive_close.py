"""A collector connection that stops answering, through a real Envoy: closed by the HTTP/2
keepalive ping's timeout (a stopped collector's kernel still acknowledges TCP, so TCP alone
would keep it open), in the mesh as in the standalone bootstrap, and that one close does
not eject the collector.

In the mesh, Envoy runs what `mockado render --check` builds from the capture EnvoyFilter: its
HTTP filter before a router, and the collector cluster as Istio writes it (outbound|PORT||HOST,
HTTP/2 with the DestinationRule's stream limit) with the EnvoyFilter's CLUSTER patch merged as
Istio merges it, run by the sidecars' Envoy 1.37 and by the bundled 1.40. The ping interval
is forced to 1 s (a ping then lands early in the stop); the timeout is the rendered one.

The stop is the fault itself (SIGSTOP); everything else waits on Envoy's counters.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable

import httpx
import pytest
import yaml

from control_plane import validate
from control_plane.local.procs import find_envoy
from control_plane.render import LOCAL_COLLECTOR_CLUSTER
from control_plane.render.istio import capture_targets, render_envoyfilter_capture
from ext_proc_server.core.config import MockadoConfig
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config, wait_until
from tests.support.paths import sidecar_envoy

pytestmark = pytest.mark.integration

HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
FORCED_PING_INTERVAL_S = 1.0
# Held 1 s, the rendered keepalive timeout is 5 s: a close comes within about 6.2 s of the stop.
HOLD_S = 1.0
CLOSE_WITHIN_S = 30.0
# Requests per second during the stop, over one downstream connection (so one collector
# connection): each holds a stream HOLD_S, about 10 on the connection when it is closed, more
# than the 3 failures that used to eject the collector and fewer than a connection carries.
RATE_PER_S = 10


def _http2(cluster: dict) -> dict:
    return cluster["typed_extension_protocol_options"][HTTP_OPTIONS]["explicit_http_config"][
        "http2_protocol_options"
    ]


def _forced_ping(cluster: dict) -> None:
    keepalive = _http2(cluster).get("connection_keepalive")
    assert keepalive, f"no HTTP/2 keepalive on the collector cluster: {_http2(cluster)}"
    keepalive["interval"] = f"{FORCED_PING_INTERVAL_S}s"


def _stats(admin_url: str, cluster: str) -> dict[str, int]:
    text = httpx.get(
        f"{admin_url}/stats", params={"filter": f"^cluster\\.{re.escape(cluster)}\\."}, timeout=5
    ).text
    prefix = f"cluster.{cluster}."
    return {
        name.removeprefix(prefix): int(value)
        for name, value in (line.rsplit(": ", 1) for line in text.splitlines() if ": " in line)
        if value.isdigit()
    }


class _Traffic:
    """Requests at RATE_PER_S on one connection until stopped."""

    def __init__(self, url: str):
        self.url, self.stopped, self.answered = url, threading.Event(), 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client() as client:
            n = 0
            while not self.stopped.wait(1 / RATE_PER_S):
                n += 1
                self.answered += client.get(f"{self.url}/echo/keepalive-{n}").status_code == 200

    def __enter__(self) -> _Traffic:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(30)


def _stopped_until_closed(ext, admin_url: str, cluster: str) -> tuple[dict, dict]:
    """The cluster's counters before and after the collector is stopped until Envoy closes
    a connection to it by keepalive (resumed then)."""
    before = _stats(admin_url, cluster)
    ext.process.pause()
    try:
        wait_until(
            lambda: (
                _stats(admin_url, cluster).get("http2.keepalive_timeout", 0)
                > before.get("http2.keepalive_timeout", 0)
            ),
            timeout_s=CLOSE_WITHIN_S,
            what="a collector connection closed by keepalive",
            explain=lambda: str(_stats(admin_url, cluster)),
        )
        after = _stats(admin_url, cluster)
    finally:
        ext.process.resume()
    return before, after


def _moved(before: dict, after: dict, name: str) -> int:
    return after.get(name, 0) - before.get(name, 0)


def _mesh_config() -> MockadoConfig:
    return MockadoConfig.model_validate(
        {
            "control_plane": {
                "namespaces": {"shop": {"exclude_paths": []}},
                "collector": {"deferred_close_timeout_s": HOLD_S},
            }
        }
    )


def _sidecar(config: MockadoConfig, grpc_port: int) -> Callable[[int, int], str]:
    """The check bootstrap of the rendered capture EnvoyFilter, on real ports."""
    (target,) = capture_targets(config.control_plane)
    doc = yaml.safe_load(render_envoyfilter_capture(config.control_plane, target))
    text = validate.envoyfilter_check_bootstrap(doc, config=config, source="shop")

    def render(port: int, admin_port: int) -> str:
        bootstrap = yaml.safe_load(text)
        bootstrap["admin"]["address"]["socket_address"]["port_value"] = admin_port
        listener = bootstrap["static_resources"]["listeners"][0]
        listener["address"]["socket_address"]["port_value"] = port
        bootstrap["static_resources"]["listeners"] = [listener]
        (cluster,) = bootstrap["static_resources"]["clusters"]
        _forced_ping(cluster)
        (locality,) = cluster["load_assignment"]["endpoints"]
        (host,) = locality["lb_endpoints"]
        host["endpoint"]["address"]["socket_address"]["port_value"] = grpc_port
        return yaml.safe_dump(bootstrap, sort_keys=False)

    return render


# The sidecars' own Envoy (1.37) and the bundled one: the patch works on what the mesh runs.
@pytest.mark.parametrize("binary", [sidecar_envoy, find_envoy], ids=["sidecars", "bundled"])
def test_a_sidecars_collector_connection_that_stops_answering_is_closed_by_keepalive(
    redis_server, envoy_factory, ext_proc_factory, binary: Callable[[], str]
) -> None:
    settings = collector_settings(redis_server.url)
    ext = ext_proc_factory(settings)
    config = _mesh_config()
    envoy = envoy_factory(_sidecar(config, settings["grpc_port"]), envoy=binary())
    admin = f"http://127.0.0.1:{envoy.admin_port}"
    collector = config.control_plane.collector
    cluster = f"outbound|{collector.port}||{collector.host}"
    version = httpx.get(f"{admin}/server_info", timeout=5).json()["version"]
    assert f"/{validate.envoy_version(binary())}." in version, version

    # Envoy took the patched cluster as Istio would send it: the keepalive, and Istio's own
    # HTTP/2 options (the DestinationRule's stream limit) kept.
    dump = httpx.get(f"{admin}/config_dump", params={"resource": "static_clusters"}, timeout=5)
    (running,) = [c["cluster"] for c in dump.json()["configs"] if c["cluster"]["name"] == cluster]
    http2 = _http2(running)
    assert http2["connection_keepalive"] == {"interval": "1s", "timeout": "5s"}
    assert http2["max_concurrent_streams"] == 32

    with _Traffic(f"http://127.0.0.1:{envoy.port}") as traffic:
        wait_until(
            lambda: _stats(admin, cluster).get("upstream_cx_active", 0) >= 1, what="a connection"
        )
        before, after = _stopped_until_closed(ext, admin, cluster)
    # Closed by Envoy on the unanswered ping, not by the collector's side or TCP.
    assert _moved(before, after, "http2.keepalive_timeout") >= 1, after
    assert _moved(before, after, "upstream_cx_destroy_local") >= 1, after
    assert _moved(before, after, "upstream_cx_destroy_remote") == 0, after
    assert traffic.answered > 0  # capture never touched the traffic


def test_one_keepalive_close_does_not_eject_the_collector(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    settings = collector_settings(redis_server.url)
    ext = ext_proc_factory(settings)
    config = make_config(
        settings, control_plane={"collector": {"deferred_close_timeout_s": HOLD_S}}
    )

    def start(render: Callable[[int, int], str]):
        def pinging(port: int, admin_port: int) -> str:
            bootstrap = yaml.safe_load(render(port, admin_port))
            clusters = bootstrap["static_resources"]["clusters"]
            _forced_ping(next(c for c in clusters if c["name"] == LOCAL_COLLECTOR_CLUSTER))
            return yaml.safe_dump(bootstrap, sort_keys=False)

        return envoy_factory(pinging)

    envoy = envoy_for(
        start, config, upstream_port=upstream.port, ext_proc_port=settings["grpc_port"],
        capture_mode="observability",
    )  # fmt: skip
    admin = f"http://127.0.0.1:{envoy.admin_port}"
    with _Traffic(f"http://127.0.0.1:{envoy.port}") as traffic:
        wait_until(
            lambda: _stats(admin, LOCAL_COLLECTOR_CLUSTER).get("upstream_cx_active", 0) >= 1,
            what="a connection",
        )
        before, after = _stopped_until_closed(ext, admin, LOCAL_COLLECTOR_CLUSTER)
        time.sleep(0.5)  # traffic after the close: an ejection would refuse its captures
        settled = _stats(admin, LOCAL_COLLECTOR_CLUSTER)
    # The close failed the streams on its connection or waiting for it (Envoy answered
    # each itself, 503), each a local-origin failure: more than the three that used to
    # eject the collector ...
    assert _moved(before, after, "http2.keepalive_timeout") >= 1, after
    assert _moved(before, after, "upstream_cx_destroy_local_with_active_rq") >= 1, after
    assert _moved(before, after, "upstream_rq_5xx") >= 3, after
    # ... and none ejected it.
    assert _moved(before, settled, "outlier_detection.ejections_enforced_total") == 0, settled
    assert _moved(before, settled, "upstream_cx_none_healthy") == 0, settled
    assert traffic.answered > 0
