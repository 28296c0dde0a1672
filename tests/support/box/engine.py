"""The container engine: Debian's docker.io, installed and started when missing.

``ensure_host_packages`` installs what the box needs with apt; ``DockerDaemon`` starts
``dockerd`` when none answers and stops only the one it started; ``Docker`` runs the CLI
and turns its failures into ``BoxError`` with the command's own words.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.support.box.errors import BoxError

# Command on PATH -> the Debian package that provides it.
HOST_PACKAGES = {"docker": "docker.io", "dockerd": "docker.io", "debootstrap": "debootstrap"}
DAEMON_START_TIMEOUT_S = 90.0
DAEMON_STOP_TIMEOUT_S = 30.0
# Serialises box runs on one machine: they share the daemon and the image cache.
LOCK_PATH = Path("/var/lock/mockado-box.lock")
# On every container and network a box run creates (value: the run's id).
BOX_LABEL = "mockado.box"


def ensure_host_packages(packages: Mapping[str, str] = HOST_PACKAGES) -> None:
    """apt-get install the packages whose command is missing (root only)."""
    missing = sorted({pkg for command, pkg in packages.items() if shutil.which(command) is None})
    if not missing:
        return
    if os.geteuid() != 0:
        raise BoxError(f"{', '.join(missing)} missing and not root: cannot apt-get install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise BoxError(f"{' '.join(argv)} failed:\n{(proc.stdout + proc.stderr)[-3000:]}")


@contextlib.contextmanager
def box_lock(path: Path = LOCK_PATH) -> Iterator[None]:
    """One box run at a time on this machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Docker:
    """The docker CLI; every failure is a BoxError naming the command and its output."""

    def __init__(self, binary: str | None = None) -> None:
        found = binary or shutil.which("docker")
        if found is None:
            raise BoxError("docker CLI not found (the docker.io package provides one)")
        self.binary = found

    def run(
        self,
        *args: str,
        input_bytes: bytes | None = None,
        check: bool = True,
        timeout_s: float = 600.0,
    ) -> subprocess.CompletedProcess[bytes]:
        argv = [self.binary, *args]
        try:
            proc = subprocess.run(
                argv, input=input_bytes, capture_output=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise BoxError(f"{_short(argv)}: no answer in {timeout_s:.0f} s") from exc
        if check and proc.returncode != 0:
            output = (proc.stdout + proc.stderr).decode(errors="replace")
            raise BoxError(f"{_short(argv)} failed ({proc.returncode}):\n{output[-3000:]}")
        return proc

    def text(self, *args: str, **kw: Any) -> str:
        return self.run(*args, **kw).stdout.decode(errors="replace").strip()

    def answers(self) -> bool:
        return self.run("version", "--format", "{{.Server.Version}}", check=False,
                        timeout_s=20).returncode == 0  # fmt: skip

    def image_exists(self, tag: str) -> bool:
        return self.run("image", "inspect", tag, check=False).returncode == 0

    def inspect(self, name: str) -> dict[str, Any]:
        return json.loads(self.text("inspect", name))[0]

    def image_config(self, tag: str) -> dict[str, Any]:
        """The image's Config: Entrypoint, Cmd, User, Env, WorkingDir."""
        return json.loads(self.text("image", "inspect", "--format", "{{json .Config}}", tag))

    def logs(self, name: str, *, tail: int = 30) -> str:
        proc = self.run("logs", "--tail", str(tail), name, check=False)
        return (proc.stdout + proc.stderr).decode(errors="replace")

    def remove(self, names: Sequence[str]) -> None:
        if names:
            self.run("rm", "-f", "-v", *names, check=False)

    def remove_labelled(self, label: str) -> None:
        """Containers, then networks, carrying the label (key or key=value)."""
        self.remove(self.text("ps", "-aq", "--filter", f"label={label}").split())
        networks = self.text("network", "ls", "-q", "--filter", f"label={label}").split()
        if networks:
            self.run("network", "rm", *networks, check=False)


class DockerDaemon:
    """Starts dockerd when none answers; ``stop`` ends only the one started here."""

    def __init__(self, docker: Docker, *, log_path: Path) -> None:
        self.docker = docker
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.docker.answers():
            return
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise BoxError("dockerd not found: install Debian's docker.io")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [dockerd, "--log-level", "warn"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + DAEMON_START_TIMEOUT_S
        while not self.docker.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                self.stop()
                raise BoxError(f"dockerd did not come up (log {self.log_path}):\n{tail}")
            time.sleep(0.5)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=DAEMON_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def running_engine(*, log_dir: Path) -> Iterator[Docker]:
    """docker.io installed, this machine's box lock held, a daemon answering; stops the
    daemon afterwards only when it started it."""
    ensure_host_packages()
    docker = Docker()
    with box_lock():
        daemon = DockerDaemon(docker, log_path=log_dir / "dockerd.log")
        daemon.start()
        # Left by a run that was killed: nothing else uses them while the lock is held.
        docker.remove_labelled(BOX_LABEL)
        try:
            yield docker
        finally:
            daemon.stop()


def _short(argv: Sequence[str]) -> str:
    text = " ".join(argv)
    return text if len(text) < 300 else text[:300] + " ..."
