"""Recordings as stubs in a live WireMock, and canary calls against them: the helpers of
the mapping tests that replay through a real WireMock 3.13.2."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpResponse
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, ScenarioTracker, build_mapping
from tests.unit.mapping.mapping_helpers import make_exchange

JSON_CT = (("content-type", "application/json"),)


def recording(
    *,
    method: str,
    path: str,
    host: str = "shop.svc",
    query: tuple[tuple[str, str], ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    status: int = 200,
    response_body: bytes = b"",
    response_headers: tuple[tuple[str, str], ...] = JSON_CT,
    redactions: frozenset[str] = frozenset(),
    response_truncated: bool = False,
) -> Exchange:
    """A sanitized recording of ``method host path``. ``host`` as the client sent it: a
    port only when it called one (WireMock reads no port as 80)."""
    response = HttpResponse(
        status=status,
        headers=response_headers,
        body=response_body,
        body_truncated=response_truncated,
    )
    return make_exchange(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        authority=host,
        response=response,
        redactions=redactions,
    )


def reply(tag: str) -> bytes:
    return json.dumps({"recorded": tag}).encode()


def stubs_of(exchanges: list[Exchange], **config: Any) -> list[dict[str, Any]]:
    cfg = CollectorConfig(**config)
    normalizer = NoiseNormalizer(cfg)
    dedup = Deduplicator(cfg, normalizer=normalizer)
    tracker = ScenarioTracker()
    out = []
    for exchange in exchanges:
        dedup_hash = dedup.hash(exchange)
        if not dedup.is_new_locally(dedup_hash):
            continue
        mapping = build_mapping(
            exchange, dedup_hash=dedup_hash, config=cfg, normalizer=normalizer, scenarios=tracker
        )
        assert mapping is not None
        out.append(mapping)
    return out


def load_stubs(url: str, mappings: list[dict[str, Any]]) -> None:
    resp = httpx.post(
        f"{url}/__admin/mappings/import",
        json={
            "mappings": mappings,
            "importOptions": {"duplicatePolicy": "OVERWRITE", "deleteAllNotInImport": False},
        },
        timeout=30,
    )
    assert resp.status_code == 200, resp.text


def canary_call(
    url: str,
    method: str,
    path: str,
    *,
    host: str = "shop.svc",
    params: list[tuple[str, str]] | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    all_headers = {"Host": host, **(headers or {})}
    if json_body is not None:
        content = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    # A fresh connection per call: Jetty may keep a connection's first Host casing.
    return httpx.request(
        method, url + path, params=params, content=content, headers=all_headers, timeout=10
    )


def answered(resp: httpx.Response) -> str | None:
    if resp.status_code == 404 and "Request was not matched" in resp.text:
        return None
    return resp.json().get("recorded")
