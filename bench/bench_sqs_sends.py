"""An SQS batch send served by mockado's launcher: JVM CPU per request, this launcher
against a baseline one (by default the launcher before it parsed a request's body once
for all of its MD5s), side by side on the same box.

Each launcher runs in its own JVM with mockado's serving flags and the same stubs: a
10-entry ``SendMessageBatch`` with three message attributes per entry, in SQS's JSON
protocol and in its query protocol (a form), each stub as mockado writes one (the
``mockado-sqs-send`` matcher, an answer computing 20 MD5s with ``mockadoSqsMd5``).
``CANDIDATES`` more stubs at the same path, for batches with other entry Ids, are
evaluated before it as WireMock evaluates stubs (newest first), so each request also
runs their guard checks.

Both JVMs are warmed up with ``WARMUP_REQUESTS`` requests, then measured in
``ROUNDS`` interleaved rounds (baseline, current; current, baseline; ...) of
``REQUESTS_PER_ROUND`` requests each, alternating the two protocols. The JVM's CPU time
(user + system, from /proc) per request is the figure; ``sqs_sends.cpu_ratio`` is the
median of each round's current/baseline ratio, with its range. Every answer is checked
against the MD5s as SQS documents them (``wrong``: answers that were not).

``MOCKADO_BENCH_SQS_BASELINE`` names the git revision whose launcher is the baseline.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import urllib.parse
from pathlib import Path

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
from ext_proc_server.mapping.sent_messages import attributes_md5
from tests.support.sqs_sends import digests_stub

BASELINE_REVISION = os.environ.get("MOCKADO_BENCH_SQS_BASELINE", "9c83969")
ENTRIES = 10
CANDIDATES = 4
WARMUP_REQUESTS = 6_000
ROUNDS = 6
REQUESTS_PER_ROUND = 2_000
PATH = "/sqs"
FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/x-amz-json-1.0"}


def _attributes(n: int) -> dict[str, dict[str, str]]:
    return {
        "kind": {"DataType": "String", "StringValue": f"restock-{n}"},
        "count": {"DataType": "Number", "StringValue": str(n * 7)},
        "trace": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00t%d" % n).decode()},
    }


def _messages(ids: list[str]) -> list[tuple[str, str, dict]]:
    return [(key, f"restock aisle {n} " + "x" * 120, _attributes(n)) for n, key in enumerate(ids)]


def _json_body(messages: list[tuple[str, str, dict]]) -> str:
    entries = [{"Id": k, "MessageBody": b, "MessageAttributes": a} for k, b, a in messages]
    return json.dumps({"QueueUrl": "http://sqs.local/000000000000/orders", "Entries": entries})


def _form_body(messages: list[tuple[str, str, dict]]) -> str:
    fields = [("Action", "SendMessageBatch"), ("QueueUrl", "http://sqs.local/0/orders")]
    for n, (key, body, attributes) in enumerate(messages, start=1):
        entry = f"SendMessageBatchRequestEntry.{n}."
        fields += [(f"{entry}Id", key), (f"{entry}MessageBody", body)]
        for a, (name, value) in enumerate(attributes.items(), start=1):
            kind = "BinaryValue" if "BinaryValue" in value else "StringValue"
            fields += [(f"{entry}MessageAttribute.{a}.Name", name),
                       (f"{entry}MessageAttribute.{a}.Value.DataType", value["DataType"]),
                       (f"{entry}MessageAttribute.{a}.Value.{kind}", value[kind])]  # fmt: skip
    return urllib.parse.urlencode(fields)


def _requests() -> list[tuple[str, dict[str, str], str, str]]:
    """(path, headers, body, the answer SQS's MD5s make) for each protocol."""
    messages = _messages([f"m-{n}" for n in range(ENTRIES)])
    expected = ",".join(
        f"{hashlib.md5(body.encode()).hexdigest()},{attributes_md5(attributes)}"
        for _, body, attributes in messages
    )
    return [
        (f"{PATH}/json", JSON, _json_body(messages), expected),
        (f"{PATH}/form", FORM, _form_body(messages), expected),
    ]


def _baseline_source(workdir: Path) -> Path:
    relative = WIREMOCK_LAUNCHER.relative_to(REPO_ROOT)
    source = subprocess.run(
        ["git", "show", f"{BASELINE_REVISION}:{relative}"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    path = workdir / "baseline" / WIREMOCK_LAUNCHER.name
    path.parent.mkdir(parents=True)
    path.write_text(source)
    return path


def _start(label: str, launcher: Path, workdir: Path, started: list) -> Setup:
    process, url = start_launcher(label, launcher, workdir, started)
    for protocol in ("json", "form"):
        # Older candidates first: WireMock evaluates the newest first, the one that matches last.
        stubs = [digests_stub(f"{PATH}/{protocol}", protocol, [f"other-{c}-{n}" for n in range(ENTRIES)], separator=",")
                 for c in range(CANDIDATES)]  # fmt: skip
        recorded = [f"m-{n}" for n in range(ENTRIES)]
        post_stubs(
            url, [digests_stub(f"{PATH}/{protocol}", protocol, recorded, separator=","), *stubs]
        )
    return process, url


def _serve(client: httpx.Client) -> Serve:
    requests = _requests()

    def serve(url: str, count: int) -> int:
        """Sends ``count`` requests, the protocols in turn. -> how many answers were wrong."""
        wrong = 0
        for n in range(count):
            path, headers, body, expected = requests[n % len(requests)]
            answer = client.post(f"{url}{path}", headers=headers, content=body)
            wrong += answer.status_code != 200 or answer.text != expected
        return wrong

    return serve


def run(*, quick: bool = False) -> dict[str, float]:
    warmup, per_round, rounds = (1_000, 500, 2) if quick else (WARMUP_REQUESTS,
                                                                REQUESTS_PER_ROUND, ROUNDS)  # fmt: skip

    def start_all(workdir: Path, started: list) -> dict[str, Setup]:
        return {
            "baseline": _start("baseline", _baseline_source(workdir), workdir, started),
            "current": _start("current", WIREMOCK_LAUNCHER, workdir, started),
        }

    cost, wrong = compare(
        "sqs", start_all, _serve, warmup=warmup, rounds=rounds, per_round=per_round
    )
    return {**cost_figures("sqs_sends", cost), "sqs_sends.wrong": wrong}


if __name__ == "__main__":
    print(json.dumps(run(quick=os.environ.get("MOCKADO_BENCH_QUICK") == "1"), indent=2))
