"""mockado's subcommands, in the order ``mockado --help`` lists them, and the entry point.

Each subcommand module has ``add_parser(subparsers)`` (its flags and help) and
``run(args)``, which loads the configuration once and hands it to the part it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from control_plane.cli import config, demo_api, ext_proc, loader, render, restore, sanitize, up
from ext_proc_server.core.errors import MockadoError

COMMANDS = (up, ext_proc, loader, restore, sanitize, render, config, demo_api)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockado",
        description="Turn real service-mesh traffic into safe, working WireMock mocks.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
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
