"""mockado's subcommands, in the order ``mockado --help`` lists them, and the entry point.

Each subcommand module has ``COMMAND`` (its name, help and example),
``add_arguments(parser)`` (its own options) and ``run(args)``, which loads the
configuration once and hands it to the part it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

from control_plane.cli import (
    config,
    demo_api,
    drift,
    ext_proc,
    keep_shard,
    loader,
    misses,
    render,
    restore,
    sanitize,
    up,
)
from control_plane.cli.options import add_command
from ext_proc_server.core.errors import MockadoError

COMMANDS = (
    up, ext_proc, loader, keep_shard, misses, drift, restore, sanitize, render, config, demo_api,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockado",
        description="Turn real service-mesh traffic into safe, working WireMock mocks.",
    )
    parser.add_argument(
        "--version", action="version", version=f"mockado {metadata.version('mockado')}"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = add_command(subparsers, command.COMMAND)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except MockadoError as exc:
        print(f"mockado {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
