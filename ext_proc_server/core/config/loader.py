"""The ``loader`` section: the Redis consumer that loads mappings into WireMock."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from ext_proc_server.core.config.checks import check_host_patterns
from ext_proc_server.core.config.sections import (
    DEFAULT_REDIS_URL,
    ConfigSection,
    TLSClient,
    check_http_url,
    check_redis_url,
    check_redis_username,
    check_tls_scheme,
    merge_redis_password,
)


class ShardRoute(ConfigSection):
    # fnmatch-style host pattern, e.g. "payments.*" or "*.svc.cluster.local".
    host: str

    _host = field_validator("host")(classmethod(lambda cls, v: check_host_patterns([v])[0]))
    wiremock_url: str

    _url = field_validator("wiremock_url")(classmethod(lambda cls, v: check_http_url(v)))


class LoaderConfig(ConfigSection):
    wiremock_url: str = "http://127.0.0.1:8080"
    wiremock_timeout: float = Field(default=10.0, gt=0)
    redis_url: str = DEFAULT_REDIS_URL
    # Redis ACL user (Redis 6+); unset: the default user. In Kubernetes render sets it.
    redis_username: str | None = None
    # Redis AUTH password; set it from a Secret (MOCKADO_<SECTION>__REDIS_PASSWORD).
    redis_password: SecretStr | None = None
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
    # How often each shard is checked for a WireMock that restarted empty or lost stubs.
    resync_check_interval_s: float = Field(default=2.0, ge=0.1, le=3600)
    # Stubs nothing captured for this long are removed (None: kept forever).
    stub_ttl_s: float | None = Field(default=None, ge=1, le=10 * 365 * 86_400)
    # How often repeats reported by the collectors are stamped on the stubs (last_seen,
    # capture_count) and stubs past stub_ttl_s are removed.
    stub_refresh_interval_s: float = Field(default=30.0, ge=0.05, le=3600)
    # HTTP Basic credentials for WireMock's admin API (--admin-api-basic-auth user:pass).
    # Set the password from a Secret: MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD.
    wiremock_admin_user: str | None = Field(default=None, min_length=1)
    wiremock_admin_password: SecretStr | None = Field(default=None, min_length=1)
    http_port: int = Field(default=9091, ge=0, le=65535)
    # Distinct misses the miss report keeps (docs/misses.md); 0 turns the report off.
    max_misses: int = Field(default=1_000, ge=0, le=100_000)
    # HTTP Basic credentials of the web console on http_port (docs/console.md). Without
    # them the console is off, except where console_open_on_loopback lets loopback in.
    # Set the password from a Secret: MOCKADO_LOADER__CONSOLE_PASSWORD.
    console_user: str | None = Field(default=None, min_length=1)
    console_password: SecretStr | None = Field(default=None, min_length=8)
    # Serve the console without credentials to clients on 127.0.0.1/::1 only. `mockado up`
    # sets it for its own local loader; leave it off anywhere else.
    console_open_on_loopback: bool = False
    # The Grafana dashboard the console links to (e.g. http://grafana:3000/d/mockado).
    console_grafana_url: str | None = None
    shards: list[ShardRoute] = Field(default_factory=list)
    redis_tls: TLSClient = Field(default_factory=TLSClient)
    wiremock_tls: TLSClient = Field(default_factory=TLSClient)

    _redis = field_validator("redis_url")(classmethod(lambda cls, v: check_redis_url(v)))
    _grafana = field_validator("console_grafana_url")(
        classmethod(lambda cls, v: v if v is None else check_http_url(v))
    )
    _password = model_validator(mode="before")(classmethod(lambda cls, v: merge_redis_password(v)))
    _user = field_validator("redis_username")(classmethod(lambda cls, v: check_redis_username(v)))
    _url = field_validator("wiremock_url")(classmethod(lambda cls, v: check_http_url(v)))

    @model_validator(mode="after")
    def _tls_needs_tls_url(self) -> LoaderConfig:
        check_tls_scheme(self.redis_url, self.redis_tls, key="redis_tls", scheme="rediss")
        check_tls_scheme(self.wiremock_url, self.wiremock_tls, key="wiremock_tls", scheme="https")
        return self

    @model_validator(mode="after")
    def _admin_credentials_in_pairs(self) -> LoaderConfig:
        user, password = self.wiremock_admin_user, self.wiremock_admin_password
        if user is None and password is not None:
            raise ValueError("wiremock_admin_password is set without wiremock_admin_user")
        if user is not None and password is None:
            raise ValueError("wiremock_admin_user is set without wiremock_admin_password")
        if user is not None and ":" in user:
            # HTTP Basic splits "user:password" at the first colon.
            raise ValueError("wiremock_admin_user must not contain ':'")
        return self

    @model_validator(mode="after")
    def _console_credentials_in_pairs(self) -> LoaderConfig:
        user, password = self.console_user, self.console_password
        if (user is None) != (password is None):
            raise ValueError("console_user and console_password are set together")
        if user is not None and ":" in user:
            raise ValueError("console_user must not contain ':'")
        return self

    def console_auth(self) -> tuple[str, str] | None:
        """(user, password) the console asks for, or None when none is configured."""
        if self.console_user is None or self.console_password is None:
            return None
        return self.console_user, self.console_password.get_secret_value()

    def wiremock_admin_auth(self) -> tuple[str, str] | None:
        """(user, password) for WireMock's admin API, or None when it needs none."""
        if self.wiremock_admin_user is None or self.wiremock_admin_password is None:
            return None
        return self.wiremock_admin_user, self.wiremock_admin_password.get_secret_value()
