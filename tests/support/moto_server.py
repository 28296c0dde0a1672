"""A local moto server (``moto[server]``, a dev dependency): S3, DynamoDB, SQS and the other
AWS services over real HTTP, for the S3 backup test and the boto3 replay."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from control_plane.local import procs
from tests.support.processes import promised_port


@contextmanager
def running_moto(log_path: Path) -> Iterator[int]:
    """A moto server on a free port of 127.0.0.1 -> its port; stopped on exit. A missing
    ``moto_server`` fails the start (it is installed with the dev dependencies)."""
    server = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    port = promised_port()
    process = procs.ManagedProcess(
        "moto", [server, "-H", "127.0.0.1", "-p", str(port)], log_path=log_path
    ).start()
    try:
        process.wait_ready(procs.http_ready(f"http://127.0.0.1:{port}/moto-api/"), timeout_s=30)
        yield port
    finally:
        process.stop()
