"""The ``control_plane`` section: what `mockado render` writes for Istio and Kubernetes."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from ext_proc_server.core.config.sections import KIB, MIB, ConfigSection, TLSClient


class CanaryConfig(ConfigSection):
    # Labels selecting the canary workloads whose calls go to the mocks.
    workload_labels: dict[str, str] = Field(default_factory=dict)
    # Captured hosts to mock for those workloads.
    hosts: list[str] = Field(default_factory=list)


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
    workload_selector: dict[str, str] = Field(default_factory=dict)
    canary: CanaryConfig | None = None


class CollectorService(ConfigSection):
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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
