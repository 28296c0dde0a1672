"""``mockado loader``: the Redis queue into WireMock."""

from __future__ import annotations

import argparse

from control_plane.cli.options import Command, add_port_options, load, port_overrides, setup_logs

PORTS = {"http": "loader.http_port"}
COMMAND = Command(
    name="loader",
    help="move queued mappings from Redis into WireMock",
    description="Consume the Redis queue and import mappings into WireMock, "
    "at least once, batched, with retries, dead-letter and backups.",
    example="mockado loader --config /etc/mockado/mockado.yaml --log-format json",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_port_options(parser, PORTS)


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader import main

    setup_logs(args, "loader")
    overrides = port_overrides(args, PORTS)
    return main(load(args, overrides))
