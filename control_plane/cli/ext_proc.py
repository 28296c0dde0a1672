"""``mockado ext-proc``: the Envoy ext_proc capture server."""

from __future__ import annotations

import argparse

from control_plane.cli.options import Command, add_port_options, load, port_overrides, setup_logs

PORTS = {"grpc": "collector.grpc_port", "http": "collector.http_port"}
COMMAND = Command(
    name="ext-proc",
    help="run the Envoy ext_proc capture server",
    description="Run the gRPC ExternalProcessor server that captures exchanges, "
    "plus /healthz, /readyz and /metrics on the HTTP port.",
    example="mockado ext-proc --config /etc/mockado/mockado.yaml --workers auto --log-format json",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        default="1",
        metavar="N|auto",
        help="processes on one port (SO_REUSEPORT); auto: one per available CPU "
        "(cgroup quota and CPU affinity)",
    )
    add_port_options(parser, PORTS)


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.core.cpus import multiprocess_metrics, worker_count

    setup_logs(args, "ext-proc")
    workers = worker_count(args.workers)
    overrides = port_overrides(args, PORTS)
    # Before prometheus_client is imported: every worker's metrics go to one directory.
    with multiprocess_metrics(workers):
        from ext_proc_server.capture import main

        return main(load(args, overrides), workers=workers)
