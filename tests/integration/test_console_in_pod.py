"""``loader.console_open_on_loopback`` in a Kubernetes pod: `mockado render` refuses the
key, and a real `mockado loader` refuses it too when it arrives through the environment
(Secret mockado-env), since a pod's loopback is shared by every container and by
`kubectl port-forward`. Outside a pod (`mockado up`) it still opens the console to
loopback."""

from __future__ import annotations

import httpx
import yaml

from control_plane.local import procs
from tests.support.loader_rig import wait_for
from tests.support.processes import promised_port

# What the kubelet sets in every container of a pod.
POD_ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
OPEN = {"MOCKADO_LOADER__CONSOLE_OPEN_ON_LOOPBACK": "true"}


def start_loader(mockado_bin, clean_env, logs_dir, tmp_path, redis_server, wiremock, env, name):
    config = tmp_path / "mockado.yaml"
    config.write_text(yaml.safe_dump({"loader": {
        "redis_url": redis_server.url, "wiremock_url": wiremock.url,
        "redis_queue": f"console-{name}"}}))  # fmt: skip
    port = promised_port()
    argv = [mockado_bin, "loader", "--config", str(config), "--http-port", str(port)]
    process = procs.ManagedProcess(f"loader-{name}", argv, log_path=logs_dir / f"loader-{name}.log")
    outside = {k: v for k, v in clean_env.items() if not k.startswith("KUBERNETES_")}
    process.env = {**outside, **env}
    return process.start(), port


def test_a_loader_in_a_pod_refuses_the_open_console_from_the_environment(
    mockado_bin, clean_env, logs_dir, tmp_path, redis_server, wiremock
):
    process, port = start_loader(mockado_bin, clean_env, logs_dir, tmp_path, redis_server,
                                 wiremock, {**POD_ENV, **OPEN}, "pod")  # fmt: skip
    try:
        assert process.proc.wait(timeout=60) != 0
    finally:
        process.stop()
    log = process.log_text()
    assert "loader.console_open_on_loopback" in log and "Kubernetes pod" in log
    # Nothing listened: the console never answered.
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/console/", timeout=2).status_code
    except httpx.HTTPError:
        answer = None
    assert answer is None


def test_outside_a_pod_the_open_console_answers_loopback(
    mockado_bin, clean_env, logs_dir, tmp_path, redis_server, wiremock
):
    process, port = start_loader(mockado_bin, clean_env, logs_dir, tmp_path, redis_server,
                                 wiremock, OPEN, "machine")  # fmt: skip
    try:
        console = f"http://127.0.0.1:{port}/console/"
        wait_for(lambda: httpx.get(console, timeout=2).status_code == 200,
                 timeout_s=30, what="the console answers loopback")  # fmt: skip
    finally:
        assert process.stop() == 0
