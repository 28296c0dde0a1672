"""The fixtures start each child on ports picked free that it binds later: when another
process takes one in between, the child is started again on fresh ports, and the handle
names the ports it listens on."""

from __future__ import annotations

import socket

import httpx
import redis

from control_plane.render import LocalEnvoy, UpstreamService, render_local_envoy
from ext_proc_server.core.config import load_config
from tests.support import chaos_envoys, chaos_rig, processes
from tests.support.ext_proc_rig import collector_settings
from tests.support.tls_ca import make_ca
from tests.support.tls_servers import start_https_wiremock, start_tls_redis, trusting


def test_a_redis_whose_port_was_taken_starts_on_another(redis_factory, squatter):
    handle = redis_factory()
    assert squatter.ports and handle.port not in squatter.ports
    assert handle.process.alive
    with redis.Redis.from_url(handle.url) as client:
        assert client.ping() is True


def test_a_wiremock_whose_port_was_taken_starts_on_another(wiremock_factory, squatter):
    handle = wiremock_factory()
    assert squatter.ports and handle.port not in squatter.ports
    resp = httpx.get(f"{handle.url}/__admin/health", timeout=10)
    assert resp.status_code == 200


def test_an_envoy_whose_listener_port_was_taken_starts_on_others(envoy_factory, upstream, squatter):
    config = load_config(None, env={})

    def render(port: int, admin_port: int) -> str:
        envoy = LocalEnvoy(
            listen_port=port,
            admin_port=admin_port,
            upstream=UpstreamService(host="127.0.0.1", port=upstream.port, http2=False),
            collector_port=squatter.promise(),  # no collector there: nothing is sampled
            sample_percent=0,
        )
        return render_local_envoy(config, envoy)

    handle = envoy_factory(render)
    assert squatter.ports and {handle.port, handle.admin_port}.isdisjoint(squatter.ports)
    resp = httpx.get(f"{handle.url}/healthz", timeout=10)
    assert resp.status_code == 200


def test_an_ext_proc_whose_grpc_port_was_taken_starts_on_others(ext_proc_factory, redis_server):
    collector = collector_settings(redis_server.url)
    taken = collector["grpc_port"]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        ext = ext_proc_factory(collector)
    assert ext.grpc_port != taken
    assert (collector["grpc_port"], collector["http_port"]) == (ext.grpc_port, ext.http_port)
    assert "cannot listen on" in ext.process.log_text()  # the first attempt's own failure
    with socket.create_connection(("127.0.0.1", ext.grpc_port), timeout=5):
        pass  # its gRPC port listens
    resp = httpx.get(f"http://127.0.0.1:{ext.http_port}/healthz", timeout=10)
    assert resp.status_code == 200


def test_a_stack_whose_proxy_and_wiremock_ports_were_taken_starts_on_others(
    stack_factory, squatter
):
    squatter.count = 2  # the proxy's and WireMock's, promised in that order
    stack = stack_factory()
    assert len(squatter.ports) == 2
    assert {stack.proxy_url, stack.wiremock_url}.isdisjoint(
        f"http://127.0.0.1:{port}" for port in squatter.ports
    )
    assert stack.summary_url("send traffic to")[0] == stack.proxy_url
    assert stack.summary_url("mocks served at") == [stack.wiremock_url]
    resp = httpx.get(f"{stack.proxy_url}/api/users", timeout=10)
    assert resp.status_code == 200
    assert httpx.get(f"{stack.wiremock_url}/__admin/health", timeout=10).status_code == 200
    assert stack.stop() == 0


def test_a_chaos_rig_whose_ports_were_taken_starts_on_others(squatter, monkeypatch, tmp_path):
    monkeypatch.setattr(chaos_rig, "promised_port", squatter.promise)
    squatter.count = 6  # Redis, WireMock, upstream, the collector's two, the loader's
    with chaos_rig.ChaosRig(tmp_path, loaders=1) as rig:
        assert len(squatter.ports) == 6
        listening = [rig.redis_port, rig.wiremock_port, rig.upstream_port, rig.grpc_port,
                     rig.collector_http_port, *rig.loader_http_ports]  # fmt: skip
        assert set(listening).isdisjoint(squatter.ports)
        # The config the collector and the loader read names where Redis and WireMock moved:
        # an exchange through the capturing Envoy becomes a stub.
        resp = httpx.get(f"http://127.0.0.1:{rig.envoy_ports['on']}/chaos/ports?q=ports.1z",
                         headers={"host": chaos_rig.HOST}, timeout=10)  # fmt: skip
        assert resp.content == chaos_rig.UPSTREAM_BODY
        stubs = processes.wait_for_value(rig.wiremock_stubs, timeout_s=30, what="the stub")
        assert [stub["request"]["urlPath"] for stub in stubs] == ["/chaos/ports"]


def test_a_tls_redis_whose_port_was_taken_starts_on_another(
    squatter, tmp_path, logs_dir, process_registry
):
    ca = make_ca(tmp_path / "ca")
    handle = start_tls_redis(ca, data_dir=tmp_path / "data", log_path=logs_dir / "tls-redis-moved.log",
                             started=process_registry.add)  # fmt: skip
    assert squatter.ports and handle.port not in squatter.ports
    url = f"rediss://127.0.0.1:{handle.port}/0"
    with redis.Redis.from_url(url, ssl_ca_certs=str(ca.ca_file)) as client:
        assert client.ping() is True


def test_an_https_wiremock_whose_https_port_was_taken_starts_on_others(
    squatter, tmp_path, logs_dir, process_registry
):
    squatter.skip = 1  # the http port, promised first, is left free: the https one is taken
    ca = make_ca(tmp_path / "ca")
    wm, https_url = start_https_wiremock(ca, root_dir=tmp_path / "root",
                                         log_path=logs_dir / "https-wiremock-moved.log",
                                         started=process_registry.add)  # fmt: skip
    assert len(squatter.ports) == 1
    assert https_url != f"https://127.0.0.1:{squatter.ports[0]}"
    resp = httpx.get(f"{https_url}/__admin/health", verify=trusting(ca), timeout=10)
    assert resp.status_code == 200
    assert httpx.get(f"{wm.url}/__admin/health", timeout=10).status_code == 200


def test_the_chaos_rigs_envoys_whose_ports_were_taken_start_on_others(
    squatter, upstream, tmp_path, logs_dir, process_registry
):
    squatter.count = 2  # the "on" Envoy's listener and admin ports
    pair = chaos_envoys.start_capture_pair(
        tmp_path, {"redis_url": "redis://127.0.0.1:1/0"}, upstream_port=upstream.port,
        grpc_port=processes.promised_port(),  # no collector there: capture fails open
        timing_logs={name: tmp_path / f"{name}-timing.log" for name in chaos_envoys.CAPTURE_PAIR},
        log_path=lambda name: logs_dir / f"chaos-{name}-{tmp_path.name}.log",
        started=process_registry.add, file_flush_interval_s=0.2,
    )  # fmt: skip
    assert len(squatter.ports) == 2
    listening = [port for envoy in pair.values() for port in (envoy.port, envoy.admin_port)]
    assert set(listening).isdisjoint(squatter.ports)
    for envoy in pair.values():
        assert httpx.get(f"http://127.0.0.1:{envoy.port}/healthz", timeout=10).status_code == 200
