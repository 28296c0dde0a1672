"""``mockado drift``: recorded requests whose live response changed status or shape."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from control_plane.cli.options import Command, load

COMMAND = Command(
    name="drift",
    help="list recorded requests whose response changed status or JSON shape",
    description="List the drift records the loader kept (newest first): a recorded "
    "request captured again with another status or JSON shape, the stub it replaced, "
    "what changed and when. Reads the loader's Redis.",
    example="mockado drift --namespace shop --json",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--namespace", metavar="NS", help="only this namespace")
    parser.add_argument("--json", action="store_true", help="a JSON list instead of a table")


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader.drift import drift_table, read_drift

    records = read_drift(load(args), namespace=args.namespace)
    if args.json:
        print(json.dumps([asdict(r) for r in records], indent=2))
    else:
        print(drift_table(records))
    return 0
