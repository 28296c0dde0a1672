"""A Redis that speaks TLS only and a WireMock with its admin API on https too, each
presenting a throwaway CA's certificate, started on promised ports: when another process
took one before the server bound it, it is started again on fresh ones."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx

from control_plane.local import procs
from tests.support.processes import RedisHandle, WireMockHandle, start_on_promised_ports
from tests.support.secret_volume import redis_tls_args
from tests.support.tls_ca import ThrowawayCA


def trusting(ca: ThrowawayCA) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca.ca_file))


def tls_redis_ready(port: int, ca: ThrowawayCA) -> Callable[[], bool]:
    """Redis answers PING over TLS with ``ca``'s certificate: another process that took
    the port first would accept a bare connect, never the handshake."""

    def check() -> bool:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=0.5) as raw,
            trusting(ca).wrap_socket(raw, server_hostname="localhost") as sock,
        ):
            sock.settimeout(0.5)
            sock.sendall(b"PING\r\n")
            return sock.recv(7).startswith(b"+PONG")

    return check


def start_tls_redis(
    ca: ThrowawayCA,
    *,
    data_dir: Path,
    log_path: Path,
    started: Callable[[procs.ManagedProcess], object],
) -> RedisHandle:
    """redis-server, TLS only (``secret_volume.redis_tls_args``), ready."""

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        process = procs.redis_process(port=ports[0], data_dir=data_dir, log_path=log_path,
                                      extra_args=redis_tls_args(ports[0], ca))  # fmt: skip
        return process, tls_redis_ready(ports[0], ca)

    process, [port] = start_on_promised_ports("tls-redis", launch, started=started, timeout_s=15)
    return RedisHandle(port=port, process=process)


def https_health(https_url: str, ca: ThrowawayCA) -> Callable[[], bool]:
    def check() -> bool:
        resp = httpx.get(f"{https_url}/__admin/health", verify=trusting(ca), timeout=1.0)
        return resp.status_code == 200

    return check


def start_https_wiremock(
    ca: ThrowawayCA,
    *,
    root_dir: Path,
    log_path: Path,
    started: Callable[[procs.ManagedProcess], object],
    ports: list[int] | None = None,
) -> tuple[WireMockHandle, str]:
    """WireMock on http and https, presenting ``ca``'s certificate, ready -> its handle
    and https base URL. ``ports``: (http, https) to start on again (a restart where it
    was: not moved); default, two promised ones."""
    root_dir.mkdir(parents=True, exist_ok=True)

    def launch(chosen: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        http_port, https_port = chosen
        process = procs.wiremock_process(
            servers=[procs.WireMockServer(port=http_port, root_dir=root_dir)],
            log_path=log_path,
            extra_args=(
                "--https-port", str(https_port), "--https-keystore", str(ca.server_p12),
                "--keystore-type", "PKCS12", "--keystore-password", ca.keystore_password,
                "--key-manager-password", ca.keystore_password,
            ),
        )  # fmt: skip
        ready = procs.all_ready([
            procs.http_ready(f"http://127.0.0.1:{http_port}/__admin/health"),
            https_health(f"https://127.0.0.1:{https_port}", ca),
        ])  # fmt: skip
        return process, ready

    process, [http_port, https_port] = start_on_promised_ports(
        "https-wiremock", launch, started=started, timeout_s=60, count=2, ports=ports,
        movable=ports is None,
    )  # fmt: skip
    handle = WireMockHandle(port=http_port, root_dir=root_dir, process=process)
    return handle, f"https://127.0.0.1:{https_port}"
