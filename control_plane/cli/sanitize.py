"""``mockado sanitize``: capture records, JSON Lines from stdin to stdout."""

from __future__ import annotations

import argparse
import sys

from control_plane.cli.options import Command, load, setup_logs

COMMAND = Command(
    name="sanitize",
    help="sanitize capture records (JSON Lines, stdin to stdout)",
    description="Read capture records as JSON Lines on stdin; write sanitized records on "
    "stdout in the same order. See README, 'Capture format'.",
    example="mockado sanitize --config mockado.yaml < captures.jsonl > clean.jsonl",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options beyond the shared ones."""


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.sanitize import cli_main

    setup_logs(args, "sanitize")
    return cli_main(load(args), stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr)
