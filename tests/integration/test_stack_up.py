"""``mockado up`` end to end: a request through Envoy becomes a WireMock stub."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from control_plane import procs

REPO = Path(__file__).resolve().parents[2]


def _wait_for_line(proc: subprocess.Popen, needle: str, *, timeout_s: float, log: list[str]) -> bool:
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            log.append(line)
            if needle in line:
                return True
        elif proc.poll() is not None:
            return False
    return False


def _poll(fn, *, timeout_s: float, interval_s: float = 0.25):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval_s)
    return last


@pytest.fixture
def stack(tmp_path, mockado_bin, clean_env):
    proxy_port, wiremock_port = procs.free_port(), procs.free_port()
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [mockado_bin, "up", "--proxy-port", str(proxy_port), "--wiremock-port", str(wiremock_port),
         "--state-dir", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env, cwd=REPO,
    )  # fmt: skip
    out: list[str] = []
    ready = _wait_for_line(proc, "Press Ctrl-C to stop", timeout_s=120, log=out)
    if not ready:
        proc.kill()
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in (state / "logs").glob("*.log"))
        pytest.fail(f"mockado up did not come up:\n{''.join(out)}\n{logs}")
    children = psutil.Process(proc.pid).children(recursive=True)
    yield {
        "proc": proc, "proxy": f"http://127.0.0.1:{proxy_port}",
        "wiremock": f"http://127.0.0.1:{wiremock_port}", "state": state,
        "summary": "".join(out), "children": children,
    }  # fmt: skip
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def test_request_through_proxy_becomes_a_served_stub(stack):
    summary = stack["summary"]
    assert stack["proxy"] in summary
    assert stack["wiremock"] in summary
    assert "/metrics" in summary and "logs" in summary

    direct = httpx.get(f"{stack['proxy']}/api/users", timeout=10)
    assert direct.status_code == 200
    original = direct.json()
    assert original["users"][0]["email"] == "joana.silva+compras@exemplo.com.br"

    def served():
        resp = httpx.get(f"{stack['wiremock']}/api/users", timeout=5)
        return resp if resp.status_code == 200 else None

    mocked = _poll(served, timeout_s=30)
    assert mocked is not None, "no stub was served within 30 s"
    body = mocked.json()
    # The same shape as the upstream's answer, with personal data sanitized.
    assert body["total"] == original["total"]
    assert body["users"][0]["name"] == "Joana Silva"
    assert body["users"][0]["id"] == 1
    text = json.dumps(body)
    for secret in ("joana.silva+compras@exemplo.com.br", "529.982.247-25", "4111 1111 1111 1111"):
        assert secret not in text
    assert "SANITIZED_EMAIL" in text

    # A request never captured gets the catch-all's clear 404.
    miss = httpx.get(f"{stack['wiremock']}/never/captured", timeout=5)
    assert miss.status_code == 404
    assert miss.json()["error"] == "no recording matched"


def test_stop_leaves_no_process_behind(stack):
    children = stack["children"]
    assert len(children) >= 6  # redis, wiremock, demo api, ext-proc, loader, envoy
    proc = stack["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert alive == [], f"left behind: {[p.pid for p in alive]}"


def test_busy_port_is_one_clear_error(tmp_path, mockado_bin, clean_env):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [mockado_bin, "up", "--proxy-port", str(port), "--state-dir", str(tmp_path / "s")],
            capture_output=True, text=True, env=clean_env, timeout=60,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"envoy: port {port} is busy" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_binary_names_the_part(tmp_path, mockado_bin, clean_env):
    env = {**clean_env, "MOCKADO_WIREMOCK_JAR": str(tmp_path / "missing.jar")}
    result = subprocess.run(
        [mockado_bin, "up", "--proxy-port", str(procs.free_port()),
         "--wiremock-port", str(procs.free_port()), "--state-dir", str(tmp_path / "s")],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "wiremock:" in result.stderr and "missing.jar" in result.stderr
