"""Pod volumes on the host, mounted the way the kubelet would mount them.

ConfigMap and Secret volumes become directories of files (``items`` pick and rename
keys; ``defaultMode``/``mode`` apply; with an fsGroup the files belong to that group, which
may read them, as the kubelet sets them) mounted read-only; ``emptyDir`` is an empty
directory (mode 0777, group fsGroup with setgid when the pod sets one) shared by the
pod's containers; a ``persistentVolumeClaim`` is a directory of the claim's own, outside
the pod's, so what a pod wrote there is what the next pod mounting the claim finds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tests.support.box.errors import BoxError

DEFAULT_MODE = 0o644
READ_ONLY_GROUP_MODE = 0o440
EMPTY_DIR_MODE = 0o777
DataLookup = Callable[[str], Mapping[str, bytes] | None]
# A claim's name -> its directory on this machine, or None when no such claim was applied.
ClaimLookup = Callable[[str], Path | None]


@dataclass(frozen=True)
class Mount:
    host: Path
    container: str
    read_only: bool

    def docker_arg(self) -> str:
        return f"{self.host}:{self.container}{':ro' if self.read_only else ''}"


@dataclass(frozen=True)
class Volume:
    name: str
    host: Path
    read_only: bool  # ConfigMap and Secret volumes are always read-only


def materialize(
    pod_spec: Mapping[str, Any],
    *,
    pod_dir: Path,
    configmap: DataLookup,
    secret: DataLookup,
    claim: ClaimLookup,
) -> dict[str, Volume]:
    """Create every volume of the pod under pod_dir (a claim's in its own place); returns
    them by name."""
    fs_group = (pod_spec.get("securityContext") or {}).get("fsGroup")
    volumes: dict[str, Volume] = {}
    for spec in pod_spec.get("volumes") or []:
        name = spec["name"]
        if "persistentVolumeClaim" in spec:
            volumes[name] = _claim_volume(name, spec["persistentVolumeClaim"], claim, fs_group)
            continue
        host = pod_dir / "volumes" / name
        host.mkdir(parents=True)
        if "configMap" in spec or "secret" in spec:
            kind = "configMap" if "configMap" in spec else "secret"
            source = spec[kind]
            ref = source.get("name") or source.get("secretName")
            data = (configmap if kind == "configMap" else secret)(ref)
            _write_keys(
                host, data, source, fs_group=fs_group, what=f"volume {name}: {kind} {ref!r}"
            )
            volumes[name] = Volume(name, host, read_only=True)
        elif "emptyDir" in spec:
            _shared_dir(host, fs_group)
            volumes[name] = Volume(name, host, read_only=False)
        else:
            kinds = sorted(k for k in spec if k != "name")
            raise BoxError(f"volume {name}: {kinds} is not supported by the box")
    return volumes


def _claim_volume(
    name: str, source: Mapping[str, Any], claim: ClaimLookup, fs_group: int | None
) -> Volume:
    host = claim(source["claimName"])
    if host is None:
        # The kubelet never starts such a pod: it stays Pending with this event.
        raise BoxError(
            f"volume {name}: persistentvolumeclaim {source['claimName']!r} not found (Pending)"
        )
    if not host.exists():
        # A new claim's volume: empty, writable by the pod's fsGroup, as a provisioner makes it.
        host.mkdir(parents=True)
        _shared_dir(host, fs_group)
    return Volume(name, host, read_only=bool(source.get("readOnly")))


def mounts(container: Mapping[str, Any], volumes: Mapping[str, Volume]) -> list[Mount]:
    """The container's volumeMounts as host paths (subPath resolved inside its volume)."""
    found = []
    for mount in container.get("volumeMounts") or []:
        where = f"container {container.get('name')}: volumeMount {mount.get('name')!r}"
        volume = volumes.get(mount["name"])
        if volume is None:
            raise BoxError(f"{where}: the pod has no such volume")
        if not PurePosixPath(mount["mountPath"]).is_absolute():
            raise BoxError(f"{where}: mountPath {mount['mountPath']!r} is not absolute")
        host = volume.host
        if mount.get("subPath"):
            host = _sub_path(volume, mount["subPath"], where=where)
        read_only = volume.read_only or bool(mount.get("readOnly"))
        found.append(Mount(host, mount["mountPath"], read_only))
    return found


def _sub_path(volume: Volume, sub_path: str, *, where: str) -> Path:
    relative = PurePosixPath(sub_path)
    if relative.is_absolute() or ".." in relative.parts:
        raise BoxError(f"{where}: subPath {sub_path!r} must be relative, without '..'")
    host = volume.host / relative
    if not host.exists():
        if volume.read_only:
            raise BoxError(f"{where}: subPath {sub_path!r} is not in the volume")
        host.mkdir(parents=True)  # the kubelet creates a missing subPath of a writable volume
    return host


def _write_keys(
    host: Path,
    data: Mapping[str, bytes] | None,
    source: Mapping[str, Any],
    *,
    fs_group: int | None,
    what: str,
) -> None:
    if data is None:
        if source.get("optional"):
            return
        raise BoxError(f"{what} does not exist")
    mode = int(source.get("defaultMode", DEFAULT_MODE))
    items = source.get("items")
    chosen = (
        [(i["key"], i["path"], int(i.get("mode", mode))) for i in items]
        if items
        else [(key, key, mode) for key in data]
    )
    for key, path, file_mode in chosen:
        if key not in data:
            if source.get("optional"):
                continue
            raise BoxError(f"{what}: no key {key!r}")
        target = host / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[key])
        if fs_group is not None:
            # The kubelet's ownership rule for a read-only volume: the fsGroup, which reads.
            os.chown(target, 0, int(fs_group))
            file_mode |= READ_ONLY_GROUP_MODE
        target.chmod(file_mode)


def _shared_dir(host: Path, fs_group: int | None) -> None:
    host.chmod(EMPTY_DIR_MODE)
    if fs_group is not None:
        os.chown(host, 0, int(fs_group))
        host.chmod(EMPTY_DIR_MODE | 0o2000)
