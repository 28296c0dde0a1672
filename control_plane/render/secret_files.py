"""Files the collector and loader read at start (TLS certificates and keys, the pseudonym
and dedup key files): in Kubernetes they come from one Secret the user creates, mounted
read-only in one directory. A pod mounts it only when its config names a file, and only
the keys it names, so a missing key shows as a pod event before the process starts.

Render refuses a file outside that directory: the pod would start and fail to read it.
The local stack (``mockado up``) renders no pod and keeps accepting any path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ext_proc_server.core.errors import RenderError

# Names of a Secret and a directory, never values.
FILES_SECRET = "mockado-files"  # noqa: S105
SECRET_FILES_DIR = "/var/run/secrets/mockado"  # noqa: S105
# A Secret's key (and the file's name in the mount): letters, digits, "-", "_" and ".";
# the kubelet refuses a name starting with "..".
_SECRET_KEY = re.compile(r"(?!\.\.)[-._a-zA-Z0-9]{1,253}")
_TLS_CLIENT_FILES = ("ca_file", "cert_file", "key_file")

# The config keys naming a file each pod reads, as attribute paths.
_FILE_KEYS_OF_COMPONENT: dict[str, tuple[tuple[str, ...], ...]] = {
    "collector": (
        ("collector", "tls", "cert_file"),
        ("collector", "tls", "key_file"),
        ("collector", "tls", "client_ca_file"),
        ("collector", "pseudonym_key_file"),
        ("collector", "dedup_key_file"),
        *(("collector", "redis_tls", name) for name in _TLS_CLIENT_FILES),
    ),
    "loader": (
        *(("loader", "redis_tls", name) for name in _TLS_CLIENT_FILES),
        *(("loader", "wiremock_tls", name) for name in _TLS_CLIENT_FILES),
    ),
}


@dataclass(frozen=True)
class SecretFiles:
    """The Secret volume of one pod: the keys it mounts (empty: no volume)."""

    keys: tuple[str, ...]
    secret: str = FILES_SECRET
    directory: str = SECRET_FILES_DIR


def _value(pod_data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = pod_data
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return node


def _secret_key(key: str, path: str) -> str:
    directory, _, name = path.rpartition("/")
    if directory != SECRET_FILES_DIR:
        raise RenderError(
            f"{key}: {path} is not in {SECRET_FILES_DIR}/, the directory the rendered pod "
            f"mounts from Secret {FILES_SECRET}; name a file directly inside it (the file's "
            "name is its key in the Secret)"
        )
    if not _SECRET_KEY.fullmatch(name):
        raise RenderError(
            f"{key}: {name!r} is not a Secret key (letters, digits, '-', '_' and '.', not "
            f"starting with '..'); the file's name in {SECRET_FILES_DIR}/ is its key in "
            f"Secret {FILES_SECRET}"
        )
    return name


def secret_files(pod_data: dict[str, Any], component: str) -> SecretFiles:
    """The Secret keys the ``component`` pod (collector, loader) mounts: one per file its
    config (``pod_data``, the pods' mockado.yaml) names. Raises RenderError naming the key
    of a file the pod could not read."""
    keys = []
    for path in _FILE_KEYS_OF_COMPONENT[component]:
        value = _value(pod_data, path)
        if value:
            keys.append(_secret_key(".".join(path), value))
    return SecretFiles(keys=tuple(sorted(set(keys))))


def create_files_secret_command(namespace: str, keys: list[str]) -> str:
    """The command that creates the files Secret from local files of the same names."""
    sources = " ".join(f"--from-file={key}=./{key}" for key in keys)
    return f"kubectl -n {namespace} create secret generic {FILES_SECRET} {sources}"
