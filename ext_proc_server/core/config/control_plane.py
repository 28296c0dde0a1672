"""The ``control_plane`` section: what `mockado render` writes for Istio and Kubernetes."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ext_proc_server.core.config.body_limits import MAX_BODY_LIMIT_RULES, BodyLimit
from ext_proc_server.core.config.checks import (
    KeyedValueError,
    check_dns_label,
    check_dns_subdomain,
    check_each,
    check_host_patterns,
    check_image,
    check_labels,
    check_optional_dns_label,
    check_path_filters,
)
from ext_proc_server.core.config.grafana_dashboard import GrafanaDashboardConfig
from ext_proc_server.core.config.sections import (
    KIB,
    MIB,
    ConfigSection,
    TLSClient,
    check_http_url,
)
from ext_proc_server.core.config.workloads import WorkloadsConfig, memory_bytes
from ext_proc_server.core.hosts import ClusterHosts

# A host name Istio can route: lower-case DNS labels, at least one dot (Istio reads a short
# name relative to the VirtualService's namespace, which is rarely the service meant).
_ROUTABLE_HOST = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+")
COLLECTOR_SERVICE = "mockado-collector"
OnMiss = Literal["fail", "passthrough"]
# The Envoy minor version of the supported Istio (1.29 sidecars run Envoy 1.37;
# docs/runbook.md has the matrix).
ENVOY_VERSION = "1.37"
CLUSTER_DOMAIN = "cluster.local"
# The longest hold of a finished capture stream (collector.deferred_close_timeout_s). Envoy
# takes up to 2^63 ns (292 years); a hold only needs to outlast a collector's stall (a pause, a slow
# Redis write), and the keepalive timeout that follows it (twice the hold) bounds how long
# a dead collector connection goes unnoticed: 60 s gives 120 s, within 154.5 s in all.
MAX_DEFERRED_CLOSE_TIMEOUT_S = 60.0
# And the shortest: Envoy reads the hold in whole milliseconds, so a shorter one is 0 ms,
# no hold at all.
MIN_DEFERRED_CLOSE_TIMEOUT_S = 0.001
# How far from whole milliseconds a hold may be: what a decimal in seconds gains as a float
# (0.3 is 300.00000000000006 ms), not a fraction Envoy would cut.
HOLD_PRECISION_MS = 1e-6
# Room Redis's data directory needs, in redis_maxmemory: the append-only file grows to twice
# its base before Redis rewrites it (auto-aof-rewrite-percentage 100), the rewrite writes a
# new base (up to the data, so up to maxmemory) beside them, and writes go on meanwhile.
# Past an emptyDir's sizeLimit the kubelet evicts the pod; past a claim, writes fail.
REDIS_DISK_FACTOR = 4
# And never less than this: the file grows to auto-aof-rewrite-min-size (64mb) before any
# rewrite, however small the data.
REDIS_DISK_MIN_MIB = 256
_REDIS_UNITS = {"kb": 2**10, "mb": 2**20, "gb": 2**30}  # redis-server's units: powers of 2
# The page each alert's runbook_url points into (docs/runbook.md, as published).
DEFAULT_RUNBOOK_URL = "https://github.com/mockado/mockado/blob/main/docs/runbook.md"
# Characters no URL holds unescaped (RFC 3986); braces would also start a Go template in
# Prometheus's annotations.
_NOT_IN_URL = re.compile(r"[\s\"'<>\\^`{|}]")


class CanaryConfig(ConfigSection):
    # Labels selecting the canary workloads whose calls go to the mocks.
    workload_labels: dict[str, str] = Field(default_factory=dict, validate_default=True)
    # Captured hosts to mock for those workloads.
    hosts: list[str] = Field(default_factory=list, validate_default=True)
    # A canary call no stub matches: "fail" answers the catch-all's 404; "passthrough"
    # proxies it to the real service, and the exchange is captured (the next call is
    # mocked). on_miss_hosts overrides it per host (each one of hosts).
    on_miss: OnMiss = "fail"
    on_miss_hosts: dict[str, OnMiss] = Field(default_factory=dict)

    _labels = field_validator("workload_labels")(classmethod(lambda cls, v: check_labels(v)))

    @field_validator("hosts")
    @classmethod
    def _routable(cls, hosts: list[str]) -> list[str]:
        """Lower-cased full host names, each once: each becomes a VirtualService host. A
        final dot (``example.com.``) marks a name outside the cluster, kept as written."""
        out: list[str] = []
        for index, raw in enumerate(hosts):
            host = raw.strip().lower()
            name = host.removesuffix(".")
            if not _ROUTABLE_HOST.fullmatch(name) or len(name) > 253:
                raise KeyedValueError(
                    index,
                    "not a full host name (no wildcard, no port, no short name: "
                    "e.g. payments.payments.svc.cluster.local)",
                )
            if host in out:
                raise KeyedValueError(index, "listed twice")
            out.append(host)
        if not out:
            raise ValueError("list at least one host to mock")
        return out

    @field_validator("workload_labels")
    @classmethod
    def _labels_required(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels:
            raise ValueError(
                "required; without labels every workload of the namespace would be sent "
                "to the mocks"
            )
        return labels

    @field_validator("on_miss_hosts")
    @classmethod
    def _known_hosts(cls, hosts: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if "hosts" not in info.data:
            return hosts  # hosts was refused: that error is the one to report
        listed = info.data["hosts"]
        out: dict[str, str] = {}
        for raw, mode in hosts.items():
            host = raw.strip().lower()
            if host not in listed:
                raise KeyedValueError(raw, "not one of this canary's hosts")
            out[host] = mode
        return out

    def passthrough_hosts(self) -> list[str]:
        """The hosts whose misses go to the real service (``on_miss``, per host first)."""
        return [h for h in self.hosts if self.on_miss_hosts.get(h, self.on_miss) == "passthrough"]


def canary_host(cluster: ClusterHosts, host: str, *, namespace: str) -> str:
    """The name a canary host is routed by: a Service's full name (``api.payments`` ->
    ``api.payments.svc.<domain>`` when ``payments`` is known), or a name with a final dot
    (outside the cluster) as written, without the dot."""
    if host.endswith("."):
        return host.removesuffix(".")
    return cluster.canonical(host, namespace=namespace)


class NamespaceConfig(ConfigSection):
    enabled: bool = True
    # "both" captures in-mesh calls twice: once leaving the caller, once entering the callee.
    direction: Literal["inbound", "outbound", "both"] = "inbound"
    sample_percent: float = Field(default=100.0, ge=0.0, le=100.0)
    include_hosts: list[str] = Field(default_factory=list)
    exclude_hosts: list[str] = Field(default_factory=list)
    include_paths: list[str] = Field(default_factory=list)
    exclude_paths: list[str] = Field(default_factory=list)
    body_limit_bytes: int = Field(default=8 * KIB, ge=KIB, le=MIB)
    # Per host and path limits for this namespace's captures, sent to the collector with
    # each stream (x-mockado-body-limits); they win over collector.body_limits.
    body_limits: list[BodyLimit] = Field(default_factory=list, max_length=MAX_BODY_LIMIT_RULES)
    workload_selector: dict[str, str] = Field(default_factory=dict)
    canary: CanaryConfig | None = None
    # The debug tap EnvoyFilter (raw, unsanitized bodies on demand): rendered only when a
    # namespace opts in, into istio-debug/, which the documented apply never touches.
    debug_tap: bool = False
    # The namespace denies egress by default: render NetworkPolicies letting its pods reach
    # the collector (capture) and the WireMock shards (canary routing), and nothing more.
    default_deny_egress: bool = False

    _paths = field_validator("include_paths", "exclude_paths")(
        classmethod(lambda cls, v: check_path_filters(v))
    )
    # Rendered into Envoy's matchers, which take re: patterns as RE2 regexes.
    _hosts = field_validator("include_hosts", "exclude_hosts")(
        classmethod(lambda cls, v: check_host_patterns(v, allow_regex=True))
    )
    _selector = field_validator("workload_selector")(classmethod(lambda cls, v: check_labels(v)))

    @model_validator(mode="after")
    def _tap_needs_capture(self) -> NamespaceConfig:
        if self.debug_tap and not self.enabled:
            raise KeyedValueError("debug_tap", "needs capture enabled in this scope")
        return self


class CollectorService(ConfigSection):
    # The collector Service's full name; default: mockado-collector in mockado_namespace.
    host: str = f"{COLLECTOR_SERVICE}.mockado.svc.{CLUSTER_DOMAIN}"
    port: int = Field(default=50051, ge=1, le=65535)
    tls: TLSClient = Field(default_factory=TLSClient)
    # Fail open: a dead collector never changes the proxied traffic.
    failure_mode_allow: bool = True
    capture_mode: Literal["observability", "blocking"] = "observability"
    max_requests: int = Field(default=256, ge=1)
    # How long Envoy keeps a capture stream open after its exchange for the collector to
    # read it: a collector stalled longer (GC, CPU throttling) loses every stream in flight.
    # Envoy's own default; it holds at most max_requests streams meanwhile (docs/capture.md).
    deferred_close_timeout_s: float = Field(default=5.0, gt=0)

    @field_validator("deferred_close_timeout_s")
    @classmethod
    def _bounded_hold(cls, value: float) -> float:
        if value < MIN_DEFERRED_CLOSE_TIMEOUT_S:
            raise ValueError(
                f"at least {MIN_DEFERRED_CLOSE_TIMEOUT_S:g} s (1 ms): Envoy reads the hold in "
                "whole milliseconds, and a shorter one is 0 ms, no hold at all"
            )
        if value > MAX_DEFERRED_CLOSE_TIMEOUT_S:
            raise ValueError(
                f"at most {MAX_DEFERRED_CLOSE_TIMEOUT_S:g} s: a hung collector keeps every "
                "capture stream open this long (max_requests of them fill the circuit "
                "breaker, and later captures are refused), and the collector connections' "
                "keepalive timeout is twice it (a dead connection is found that much later)"
            )
        # Envoy 1.37 and 1.40 take a finer hold without a word and cut it to whole
        # milliseconds (2.0005 s is held 2 s): refused, not held other than written.
        milliseconds = value * 1000
        if abs(milliseconds - round(milliseconds)) > HOLD_PRECISION_MS:
            raise ValueError(
                "a whole number of milliseconds: Envoy reads the hold in whole milliseconds and "
                f"drops the rest ({value:g} s would be held {int(milliseconds) / 1000:g} s)"
            )
        return value

    @field_validator("host")
    @classmethod
    def _full_name(cls, value: str) -> str:
        """Istio names the sidecars' cluster after the Service's lower-case full name
        (outbound|port||host); any other spelling names a cluster that never exists."""
        host = value.strip().lower().rstrip(".")
        if not _ROUTABLE_HOST.fullmatch(host) or len(host) > 253:
            raise ValueError(
                "not the collector Service's full name (no scheme, no port: e.g. "
                "mockado-collector.mockado.svc.cluster.local)"
            )
        return host


class GlobalCapture(NamespaceConfig):
    enabled: bool = False

    @field_validator("canary")
    @classmethod
    def _no_global_canary(cls, canary: CanaryConfig | None) -> None:
        if canary is not None:
            raise ValueError("canaries are per namespace (control_plane.namespaces.<name>.canary)")
        return canary

    @field_validator("default_deny_egress")
    @classmethod
    def _no_global_egress(cls, deny: bool) -> bool:
        if deny:
            raise ValueError(
                "egress is per namespace (control_plane.namespaces.<name>.default_deny_egress)"
            )
        return deny


def redis_maxmemory_bytes(maxmemory: str) -> int:
    """ "1gb" -> 1073741824 (redis-server reads kb, mb and gb as powers of 2)."""
    return int(maxmemory[:-2]) * _REDIS_UNITS[maxmemory[-2:]]


def redis_disk_quantity(maxmemory: str) -> str:
    """The room Redis's data directory needs (REDIS_DISK_FACTOR x maxmemory, at least
    REDIS_DISK_MIN_MIB), as a Kubernetes quantity: "4Gi", or MiB rounded up ("1600Mi")."""
    mib = max(REDIS_DISK_MIN_MIB, -(-REDIS_DISK_FACTOR * redis_maxmemory_bytes(maxmemory) // 2**20))
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


class RedisPersistence(ConfigSection):
    """Where the rendered Redis keeps its append-only file. Off: an emptyDir, gone with the
    pod (the queue, each shard's stub record, the claims); on: a PersistentVolumeClaim."""

    enabled: bool = False
    # The claim's request; unset: REDIS_DISK_FACTOR x redis_maxmemory (as the emptyDir's
    # sizeLimit). Less is refused at load.
    size: str | None = None
    # The cluster's default StorageClass when unset.
    storage_class: str | None = None

    @field_validator("size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and memory_bytes(value) <= 0:
            raise ValueError("must be more than 0")
        return value

    @field_validator("storage_class")
    @classmethod
    def _storage_class(cls, name: str | None) -> str | None:
        return None if name is None else check_dns_subdomain(name)


class MetricsScraper(ConfigSection):
    """Who scrapes mockado's metrics ports: the rendered NetworkPolicies let only these pods
    in (besides the kubelet's probes). The default matches the Prometheus Operator's pods."""

    # Its namespace; default control_plane.prometheus_namespace, else mockado_namespace.
    namespace: str | None = None
    pod_labels: dict[str, str] = Field(
        default_factory=lambda: {"app.kubernetes.io/name": "prometheus"}
    )

    _namespace = field_validator("namespace")(
        classmethod(lambda cls, v: check_optional_dns_label(v))
    )

    @field_validator("pod_labels")
    @classmethod
    def _pod_labels(cls, labels: dict[str, str]) -> dict[str, str]:
        if not labels:
            # An empty selector is every pod of the namespace: name the scraper.
            raise ValueError("name at least one label of the scraper's pods")
        return check_labels(labels)


class ControlPlaneConfig(ConfigSection):
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
    # Redis's data across pod replacement (a PersistentVolumeClaim), off by default.
    redis_persistence: RedisPersistence = Field(default_factory=RedisPersistence)
    # Sizing and scheduling of each rendered Deployment (deploy/).
    workloads: WorkloadsConfig = Field(default_factory=WorkloadsConfig)
    # Secrets (in mockado_namespace) the kubelet pulls every image with.
    image_pull_secrets: list[str] = Field(default_factory=list)
    # Where the Prometheus Operator looks for ServiceMonitors/PodMonitors; default
    # mockado_namespace (deploy/monitoring/*.yaml).
    prometheus_namespace: str | None = None
    # The pods that scrape every metrics port (NetworkPolicy); see MetricsScraper.
    metrics_scraper: MetricsScraper = Field(default_factory=MetricsScraper)
    # The label (and folder) Grafana's dashboard sidecar finds the dashboard's ConfigMap by.
    grafana_dashboard: GrafanaDashboardConfig = Field(default_factory=GrafanaDashboardConfig)
    # The Envoy minor version of the mesh's sidecars ("1.37"): `render --check --envoy BIN`
    # requires BIN to be it; with the bundled Envoy, --check says when the versions differ.
    envoy_version: str = Field(default=ENVOY_VERSION, pattern=r"^1\.[0-9]{2}$")
    # The mesh's trust domain: workload identities (AuthorizationPolicy principals) are
    # <trust_domain>/ns/<namespace>/sa/<service account>.
    trust_domain: str = Field(
        default=CLUSTER_DOMAIN,
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    )
    # The runbook the alerts link to: each alert's runbook_url is this page with the
    # alert's name, lower-cased, as its anchor (#mockadocollectordown). A fork or an
    # internal mirror points it at its own copy of docs/runbook.md.
    runbook_url: str = DEFAULT_RUNBOOK_URL

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _namespace = field_validator("root_namespace", "mockado_namespace")(
        classmethod(lambda cls, v: check_dns_label(v))
    )
    _images = field_validator("image", "redis_image")(classmethod(lambda cls, v: check_image(v)))

    _prometheus_namespace = field_validator("prometheus_namespace")(
        classmethod(lambda cls, v: check_optional_dns_label(v))
    )

    @field_validator("runbook_url")
    @classmethod
    def _runbook_url(cls, url: str) -> str:
        url = check_http_url(url)
        if _NOT_IN_URL.search(url):
            raise ValueError(
                "not a URL: a space, a quote, a brace or another character a URL escapes"
            )
        if "#" in url:
            raise ValueError("the page without an #anchor: each alert appends its own")
        return url

    def redis_disk_size(self) -> str:
        """The rendered Redis's data volume: the claim's request, or the emptyDir's
        sizeLimit (redis_persistence.size when set, else derived from redis_maxmemory)."""
        return self.redis_persistence.size or redis_disk_quantity(self.redis_maxmemory)

    @model_validator(mode="after")
    def _redis_disk_holds_a_rewrite(self) -> ControlPlaneConfig:
        size = self.redis_persistence.size
        needed = redis_disk_quantity(self.redis_maxmemory)
        if size is not None and memory_bytes(size) < memory_bytes(needed):
            raise KeyedValueError(
                "redis_persistence.size",
                f"{size} is less than {REDIS_DISK_FACTOR} x redis_maxmemory "
                f"({self.redis_maxmemory}) = {needed}: an append-only-file rewrite could fill "
                "it; raise it (or leave it unset: derived), or lower redis_maxmemory",
            )
        return self

    def scraper_namespace(self) -> str:
        """The namespace of the pods that scrape mockado's metrics ports."""
        return self.metrics_scraper.namespace or self.prometheus_namespace or self.mockado_namespace

    @field_validator("image_pull_secrets")
    @classmethod
    def _pull_secrets(cls, names: list[str]) -> list[str]:
        return check_each(names, check_dns_subdomain)

    @model_validator(mode="before")
    @classmethod
    def _collector_follows_namespace(cls, data: Any) -> Any:
        """Without an explicit collector.host, sidecars stream to the collector in
        mockado_namespace, wherever that is."""
        if not isinstance(data, dict) or "mockado_namespace" not in data:
            return data
        collector = data.get("collector")
        if collector is None:
            collector = {}
        if isinstance(collector, dict) and "host" not in collector:
            namespace = data["mockado_namespace"]
            host = f"{COLLECTOR_SERVICE}.{namespace}.svc.{CLUSTER_DOMAIN}"
            data = {**data, "collector": {**collector, "host": host}}
        return data

    @field_validator("namespaces")
    @classmethod
    def _namespace_names(cls, namespaces: dict[str, NamespaceConfig], info: ValidationInfo) -> dict:
        for name in namespaces:
            try:
                check_dns_label(name)
            except ValueError as exc:
                raise KeyedValueError(name, str(exc)) from None
            if name == info.data.get("mockado_namespace"):
                # Its sidecars drop the capture filter (envoyfilter-no-capture.yaml): the
                # collector would capture itself.
                raise KeyedValueError(name, "mockado's own namespace is never captured")
            if name == info.data.get("root_namespace"):
                # A filter in the root namespace applies to every sidecar in the mesh.
                raise KeyedValueError(
                    name,
                    "the root namespace makes capture mesh-wide; ask for that explicitly "
                    "with control_plane.global.enabled",
                )
        return namespaces

    @model_validator(mode="after")
    def _collector_not_a_short_name(self) -> ControlPlaneConfig:
        # Istio names the cluster after the FQDN: outbound|port||<short name> never exists.
        labels = self.collector.host.split(".")
        namespaces = {self.mockado_namespace, *self.namespaces}
        if labels[-1] == "svc" or (len(labels) == 2 and labels[1] in namespaces):
            raise KeyedValueError(
                "collector.host",
                "a short name of a Service; write its full name "
                "(<service>.<namespace>.svc.<cluster domain>), the one Istio's clusters use",
            )
        return self

    @model_validator(mode="after")
    def _one_capture_scope(self) -> ControlPlaneConfig:
        # A root-namespace filter already applies to every namespace: both would insert
        # two capture filters into the same sidecars.
        enabled = sorted(name for name, ns in self.namespaces.items() if ns.enabled)
        if self.global_.enabled and enabled:
            raise KeyedValueError(
                "global.enabled",
                f"also enabled namespaces ({', '.join(enabled)}) would be captured twice; "
                "disable one of them (enabled: false)",
            )
        return self
