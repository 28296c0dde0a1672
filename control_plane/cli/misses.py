"""``mockado misses``: what canaries asked for that no recording answers."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence

from control_plane.cli.options import Command, load, setup_logs

COMMAND = Command(
    name="misses",
    help="list the canary calls no recorded stub matched, with each one's closest stub",
    description="The miss report the loader keeps in Redis: each logical miss (host, method, "
    "path template, query keys) with its count, last-seen time and closest recorded stub.",
    example="mockado misses --namespace checkout --host payments.payments.svc.cluster.local",
)
COLUMNS = ("COUNT", "LAST SEEN", "METHOD", "HOST", "PATH", "CLOSEST STUB", "DIFFERS IN")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--namespace", metavar="NS", help="only the misses of this namespace")
    parser.add_argument("--host", metavar="H", help="only the misses of this host")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    from ext_proc_server.loader.miss_report import read_misses

    setup_logs(args, "misses")
    records = asyncio.run(read_misses(load(args), namespace=args.namespace, host=args.host))
    if args.json:
        print(json.dumps([r.as_dict() for r in records], indent=2))
        return 0
    rows = [_row(r.as_dict()) for r in records]
    print(_table(rows) if rows else "no misses recorded")
    return 0


def _row(item: dict) -> tuple[str, ...]:
    closest = item["closest"] or {}
    path = item["path"] + ("?" + "&".join(item["query_keys"]) if item["query_keys"] else "")
    differs = "; ".join(
        f"{d['kind']}{'' if d['name'] == d['kind'] else ' ' + d['name']}: {d['detail']}"
        for d in closest.get("differences", [])
    )
    stub = f"{closest['method']} {closest['url']}" if closest else "-"
    if item["closest_pending"]:
        stub, differs = "-", "not looked for yet"
    if closest and not differs:
        differs = "nothing: recorded since"
    seen = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(item["last_seen_s"]))
    return (str(item["count"]), seen, item["method"], item["host"], path, stub, differs or "-")


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    lines = [COLUMNS, *rows]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)  # fmt: skip
