"""``mockado restore``: a backup directory into a running WireMock."""

from __future__ import annotations

import argparse
from pathlib import Path

from control_plane.cli.options import Command, load, setup_logs

COMMAND = Command(
    name="restore",
    help="load a backup directory into a running WireMock",
    description="Import BACKUP_DIR/mappings/*.json into a running WireMock.",
    example="mockado restore ./backups/20261204T120000Z --wiremock-url http://127.0.0.1:8080",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "backup_dir", metavar="BACKUP_DIR", help="a backup: BACKUP_DIR/mappings/*.json"
    )
    parser.add_argument(
        "--wiremock-url", required=True, metavar="URL", help="the WireMock to load it into"
    )


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader import restore_main

    setup_logs(args, "restore")
    return restore_main(
        load(args), backup_dir=Path(args.backup_dir), wiremock_url=args.wiremock_url
    )
