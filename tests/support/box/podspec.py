"""Kubernetes' rules for turning a container spec into a process, as pure functions.

The kubelet side effects (volumes on disk, docker commands) live elsewhere; these are the
rules: the effective argv, the environment, the security context, ports and resources.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.support.box.errors import BoxError

# $(VAR) is replaced by VAR's value when VAR is defined; $$ escapes a dollar.
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_MEMORY_UNITS = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
}  # fmt: skip


def effective_argv(
    *,
    entrypoint: Sequence[str] | None,
    cmd: Sequence[str] | None,
    command: Sequence[str] | None,
    args: Sequence[str] | None,
) -> list[str]:
    """What the container runs: ``command`` replaces the image's ENTRYPOINT, ``args`` its CMD.

    A ``command`` without ``args`` drops the image's CMD too (Kubernetes' rule).
    """
    if command:
        argv = [*command, *(args or [])]
    else:
        argv = [*(entrypoint or []), *(args if args else (cmd or []))]
    if not argv:
        raise BoxError("no command: the image has no ENTRYPOINT/CMD and the spec sets none")
    return argv


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion in command, args and env values."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REFERENCE.sub(one, value)


@dataclass(frozen=True)
class EnvSources:
    """Where env values come from: lookups of the applied ConfigMaps and Secrets."""

    configmap: Callable[[str], Mapping[str, str] | None]
    secret: Callable[[str], Mapping[str, str] | None]
    fields: Mapping[str, str]  # fieldRef paths: metadata.name, status.podIP, ...


def container_env(
    container: Mapping[str, Any], sources: EnvSources, *, service_env: Mapping[str, str]
) -> dict[str, str]:
    """The environment: Service links, then envFrom in order, then env (each wins over the last)."""
    name = container.get("name", "?")
    env = dict(service_env)
    for source in container.get("envFrom") or []:
        env.update(_env_from(source, sources, container=name))
    for var in container.get("env") or []:
        value = _env_value(var, sources, container=name, env=env)
        if value is not None:
            env[var["name"]] = value
    return env


def _env_from(source: Mapping[str, Any], sources: EnvSources, *, container: str) -> dict[str, str]:
    kind, ref = _ref_of(source, ("configMapRef", "secretRef"))
    lookup = sources.configmap if kind == "configMapRef" else sources.secret
    data = lookup(ref["name"])
    if data is None:
        if ref.get("optional"):
            return {}
        raise BoxError(f"container {container}: envFrom {kind} {ref['name']!r} does not exist")
    prefix = source.get("prefix", "")
    return {f"{prefix}{key}": value for key, value in data.items()}


def _env_value(
    var: Mapping[str, Any], sources: EnvSources, *, container: str, env: Mapping[str, str]
) -> str | None:
    if "valueFrom" not in var:
        return expand(str(var.get("value", "")), env)
    value_from = var["valueFrom"]
    if "fieldRef" in value_from:
        path = value_from["fieldRef"]["fieldPath"]
        if path not in sources.fields:
            raise BoxError(f"container {container}: env {var['name']}: fieldRef {path} unknown")
        return sources.fields[path]
    kind, ref = _ref_of(value_from, ("configMapKeyRef", "secretKeyRef"))
    data = (sources.configmap if kind == "configMapKeyRef" else sources.secret)(ref["name"])
    if data is not None and ref["key"] in data:
        return data[ref["key"]]
    if ref.get("optional"):
        return None
    raise BoxError(
        f"container {container}: env {var['name']}: {kind} {ref['name']}/{ref['key']} missing"
    )


def _ref_of(source: Mapping[str, Any], kinds: Sequence[str]) -> tuple[str, Mapping[str, Any]]:
    for kind in kinds:
        if kind in source:
            return kind, source[kind]
    raise BoxError(f"unsupported env source {sorted(source)} (the box knows {', '.join(kinds)})")


def service_link_env(
    name: str, cluster_ip: str, ports: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """The docker-link style variables Kubernetes sets for each Service of the namespace."""
    prefix = name.upper().replace("-", "_")
    if not ports:
        return {}
    env = {f"{prefix}_SERVICE_HOST": cluster_ip, f"{prefix}_SERVICE_PORT": str(ports[0]["port"])}
    env[f"{prefix}_PORT"] = f"tcp://{cluster_ip}:{ports[0]['port']}"
    for port in ports:
        number, proto = port["port"], port.get("protocol", "TCP")
        if port.get("name"):
            env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(number)
        base = f"{prefix}_PORT_{number}_{proto}"
        env.update({base: f"{proto.lower()}://{cluster_ip}:{number}", f"{base}_PROTO": proto.lower(),
                    f"{base}_PORT": str(number), f"{base}_ADDR": cluster_ip})  # fmt: skip
    return env


@dataclass(frozen=True)
class Security:
    """The security settings of one container, pod defaults applied."""

    user: str | None  # "uid" or "uid:gid" for docker --user; None keeps the image's
    groups: tuple[int, ...]  # supplementary: fsGroup and supplementalGroups
    read_only_root: bool
    no_new_privileges: bool
    privileged: bool
    cap_drop: tuple[str, ...]
    cap_add: tuple[str, ...]


def security(
    pod_spec: Mapping[str, Any], container: Mapping[str, Any], *, image_user: str
) -> Security:
    """Pod and container securityContext merged (the container's wins), runAsNonRoot checked."""
    pod_sc = pod_spec.get("securityContext") or {}
    sc = container.get("securityContext") or {}
    name = container.get("name", "?")
    uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
    gid = sc.get("runAsGroup", pod_sc.get("runAsGroup"))
    if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
        _check_non_root(name, uid, image_user)
    user = None if uid is None else (str(uid) if gid is None else f"{uid}:{gid}")
    if user is None and gid is not None:
        user = f"{image_user.split(':')[0] or 0}:{gid}"
    groups = [pod_sc["fsGroup"]] if "fsGroup" in pod_sc else []
    groups += list(pod_sc.get("supplementalGroups") or [])
    caps = sc.get("capabilities") or {}
    privileged = bool(sc.get("privileged"))
    return Security(
        user=user,
        groups=tuple(int(g) for g in groups),
        read_only_root=bool(sc.get("readOnlyRootFilesystem")),
        # Kubernetes' default allows escalation; "false" sets no_new_privs.
        no_new_privileges=sc.get("allowPrivilegeEscalation") is False,
        privileged=privileged,
        cap_drop=tuple(caps.get("drop") or ()),
        cap_add=tuple(caps.get("add") or ()),
    )


def _check_non_root(container: str, uid: int | None, image_user: str) -> None:
    if uid is not None:
        if int(uid) == 0:
            raise BoxError(f"container {container}: runAsNonRoot and runAsUser 0")
        return
    image_uid = image_user.split(":")[0]
    if not image_uid:
        raise BoxError(f"container {container}: runAsNonRoot and the image runs as root")
    if not image_uid.isdigit():
        raise BoxError(
            f"container {container}: runAsNonRoot and the image has the non-numeric user "
            f"{image_uid!r} (the kubelet cannot verify it is not root)"
        )
    if int(image_uid) == 0:
        raise BoxError(f"container {container}: runAsNonRoot and the image runs as uid 0")


def named_ports(pod_spec: Mapping[str, Any]) -> dict[str, int]:
    """Container port names of every container of the pod -> their numbers."""
    found: dict[str, int] = {}
    for container in pod_spec.get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name"):
                found[port["name"]] = int(port["containerPort"])
    return found


def resolve_port(port: int | str, pod_spec: Mapping[str, Any], *, what: str) -> int:
    """A port number, or a container port name looked up in the pod."""
    if isinstance(port, int) or str(port).isdigit():
        return int(port)
    ports = named_ports(pod_spec)
    if port not in ports:
        raise BoxError(f"{what}: port {port!r} names no container port (named: {sorted(ports)})")
    return ports[port]


def memory_bytes(quantity: str | int) -> int:
    number, unit = _split_quantity(quantity)
    if unit not in _MEMORY_UNITS:
        raise BoxError(f"memory quantity {quantity!r}: unknown unit")
    return int(number * _MEMORY_UNITS[unit])


def cpu_cores(quantity: str | int) -> float:
    number, unit = _split_quantity(quantity)
    if unit not in ("", "m"):
        raise BoxError(f"cpu quantity {quantity!r}: unknown unit")
    return number / 1000 if unit == "m" else number


def _split_quantity(quantity: str | int) -> tuple[float, str]:
    match = _QUANTITY.match(str(quantity))
    if not match:
        raise BoxError(f"quantity {quantity!r}: not a number with a unit")
    return float(match.group(1)), match.group(2)
