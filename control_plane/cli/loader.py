"""``mockado loader``: the Redis queue into WireMock."""

from __future__ import annotations

import argparse

from control_plane.cli.options import SubParsers, add_command, load, setup_logs


def add_parser(subparsers: SubParsers) -> None:
    parser = add_command(
        subparsers,
        "loader",
        help="move queued mappings from Redis into WireMock",
        description="Consume the Redis queue and import mappings into WireMock, "
        "at least once, batched, with retries, dead-letter and backups.",
    )
    parser.add_argument("--http-port", type=int, metavar="PORT", help="overrides loader.http_port")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader import main

    setup_logs(args, "loader")
    overrides = {}
    if args.http_port is not None:
        overrides["loader.http_port"] = args.http_port
    return main(load(args, overrides))
