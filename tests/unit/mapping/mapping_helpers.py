"""Exchanges and mappings for the mapping tests."""

from __future__ import annotations

import json
from typing import Any

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, ScenarioTracker, build_mapping

UUID = "3f2b8c1e-1111-4222-8333-444455556666"
JSON = (("content-type", "application/json"),)
ANY_OR_ABSENT = {"or": [{"matches": ".*"}, {"absent": True}]}


def make_exchange(
    *,
    method: str = "GET",
    path: str = "/items",
    query: tuple[tuple[str, str], ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    authority: str = "shop.svc:8080",
    response: HttpResponse | None = None,
    redactions: frozenset[str] = frozenset(),
    **request_flags: Any,
) -> Exchange:
    return Exchange(
        id="e",
        sanitized=True,
        namespace="shop",
        workload="web",
        captured_at_s=1700000000.5,
        redactions=redactions,
        request=HttpRequest(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            authority=authority,
            **request_flags,
        ),
        response=response or HttpResponse(status=200, headers=JSON, body=b'{"ok":true}'),
    )


def build(exchange: Exchange, **config: Any) -> dict[str, Any] | None:
    cfg = CollectorConfig(**config)
    normalizer = NoiseNormalizer(cfg)
    dedup = Deduplicator(cfg, normalizer=normalizer)
    return build_mapping(
        exchange,
        dedup_hash=dedup.hash(exchange),
        config=cfg,
        normalizer=normalizer,
        scenarios=ScenarioTracker() if cfg.stateful_scenarios else None,
    )


def build_in_scenarios(exchanges: list[Exchange]) -> list[dict[str, Any] | None]:
    """The stubs of ``exchanges`` recorded in order by one collector in stateful mode."""
    cfg = CollectorConfig(stateful_scenarios=True)
    normalizer = NoiseNormalizer(cfg)
    dedup = Deduplicator(cfg, normalizer=normalizer)
    tracker = ScenarioTracker()
    return [
        build_mapping(
            exchange,
            dedup_hash=dedup.hash(exchange),
            config=cfg,
            normalizer=normalizer,
            scenarios=tracker,
        )
        for exchange in exchanges
    ]


def json_post(payload: Any, **kw: Any) -> Exchange:
    return make_exchange(method="POST", headers=JSON, body=json.dumps(payload).encode(), **kw)
