"""``mockado config show``: the effective configuration, secrets redacted."""

from __future__ import annotations

import argparse
import json

from control_plane.cli.options import Command, load

COMMAND = Command(
    name="config",
    action="show",
    help="print the effective configuration, secrets redacted",
    description="Load mockado.yaml and the MOCKADO_* environment once, validate every key, "
    "and print the result with secrets and URL passwords redacted.",
    example="MOCKADO_COLLECTOR__SAMPLE_RATE=0.5 mockado config show --config mockado.yaml",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON instead of YAML")


def run(args: argparse.Namespace) -> int:
    import yaml

    from ext_proc_server.core.config import redacted_dump

    data = redacted_dump(load(args))
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(yaml.safe_dump(data, sort_keys=False), end="")
    return 0
