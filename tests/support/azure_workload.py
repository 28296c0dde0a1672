"""An Azure Blob Storage workload (``azure-storage-blob``) run once against a real server
(Azurite, recorded) and once against a mock (replayed), each call's parsed result compared.

SharedKey auth with Azurite's well-known development account: every request carries its
own ``x-ms-date``, signature and random ``x-ms-client-request-id``. The SDK checks an
answer's ``Content-MD5`` on a download it asked to validate, and reads a download's size from
its ``Content-Range``. Each blob is written once and read after it: a mock serves one state
of each request.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError
from azure.storage.blob import (
    BlobBlock,
    BlobSasPermissions,
    BlobServiceClient,
    ContentSettings,
    generate_blob_sas,
)

from tests.support.sdk_replay import BODIES, EMAIL, Outcome

ACCOUNT = "devstoreaccount1"
# Azurite's published development key (not a secret: every emulator has it).
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
CONTAINER = "mockado-blobs"
BLOCKS = "notes/blocks.txt"
# Uploaded, deleted, then read: never read before (one request, one answer).
DELETED = "notes/old.txt"
TEXT = ContentSettings(content_type="text/plain; charset=utf-8")
BINARY = ContentSettings(content_type="application/octet-stream")
# Per-call values the SDK parses out of an answer's headers that a mock cannot give as the
# server did: the Date of this answer (WireMock writes its own), the id the client chose.
PER_CALL = frozenset({"date", "client_request_id"})
# The id the SDK makes for each call, which Azure Storage answers with.
CLIENT_REQUEST_ID = "x-ms-client-request-id"


def client(
    endpoint: str, *, echoed: list[tuple[str, str | None]] | None = None
) -> BlobServiceClient:
    """A fresh client for the account at ``endpoint`` (``http://host:port``); one attempt
    per call, so a refused answer shows as it is. ``echoed``: each answer's
    (``x-ms-client-request-id`` sent, the one answered) appended to it."""
    hooks = {"raw_response_hook": _echo_hook(echoed)} if echoed is not None else {}
    return BlobServiceClient(
        account_url=f"{endpoint}/{ACCOUNT}",
        credential={"account_name": ACCOUNT, "account_key": ACCOUNT_KEY},
        retry_total=0,
        **hooks,
    )


def _echo_hook(echoed: list[tuple[str, str | None]]) -> Callable[[Any], None]:
    def hook(pipeline_response: Any) -> None:
        sent = pipeline_response.http_request.headers.get(CLIENT_REQUEST_ID)
        echoed.append((sent, pipeline_response.http_response.headers.get(CLIENT_REQUEST_ID)))

    return hook


def plain(value: Any) -> Any:
    """A parsed result as comparable data: dates as text, per-call values left out."""
    if hasattr(value, "items") and callable(value.items):
        return {k: plain(v) for k, v in value.items() if k not in PER_CALL}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return value


Step = Callable[[BlobServiceClient, dict[str, Any]], Any]


def _blob(c: BlobServiceClient, name: str):
    return c.get_blob_client(CONTAINER, name)


def _download(c: BlobServiceClient, name: str, **kwargs: Any) -> dict[str, Any]:
    stream = _blob(c, name).download_blob(**kwargs)
    return {"body": stream.readall(), "properties": stream.properties}


def _upload_steps() -> list[tuple[str, Step]]:
    steps: list[tuple[str, Step]] = [
        ("create_container", lambda c, s: c.get_container_client(CONTAINER).create_container()),
    ]
    for name, body in {**BODIES, DELETED: b"to be deleted\n"}.items():
        steps.append((f"upload {name}", lambda c, s, n=name, b=body: _blob(c, n).upload_blob(
            b, overwrite=True, metadata={"owner": "orders"} if n.endswith(".json") else None,
            content_settings=BINARY if n.endswith(".bin") else TEXT)))  # fmt: skip

    def blocks(c: BlobServiceClient, s: dict) -> Any:
        blob = _blob(c, BLOCKS)
        ids = ["YmxvY2stMDE=", "YmxvY2stMDI="]  # fixed ids: the same request each run
        blob.stage_block(ids[0], b"part one\n")
        blob.stage_block(ids[1], b"part two\n")
        return blob.commit_block_list([BlobBlock(block_id=i) for i in ids])

    steps.append(("stage and commit blocks", blocks))
    return steps


def _read_steps() -> list[tuple[str, Step]]:
    steps: list[tuple[str, Step]] = []
    for name in (*BODIES, BLOCKS):
        steps.append((f"download {name}", lambda c, s, n=name: _download(c, n)))

    def props(c: BlobServiceClient, s: dict) -> Any:
        answer = _blob(c, "notes/a.txt").get_blob_properties()
        s["etag"] = answer.etag
        return answer

    steps += [
        ("download range", lambda c, s: _download(c, "notes/d.json", offset=0, length=10)),
        ("download validated", lambda c, s: _download(
            c, "notes/d.json", validate_content=True)),
        ("download validated sanitized", lambda c, s: _download(
            c, "notes/contact.txt", validate_content=True)),
        ("get_blob_properties", props),
        ("download if_match", lambda c, s: _download(
            c, "notes/a.txt", etag=s["etag"], match_condition=MatchConditions.IfNotModified)),
        ("download if_match stale", lambda c, s: _download(
            c, "notes/b c.txt", etag=s["etag"], match_condition=MatchConditions.IfNotModified)),
        ("download if_none_match", lambda c, s: _download(
            c, "notes/a.txt", etag=s["etag"], match_condition=MatchConditions.IfModified)),
        # Written once, read once after: a mock replays one state of each blob.
        ("set_blob_metadata", lambda c, s: _blob(c, "notes/d.json").set_blob_metadata(
            {"owner": "orders", "stage": "reviewed"})),
        ("get_blob_properties after metadata", lambda c, s: _blob(
            c, "notes/d.json").get_blob_properties().metadata),
        ("list prefix pages", _list_pages),
        ("download missing", lambda c, s: _download(c, "nope.txt")),
    ]  # fmt: skip
    return steps


def _list_pages(c: BlobServiceClient, s: dict) -> Any:
    """Two blobs a page: the second page is asked for with the first's ``marker``."""
    pages = (
        c.get_container_client(CONTAINER)
        .list_blobs(name_starts_with="notes/", results_per_page=2)
        .by_page()
    )
    return [[(b.name, b.size, b.etag) for b in page] for page in pages]


def _sas_read(c: BlobServiceClient, s: dict) -> Any:
    """A blob read by another client through a SAS URL: its expiry and signature in the
    query."""
    name = "notes/d.json"
    # Valid for an hour from now: another expiry and signature on every run.
    expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
    sas = generate_blob_sas(
        ACCOUNT, CONTAINER, name, account_key=ACCOUNT_KEY, expiry=expiry,
        permission=BlobSasPermissions(read=True),
    )  # fmt: skip
    url = f"{_blob(c, name).url}?{sas}"
    reply = httpx.get(url, timeout=10)
    if reply.status_code != 200:
        raise HttpResponseError(f"SAS read answered {reply.status_code}")
    return {"body": reply.content, "content-type": reply.headers.get("content-type")}


def _copy(c: BlobServiceClient, origin: str, source: str) -> Any:
    url = f"{origin}/{ACCOUNT}/{CONTAINER}/{quote(source)}"
    answer = _blob(c, "copies/latest.txt").start_copy_from_url(url)
    return {k: v for k, v in answer.items() if k != "copy_id"}  # a new id for every copy


def _change_steps(origin: str) -> list[tuple[str, Step]]:
    def lease(c: BlobServiceClient, s: dict) -> Any:
        # A fixed lease id: the same request each run.
        taken = _blob(c, "notes/a.txt").acquire_lease(
            lease_duration=15, lease_id="6f1c2b0e-7a41-4c1e-9d2a-3b5e8f0a1c2d"
        )
        taken.release()
        return {"id": taken.id, "etag": taken.etag}

    return [
        ("sas read", _sas_read),
        # One destination copied from two sources: the same PUT but for x-ms-copy-source.
        ("copy a", lambda c, s: _copy(c, origin, "notes/a.txt")),
        ("copy b", lambda c, s: _copy(c, origin, "notes/b c.txt")),
        ("lease acquire release", lease),
        ("delete_blob", lambda c, s: _blob(c, DELETED).delete_blob()),
        ("download deleted", lambda c, s: _download(c, DELETED)),
    ]


def steps(origin: str) -> list[tuple[str, Step]]:
    """The workload in order: (name, step(client, state) -> parsed result). ``origin``:
    the account's address a copy names its source by, the same when recorded and
    replayed (as a production account's is)."""
    return [*_upload_steps(), *_read_steps(), *_change_steps(origin)]


def run(steps_: list[tuple[str, Step]], service: BlobServiceClient) -> dict[str, Outcome]:
    """Each step in order -> name -> its outcome."""
    state: dict[str, Any] = {}
    outcomes: dict[str, Outcome] = {}
    for name, step in steps_:
        try:
            outcomes[name] = Outcome(result=plain(step(service, state)))
        except HttpResponseError as exc:
            headers = exc.response.headers if exc.response is not None else {}
            outcomes[name] = Outcome(
                error=f"{type(exc).__name__} {exc.error_code}",
                status=exc.status_code,
                from_stub="matched-stub-id" in headers,
            )
        except (AzureError, ValueError) as exc:
            outcomes[name] = Outcome(error=f"{type(exc).__name__}: {exc}")
    return outcomes


def agrees(recorded: Any, replayed: Any) -> bool:
    """Whether a replayed result is the recorded one, apart from the customer's address
    (sanitized: any other text in its place). A download whose body was sanitized must
    give the served body's own size, range and MD5, and every other property recorded."""
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        if recorded.keys() != replayed.keys():
            return False
        body = recorded.get("body")
        if isinstance(body, bytes) and body != replayed["body"] and "properties" in recorded:
            return (
                agrees(body, replayed["body"])
                and _describes_body(replayed)
                and agrees(_without_body_facts(recorded), _without_body_facts(replayed))
            )
        return all(agrees(v, replayed[k]) for k, v in recorded.items())
    if isinstance(recorded, list) and isinstance(replayed, list):
        return len(recorded) == len(replayed) and all(map(agrees, recorded, replayed))
    if isinstance(recorded, bytes) and isinstance(replayed, bytes):
        return agrees(recorded.decode("latin-1"), replayed.decode("latin-1"))
    if isinstance(recorded, str) and isinstance(replayed, str) and EMAIL in recorded:
        pattern = '[^ "]+?'.join(map(re.escape, recorded.split(EMAIL)))
        return EMAIL not in replayed and re.fullmatch(pattern, replayed) is not None
    return recorded == replayed


def _describes_body(result: dict) -> bool:
    """A whole download's size, range and MD5 are those of the body served."""
    body, props = result["body"], result["properties"]
    md5 = props["content_settings"]["content_md5"]
    served_md5 = hashlib.md5(body, usedforsecurity=False).digest()
    whole = f"bytes 0-{len(body) - 1}/{len(body)}"
    return props["size"] == len(body) and props["content_range"] == whole and md5 == served_md5


def _without_body_facts(result: dict) -> dict:
    props = {k: v for k, v in result["properties"].items() if k not in ("size", "content_range")}
    props["content_settings"] = {
        k: v for k, v in props["content_settings"].items() if k != "content_md5"
    }
    return {"properties": props}
