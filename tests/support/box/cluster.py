"""The cluster in a box: apply manifests, run every workload as real containers, call in.

    with Box(docker, sandbox_image=images.base, run_dir=tmp) as box:
        box.apply_dir(rendered / "deploy")
        box.create_secret_generic("mockado", "mockado-env", {"MOCKADO_...": "..."})
        box.start()                      # every pod Ready, or BoxError naming the culprit
        reply = box.http("GET", "http://svc.ns.svc.cluster.local/path", namespace="ns")
        text = box.tcp("redis.ns.svc.cluster.local", 6379, b"PING\r\n", namespace="ns")
        box.check_running()              # nothing crashed since
        box.delete_pod("ns", "loader")   # its pod gone (scaled to zero)
        pod = box.replace_pod("ns", "wiremock")  # a new pod (a rollout, an eviction)
        box.wait_ready(pod)

One docker network per box; one replica per Deployment/StatefulSet (enough to prove
each pod starts and serves). HPAs, NetworkPolicies and Istio resources are kept but not
enforced.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.box.engine import BOX_LABEL, Docker
from tests.support.box.errors import BoxError
from tests.support.box.manifests import Manifests, secret_generic
from tests.support.box.pods import (
    BoxContext,
    Pod,
    pod_containers,
    pod_dir,
    start_pod,
    start_sandbox,
)
from tests.support.box.probes import Watched, check_running, wait_ready
from tests.support.box.services import ServiceProxy, namespace_env, start_service, wait_serving

DEFAULT_READY_TIMEOUT_S = 240.0
CLIENT_POD = "box-client"
POD_START_WORKERS = 4


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Box:
    """A cluster in a box on one docker network; ``close`` removes everything it started."""

    def __init__(
        self,
        docker: Docker,
        *,
        sandbox_image: str,
        run_dir: Path,
        ready_timeout_s: float = DEFAULT_READY_TIMEOUT_S,
    ) -> None:
        run_id = secrets.token_hex(3)
        self.manifests = Manifests()
        self.ctx = BoxContext(
            docker=docker,
            network=f"mbox-{run_id}",
            prefix=f"mbox-{run_id}",
            label=f"{BOX_LABEL}={run_id}",
            sandbox_image=sandbox_image,
            manifests=self.manifests,
            run_dir=run_dir,
        )
        self.ready_timeout_s = ready_timeout_s
        self.pods: list[Pod] = []
        self.services: list[ServiceProxy] = []
        self._clients: dict[str, str] = {}
        self._network_created = False

    # -- objects -----------------------------------------------------------------------

    def apply(self, doc: Mapping[str, Any]) -> None:
        self.manifests.apply(doc)

    def apply_dir(self, directory: Path) -> None:
        self.manifests.apply_dir(directory)

    def apply_yaml(self, text: str) -> None:
        self.manifests.apply_yaml(text)

    def create_secret_generic(
        self, namespace: str, name: str, from_literal: Mapping[str, str]
    ) -> None:
        """``kubectl -n NAMESPACE create secret generic NAME --from-literal=K=V ...``"""
        self.manifests.apply(secret_generic(namespace, name, from_literal=from_literal))

    # -- running -----------------------------------------------------------------------

    def start(self) -> None:
        """Services, then every workload's pod; returns once every container is Ready."""
        self._check_namespaces()
        workloads = [w for w in self.manifests.workloads() if w.replicas > 0]
        if not workloads:
            raise BoxError("nothing to run: no Deployment or StatefulSet applied")
        self.ctx.docker.run("network", "create", "--label", self.ctx.label, self.ctx.network)
        self._network_created = True
        self.services = [start_service(self.ctx, s, workloads) for s in self.manifests.services()]
        wait_serving(self.ctx, self.services)
        # Pods start side by side, as on a node; each one's init containers in order.
        with ThreadPoolExecutor(max_workers=POD_START_WORKERS) as pool:
            started = pool.map(
                lambda w: start_pod(
                    self.ctx, w, service_env=namespace_env(self.services, w.namespace)
                ),
                workloads,
            )
            self.pods = list(started)
        wait_ready(self.ctx.docker, self.containers(), timeout_s=self.ready_timeout_s)

    def pod(self, namespace: str, workload: str) -> Pod:
        found = [
            p for p in self.pods if (p.workload.namespace, p.workload.name) == (namespace, workload)
        ]
        if not found:
            raise BoxError(f"no pod of {namespace}/{workload} runs")
        return found[0]

    def delete_pod(self, namespace: str, workload: str) -> None:
        """Remove the workload's pod: its containers stop at once (no restart follows)."""
        pod = self.pod(namespace, workload)
        self.ctx.docker.remove(pod_containers(pod))
        self.pods.remove(pod)

    def replace_pod(self, namespace: str, workload: str) -> Pod:
        """A new pod for the workload, as a rollout or an eviction makes one: the old pod
        goes, the new one (same name, new emptyDirs) starts; not waited on (``wait_ready``).
        The Services reach it under the same name."""
        pod = self.pod(namespace, workload)
        self.delete_pod(namespace, workload)
        shutil.rmtree(pod_dir(self.ctx, pod.workload), ignore_errors=True)
        new = start_pod(self.ctx, pod.workload, service_env=namespace_env(self.services, namespace))
        self.pods.append(new)
        return new

    def roll(self, namespace: str, workload: str) -> Pod:
        """A new pod from the workload as applied now (``kubectl apply`` of a changed
        Deployment, then its rollout): the old pod goes; not waited on (``wait_ready``)."""
        applied = [
            w for w in self.manifests.workloads() if (w.namespace, w.name) == (namespace, workload)
        ]
        if not applied:
            raise BoxError(f"no workload {namespace}/{workload} applied")
        old = self.pod(namespace, workload)
        self.delete_pod(namespace, workload)
        shutil.rmtree(pod_dir(self.ctx, old.workload), ignore_errors=True)
        new = start_pod(self.ctx, applied[0], service_env=namespace_env(self.services, namespace))
        self.pods.append(new)
        return new

    def wait_ready(self, pod: Pod) -> None:
        """Until every container of the pod is Ready (BoxError as for ``start``)."""
        wait_ready(self.ctx.docker, pod.containers, timeout_s=self.ready_timeout_s)

    def containers(self) -> list[Watched]:
        return [c for pod in self.pods for c in pod.containers]

    def check_running(self) -> None:
        """Raise when a container exited since it was Ready (a crash loop in a cluster)."""
        check_running(self.ctx.docker, self.containers())

    def tail_logs(self, lines: int = 15) -> str:
        """The last log lines of every container, for an assertion's message."""
        return "\n".join(
            f"--- {c.where()}\n{self.ctx.docker.logs(c.docker_name, tail=lines).rstrip()}"
            for c in self.containers()
        )

    def http(
        self,
        method: str,
        url: str,
        *,
        namespace: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        timeout_s: float = 10.0,
    ) -> HttpReply:
        """One HTTP call from a pod of ``namespace`` (its DNS search path, its network)."""
        client = self._client(namespace)
        header_args = [f"{k}:{v}" for k, v in (headers or {}).items()]
        proc = self.ctx.docker.run(
            "exec", "-i", client, "python3", "/box/http_call.py", method, url, str(timeout_s),
            *header_args, input_bytes=body, check=False, timeout_s=timeout_s + 30,
        )  # fmt: skip
        if proc.returncode != 0:
            raise BoxError(
                f"{method} {url} from {namespace}: {proc.stderr.decode(errors='replace')[-1500:]}"
            )
        reply = json.loads(proc.stdout)
        return HttpReply(reply["status"], [tuple(h) for h in reply["headers"]], reply["body"])

    def tcp(
        self, host: str, port: int, data: bytes, *, namespace: str, timeout_s: float = 3.0
    ) -> str:
        """Send ``data`` to ``host:port`` from a pod of ``namespace``; what came back."""
        client = self._client(namespace)
        proc = self.ctx.docker.run(
            "exec", "-i", client, "python3", "/box/tcp_call.py", host, str(port), str(timeout_s),
            input_bytes=data, check=False, timeout_s=timeout_s + 30,
        )  # fmt: skip
        if proc.returncode != 0:
            raise BoxError(
                f"tcp {host}:{port} from {namespace}: "
                f"{proc.stderr.decode(errors='replace')[-1500:]}"
            )
        return json.loads(proc.stdout)["reply"]

    def close(self) -> None:
        """Keep every container's log under run_dir/logs, then remove containers and network."""
        names = self.ctx.docker.text(
            "ps", "-a", "--filter", f"label={self.ctx.label}", "--format", "{{.Names}}"
        )
        logs_dir = self.ctx.run_dir / "logs"
        logs_dir.mkdir(parents=True, exist_ok=True)
        for name in names.split():
            (logs_dir / f"{name}.log").write_text(
                self.ctx.docker.logs(name, tail=2000), encoding="utf-8"
            )
        self.ctx.docker.remove(names.split())
        if self._network_created:
            self.ctx.docker.run("network", "rm", self.ctx.network, check=False)

    def __enter__(self) -> Box:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------

    def _check_namespaces(self) -> None:
        declared = {d["metadata"]["name"] for d in self.manifests.of_kind("Namespace")}
        missing = self.manifests.namespaces() - declared - {"default"}
        if missing:
            raise BoxError(f"objects in namespaces that were never created: {sorted(missing)}")

    def _client(self, namespace: str) -> str:
        if namespace not in self._clients:
            self._clients[namespace], _ = start_sandbox(
                self.ctx, namespace=namespace, pod_name=CLIENT_POD
            )
        return self._clients[namespace]
