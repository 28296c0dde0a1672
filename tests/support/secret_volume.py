"""A directory laid out and updated as the kubelet lays out and updates a Secret volume,
and the server arguments of a TLS Redis, for the certificate-rotation tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.support.tls_ca import ThrowawayCA


def publish(mount: Path, files: dict[str, bytes]) -> None:
    """What the kubelet does with a Secret volume: the files in a new timestamped
    directory, ``..data`` pointed at it in one rename, each name a symlink through it."""
    stamp = mount / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    stamp.mkdir(parents=True)
    for name, data in files.items():
        (stamp / name).write_bytes(data)
    staged = mount / "..data_tmp"
    staged.symlink_to(stamp.name)
    os.replace(staged, mount / "..data")
    for name in files:
        if not (mount / name).is_symlink():
            (mount / name).symlink_to(f"..data/{name}")


def redis_tls_args(port: int, ca: ThrowawayCA) -> tuple[str, ...]:
    """redis-server arguments: TLS only, on ``port``, with ``ca``'s server certificate."""
    return ("--port", "0", "--tls-port", str(port), "--tls-cert-file", str(ca.server_cert),
            "--tls-key-file", str(ca.server_key), "--tls-ca-cert-file", str(ca.ca_file),
            "--tls-auth-clients", "no")  # fmt: skip


def present_new_redis_certificate(admin, ca: ThrowawayCA) -> None:
    """Redis presents ``ca``'s certificate to new connections, and cuts the open ones."""
    admin.execute_command("CONFIG", "SET", "tls-cert-file", str(ca.server_cert),
                          "tls-key-file", str(ca.server_key),
                          "tls-ca-cert-file", str(ca.ca_file))  # fmt: skip
    admin.execute_command("CLIENT", "KILL", "TYPE", "normal")
