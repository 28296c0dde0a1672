"""S3 uploads sent ``aws-chunked`` served by mockado's launcher: JVM CPU per request, this
launcher and the stubs mapping writes now against a baseline revision's launcher and stubs
(by default the one before the launcher matched a payload out of its framing), side by side.

Each launcher runs in its own JVM with mockado's serving flags. Its stubs are the ones its
own revision's mapping writes for the same recorded uploads (the baseline's built by that
revision's code, from ``git archive``): a 199 KB CSV and a 199 KB binary payload, each
with ``CANDIDATES`` stubs of other payloads of the same length at the same path, evaluated
before it (WireMock evaluates the newest first). The requests are what both revisions
answer: each payload framed by botocore's own ``AwsChunkedWrapper`` in one chunk (botocore's
1 MiB), a CRC32 trailer.

Both JVMs are warmed up with ``WARMUP_REQUESTS`` requests, then measured in ``ROUNDS``
interleaved rounds (baseline, current; current, baseline; ...) of ``REQUESTS_PER_ROUND``
requests, the two payloads in turn. The JVM's CPU time (user + system, from /proc) per
request is the figure; ``aws_chunked.cpu_ratio`` is the median of each round's
current/baseline ratio, with its range. ``wrong``: answers that were not the stub's (200
and its ETag). ``stub_bytes``: the size of each revision's stubs for the two payloads.

``MOCKADO_BENCH_CHUNKED_BASELINE`` names the git revision of the baseline.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import httpx

from bench.launcher_pairs import (
    Serve,
    Setup,
    compare,
    cost_figures,
    post_stubs,
    start_launcher,
)
from control_plane.assets import REPO_ROOT, WIREMOCK_LAUNCHER
from tests.support.aws_framing import botocore_framed

BASELINE_REVISION = os.environ.get("MOCKADO_BENCH_CHUNKED_BASELINE", "ebe4c0b")
CANDIDATES = 4
WARMUP_REQUESTS = 3_000
ROUNDS = 6
REQUESTS_PER_ROUND = 1_000
HOST = "shop.svc:8080"  # the recordings' (mapping_helpers.make_exchange's)
CSV = b"".join(b"order-%06d,paid,%d.%02d\n" % (n, n % 997, n % 100) for n in range(8000))
BINARY = b"\x1f\x8b\x08\x00" + bytes(range(128, 256)) * (len(CSV) // 128)
# (path, recorded payload, other payloads of the same length recorded at the same path)
UPLOADS = (
    (
        "/bucket/export.csv",
        CSV,
        [CSV.replace(b"paid", b"vo%02d" % c, 1) for c in range(CANDIDATES)],
    ),
    ("/bucket/data.bin", BINARY, [bytes([c]) + BINARY[1:] for c in range(CANDIDATES)]),
)
ETAG = '"5d41402abc4b2a76b9719d911017c592"'
# Run by each revision's Python on its own tree: the stubs its mapping writes.
_STUBS_SCRIPT = """
import json, sys
from ext_proc_server.core.exchange import HttpResponse
from tests.unit.mapping.mapping_helpers import build, make_exchange
out = []
for path, payload_hex, length in json.load(sys.stdin):
    payload = bytes.fromhex(payload_hex)
    headers = (("content-type", "application/octet-stream"),
               ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
               ("x-amz-decoded-content-length", str(len(payload))),
               ("x-amz-trailer", "x-amz-checksum-crc32"))
    out.append(build(make_exchange(method="PUT", path=path, headers=headers, body=payload,
        response=HttpResponse(status=200, headers=(("etag", sys.argv[1]),)))))
json.dump(out, sys.stdout)
"""


def _tree(revision: str, workdir: Path) -> Path:
    """The repository at ``revision``, unpacked under ``workdir``."""
    archive = subprocess.run(
        ["git", "archive", revision], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    root = workdir / "baseline-tree"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(root, filter="data")
    return root


def _stubs(tree: Path) -> list[dict[str, Any]]:
    """The stubs ``tree``'s mapping writes, older first: the candidates, then the payload."""
    recorded = [
        (path, payload.hex(), len(payload))
        for path, payload, others in UPLOADS
        for payload in (payload, *others)
    ]
    built = subprocess.run(
        [sys.executable, "-c", _STUBS_SCRIPT, ETAG],
        cwd=tree, env={**os.environ, "PYTHONPATH": str(tree)},
        input=json.dumps(recorded), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    stubs = json.loads(built)
    assert all(stubs), "every upload gets a stub"
    return stubs


def _start(label: str, tree: Path, workdir: Path, started: list) -> tuple[Setup, int]:
    """-> (the launcher of ``tree`` serving its own stubs, the size of its recorded stubs)."""
    launcher = tree / WIREMOCK_LAUNCHER.relative_to(REPO_ROOT)
    setup = start_launcher(label, launcher, workdir, started)
    stubs = _stubs(tree)
    # Each recorded payload's stub, then its candidates: newer, so evaluated first.
    post_stubs(setup[1], stubs)
    return setup, len(json.dumps(stubs[:: CANDIDATES + 1]))


def _requests() -> list[tuple[str, dict[str, str], bytes]]:
    return [
        (path, {
            "Host": HOST, "Content-Type": "application/octet-stream",
            "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(payload)),
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-trailer": "x-amz-checksum-crc32",
        }, botocore_framed(payload))
        for path, payload, _ in UPLOADS
    ]  # fmt: skip


def _serve(client: httpx.Client) -> Serve:
    requests = _requests()

    def serve(url: str, count: int) -> int:
        """Sends ``count`` uploads, the payloads in turn. -> how many answers were wrong."""
        wrong = 0
        for n in range(count):
            path, headers, body = requests[n % len(requests)]
            answer = client.put(f"{url}{path}", headers=headers, content=body)
            wrong += answer.status_code != 200 or answer.headers.get("etag") != ETAG
        return wrong

    return serve


def run(*, quick: bool = False) -> dict[str, float]:
    warmup, per_round, rounds = (500, 200, 2) if quick else (WARMUP_REQUESTS,
                                                              REQUESTS_PER_ROUND, ROUNDS)  # fmt: skip
    stub_bytes: dict[str, int] = {}

    def start_all(workdir: Path, started: list) -> dict[str, Setup]:
        trees = {"baseline": _tree(BASELINE_REVISION, workdir), "current": REPO_ROOT}
        setups = {}
        for label, tree in trees.items():
            setups[label], stub_bytes[label] = _start(label, tree, workdir, started)
        return setups

    cost, wrong = compare(
        "chunked", start_all, _serve, warmup=warmup, rounds=rounds, per_round=per_round
    )
    return {
        **cost_figures("aws_chunked", cost),
        "aws_chunked.baseline.stub_bytes": stub_bytes["baseline"],
        "aws_chunked.current.stub_bytes": stub_bytes["current"],
        "aws_chunked.wrong": wrong,
    }


if __name__ == "__main__":
    print(json.dumps(run(quick=os.environ.get("MOCKADO_BENCH_QUICK") == "1"), indent=2))
