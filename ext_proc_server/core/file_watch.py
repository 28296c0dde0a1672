"""Telling when files changed: what a client that reads certificate files compares before
it connects again.

In Kubernetes a Secret volume (``mockado-files``) is updated in place when its Secret
changes: the kubelet writes the new files to a new directory and swaps a symlink, so the
path stays and what it leads to changes (its inode, and usually its size and mtime).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ext_proc_server.core.config import TLSClient

FileState = tuple[tuple[str, int, int, int] | tuple[str], ...]


def file_state(paths: Iterable[str]) -> FileState:
    """What tells a changed file: the inode, size and mtime of what each path leads to."""
    found: list[tuple[str, int, int, int] | tuple[str]] = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            found.append((path,))  # missing for now: its return is a change too
            continue
        found.append((path, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(found)


def tls_files(*settings: TLSClient | None) -> list[str]:
    """The certificate and key files of the TLS settings that are on."""
    return [
        path
        for tls in settings
        if tls is not None and tls.enabled
        for path in (tls.ca_file, tls.cert_file, tls.key_file)
        if path
    ]


class FileWatch:
    """Remembers the state of ``paths`` when something was built from them;
    ``changed()`` returns their new state when it differs, ``seen(state)`` records that
    what they hold now was read."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = tuple(paths)
        self._seen = file_state(self.paths)

    def changed(self) -> FileState | None:
        if not self.paths:
            return None
        state = file_state(self.paths)
        return None if state == self._seen else state

    def seen(self, state: FileState) -> None:
        self._seen = state
