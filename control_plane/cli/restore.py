"""``mockado restore``: a backup directory into a running WireMock."""

from __future__ import annotations

import argparse
from pathlib import Path

from control_plane.cli.options import SubParsers, add_command, load, setup_logs


def add_parser(subparsers: SubParsers) -> None:
    parser = add_command(
        subparsers,
        "restore",
        help="load a backup directory into a running WireMock",
        description="Import BACKUP_DIR/mappings/*.json into a running WireMock.",
    )
    parser.add_argument("backup_dir", metavar="BACKUP_DIR")
    parser.add_argument("--wiremock-url", required=True, metavar="URL")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader import restore_main

    setup_logs(args, "restore")
    return restore_main(
        load(args), backup_dir=Path(args.backup_dir), wiremock_url=args.wiremock_url
    )
