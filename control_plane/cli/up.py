"""``mockado up``: the local stack."""

from __future__ import annotations

import argparse
from pathlib import Path

from control_plane.cli.options import Command, load, setup_logs

COMMAND = Command(
    name="up",
    help="start the local stack: Envoy, ext_proc server, Redis, loader, WireMock",
    description="Start the local stack as child processes and print where everything is. "
    "Ctrl-C or SIGTERM stops every child, the collector once it has written what it "
    "captured; a second Ctrl-C kills every child at once.",
    example="mockado up --upstream http://127.0.0.1:3000 --proxy-port 10000 --wiremock-port 8080",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--upstream", metavar="URL", help="the real service (default: bundled demo API)"
    )
    parser.add_argument(
        "--proxy-port", type=int, default=10000, metavar="P", help="Envoy listener (10000)"
    )
    parser.add_argument(
        "--wiremock-port", type=int, default=8080, metavar="W", help="WireMock (8080)"
    )
    parser.add_argument(
        "--state-dir", default=".state", metavar="DIR", help="logs, data, backups (.state)"
    )
    parser.add_argument(
        "--shards", type=int, default=1, metavar="N",
        help="WireMock shards; shard i listens on W+i (1)",
    )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from control_plane.local.stack import StackOptions, run_stack

    setup_logs(args, "stack")
    config = load(args)
    options = StackOptions(
        upstream=args.upstream,
        proxy_port=args.proxy_port,
        wiremock_port=args.wiremock_port,
        state_dir=Path(args.state_dir),
        config_path=Path(args.config) if args.config else None,
        log_format=args.log_format,
        shards=args.shards,
    )
    return run_stack(config, options=options)
