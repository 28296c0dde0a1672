"""The ``collector`` section: the capture server and its pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from ext_proc_server.core.config.body_limits import MAX_BODY_LIMIT_RULES, BodyLimit
from ext_proc_server.core.config.checks import (
    check_dns_label,
    check_each,
    check_host_patterns,
    check_path_filters,
)
from ext_proc_server.core.config.sections import (
    DEFAULT_REDIS_URL,
    KIB,
    MIB,
    ConfigSection,
    TLSClient,
    TLSServer,
    check_redis_url,
    check_redis_username,
    check_tls_scheme,
    merge_redis_password,
)
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.hosts import DEFAULT_CLUSTER_DOMAIN, ClusterHosts
from ext_proc_server.core.metrics import SANITIZE_TYPES

# HTTP/2 streams per connection between Envoy and the collector, set in Envoy's cluster;
# the collector sets no limit of its own (capture.grpc_options says why). A low limit
# makes Envoy open more connections as streams pile up, and connections are what
# SO_REUSEPORT (--workers N) and a Kubernetes Service spread.
COLLECTOR_STREAMS_PER_CONNECTION = 32
# A DNS name: the cluster domain Kubernetes' DNS serves Services under.
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*")
# The dedup key must be long enough that its digests cannot be brute-forced.
DEDUP_KEY_MIN_BYTES = 16


class SanitizePattern(ConfigSection):
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


# Classes a sanitize_fields rule may name besides the user's own (sanitize_patterns names).
SANITIZE_FIELD_CLASSES = tuple(t for t in SANITIZE_TYPES if t != "custom")
# A field-name pattern: names joined by "." (parents first), "*" and "?" as wildcards.
_FIELD_PATTERN = re.compile(r"[^\W_]?[\w*?-]*(?:\.[\w*?-]+)*")


def _check_sanitize_fields(
    fields: dict[str, str], patterns: list[SanitizePattern]
) -> dict[str, str]:
    own = {p.name for p in patterns}
    for pattern, cls in fields.items():
        key = repr(pattern)
        if not pattern or not _FIELD_PATTERN.fullmatch(pattern) or ".." in pattern:
            raise ValueError(
                f"{key}: invalid field pattern (names joined by '.', with * and ? wildcards)"
            )
        if not any(c.isalnum() for c in pattern):
            raise ValueError(f"{key}: the pattern must name at least one letter or digit")
        if cls not in SANITIZE_FIELD_CLASSES and cls not in own:
            raise ValueError(
                f"{key}: unknown class {cls!r} (built-in: {', '.join(SANITIZE_FIELD_CLASSES)};"
                " or the name of one of collector.sanitize_patterns)"
            )
    return fields


class NoiseRule(ConfigSection):
    """Values that change on every call; normalized alike for the dedup hash and the matchers."""

    # Applies to paths starting with this prefix ("" = every path).
    path_prefix: str = ""
    # JSON field / query parameter names (case-insensitive) whose values are noise.
    fields: list[str] = Field(default_factory=list)


class CallerIdentity(ConfigSection):
    """Whose captures a stream may carry: its caller's mesh identity names its namespace
    (docs/security.md, "Captures in another namespace's name")."""

    # The collector runs behind a sidecar that appends the caller's certificate to
    # x-forwarded-client-cert (Istio's inbound default): its last element is trusted.
    # Never set it without one: a caller could then write the header itself.
    forwarded_by_sidecar: bool = False
    # Refuse (counted, caller_unidentified) a stream that comes with no identity.
    required: bool = False


class CollectorConfig(ConfigSection):
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    grpc_max_workers: int = Field(default=10, ge=1, le=1024)
    # Concurrent streams one process accepts; past it Envoy's failure_mode_allow skips capture.
    max_concurrent_streams: int = Field(default=2048, ge=1)
    http_port: int = Field(default=9090, ge=0, le=65535)
    redis_url: str = DEFAULT_REDIS_URL
    # Redis ACL user (Redis 6+); unset: the default user. In Kubernetes render sets it.
    redis_username: str | None = None
    # Redis AUTH password; set it from a Secret (MOCKADO_<SECTION>__REDIS_PASSWORD).
    redis_password: SecretStr | None = None
    redis_queue: str = "mockado:mappings"
    redis_pool_size: int = Field(default=10, ge=1, le=1000)
    redis_timeout_s: float = Field(default=2.0, gt=0)
    sanitize_enabled: bool = True
    sanitize_mode: Literal["tokens", "pseudonyms"] = "tokens"
    # HMAC key for pseudonyms mode. Prefer MOCKADO_COLLECTOR__PSEUDONYM_KEY or a key file.
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: str | None = None
    sanitize_patterns: list[SanitizePattern] = Field(default_factory=list)
    # Field-name pattern -> class: "cliente.apelido": name, "matricula": employee_id.
    sanitize_fields: dict[str, str] = Field(default_factory=dict)
    dedup_enabled: bool = True
    dedup_cache_size: int = Field(default=10_000, ge=0)
    dedup_body_limit: int = Field(default=1024, ge=0)
    dedup_ttl_s: int = Field(default=86_400, ge=1)
    # Key of the repeat fast path's digests (BLAKE2b, keyed), shared by every replica. Only
    # from a Secret: MOCKADO_COLLECTOR__DEDUP_KEY or dedup_key_file, never mockado.yaml.
    # Unset: each process draws a random key and repeats are recognized in-process only.
    dedup_key: SecretStr | None = Field(default=None, exclude=True)
    dedup_key_file: str | None = None
    # Kubernetes DNS: "api.payments" is the Service api in namespace payments when payments
    # is the exchange's namespace or listed here; the control plane renders this list.
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    cluster_namespaces: list[str] = Field(default_factory=list)
    noise_rules: list[NoiseRule] = Field(default_factory=list)
    async_workers: int = Field(default=2, ge=1, le=64)
    batch_size: int = Field(default=100, ge=1, le=10_000)
    flush_interval: float = Field(default=0.2, gt=0, le=60)
    # Bounds of the in-memory buffer between the gRPC streams and Redis, per process: held
    # exchanges, and their bodies and headers. Past either, captures are dropped
    # and counted. It absorbs bursts past what one core can prepare (the streams go first).
    buffer_size: int = Field(default=50_000, ge=1)
    buffer_bytes: int = Field(default=128 * MIB, ge=MIB)
    # The first-seen pipeline pauses while more streams than this are in progress (resuming
    # at half), keeping a minimum share; above what the traffic keeps open when it keeps up.
    pipeline_pause_streams: int = Field(default=32, ge=1)
    # A gRPC call whose answer has not begun this long after its request headers (a long
    # poll, a stream waiting for its first message) is decided then (grpc_answer_late), so
    # it holds no capture stream; an answer in headers alone sooner is still recorded.
    grpc_answer_wait_s: float = Field(default=10.0, gt=0, le=3600)
    # Any other answer must begin this long after its request headers (answer_late: a long
    # poll, a blocking query, a slow upload) and end this long after its own headers
    # (answer_body_late: a body that trickles), so no exchange holds a capture stream for
    # longer than twice this; a slow API answered within it is still recorded.
    answer_wait_s: float = Field(default=30.0, gt=0, le=3600)
    body_limit_bytes: int = Field(default=8 * KIB, ge=KIB, le=MIB)
    # Larger (or smaller) limits for given hosts and paths; the first matching rule wins,
    # after the capturing namespace's own (control_plane.namespaces.<ns>.body_limits).
    body_limits: list[BodyLimit] = Field(default_factory=list, max_length=MAX_BODY_LIMIT_RULES)
    # What a compressed body may decode to before it is dropped (decoded_too_large): each
    # stream may hold this much, so it is bounded like the body limit.
    max_decompressed_bytes: int = Field(default=1 * MIB, ge=KIB, le=16 * MIB)
    # Binary bodies are kept (images without their metadata, other binary only when no
    # detector finds anything in it) and served as base64Body; "skip" drops them.
    binary_bodies: Literal["skip", "base64"] = "base64"
    # An over-limit response gets no stub (skip, counted) unless the limit is raised for
    # its host and path; "mark" serves it partial with x-mockado-truncated: true.
    truncated_responses: Literal["mark", "skip"] = "skip"
    include_hosts: list[str] = Field(default_factory=list)
    exclude_hosts: list[str] = Field(default_factory=list)
    # A path filter is a prefix, or a regex when it starts with "re:".
    include_paths: list[str] = Field(default_factory=list)
    exclude_paths: list[str] = Field(default_factory=list)
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    stateful_scenarios: bool = False
    tls: TLSServer = Field(default_factory=TLSServer)
    caller_identity: CallerIdentity = Field(default_factory=CallerIdentity)
    redis_tls: TLSClient = Field(default_factory=TLSClient)

    _redis = field_validator("redis_url")(classmethod(lambda cls, v: check_redis_url(v)))
    _password = model_validator(mode="before")(classmethod(lambda cls, v: merge_redis_password(v)))
    _user = field_validator("redis_username")(classmethod(lambda cls, v: check_redis_username(v)))
    _paths = field_validator("include_paths", "exclude_paths")(
        classmethod(lambda cls, v: check_path_filters(v))
    )
    _hosts = field_validator("include_hosts", "exclude_hosts")(
        classmethod(lambda cls, v: check_host_patterns(v))
    )

    @field_validator("cluster_domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        domain = value.strip().lower().strip(".")
        if len(domain) > 253 or not _DNS_NAME.fullmatch(domain):
            raise ValueError("not a DNS domain (e.g. cluster.local)")
        return domain

    @field_validator("cluster_namespaces")
    @classmethod
    def _namespaces(cls, names: list[str]) -> list[str]:
        return list(dict.fromkeys(check_each(names, check_dns_label)))

    @field_validator("dedup_key")
    @classmethod
    def _key_length(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None and len(key.get_secret_value().encode()) < DEDUP_KEY_MIN_BYTES:
            raise ValueError(f"at least {DEDUP_KEY_MIN_BYTES} bytes")
        return key

    @model_validator(mode="after")
    def _tls_needs_tls_url(self) -> CollectorConfig:
        check_tls_scheme(self.redis_url, self.redis_tls, key="redis_tls", scheme="rediss")
        return self

    @model_validator(mode="after")
    def _identity_has_a_source(self) -> CollectorConfig:
        identity = self.caller_identity
        mutual_tls = self.tls.enabled and bool(self.tls.client_ca_file)
        if identity.required and not (identity.forwarded_by_sidecar or mutual_tls):
            raise ValueError(
                "caller_identity.required: no identity can come (set"
                " caller_identity.forwarded_by_sidecar or tls.client_ca_file), every capture"
                " would be refused"
            )
        return self

    @field_validator("sanitize_fields")
    @classmethod
    def _sanitize_fields_name_classes(
        cls, value: dict[str, str], info: ValidationInfo
    ) -> dict[str, str]:
        return _check_sanitize_fields(value, info.data.get("sanitize_patterns", []))


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


def dedup_key(config: CollectorConfig) -> bytes | None:
    """The repeat fast path's key, from the environment or a key file; None when unset
    (the fast path then uses a random per-process key and writes nothing to Redis)."""
    if config.dedup_key is not None:
        return config.dedup_key.get_secret_value().encode()
    if not config.dedup_key_file:
        return None
    try:
        key = Path(config.dedup_key_file).read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"collector.dedup_key_file: cannot read ({exc.strerror})") from exc
    if len(key) < DEDUP_KEY_MIN_BYTES:
        raise ConfigError(
            f"collector.dedup_key_file: the key needs at least {DEDUP_KEY_MIN_BYTES} bytes"
        )
    return key


def cluster_hosts(config: CollectorConfig, *, namespaces: Iterable[str] = ()) -> ClusterHosts:
    """The canonical-host rules of this config (``namespaces``: more known namespaces)."""
    return ClusterHosts(
        cluster_domain=config.cluster_domain,
        namespaces=(*config.cluster_namespaces, *namespaces),
    )
