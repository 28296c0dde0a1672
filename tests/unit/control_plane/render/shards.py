"""A config with WireMock shard groups and canaries, shared by the serving tests."""

from __future__ import annotations

from typing import Any

from ext_proc_server.core.config import MockadoConfig

GROUPS = {
    "payments": ["payments.*", "billing-?.internal"],
    "partners": ["*.partner.example.com"],
}
HOSTS = [
    "payments.payments.svc.cluster.local",
    "billing-1.internal.",  # two labels, outside the cluster: the final dot says so
    "api.partner.example.com",
    "inventory.shop.svc.cluster.local",
]
# The names the canary routes: a Service's full name, or an outside host without its dot.
ROUTED = [host.removesuffix(".") for host in HOSTS]


def config_with(
    *,
    groups: dict[str, list[str]] | None = None,
    namespaces: dict[str, Any] | None = None,
    serving: dict[str, Any] | None = None,
    loader: dict[str, Any] | None = None,
    **global_: Any,
) -> MockadoConfig:
    data: dict[str, Any] = {
        "serving": {"shard_groups": GROUPS if groups is None else groups, **(serving or {})},
        "control_plane": {"namespaces": namespaces or {}},
    }
    if global_:
        data["control_plane"]["global"] = global_
    if loader:
        data["loader"] = loader
    return MockadoConfig.model_validate(data)


def canary_ns(hosts: list[str], labels: dict[str, str] | None = None, **ns: Any) -> dict:
    return {"enabled": False, "canary": {"workload_labels": labels or {"track": "canary"},
                                         "hosts": hosts}, **ns}  # fmt: skip
