"""``mockado demo-api``: the bundled demo upstream."""

from __future__ import annotations

import argparse

from control_plane.cli.options import SubParsers


def add_parser(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("demo-api", help="run the bundled demo upstream API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from control_plane.local.demo_api import main

    return main(["--host", args.host, "--port", str(args.port)])
