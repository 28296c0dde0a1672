"""A request's coordinates are coarsened before the stub is written: the stub then
matches any coordinate there (another rider, another GPS fix), through a live WireMock,
and still tells a different stable value apart."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.sanitize import Sanitizer
from tests.integration.wiremock_stubs import (
    JSON_CT,
    answered,
    canary_call,
    load_stubs,
    recording,
    reply,
    stubs_of,
)

pytestmark = pytest.mark.integration


def _order(lat: object, lng: object, store: str = "loja-7") -> dict[str, Any]:
    return {"store": store, "items": [{"sku": "A-1", "qty": 2}],
            "entrega": {"latitude": lat, "longitude": lng}}  # fmt: skip


def _sanitized_recordings() -> list[Any]:
    raw = [
        recording(
            method="POST",
            path="/pedidos",
            headers=JSON_CT,
            body=json.dumps(_order(-23.561414, -46.655881)).encode(),
            response_body=reply("pedido"),
        ),
        recording(
            method="GET",
            path="/lojas/proximas",
            query=(("lat", "-23.561414"), ("lng", "-46.655881"), ("raio", "5")),
            response_body=reply("lojas"),
        ),
    ]
    sanitizer = Sanitizer(CollectorConfig())
    return [sanitizer.sanitize(exchange) for exchange in raw]


def test_a_stub_recorded_with_coordinates_matches_other_precise_coordinates(wm: Any) -> None:
    recorded = _sanitized_recordings()
    assert b"-23.561414" not in recorded[0].request.body
    load_stubs(wm.url, stubs_of(recorded))
    other_point = _order(-22.906847, -43.172897)
    assert answered(canary_call(wm.url, "POST", "/pedidos", json_body=other_point)) == "pedido"
    params = [("raio", "5"), ("lng", "-43.172897"), ("lat", "-22.906847")]
    assert answered(canary_call(wm.url, "GET", "/lojas/proximas", params=params)) == "lojas"
    # The stable values still count: another store, another radius get no answer.
    other_store = _order(-22.906847, -43.172897, store="loja-8")
    assert answered(canary_call(wm.url, "POST", "/pedidos", json_body=other_store)) is None
    params = [("raio", "50"), ("lng", "-43.172897"), ("lat", "-22.906847")]
    assert answered(canary_call(wm.url, "GET", "/lojas/proximas", params=params)) is None
