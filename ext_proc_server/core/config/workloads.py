"""``control_plane.workloads``: how each rendered Deployment is sized and scheduled.

Only what users otherwise hand-edit in deploy/ (which `render --check` then reports as
out of date): resources, replica counts, node selectors and tolerations. A value left out
keeps the rendered default.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ext_proc_server.core.config.checks import check_labels
from ext_proc_server.core.config.sections import ConfigSection

# Kubernetes quantities: CPU in cores or millicores, memory in bytes with a suffix.
_CPU = re.compile(r"(?P<number>[0-9]+(\.[0-9]+)?)(?P<unit>m?)")
_MEMORY = re.compile(r"(?P<number>[0-9]+(\.[0-9]+)?)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T|)")
_MEMORY_UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def cpu_cores(quantity: str) -> Decimal:
    """ "250m" -> 0.25, "2" -> 2; ValueError for anything else."""
    match = _CPU.fullmatch(quantity)
    if match is None:
        raise ValueError("not a CPU quantity (cores like 0.5 or 2, or millicores like 250m)")
    number = Decimal(match["number"])
    return number / 1000 if match["unit"] else number


def memory_bytes(quantity: str) -> Decimal:
    """ "256Mi" -> 268435456; ValueError for anything else (lower-case "mi" included)."""
    match = _MEMORY.fullmatch(quantity)
    if match is None:
        raise ValueError("not a memory quantity (bytes with Ki, Mi, Gi, Ti, k, M, G or T)")
    return Decimal(match["number"]) * _MEMORY_UNITS[match["unit"]]


class ResourceAmounts(ConfigSection):
    cpu: str | None = None
    memory: str | None = None

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str | None) -> str | None:
        if value is not None and cpu_cores(value) <= 0:
            raise ValueError("must be more than 0")
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and memory_bytes(value) <= 0:
            raise ValueError("must be more than 0")
        return value


class Resources(ConfigSection):
    requests: ResourceAmounts = Field(default_factory=ResourceAmounts)
    limits: ResourceAmounts = Field(default_factory=ResourceAmounts)

    @model_validator(mode="after")
    def _request_within_limit(self) -> Resources:
        # Kubernetes refuses a pod whose request exceeds its limit: say so before apply.
        for name, parse in (("cpu", cpu_cores), ("memory", memory_bytes)):
            request, limit = getattr(self.requests, name), getattr(self.limits, name)
            if request is not None and limit is not None and parse(request) > parse(limit):
                raise ValueError(f"requests.{name} {request} is above limits.{name} {limit}")
        return self


class Toleration(ConfigSection):
    key: str | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> Toleration:
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("value: must be empty when operator is Exists")
        if self.operator == "Equal" and self.key is None:
            raise ValueError("key: required when operator is Equal")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("toleration_seconds: only with effect NoExecute")
        return self

    def manifest(self) -> dict[str, object]:
        """The pod spec's form (camelCase, unset fields left out)."""
        out: dict[str, object] = {"operator": self.operator}
        for key, field in (("key", "key"), ("value", "value"), ("effect", "effect")):
            if getattr(self, field) is not None:
                out[key] = getattr(self, field)
        if self.toleration_seconds is not None:
            out["tolerationSeconds"] = self.toleration_seconds
        return out


class WorkloadConfig(ConfigSection):
    """Sizing and scheduling of one Deployment (each WireMock shard for ``wiremock``)."""

    resources: Resources = Field(default_factory=Resources)
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)

    _selector = field_validator("node_selector")(classmethod(lambda cls, v: check_labels(v)))


class CollectorWorkload(WorkloadConfig):
    # The HorizontalPodAutoscaler's bounds: the Deployment itself sets no replica count,
    # so an apply never resets the scale the HPA chose.
    min_replicas: int = Field(default=2, ge=1)
    max_replicas: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _bounds(self) -> CollectorWorkload:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"max_replicas: {self.max_replicas} is below min_replicas {self.min_replicas}"
            )
        return self


class LoaderWorkload(WorkloadConfig):
    # Replicas share one Redis consumer group, so any count is safe.
    replicas: int = Field(default=1, ge=1)


class WorkloadsConfig(ConfigSection):
    """One entry per Deployment kind. WireMock shards and Redis run one replica each
    (stubs and the queue live in that pod), so they have no replica count."""

    collector: CollectorWorkload = Field(default_factory=CollectorWorkload)
    loader: LoaderWorkload = Field(default_factory=LoaderWorkload)
    wiremock: WorkloadConfig = Field(default_factory=WorkloadConfig)
    redis: WorkloadConfig = Field(default_factory=WorkloadConfig)
