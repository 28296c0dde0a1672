"""Running one pod with docker, the way a kubelet would.

A pod is a sandbox container that holds the network namespace (like the pause
container), with the pod's hostname, DNS search path and network aliases; its init
containers run one after another to completion, then its containers start in it, each with
the argv, environment, mounts, user, capabilities and limits its spec gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.box.engine import Docker
from tests.support.box.errors import BoxError
from tests.support.box.manifests import Manifests, Workload, decoded
from tests.support.box.podspec import (
    EnvSources,
    Security,
    container_env,
    cpu_cores,
    effective_argv,
    expand,
    memory_bytes,
    security,
)
from tests.support.box.probes import PROBE_KINDS, Probe, Watched, exit_reason, failure, probe_check
from tests.support.box.volumes import Volume, materialize, mounts

CLUSTER_DOMAIN = "cluster.local"
AGENT_DIR = Path(__file__).with_name("agent")
INIT_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class BoxContext:
    """What every pod of one box run shares."""

    docker: Docker
    network: str
    prefix: str  # of every docker name of this run
    label: str  # "mockado.box=<run id>", on every container and the network
    sandbox_image: str
    manifests: Manifests
    run_dir: Path

    def docker_name(self, *parts: str) -> str:
        return "-".join((self.prefix, *parts))


def dns_names(name: str, namespace: str) -> list[str]:
    """How a Service is reachable: name, name.ns, name.ns.svc, name.ns.svc.cluster.local."""
    return [name, f"{name}.{namespace}", f"{name}.{namespace}.svc",
            f"{name}.{namespace}.svc.{CLUSTER_DOMAIN}"]  # fmt: skip


def dns_args(namespace: str) -> list[str]:
    """Kubernetes' resolv.conf: the namespace's search path first, ndots 5."""
    search = [f"{namespace}.svc.{CLUSTER_DOMAIN}", f"svc.{CLUSTER_DOMAIN}", CLUSTER_DOMAIN]
    return [arg for domain in search for arg in ("--dns-search", domain)] + [
        "--dns-option",
        "ndots:5",
    ]


@dataclass
class Pod:
    """A started pod: its sandbox, IP, and the containers the box waits on."""

    workload: Workload
    sandbox: str
    ip: str
    containers: list[Watched] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.workload.pod_name


def sandbox_name(ctx: BoxContext, workload: Workload) -> str:
    return ctx.docker_name(workload.namespace, workload.pod_name)


def pod_dir(ctx: BoxContext, workload: Workload) -> Path:
    """Where the pod's volumes live on this machine."""
    return ctx.run_dir / "pods" / f"{workload.namespace}-{workload.pod_name}"


def claim_dir(ctx: BoxContext, namespace: str, claim: str) -> Path | None:
    """Where a PersistentVolumeClaim's volume lives (it outlives every pod), or None when
    no such claim was applied."""
    if ctx.manifests.get("PersistentVolumeClaim", namespace, claim) is None:
        return None
    return ctx.run_dir / "claims" / f"{namespace}-{claim}"


def pod_containers(pod: Pod) -> list[str]:
    """The docker names of every container of the pod, init containers and sandbox too."""
    spec = pod.workload.pod_spec
    names = [f"{pod.sandbox}-{c['name']}"
             for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]]  # fmt: skip
    return [*names, pod.sandbox]


def container_ip(ctx: BoxContext, name: str) -> str:
    """The container's address on the box network."""
    network = f'(index .NetworkSettings.Networks "{ctx.network}")'
    return ctx.docker.text("inspect", "--format", f"{{{{{network}.IPAddress}}}}", name)


def start_sandbox(
    ctx: BoxContext, *, namespace: str, pod_name: str, aliases: Sequence[str] = ()
) -> tuple[str, str]:
    """The container holding a pod's network namespace; returns (docker name, pod IP)."""
    name = ctx.docker_name(namespace, pod_name)
    alias_args = [arg for alias in (pod_name, *aliases) for arg in ("--network-alias", alias)]
    ctx.docker.run(
        "run", "-d", "--name", name, "--label", ctx.label, "--hostname", pod_name,
        "--network", ctx.network, *alias_args, *dns_args(namespace),
        "-v", f"{AGENT_DIR}:/box:ro", ctx.sandbox_image, "sleep", "infinity",
    )  # fmt: skip
    return name, container_ip(ctx, name)


@dataclass(frozen=True)
class PodInputs:
    """What each container of one pod draws on: env sources, Service variables, volumes."""

    env_sources: EnvSources
    service_env: Mapping[str, str]
    volumes: Mapping[str, Volume]


def start_pod(ctx: BoxContext, workload: Workload, *, service_env: Mapping[str, str]) -> Pod:
    """Sandbox, init containers to completion, then every container (not waited on)."""
    aliases = []
    if workload.kind == "StatefulSet" and workload.service_name:
        sub = f"{workload.pod_name}.{workload.service_name}.{workload.namespace}"
        aliases = [sub, f"{sub}.svc.{CLUSTER_DOMAIN}"]
    sandbox, ip = start_sandbox(
        ctx, namespace=workload.namespace, pod_name=workload.pod_name, aliases=aliases
    )
    pod = Pod(workload, sandbox, ip)
    inputs = _pod_inputs(ctx, pod, service_env)
    for container in workload.pod_spec.get("initContainers") or []:
        _wait_init(ctx.docker, _start_container(ctx, pod, container, inputs))
    for container in workload.pod_spec.get("containers") or []:
        watched = _start_container(ctx, pod, container, inputs)
        watched.probes = {
            kind: Probe(kind, container[kind], probe_check(
                container[kind], docker=ctx.docker, pod_spec=workload.pod_spec, pod_ip=ip,
                container=watched.docker_name))
            for kind in PROBE_KINDS
            if container.get(kind)
        }  # fmt: skip
        pod.containers.append(watched)
    return pod


def _pod_inputs(ctx: BoxContext, pod: Pod, service_env: Mapping[str, str]) -> PodInputs:
    ns, spec = pod.workload.namespace, pod.workload.pod_spec
    volumes = materialize(
        spec,
        pod_dir=pod_dir(ctx, pod.workload),
        configmap=lambda name: ctx.manifests.configmap_data(ns, name),
        secret=lambda name: ctx.manifests.secret_data(ns, name),
        claim=lambda name: claim_dir(ctx, ns, name),
    )
    sources = EnvSources(
        configmap=lambda name: decoded(ctx.manifests.configmap_data(ns, name)),
        secret=lambda name: decoded(ctx.manifests.secret_data(ns, name)),
        fields={"metadata.name": pod.name, "metadata.namespace": ns, "status.podIP": pod.ip,
                "spec.nodeName": "box", "spec.serviceAccountName": spec.get("serviceAccountName", "default")},
    )  # fmt: skip
    return PodInputs(sources, service_env, volumes)


def _start_container(
    ctx: BoxContext, pod: Pod, container: Mapping[str, Any], inputs: PodInputs
) -> Watched:
    where = f"pod {pod.workload.namespace}/{pod.name}: container {container.get('name')}"
    image = container.get("image")
    if not image or not ctx.docker.image_exists(image):
        raise BoxError(f"{where}: image {image!r} not found (ErrImagePull)")
    config = ctx.docker.image_config(image)
    env = container_env(container, inputs.env_sources, service_env=inputs.service_env)
    argv = effective_argv(
        entrypoint=config.get("Entrypoint"), cmd=config.get("Cmd"),
        command=[expand(a, env) for a in container.get("command") or []],
        args=[expand(a, env) for a in container.get("args") or []],
    )  # fmt: skip
    name = f"{pod.sandbox}-{container['name']}"
    flags = ["--name", name, "--label", ctx.label, "--network", f"container:{pod.sandbox}"]
    flags += ["--entrypoint", argv[0]]
    flags += [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]
    flags += [
        arg for m in mounts(container, inputs.volumes) for arg in ("--volume", m.docker_arg())
    ]
    flags += security_flags(
        security(pod.workload.pod_spec, container, image_user=config.get("User") or "")
    )
    flags += resource_flags(container.get("resources") or {})
    if container.get("workingDir"):
        flags += ["--workdir", container["workingDir"]]
    watched = Watched(pod.workload.namespace, pod.name, container["name"], name, image, argv)
    proc = ctx.docker.run("run", "-d", *flags, image, *argv[1:], check=False)
    if proc.returncode != 0:
        # The runtime could not even start it (a missing executable, a bad mount): the
        # kubelet reports RunContainerError and retries in a crash loop.
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        reason = " ".join(line for line in lines if "docker run --help" not in line) or "?"
        raise failure(ctx.docker, watched, f"could not start (RunContainerError): {reason}")
    return watched


def security_flags(sec: Security) -> list[str]:
    """docker run flags for the container's security settings."""
    flags = []
    if sec.user is not None:
        flags += ["--user", sec.user]
    for group in sec.groups:
        flags += ["--group-add", str(group)]
    if sec.read_only_root:
        flags.append("--read-only")
    if sec.no_new_privileges:
        flags += ["--security-opt", "no-new-privileges"]
    if sec.privileged:
        flags.append("--privileged")
    flags += [f for cap in sec.cap_drop for f in ("--cap-drop", cap)]
    flags += [f for cap in sec.cap_add for f in ("--cap-add", cap)]
    return flags


def resource_flags(resources: Mapping[str, Any]) -> list[str]:
    """docker run flags for resources.limits (requests only schedule; nothing to do here)."""
    limits = resources.get("limits") or {}
    flags = []
    if "memory" in limits:
        flags += ["--memory", str(memory_bytes(limits["memory"]))]
    if "cpu" in limits:
        flags += ["--cpus", f"{cpu_cores(limits['cpu']):.3f}"]
    return flags


def _wait_init(docker: Docker, watched: Watched) -> None:
    proc = docker.run("wait", watched.docker_name, check=False, timeout_s=INIT_TIMEOUT_S)
    state = docker.inspect(watched.docker_name)["State"]
    if proc.returncode != 0 or state.get("ExitCode") != 0:
        raise failure(docker, watched, f"(an init container) {exit_reason(state)}")
