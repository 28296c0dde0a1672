"""What each part of ``mockado up`` is given, worked out before any part starts: the
upstream it proxies to, the WireMock shards and their ports, a shared JVM's heap, and the
effective config the children read. Kept apart from
:mod:`control_plane.local.stack`, which starts and stops the parts, so each is read (and
tested) on its own; nothing here starts a process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from control_plane.local import procs
from ext_proc_server.core.config import MockadoConfig, in_kubernetes_pod, redact_url
from ext_proc_server.core.errors import StackError

# What a WireMock JVM needs before any stub (the stub part of its heap scales per shard).
_JVM_BASE_HEAP_MB = 256
_MIN_SHARD_HEAP_MB = 64


@dataclass(frozen=True, kw_only=True)
class Upstream:
    host: str
    port: int
    tls: bool
    url: str


def parse_upstream(url: str) -> Upstream:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StackError(
            f"upstream: invalid URL (expected http(s)://host[:port]): {parts.scheme}://…"
        )
    tls = parts.scheme == "https"
    return Upstream(host=parts.hostname, port=parts.port or (443 if tls else 80), tls=tls, url=url)


def move_url_secrets(data: dict) -> dict[str, str]:
    """Strip user:password@ from the Redis URLs of an effective config (in place) and
    return the full URLs as ``MOCKADO_*`` variables: the file on disk holds no password."""
    env: dict[str, str] = {}
    for section in ("collector", "loader"):
        url = data[section]["redis_url"]
        parts = urlsplit(url)
        if redact_url(url) != url:
            env[f"MOCKADO_{section.upper()}__REDIS_URL"] = url
            netloc = parts.netloc.rpartition("@")[2]
            data[section]["redis_url"] = urlunsplit(parts._replace(netloc=netloc, query=""))
    return env


@dataclass(kw_only=True)
class ShardPlan:
    name: str
    port: int
    host_patterns: list[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def plan_shards(
    config: MockadoConfig, *, base_port: int, count: int, ports: procs.PortPicker | None = None
) -> list[ShardPlan]:
    """The default shard, then one per ``serving.shard_groups`` group (or ``--shards N``
    anonymous ones). One shard listens on ``base_port`` itself; with several, a mock router
    takes ``base_port`` and routes by Host, and the shards take free ports."""
    names = [("default", [])] + [(n, list(p)) for n, p in config.serving.shard_groups.items()]
    names += [(f"shard{i}", []) for i in range(len(names), max(count, 1))]
    if len(names) == 1:
        return [ShardPlan(name="default", port=base_port, host_patterns=[])]
    ports = procs.PortPicker({base_port}) if ports is None else ports
    return [
        ShardPlan(name=name, port=ports.pick(f"wiremock-{name}"), host_patterns=patterns)
        for name, patterns in names
    ]


@dataclass(frozen=True, kw_only=True)
class ChildPorts:
    """Ports given to the ext_proc server and the loader."""

    grpc: int
    collector_http: int
    loader_http: int


def effective_config_data(
    config: MockadoConfig,
    *,
    redis_url: str,
    shards: list[ShardPlan],
    ports: ChildPorts,
    state_dir: Path,
    proxy_url: str | None = None,
) -> dict:
    """The config the children share: this run's ports, Redis and WireMock shards, backups
    under the state directory, and no pseudonym key (children get it from the environment).
    ``proxy_url``: the capturing Envoy, where pass-through misses go unless the config
    says otherwise (so the exchange is captured and the next call is mocked)."""
    data = config.model_dump(mode="json", by_alias=True, exclude={"collector": {"pseudonym_key"}})
    if proxy_url and not data["serving"].get("passthrough_url"):
        data["serving"]["passthrough_url"] = proxy_url
    data["collector"].update(
        grpc_port=ports.grpc, http_port=ports.collector_http, redis_url=redis_url
    )
    data["loader"].update(
        redis_url=redis_url,
        wiremock_url=shards[0].url,
        http_port=ports.loader_http,
        # The console answers this machine without credentials (docs/console.md); not in
        # a Kubernetes pod, whose loopback other containers share (the loader refuses it).
        console_open_on_loopback=not in_kubernetes_pod(os.environ),
        backup_enabled=True,
        backup_path=str(state_dir / "backups"),
        shards=[
            {"host": pattern, "wiremock_url": shard.url}
            for shard in shards[1:]
            for pattern in shard.host_patterns
        ],
    )
    return data


def shared_jvm_heap_mb(per_shard_mb: int, *, shards: int) -> int:
    """The heap of one JVM serving ``shards`` shards that would each get ``per_shard_mb``
    alone: one JVM base, plus each shard's stub part."""
    stub_part_mb = max(per_shard_mb - _JVM_BASE_HEAP_MB, _MIN_SHARD_HEAP_MB)
    return per_shard_mb + (shards - 1) * stub_part_mb
