"""``mockado sanitize``: capture records (JSON Lines) in, sanitized records out."""

from __future__ import annotations

import json
from typing import TextIO

from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import MockadoError
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.sanitize.sanitizer import Sanitizer


def cli_main(config: MockadoConfig, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Sanitize each line in order, keeping its id and unknown keys.

    A bad line is reported on stderr by number only (never its content) and skipped;
    the exit code is 1 if any line failed, 2 if the config is unusable, else 0.
    """
    try:
        sanitizer = Sanitizer(config.collector)
    except MockadoError as exc:
        print(f"mockado sanitize: {exc}", file=stderr)
        return 2
    failed = 0
    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            failed += 1
            message = getattr(exc, "msg", "invalid JSON")
            print(f"line {number}: not valid JSON ({message})", file=stderr)
            continue
        try:
            exchange = sanitizer.sanitize(Exchange.from_record(record))
        except MockadoError as exc:
            failed += 1
            print(f"line {number}: {exc}", file=stderr)
            continue
        stdout.write(json.dumps(exchange.to_record()) + "\n")
    return 1 if failed else 0
