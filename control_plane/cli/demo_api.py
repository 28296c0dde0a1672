"""``mockado demo-api``: the bundled demo upstream."""

from __future__ import annotations

import argparse

from control_plane.cli.options import Command

COMMAND = Command(
    name="demo-api",
    help="run the bundled demo upstream API",
    description="A small JSON API to capture from when you have no service of your own "
    "(`mockado up` starts it when no --upstream is given).",
    example="mockado demo-api --port 3000",
    shared_options=False,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")


def run(args: argparse.Namespace) -> int:
    from control_plane.local.demo_api import main

    return main(["--host", args.host, "--port", str(args.port)])
