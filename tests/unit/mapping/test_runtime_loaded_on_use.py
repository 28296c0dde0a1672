"""The AWS common runtime (awscrt, for CRC-64/NVME) costs every process that imports it
tens of milliseconds of CPU: the collector and the loader start without it, and the first
CRC-64 a stub serves loads it (``mapping.digests``)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.paths import REPO

# Run in a fresh interpreter: this session's other tests may have loaded awscrt already.
_SCRIPT = """
import json, sys
import ext_proc_server.capture.server, ext_proc_server.loader
from ext_proc_server.mapping import digests

def loaded():
    return sorted(m for m in sys.modules if m.split(".")[0] in ("awscrt", "_awscrt"))

at_start = loaded()
values = [digests.crc64nvme(b"123456789"), digests.crc64nvme(b"a")]
print(json.dumps({"at_start": at_start, "after": loaded(), "values": values}))
"""


def test_the_aws_runtime_is_loaded_by_the_first_crc64_not_at_start() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=REPO, capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["at_start"] == []
    assert "awscrt.checksums" in seen["after"]
    assert seen["values"] == [0xAE8B14860A799888, 0x8C2F8445B4CBFC3C]
