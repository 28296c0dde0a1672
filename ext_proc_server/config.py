"""Typed configuration, loaded once from YAML plus ``MOCKADO_*`` environment overrides.

Overrides use a double underscore between levels, for example
``MOCKADO_COLLECTOR__REDIS_URL=redis://cache:6379/0`` or
``MOCKADO_LOADER__RETRY_ATTEMPTS=8``. Values are parsed as YAML scalars, so
``true``, ``10`` and ``[a, b]`` work. Errors name the key: ``collector.redis_url: invalid URL``.

Nothing here runs at import time: call :func:`load_config`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ext_proc_server.errors import ConfigError

ENV_PREFIX = "MOCKADO_"
KIB = 1024
MIB = 1024 * 1024
# HTTP/2 streams per connection between Envoy and the collector, set on both sides: the
# server's SETTINGS and Envoy's cluster. A low limit makes Envoy open more connections as
# streams pile up, and connections are what SO_REUSEPORT (--workers N) and a Kubernetes
# Service spread. Envoy must know it before the server's SETTINGS arrive, or a burst on a
# new connection is refused (REFUSED_STREAM) and counts as a failed connection.
COLLECTOR_STREAMS_PER_CONNECTION = 32


REDACTED = "**********"
# Query parameters that carry a credential (redis-py reads ?password=... from a Redis URL).
_SECRET_QUERY = re.compile(r"(?i)([?&][^=&#]*(?:password|passwd|pwd|secret|token)[^=&#]*=)[^&#]*")


def redact_url(value: str) -> str:
    """``value`` with any user:password@ and credential query parameters masked.

    Everything up to the LAST "@" is masked, so a password holding an unencoded "@"
    or "/" is hidden whole (over-masking a display value is the safe side).
    """
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    if "@" in rest:
        rest = f"{REDACTED}@{rest.rpartition('@')[2]}"
    return f"{scheme}{sep}{_SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, rest)}"


class _Section(BaseModel):
    # Unknown keys are errors, so a typo never silently falls back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    def __repr_args__(self) -> Any:
        # repr()/str() of any section never show a password held in a URL.
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if isinstance(value, str) else value


def _url_parts(value: str, *, schemes: tuple[str, ...], expected: str) -> Any:
    # Errors never quote the value: a URL can hold a password.
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValueError(f"invalid URL (expected {expected})") from None
    if parts.scheme not in schemes:
        raise ValueError(f"invalid URL (expected {expected})")
    return parts


def _check_redis_url(value: str) -> str:
    expected = "redis://, rediss:// or unix://"
    parts = _url_parts(value, schemes=("redis", "rediss", "unix"), expected=expected)
    # A host is required: redis-py would quietly use localhost (and a password holding an
    # unencoded "/" or "@" splits the URL so that no host is left).
    if not (parts.path if parts.scheme == "unix" else parts.hostname):
        raise ValueError(f"invalid URL (expected {expected})")
    return value


def _check_http_url(value: str) -> str:
    expected = "http:// or https://"
    parts = _url_parts(value, schemes=("http", "https"), expected=expected)
    if not parts.hostname:
        raise ValueError(f"invalid URL (expected {expected})")
    return value.rstrip("/")


def _check_tls_scheme(url: str, tls: TLSClient, *, key: str, scheme: str) -> None:
    # Fail closed: TLS switched on with a plaintext URL would otherwise connect in the clear.
    if tls.enabled and urlsplit(url).scheme != scheme:
        raise ValueError(f"{key}.enabled needs a {scheme}:// URL")


class SanitizePattern(_Section):
    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    regex: str
    replacement: str

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex: {exc}") from exc
        return value


class NoiseRule(_Section):
    """Values that change on every call; normalized alike for the dedup hash and the matchers."""

    # Applies to paths starting with this prefix ("" = every path).
    path_prefix: str = ""
    # JSON field / query parameter names (case-insensitive) whose values are noise.
    fields: list[str] = Field(default_factory=list)


class TLSClient(_Section):
    enabled: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True


class TLSServer(_Section):
    enabled: bool = False
    cert_file: str | None = None
    key_file: str | None = None
    # When set, clients must present a certificate signed by this CA (mTLS).
    client_ca_file: str | None = None


class CollectorConfig(_Section):
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    grpc_max_workers: int = Field(default=10, ge=1, le=1024)
    # Concurrent streams one process accepts; past it Envoy's failure_mode_allow skips capture.
    max_concurrent_streams: int = Field(default=2048, ge=1)
    http_port: int = Field(default=9090, ge=0, le=65535)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_queue: str = "mockado:mappings"
    redis_pool_size: int = Field(default=10, ge=1, le=1000)
    redis_timeout_s: float = Field(default=2.0, gt=0)
    sanitize_enabled: bool = True
    sanitize_mode: Literal["tokens", "pseudonyms"] = "tokens"
    # HMAC key for pseudonyms mode. Prefer MOCKADO_COLLECTOR__PSEUDONYM_KEY or a key file.
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: str | None = None
    sanitize_patterns: list[SanitizePattern] = Field(default_factory=list)
    dedup_enabled: bool = True
    dedup_cache_size: int = Field(default=10_000, ge=0)
    dedup_body_limit: int = Field(default=1024, ge=0)
    dedup_ttl_s: int = Field(default=86_400, ge=1)
    noise_rules: list[NoiseRule] = Field(default_factory=list)
    async_workers: int = Field(default=2, ge=1, le=64)
    batch_size: int = Field(default=100, ge=1, le=10_000)
    flush_interval: float = Field(default=0.2, gt=0, le=60)
    # Bound of the in-memory buffer between the gRPC streams and Redis.
    buffer_size: int = Field(default=10_000, ge=1)
    body_limit_bytes: int = Field(default=8 * KIB, ge=KIB, le=MIB)
    max_decompressed_bytes: int = Field(default=1 * MIB, ge=KIB)
    binary_bodies: Literal["skip", "base64"] = "skip"
    truncated_responses: Literal["mark", "skip"] = "mark"
    include_hosts: list[str] = Field(default_factory=list)
    exclude_hosts: list[str] = Field(default_factory=list)
    # A path filter is a prefix, or a regex when it starts with "re:".
    include_paths: list[str] = Field(default_factory=list)
    exclude_paths: list[str] = Field(default_factory=list)
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    stateful_scenarios: bool = False
    tls: TLSServer = Field(default_factory=TLSServer)
    redis_tls: TLSClient = Field(default_factory=TLSClient)

    _redis = field_validator("redis_url")(classmethod(lambda cls, v: _check_redis_url(v)))

    @model_validator(mode="after")
    def _tls_needs_tls_url(self) -> CollectorConfig:
        _check_tls_scheme(self.redis_url, self.redis_tls, key="redis_tls", scheme="rediss")
        return self


class ShardRoute(_Section):
    # fnmatch-style host pattern, e.g. "payments.*" or "*.svc.cluster.local".
    host: str
    wiremock_url: str

    _url = field_validator("wiremock_url")(classmethod(lambda cls, v: _check_http_url(v)))


class LoaderConfig(_Section):
    wiremock_url: str = "http://127.0.0.1:8080"
    wiremock_timeout: float = Field(default=10.0, gt=0)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_queue: str = "mockado:mappings"
    redis_batch_size: int = Field(default=500, ge=1, le=10_000)
    retry_attempts: int = Field(default=5, ge=1, le=100)
    retry_backoff: float = Field(default=0.5, gt=0)
    retry_max_delay: float = Field(default=30.0, gt=0)
    # Unacknowledged items of a dead loader are reclaimed after this long.
    claim_timeout_s: float = Field(default=30.0, gt=0)
    max_stubs: int = Field(default=10_000, ge=1)
    # Items held in memory per shard while that shard's WireMock is down, so the other
    # shards keep loading; past it, reading from the queue waits.
    shard_backlog_items: int = Field(default=2_000, ge=1, le=1_000_000)
    backup_enabled: bool = False
    backup_path: str = "./backups"
    backup_interval: float = Field(default=300.0, gt=0)
    backup_keep: int = Field(default=5, ge=1)
    http_port: int = Field(default=9091, ge=0, le=65535)
    shards: list[ShardRoute] = Field(default_factory=list)
    redis_tls: TLSClient = Field(default_factory=TLSClient)
    wiremock_tls: TLSClient = Field(default_factory=TLSClient)

    _redis = field_validator("redis_url")(classmethod(lambda cls, v: _check_redis_url(v)))
    _url = field_validator("wiremock_url")(classmethod(lambda cls, v: _check_http_url(v)))

    @model_validator(mode="after")
    def _tls_needs_tls_url(self) -> LoaderConfig:
        _check_tls_scheme(self.redis_url, self.redis_tls, key="redis_tls", scheme="rediss")
        _check_tls_scheme(self.wiremock_url, self.wiremock_tls, key="wiremock_tls", scheme="https")
        return self


class CanaryConfig(_Section):
    # Labels selecting the canary workloads whose calls go to the mocks.
    workload_labels: dict[str, str] = Field(default_factory=dict)
    # Captured hosts to mock for those workloads.
    hosts: list[str] = Field(default_factory=list)


class NamespaceConfig(_Section):
    enabled: bool = True
    # "both" captures in-mesh calls twice: once leaving the caller, once entering the callee.
    direction: Literal["inbound", "outbound", "both"] = "inbound"
    sample_percent: float = Field(default=100.0, ge=0.0, le=100.0)
    include_hosts: list[str] = Field(default_factory=list)
    exclude_hosts: list[str] = Field(default_factory=list)
    include_paths: list[str] = Field(default_factory=list)
    exclude_paths: list[str] = Field(default_factory=list)
    body_limit_bytes: int = Field(default=8 * KIB, ge=KIB, le=MIB)
    workload_selector: dict[str, str] = Field(default_factory=dict)
    canary: CanaryConfig | None = None


class CollectorService(_Section):
    host: str = "mockado-collector.mockado.svc.cluster.local"
    port: int = Field(default=50051, ge=1, le=65535)
    tls: TLSClient = Field(default_factory=TLSClient)
    # Fail open: a dead collector never changes the proxied traffic.
    failure_mode_allow: bool = True
    capture_mode: Literal["observability", "blocking"] = "observability"
    max_requests: int = Field(default=256, ge=1)
    deferred_close_timeout_s: float = Field(default=1.0, gt=0)


class GlobalCapture(NamespaceConfig):
    enabled: bool = False


class ControlPlaneConfig(_Section):
    root_namespace: str = "istio-system"
    mockado_namespace: str = "mockado"
    image: str = "ghcr.io/mockado/mockado:0.1.0"
    collector: CollectorService = Field(default_factory=CollectorService)
    global_: GlobalCapture = Field(default_factory=GlobalCapture, alias="global")
    namespaces: dict[str, NamespaceConfig] = Field(default_factory=dict)
    # Redis of the rendered Kubernetes manifests (deploy/redis.yaml).
    redis_image: str = "redis:7.4-alpine"
    # Redis maxmemory ("1gb", "512mb"); past it writes fail (noeviction), nothing is evicted.
    redis_maxmemory: str = Field(default="1gb", pattern=r"^[1-9][0-9]*(kb|mb|gb)$")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ServingConfig(_Section):
    # WireMock serving flags: a bounded journal and no per-request logging.
    max_request_journal_entries: int = Field(default=0, ge=0)
    heap_mb: int | None = Field(default=None, ge=64)
    # Group destination hosts into shards by fnmatch pattern; unlisted hosts share "default".
    shard_groups: dict[str, list[str]] = Field(default_factory=dict)
    # Where each shard's catch-all reports a miss (the loader's /unmatched). Default: the
    # loader's own http_port on 127.0.0.1; in Kubernetes, the loader Service.
    unmatched_webhook_url: str | None = None
    # WireMock of the rendered Kubernetes manifests (deploy/wiremock.yaml): image, and the
    # standalone jar inside it, run with `java -jar`.
    wiremock_image: str = "wiremock/wiremock:3.13.2"
    wiremock_jar_path: str = "/var/wiremock/lib/wiremock-standalone.jar"
    # Run each rendered shard with mockado's launcher (stubs indexed by exact URL or path):
    # the jar is copied from wiremock_image, and the launcher runs from source on a JDK
    # image (a JRE cannot compile it). False: stock WireMock, `java -jar` in wiremock_image.
    indexed_stubs: bool = True
    jdk_image: str = "eclipse-temurin:17-jdk"


class MockadoConfig(_Section):
    collector: CollectorConfig = Field(default_factory=CollectorConfig)
    loader: LoaderConfig = Field(default_factory=LoaderConfig)
    control_plane: ControlPlaneConfig = Field(default_factory=ControlPlaneConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)


def _parse_env_value(raw: str) -> Any:
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        # A secret is taken verbatim: YAML would turn a key like 0x1f.. or 1234 into a
        # number and cut "abc #def" at the "#".
        node[path[-1]] = raw if _is_secret_key(path[-1]) else _parse_env_value(raw)
    return data


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{loc}: {msg}")
    return "; ".join(lines)


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> MockadoConfig:
    """Load YAML (optional), then ``MOCKADO_*`` env, then explicit overrides.

    ``path`` defaults to ``$MOCKADO_CONFIG`` when set. Raises ConfigError naming the key.
    """
    env = os.environ if env is None else env
    if path is None:
        path = env.get("MOCKADO_CONFIG") or None
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{file}: config file not found") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: invalid YAML ({exc.__class__.__name__})") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file}: top level must be a mapping")
        data = loaded
    data = _apply_env(data, env)
    for dotted, value in (overrides or {}).items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    try:
        return MockadoConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None


def pseudonym_key(config: CollectorConfig) -> bytes | None:
    """The HMAC key for pseudonyms mode, from config/env or a key file. Never a default."""
    if config.pseudonym_key is not None:
        return config.pseudonym_key.get_secret_value().encode()
    if config.pseudonym_key_file:
        try:
            return Path(config.pseudonym_key_file).read_bytes().strip()
        except OSError as exc:
            raise ConfigError(
                f"collector.pseudonym_key_file: cannot read ({exc.strerror})"
            ) from exc
    return None


def redacted_dump(config: MockadoConfig) -> dict[str, Any]:
    """The config as plain data with secrets (keys, passwords in URLs) redacted."""
    data = config.model_dump(mode="json", by_alias=True)

    def scrub(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (REDACTED if _is_secret_key(k) and v else scrub(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [scrub(v) for v in node]
        if isinstance(node, str) and "://" in node:
            return redact_url(node)
        return node

    return scrub(data)


def _is_secret_key(key: str) -> bool:
    return key in {"pseudonym_key"} or key.endswith("password")
