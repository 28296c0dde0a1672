"""``mockado sanitize``: capture records, JSON Lines from stdin to stdout."""

from __future__ import annotations

import argparse
import sys

from control_plane.cli.options import SubParsers, add_command, load, setup_logs


def add_parser(subparsers: SubParsers) -> None:
    parser = add_command(
        subparsers,
        "sanitize",
        help="sanitize capture records (JSON Lines, stdin to stdout)",
        description="Read capture records as JSON Lines on stdin; write sanitized records on "
        "stdout in the same order. See README, 'Capture format'.",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.sanitize import cli_main

    setup_logs(args, "sanitize")
    return cli_main(load(args), stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
