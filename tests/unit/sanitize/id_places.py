"""An identifier in every place one travels: a JSON value under a neutral key, a path
segment, a query value, the x-request-id header and free text. ``changed_places`` says
where the sanitizer did not leave it byte for byte as it was."""

from __future__ import annotations

import json
from urllib.parse import quote

from ext_proc_server.sanitize import Sanitizer
from tests.unit.sanitize.sanitize_helpers import request_exchange

PLACES = ("json", "path", "query", "header", "text")


def changed_places(sanitizer: Sanitizer, value: str) -> list[str]:
    body = json.dumps({"id": value, "requestId": value, "items": [{"orderId": value}]})
    segment = quote(value, safe="")
    exchange = request_exchange(
        body=body,
        path=f"/v1/orders/{segment}/items",
        query=(("id", segment),),
        headers=(("x-request-id", value),),
    )
    out = sanitizer.sanitize(exchange).request
    text = f"Pedido {value} recebido."
    changed = (
        out.body != body.encode(),
        out.path != exchange.request.path,
        out.query != exchange.request.query,
        dict(out.headers).get("x-request-id") != value,
        sanitizer.sanitize_text(text) != text,
    )
    return [place for place, differs in zip(PLACES, changed, strict=True) if differs]
