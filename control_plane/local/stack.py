"""``mockado up``: the whole local stack as child processes.

Redis (``REDIS_URL`` or an embedded redis-server), WireMock (every shard in one JVM
with mockado's launcher where java is a JDK, else one stock JVM per shard),
the ext_proc server, the loader, an upstream (the bundled demo API unless
``--upstream`` is given) and Envoy on the proxy port with a bootstrap rendered
by the control plane. It prints one summary once every part is ready, stops
every child on Ctrl-C or SIGTERM, and exits non-zero with a one-line error
naming the part and its log when a part fails.

A stop waits for each part's graceful stop, the collector's up to its
``STOP_TIMEOUT_S`` while it writes what it captured; a second Ctrl-C (or SIGTERM)
kills every child at once, and what the collector had not yet written is lost.

What each part is given (ports, shards, the effective config) is worked out in
:mod:`control_plane.local.stack_plan`; this module starts, watches and stops the parts.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from control_plane.local import procs
from control_plane.local.stack_plan import (
    ChildPorts,
    ShardPlan,
    Upstream,
    effective_config_data,
    move_url_secrets,
    parse_upstream,
    plan_shards,
    shared_jvm_heap_mb,
)
from control_plane.render import (
    LocalEnvoy,
    UpstreamService,
    render_local_envoy,
    render_mock_router,
    wiremock_heap_mb,
)
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import StackError

_READY_TIMEOUT_S = 90.0
# How often a part is started on fresh ports (procs.start_on_ports).
PORT_ATTEMPTS = procs.PORT_ATTEMPTS


@dataclass(frozen=True, kw_only=True)
class StackOptions:
    upstream: str | None = None
    proxy_port: int = 10000
    wiremock_port: int = 8080
    state_dir: Path = Path(".state")
    config_path: Path | None = None
    log_format: str = "text"
    shards: int = 1


def _check_promised_ports(opts: StackOptions) -> None:
    for port, part in ((opts.proxy_port, "envoy"), (opts.wiremock_port, "wiremock")):
        if procs.port_is_held(port):
            raise StackError(f"{part}: port {port} is busy (choose --proxy-port/--wiremock-port)")


def _mocks_text(wiremock_port: int, shards: list[ShardPlan]) -> str:
    text = f"http://127.0.0.1:{wiremock_port}"
    if len(shards) > 1:
        routed = ", ".join(f"{s.name}={s.url}" for s in shards)
        text += f" (routed by Host to {len(shards)} shards: {routed})"
    return text


@dataclass(kw_only=True)
class Stack:
    config: MockadoConfig
    options: StackOptions
    parts: list[procs.ManagedProcess] = field(default_factory=list)
    # Where the parts' ports come from; start adds the ports promised on the command line.
    ports: procs.PortPicker = field(default_factory=procs.PortPicker)
    # Set by force_stop: every part was killed, none is started any more.
    forced: bool = field(default=False, init=False)

    @property
    def state_dir(self) -> Path:
        return self.options.state_dir.resolve()

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def _start(
        self, process: procs.ManagedProcess, check, *, timeout_s: float = _READY_TIMEOUT_S
    ) -> None:
        if self.forced:
            raise StackError(f"{process.name}: not started (stopped at once)")
        self.parts.append(process.start())
        if self.forced:  # killed while it started: this one too
            process.signal(signal.SIGKILL)
        process.wait_ready(check, timeout_s=timeout_s)

    def start_on_ports(
        self,
        part: str,
        ports: list[int],
        launch: procs.Launch,
        *,
        timeout_s: float = _READY_TIMEOUT_S,
    ) -> list[int]:
        """Start ``part`` on ``ports`` (picked free) -> the ports it listens on; on fresh
        ones when another process took one first (:func:`procs.start_on_ports`)."""
        _, ports = procs.start_on_ports(
            part, ports, launch, pick=self.ports.pick,
            start=functools.partial(self._start, timeout_s=timeout_s),
            discard=self.parts.remove, stopped=lambda: self.forced,
        )  # fmt: skip
        return ports

    def _mockado(self, name: str, args: list[str], env: dict[str, str]) -> procs.ManagedProcess:
        argv = [
            sys.executable,
            "-m",
            "control_plane.cli",
            *args,
            "--config",
            str(self.effective_config),
        ]
        argv += ["--log-format", self.options.log_format]
        return procs.ManagedProcess(name, argv, log_path=self.logs_dir / f"{name}.log", env=env)

    @property
    def effective_config(self) -> Path:
        return self.state_dir / "mockado.effective.yaml"

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        # Secrets go to children through the environment, never into the effective config file.
        key = self.config.collector.pseudonym_key
        if key is not None:
            env["MOCKADO_COLLECTOR__PSEUDONYM_KEY"] = key.get_secret_value()
        return env

    def start(self) -> dict[str, str]:
        """Start every part in dependency order; returns where each one is."""
        opts = self.options
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        # Ports promised on the command line are bound last (Envoy starts last): no
        # child may be given one of them in the meantime.
        self.ports.taken |= {opts.proxy_port, opts.wiremock_port}
        shards = plan_shards(
            self.config, base_port=opts.wiremock_port, count=opts.shards, ports=self.ports
        )
        _check_promised_ports(opts)
        redis_url = self._start_redis()
        # WireMock before the loader, which gives each shard its catch-all stub.
        shards = self._start_wiremock(shards)
        if len(shards) > 1:
            self._start_mock_router(shards)
        upstream = self._start_upstream()
        ports = self._start_collector_and_loader(redis_url=redis_url, shards=shards)
        admin_port = self._start_envoy(upstream, grpc_port=ports.grpc)
        return {
            "proxy": f"http://127.0.0.1:{opts.proxy_port}",
            "upstream": upstream.url,
            "mocks": _mocks_text(opts.wiremock_port, shards),
            "collector_metrics": f"http://127.0.0.1:{ports.collector_http}/metrics",
            "loader_metrics": f"http://127.0.0.1:{ports.loader_http}/metrics",
            "console": f"http://127.0.0.1:{ports.loader_http}/console/",
            "envoy_admin": f"http://127.0.0.1:{admin_port}",
            "logs": str(self.logs_dir),
            "backups": str(self.state_dir / "backups"),
            "redis": "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded redis-server",
        }

    def _start_redis(self) -> str:
        """``REDIS_URL`` when set, else an embedded redis-server; returns its URL."""
        redis_url = os.environ.get("REDIS_URL")
        if redis_url:
            return redis_url

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            redis = procs.redis_process(
                port=ports[0],
                data_dir=self.state_dir / "redis",
                log_path=self.logs_dir / "redis.log",
            )
            return redis, procs.redis_ready("127.0.0.1", ports[0])

        [port] = self.start_on_ports("redis", [self.ports.pick("redis")], launch, timeout_s=20)
        return f"redis://127.0.0.1:{port}/0"

    def _start_wiremock(self, shards: list[ShardPlan]) -> list[ShardPlan]:
        """-> the shards, on the ports they listen on."""
        heap_mb = wiremock_heap_mb(self.config)
        if procs.wiremock_launcher_available():
            # One JVM for every shard: one JIT warm-up and one heap. Each shard keeps its
            # own port, stubs, root directory and admin API.
            shared_heap_mb = shared_jvm_heap_mb(heap_mb, shards=len(shards))
            return self._start_wiremock_jvm(
                shards, "wiremock", heap_mb=shared_heap_mb, indexed=True
            )
        started: list[ShardPlan] = []
        for shard in shards:
            started += self._start_wiremock_jvm(
                [shard], f"wiremock-{shard.name}", heap_mb=heap_mb, indexed=False
            )
        return started

    def _start_wiremock_jvm(
        self, shards: list[ShardPlan], log_name: str, *, heap_mb: int, indexed: bool
    ) -> list[ShardPlan]:
        """One WireMock JVM serving ``shards``, each from its own root directory -> the
        shards, on the ports they listen on. One shard alone listens on --wiremock-port,
        promised on the command line; several get picked ports, picked again when taken."""
        if len(shards) == 1 and shards[0].port == self.options.wiremock_port:
            jvm, ready = self._wiremock_jvm(shards, log_name, heap_mb=heap_mb, indexed=indexed)
            self._start(jvm, ready)
            return shards

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            on_ports = [replace(s, port=p) for s, p in zip(shards, ports, strict=True)]
            return self._wiremock_jvm(on_ports, log_name, heap_mb=heap_mb, indexed=indexed)

        ports = self.start_on_ports(log_name, [s.port for s in shards], launch)
        return [replace(s, port=p) for s, p in zip(shards, ports, strict=True)]

    def _wiremock_jvm(
        self, shards: list[ShardPlan], log_name: str, *, heap_mb: int, indexed: bool
    ) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        jvm = procs.wiremock_process(
            servers=[
                procs.WireMockServer(port=s.port, root_dir=self.state_dir / "wiremock" / s.name)
                for s in shards
            ],
            log_path=self.logs_dir / f"{log_name}.log",
            heap_mb=heap_mb,
            journal_entries=self.config.serving.max_request_journal_entries,
            indexed=indexed,
        )
        ready = [procs.http_ready(f"{s.url}/__admin/health") for s in shards]
        return jvm, procs.all_ready(ready)

    def _start_upstream(self) -> Upstream:
        """``--upstream``, else the bundled demo API."""
        if self.options.upstream:
            return parse_upstream(self.options.upstream)

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            demo = procs.ManagedProcess(
                "demo-api",
                [sys.executable, "-m", "control_plane.local.demo_api", "--port", str(ports[0])],
                log_path=self.logs_dir / "demo-api.log",
            )
            return demo, procs.http_ready(f"http://127.0.0.1:{ports[0]}/healthz")

        [port] = self.start_on_ports("demo-api", [self.ports.pick("demo-api")], launch)
        return parse_upstream(f"http://127.0.0.1:{port}")

    def _write_effective_config(
        self, *, redis_url: str, shards: list[ShardPlan], ports: ChildPorts
    ) -> dict[str, str]:
        """Write the config the children share; returns their environment (secrets)."""
        data = effective_config_data(
            self.config,
            redis_url=redis_url,
            shards=shards,
            ports=ports,
            state_dir=self.state_dir,
            proxy_url=f"http://127.0.0.1:{self.options.proxy_port}",
        )
        url_secrets = move_url_secrets(data)
        self.effective_config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return {**self._child_env(), **url_secrets}

    def _start_collector_and_loader(self, *, redis_url: str, shards: list[ShardPlan]) -> ChildPorts:
        """The ext_proc server, then the loader, each reading its ports from the effective
        config (written again before each start) -> the ports they listen on."""
        # Stopped no sooner than its own stop ends: its drain writes what it accepted.
        from ext_proc_server.capture.server import STOP_TIMEOUT_S

        ports = ChildPorts(
            grpc=self.ports.pick("ext-proc"),
            collector_http=self.ports.pick("ext-proc"),
            loader_http=self.ports.pick("loader"),
        )

        def launch_ext_proc(picked: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            on_ports = replace(ports, grpc=picked[0], collector_http=picked[1])
            env = self._write_effective_config(redis_url=redis_url, shards=shards, ports=on_ports)
            ext_proc = self._mockado("ext-proc", ["ext-proc"], env)
            ext_proc.stop_timeout_s = STOP_TIMEOUT_S
            return ext_proc, procs.http_ready(f"http://127.0.0.1:{picked[1]}/readyz")

        grpc, collector_http = self.start_on_ports(
            "ext-proc", [ports.grpc, ports.collector_http], launch_ext_proc
        )
        ports = replace(ports, grpc=grpc, collector_http=collector_http)

        def launch_loader(picked: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            on_ports = replace(ports, loader_http=picked[0])
            env = self._write_effective_config(redis_url=redis_url, shards=shards, ports=on_ports)
            loader = self._mockado("loader", ["loader"], env)
            return loader, procs.http_ready(f"http://127.0.0.1:{picked[0]}/readyz")

        [loader_http] = self.start_on_ports("loader", [ports.loader_http], launch_loader)
        return replace(ports, loader_http=loader_http)

    def _start_envoy(self, upstream: Upstream, *, grpc_port: int) -> int:
        """Envoy, with a bootstrap rendered by the control plane; returns its admin port.

        Unsampled and excluded traffic is skipped by Envoy itself, so it never reaches the
        capture server."""

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            envoy = LocalEnvoy(
                listen_port=self.options.proxy_port,
                admin_port=ports[0],
                # HTTP/1.1 to the upstream works with any server; clients may still use h2c.
                upstream=UpstreamService(
                    host=upstream.host, port=upstream.port, tls=upstream.tls, http2=False
                ),
                collector_port=grpc_port,
                sample_percent=self.config.collector.sample_rate * 100,
                exclude_paths=self.config.collector.exclude_paths,
            )
            envoy_config = self.state_dir / "envoy.yaml"
            envoy_config.write_text(render_local_envoy(self.config, envoy), encoding="utf-8")
            process = procs.envoy_process(
                config_path=envoy_config, log_path=self.logs_dir / "envoy.log"
            )
            return process, procs.http_ready(f"http://127.0.0.1:{ports[0]}/ready")

        [admin_port] = self.start_on_ports("envoy", [self.ports.pick("envoy")], launch)
        return admin_port

    def _start_mock_router(self, shards: list[ShardPlan]) -> None:
        """Envoy on --wiremock-port routing each request by Host to its shard, as the
        mesh's canary VirtualServices do."""

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            config_path = self.state_dir / "mock-router.yaml"
            config_path.write_text(
                render_mock_router(
                    self.config,
                    listen_port=self.options.wiremock_port,
                    admin_port=ports[0],
                    shards=[(s.name, s.host_patterns, s.port) for s in shards[1:]],
                    default_port=shards[0].port,
                ),
                encoding="utf-8",
            )
            router = procs.envoy_process(
                config_path=config_path, log_path=self.logs_dir / "mock-router.log"
            )
            router.name = "mock-router"
            return router, procs.http_ready(f"http://127.0.0.1:{ports[0]}/ready")

        self.start_on_ports("mock-router", [self.ports.pick("mock-router")], launch)

    def watch(self, stop: threading.Event) -> None:
        """Block until stop is set; raise StackError if any part dies."""
        while not stop.wait(0.5):
            for part in self.parts:
                part.check_alive()

    def stop(self) -> None:
        """Stop every part, the last started first (Envoy, so no new captures come),
        each given as long as its own graceful stop takes (the collector's drain), unless
        :meth:`force_stop` kills them meanwhile."""
        for part in reversed(self.parts):
            part.stop()

    def force_stop(self) -> None:
        """Kill every part at once, from a signal handler while :meth:`start` or
        :meth:`stop` runs: a stop in progress then finds each part gone instead of
        waiting for it, and no part is started any more."""
        self.forced = True
        for part in self.parts:
            part.signal(signal.SIGKILL)


def summary_text(where: dict[str, str]) -> str:
    return (
        "mockado is up\n"
        f"  send traffic to   {where['proxy']}   (proxied to {where['upstream']})\n"
        f"  mocks served at   {where['mocks']}\n"
        f"  metrics           {where['collector_metrics']}  {where['loader_metrics']}\n"
        f"  console           {where['console']}\n"
        f"  envoy admin       {where['envoy_admin']}\n"
        f"  logs              {where['logs']}/\n"
        f"  backups           {where['backups']}/\n"
        f"  redis             {where['redis']}\n"
        "Press Ctrl-C to stop."
    )


STOPPING_TEXT = (
    "mockado: stopping; the collector first writes what it captured "
    "(up to {timeout_s:.0f} s when Redis is slow). Press Ctrl-C again to stop at once."
)
FORCED_TEXT = (
    "mockado: stopped at once (every part killed); captures the collector had not yet "
    "written to Redis are lost."
)
# The exit status of a stop forced by a second Ctrl-C (128 + SIGINT, as a shell reports it).
FORCED_EXIT = 130


def run_stack(config: MockadoConfig, *, options: StackOptions) -> int:
    from ext_proc_server.capture.server import STOP_TIMEOUT_S

    stack = Stack(config=config, options=options)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():
            stack.force_stop()  # the second Ctrl-C: nothing more is waited for
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        try:
            where = stack.start()
            if not stop.is_set():
                print(summary_text(where), flush=True)
                stack.watch(stop)
        except StackError as exc:
            status = 1
            if not stack.forced:  # a part killed by the forced stop is no failure
                print(f"mockado up: {exc}", file=sys.stderr, flush=True)
        stop.set()  # from here on, a Ctrl-C forces
        if not stack.forced:
            print(STOPPING_TEXT.format(timeout_s=STOP_TIMEOUT_S), flush=True)
    finally:
        stack.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stack.forced:
        print(FORCED_TEXT, flush=True)
        return FORCED_EXIT
    return status
