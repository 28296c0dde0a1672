"""A second `mockado ext-proc` on a gRPC port a collector already listens on (a stray run,
a second pod's container on the host network) fails at start naming the port, and the
first keeps capturing every stream. Only the workers of one ``--workers N`` run share
their port (SO_REUSEPORT): a run of one worker does not set it, and a socket without it
cannot join a port the workers hold. Linux would let the workers of a second
``--workers N`` run of the same user join them: its parent claims the port first and
fails there."""

from __future__ import annotations

import httpx
import pytest

from control_plane.local import procs
from tests.support.ext_proc_rig import capture_lands, collector_settings, envoy_for, make_config
from tests.support.processes import promised_port, wait_for_value

pytestmark = pytest.mark.integration


def second_collector(mockado_bin, clean_env, logs_dir, first, workers: str):
    """`mockado ext-proc` on ``first``'s gRPC port (its own HTTP port) -> the process."""
    argv = [mockado_bin, "ext-proc", "--grpc-port", str(first.grpc_port),
            "--http-port", str(promised_port()), "--workers", workers]  # fmt: skip
    env = {**clean_env, "MOCKADO_COLLECTOR__REDIS_URL": first.redis_url}
    name = f"ext-proc-second-{first.grpc_port}"
    process = procs.ManagedProcess(name, argv, log_path=logs_dir / f"{name}.log", env=env)
    return process.start()


@pytest.mark.parametrize(("first_workers", "second_workers"), [(1, 1), (2, 1), (2, 2)])
def test_a_second_collector_on_a_held_port_fails_and_the_first_keeps_capturing(
    first_workers, second_workers, redis_server, upstream, envoy_factory, ext_proc_factory,
    mockado_bin, clean_env, logs_dir,
):  # fmt: skip
    collector = collector_settings(redis_server.url)
    first = ext_proc_factory(collector, workers=first_workers)
    if first_workers > 1:
        ready = procs.http_ready(f"http://127.0.0.1:{first.http_port}/readyz")
        first.process.wait_ready(ready, timeout_s=30)  # every worker listens
    second = second_collector(mockado_bin, clean_env, logs_dir, first, str(second_workers))
    try:
        assert second.proc is not None
        proc = second.proc
        # Not a join: a second run that shares the port serves on and never exits.
        wait_for_value(lambda: proc.poll() is not None, timeout_s=30,
                       what="the second collector to exit")  # fmt: skip
        code = proc.returncode
    finally:
        second.stop()
    assert code != 0
    assert f"collector.grpc_port: cannot listen on {first.grpc_port}" in second.log_text()
    assert first.process.alive
    # Every stream goes to the first: what is sent through Envoy is captured there.
    envoy = envoy_for(envoy_factory, make_config(collector), upstream_port=upstream.port,
                      ext_proc_port=first.grpc_port)  # fmt: skip

    def captured_paths() -> set[str]:
        return {str(stub["request"].get("urlPath")) for stub in first.captured()}

    sent = capture_lands(envoy.url, captured_paths)
    more = [f"/echo/after-{n}" for n in range(10)]
    with httpx.Client(timeout=10) as client:
        for path in more:
            assert client.post(f"{envoy.url}{path}", json={}).status_code == 200
    wait_for_value(lambda: set(more) <= captured_paths(), timeout_s=30,
                   what=f"the first collector captures every path after {sent[-1]}")  # fmt: skip
