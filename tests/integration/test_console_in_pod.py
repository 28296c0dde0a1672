"""``loader.console_open_on_loopback`` in a Kubernetes pod: `mockado render` refuses the
key, and a real `mockado loader` refuses it too when it arrives through the environment
(Secret mockado-env), since a pod's loopback is shared by every container and by
`kubectl port-forward`. Outside a pod (`mockado up`) it still opens the console to
loopback."""

from __future__ import annotations

import httpx
import yaml

from control_plane.local import procs
from tests.support.loader_process import start_loader
from tests.support.loader_rig import wait_for
from tests.support.processes import promised_port

# What the kubelet sets in every container of a pod.
POD_ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
OPEN = {"MOCKADO_LOADER__CONSOLE_OPEN_ON_LOOPBACK": "true"}


def loader_argv(mockado_bin, tmp_path, redis_server, wiremock, name) -> list[str]:
    config = tmp_path / "mockado.yaml"
    config.write_text(yaml.safe_dump({"loader": {
        "redis_url": redis_server.url, "wiremock_url": wiremock.url,
        "redis_queue": f"console-{name}"}}))  # fmt: skip
    return [mockado_bin, "loader", "--config", str(config)]


def loader_env(clean_env, env) -> dict[str, str]:
    outside = {k: v for k, v in clean_env.items() if not k.startswith("KUBERNETES_")}
    return {**outside, **env}


def start_outside_a_pod(mockado_bin, clean_env, logs_dir, tmp_path, redis_server, wiremock,
                        process_registry) -> tuple[procs.ManagedProcess, int]:  # fmt: skip
    """A loader with the open console from the environment, outside a pod, ready."""
    argv = loader_argv(mockado_bin, tmp_path, redis_server, wiremock, "machine")
    return start_loader("loader-machine", argv, env=loader_env(clean_env, OPEN),
                        log_path=logs_dir / f"loader-machine-{tmp_path.name}.log",
                        started=process_registry.add)  # fmt: skip


def test_a_loader_in_a_pod_refuses_the_open_console_from_the_environment(
    mockado_bin, clean_env, logs_dir, tmp_path, redis_server, wiremock
):
    # It exits before it listens: on a port where nothing listens, on purpose.
    port = promised_port()
    argv = [*loader_argv(mockado_bin, tmp_path, redis_server, wiremock, "pod"),
            "--http-port", str(port)]  # fmt: skip
    process = procs.ManagedProcess("loader-pod", argv, log_path=logs_dir / "loader-pod.log",
                                   env=loader_env(clean_env, {**POD_ENV, **OPEN})).start()  # fmt: skip
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
    mockado_bin, clean_env, logs_dir, tmp_path, redis_server, wiremock, process_registry
):
    process, port = start_outside_a_pod(mockado_bin, clean_env, logs_dir, tmp_path,
                                        redis_server, wiremock, process_registry)  # fmt: skip
    try:
        console = f"http://127.0.0.1:{port}/console/"
        wait_for(lambda: httpx.get(console, timeout=2).status_code == 200,
                 timeout_s=30, what="the console answers loopback")  # fmt: skip
    finally:
        assert process.stop() == 0


def test_a_loader_whose_port_was_taken_starts_on_another(
    mockado_bin, clean_env, logs_dir, tmp_path, redis_server, wiremock, process_registry,
    squatter,
):  # fmt: skip
    process, port = start_outside_a_pod(mockado_bin, clean_env, logs_dir, tmp_path,
                                        redis_server, wiremock, process_registry)  # fmt: skip
    assert squatter.ports and port not in squatter.ports
    assert "address already in use" in process.log_text().lower()  # the first attempt's
    assert httpx.get(f"http://127.0.0.1:{port}/console/", timeout=5).status_code == 200
    assert process.stop() == 0
