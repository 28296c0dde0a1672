"""An SQS send's two stubs age together, through ``mockado up`` (real Envoy, ext_proc, Redis,
loader and WireMock) in front of a moto server: the stub computing its MD5s and the one
beside it answering its exact repeats with the recorded MD5s (stock WireMock's only answer).
Repeats on the repeat fast path are counted for the first stub; the loader stamps the
second's ``last_seen`` with it, so with ``loader.stub_ttl_s`` set the second stays while the
send is repeated, and both go once nothing captures it."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import boto3
import httpx
import pytest
import yaml

from ext_proc_server.mapping.sent_messages import computes_digests
from ext_proc_server.mapping.stubs import exact_repeats_id
from tests.support import boto_workload
from tests.support.metrics_text import scrape, total
from tests.support.moto_server import running_moto
from tests.support.processes import poll_until

pytestmark = pytest.mark.integration

TTL_S = 2.0
CONFIG = {"loader": {"stub_ttl_s": TTL_S, "stub_refresh_interval_s": 0.2},
          "collector": {"flush_interval": 0.2}}  # fmt: skip
MESSAGE = "caneca azul, pedido 7"
SEND_HEADERS = {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": "AmazonSQS.SendMessage",
    # moto routes by the credential's scope (it checks no signature); one value throughout.
    "authorization": "AWS4-HMAC-SHA256 Credential=AKIARECORDED00000001/20260101/"
    f"{boto_workload.REGION}/sqs/aws4_request, SignedHeaders=host, Signature={'0' * 64}",
}


def _queue_url(moto_port: int) -> str:
    """A queue made on moto directly (not captured)."""
    sqs = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{moto_port}",
        region_name=boto_workload.REGION,
        aws_access_key_id="AKIAQUEUEMAKER000001",
        aws_secret_access_key="queue-maker-secret",
    )
    return sqs.create_queue(QueueName="orders-aging")["QueueUrl"]


def _send(url: str, body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers=SEND_HEADERS, timeout=10)


def _send_stubs(stack) -> dict[str, dict]:
    """The stubs answering a send, by role: "computing" its MD5s, and "exact" repeats."""
    mappings = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()["mappings"]
    computing = [m for m in mappings if computes_digests(m)]
    if len(computing) != 1:
        return {}
    twin_id = exact_repeats_id(computing[0])
    exact = [m for m in mappings if m["id"] == twin_id]
    return {"computing": computing[0], "exact": exact[0]} if exact else {}


def _stub_ids(stack) -> set[str]:
    mappings = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()["mappings"]
    return {m["id"] for m in mappings}


def test_an_sqs_sends_exact_repeat_stub_stays_while_repeated_and_ages_with_its_first(
    stack_factory, wiremock_factory, tmp_path: Path
):
    with running_moto(tmp_path / "moto.log") as moto_port:
        stack = stack_factory(
            upstream=f"http://127.0.0.1:{moto_port}", config_text=yaml.safe_dump(CONFIG)
        )
        body = json.dumps({"QueueUrl": _queue_url(moto_port), "MessageBody": MESSAGE}).encode()
        sent = _send(stack.proxy_url, body)
        assert sent.status_code == 200, sent.text
        md5 = hashlib.md5(MESSAGE.encode()).hexdigest()
        assert sent.json()["MD5OfMessageBody"] == md5
        stubs = poll_until(lambda: _send_stubs(stack), timeout_s=30)
        assert stubs, "the send's two stubs were never loaded"
        recorded_s = stubs["exact"]["metadata"]["mockado"]["last_seen"]

        # Repeated for twice the TTL (each a repeat on the fast path): both stubs stay.
        until = time.monotonic() + TTL_S * 2
        while time.monotonic() < until:
            assert _send(stack.proxy_url, body).status_code == 200
            time.sleep(0.2)
        collector_port = stack.effective_config["collector"]["http_port"]
        repeats = total(
            scrape(f"http://127.0.0.1:{collector_port}/metrics"),
            "collector_repeats_total",
            level="local",
        )
        assert repeats >= 5, repeats
        kept = _send_stubs(stack)
        assert kept, f"a stub of the repeated send aged out: {sorted(_stub_ids(stack))}"
        assert kept["exact"]["metadata"]["mockado"]["last_seen"] >= recorded_s + TTL_S

        # Stock WireMock with the stub answering exact repeats: the recorded MD5s.
        stock = wiremock_factory(indexed=False)
        exact = {k: v for k, v in kept["exact"].items() if k != "uuid"}
        httpx.post(f"{stock.url}/__admin/mappings", json=exact, timeout=5).raise_for_status()
        answered = _send(stock.url, body)
        assert answered.status_code == 200, answered.text
        assert answered.json()["MD5OfMessageBody"] == md5

        # Nothing captures the send any more: both stubs go.
        ids = {kept["computing"]["id"], kept["exact"]["id"]}
        assert poll_until(lambda: not ids & _stub_ids(stack), timeout_s=TTL_S + 10), (
            "the send's stubs never aged out"
        )
