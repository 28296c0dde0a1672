"""``mockado keep-shard``: beside WireMock in its pod, keep it holding its shard."""

from __future__ import annotations

import argparse

from control_plane.cli.options import Command, add_port_options, load, port_overrides, setup_logs

PORTS = {"http": "loader.http_port"}
COMMAND = Command(
    name="keep-shard",
    help="keep one WireMock holding its shard's stubs; ready only once it does",
    description="Check one WireMock every loader.resync_check_interval_s and reload it from "
    "its shard's record when it lost stubs; /readyz answers 200 only once it holds them "
    "(the WireMock pods' readiness: a new pod takes no canary call while it is empty).",
    example="mockado keep-shard --shard default --wiremock-url http://127.0.0.1:8080 "
    "--http-port 9092 --config /etc/mockado/mockado.yaml",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shard", required=True, metavar="NAME", help="the shard's name (default, or its group)"
    )
    parser.add_argument(
        "--wiremock-url", required=True, metavar="URL", help="the WireMock to keep (its own pod's)"
    )
    add_port_options(parser, PORTS)


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader import keeper_main

    setup_logs(args, "keeper")
    overrides = port_overrides(args, PORTS)
    return keeper_main(load(args, overrides), shard=args.shard, wiremock_url=args.wiremock_url)
