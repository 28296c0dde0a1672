"""Each rendered Deployment's sizing and scheduling: the rendered defaults overlaid with
``control_plane.workloads``, the pull secrets, topology spread and disruption budgets."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.config.workloads import WorkloadConfig

# Rendered requests/limits when the config sets none (WireMock's and Redis's memory follow
# the heap and maxmemory; see kubernetes.py).
DEFAULT_RESOURCES = {
    "collector": {"requests": {"cpu": "100m", "memory": "128Mi"},
                  "limits": {"cpu": "500m", "memory": "512Mi"}},
    "loader": {"requests": {"cpu": "50m", "memory": "64Mi"},
               "limits": {"cpu": "500m", "memory": "256Mi"}},
    "wiremock": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1"}},
    "redis": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1"}},
}  # fmt: skip


@dataclass(frozen=True)
class PodPlacement:
    """What a workload's pod template carries besides its containers."""

    resources: dict[str, dict[str, str]]
    node_selector: dict[str, str]
    tolerations: list[dict[str, object]]
    image_pull_secrets: list[str]
    # Pods of the same spread group are spread over nodes and zones.
    spread_labels: dict[str, str]


def _resources(kind: str, workload: WorkloadConfig, memory_mi: tuple[int, int] | None) -> dict:
    out = {side: dict(amounts) for side, amounts in DEFAULT_RESOURCES[kind].items()}
    if memory_mi is not None:
        out["requests"]["memory"], out["limits"]["memory"] = (f"{m}Mi" for m in memory_mi)
    for side in ("requests", "limits"):
        for name, value in getattr(workload.resources, side).model_dump().items():
            if value is not None:
                out[side][name] = value
    return out


def placement(
    config: MockadoConfig,
    kind: str,
    *,
    spread_labels: dict[str, str],
    memory_mi: tuple[int, int] | None = None,
) -> PodPlacement:
    """``kind`` is a key of control_plane.workloads; ``memory_mi`` the computed default
    (request, limit) when the memory follows another setting."""
    cp = config.control_plane
    workload: WorkloadConfig = getattr(cp.workloads, kind)
    return PodPlacement(
        resources=_resources(kind, workload, memory_mi),
        node_selector=dict(sorted(workload.node_selector.items())),
        tolerations=[t.manifest() for t in workload.tolerations],
        image_pull_secrets=list(cp.image_pull_secrets),
        spread_labels=spread_labels,
    )


def content_checksum(*texts: str) -> str:
    """The pod-template annotation value that changes whenever a mounted ConfigMap does,
    so `kubectl apply` rolls the pods instead of leaving them on the old file."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def disruption_budget_targets(wiremock_services: list[str]) -> list[tuple[str, str]]:
    """(Deployment, component) of every PodDisruptionBudget: one per Deployment."""
    return [
        ("mockado-collector", "collector"),
        ("mockado-loader", "loader"),
        ("mockado-redis", "queue"),
        *((service, "wiremock") for service in wiremock_services),
    ]
