"""Services: a name in DNS, a virtual IP that answers only on the Service's ports, and
forwarding to the selected pods on the port ``targetPort`` names (kube-proxy's job).

Each Service is a small container on the box network (``agent/service_proxy.py``) with
the network aliases name, name.ns, name.ns.svc and name.ns.svc.cluster.local; its IP is
the ClusterIP the pods see in their Service environment variables.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.support.box.errors import BoxError
from tests.support.box.manifests import Workload, selects
from tests.support.box.pods import AGENT_DIR, BoxContext, container_ip, dns_names, sandbox_name
from tests.support.box.podspec import resolve_port, service_link_env

SERVING_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ServiceProxy:
    namespace: str
    name: str
    docker_name: str
    cluster_ip: str
    ports: Sequence[Mapping[str, Any]]


def forwarding_specs(
    ctx: BoxContext, service: Mapping[str, Any], workloads: Sequence[Workload]
) -> list[str]:
    """``PORT=POD:TARGET,...`` per Service port, targetPort resolved in each selected pod."""
    meta, spec = service["metadata"], service.get("spec") or {}
    where = f"Service {meta.get('namespace', 'default')}/{meta['name']}"
    if spec.get("clusterIP") == "None" or spec.get("type") == "ExternalName":
        raise BoxError(f"{where}: headless and ExternalName Services are not supported by the box")
    selected = [
        w for w in workloads
        if w.namespace == meta.get("namespace", "default") and selects(spec.get("selector"), w.labels)
    ]  # fmt: skip
    specs = []
    for port in spec.get("ports") or []:
        target = port.get("targetPort", port["port"])
        what = f"{where} port {port['port']}"
        backends = [
            f"{sandbox_name(ctx, w)}:{resolve_port(target, w.pod_spec, what=what)}"
            for w in selected
        ]
        specs.append(f"{port['port']}={','.join(backends)}")
    return specs


def start_service(
    ctx: BoxContext, service: Mapping[str, Any], workloads: Sequence[Workload]
) -> ServiceProxy:
    meta = service["metadata"]
    namespace = meta.get("namespace", "default")
    name = ctx.docker_name("svc", namespace, meta["name"])
    aliases = [
        arg for alias in dns_names(meta["name"], namespace) for arg in ("--network-alias", alias)
    ]
    ctx.docker.run(
        "run", "-d", "--name", name, "--label", ctx.label, "--network", ctx.network, *aliases,
        "-v", f"{AGENT_DIR}:/box:ro", ctx.sandbox_image,
        "python3", "-u", "/box/service_proxy.py", *forwarding_specs(ctx, service, workloads),
    )  # fmt: skip
    ip = container_ip(ctx, name)
    return ServiceProxy(
        namespace, meta["name"], name, ip, (service.get("spec") or {}).get("ports") or []
    )


def wait_serving(ctx: BoxContext, proxies: Sequence[ServiceProxy]) -> None:
    """Every proxy has bound its ports (a port it cannot bind ends it)."""
    deadline = time.monotonic() + SERVING_TIMEOUT_S
    for proxy in proxies:
        while "serving" not in ctx.docker.logs(proxy.docker_name, tail=5):
            if time.monotonic() > deadline:
                raise BoxError(
                    f"Service {proxy.namespace}/{proxy.name} did not start:\n"
                    + ctx.docker.logs(proxy.docker_name, tail=20)
                )
            time.sleep(0.2)


def namespace_env(proxies: Sequence[ServiceProxy], namespace: str) -> dict[str, str]:
    """The Service variables every pod of the namespace gets (enableServiceLinks)."""
    env: dict[str, str] = {}
    for proxy in proxies:
        if proxy.namespace == namespace:
            env.update(service_link_env(proxy.name, proxy.cluster_ip, proxy.ports))
    return env
