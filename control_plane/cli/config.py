"""``mockado config show``: the effective configuration, secrets redacted."""

from __future__ import annotations

import argparse
import json

from control_plane.cli.options import SubParsers, common_options, load


def add_parser(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("config", help="inspect the configuration")
    actions = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = actions.add_parser(
        "show", parents=[common_options()], help="print the effective config, secrets redacted"
    )
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import yaml

    from ext_proc_server.core.config import redacted_dump

    data = redacted_dump(load(args))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(yaml.safe_dump(data, sort_keys=False), end="")
    return 0
