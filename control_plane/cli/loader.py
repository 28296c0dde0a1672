"""``mockado loader``: the Redis queue into WireMock."""

from __future__ import annotations

import argparse

from control_plane.cli.options import Command, load, setup_logs

COMMAND = Command(
    name="loader",
    help="move queued mappings from Redis into WireMock",
    description="Consume the Redis queue and import mappings into WireMock, "
    "at least once, batched, with retries, dead-letter and backups.",
    example="mockado loader --config /etc/mockado/mockado.yaml --log-format json",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--http-port", type=int, metavar="PORT", help="overrides loader.http_port")


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader import main

    setup_logs(args, "loader")
    overrides = {}
    if args.http_port is not None:
        overrides["loader.http_port"] = args.http_port
    return main(load(args, overrides))
