"""A JSON request sent with a raw line break in a value the sanitizer replaced whole (a
two-line address): its stub, loaded into a live WireMock, answers the request sent
again as it was recorded, raw line break and all, and not one with another stable
value. (Before, the sanitized body was strict JSON and the stub's ``equalToJson`` met
a request WireMock's Jackson refuses to read: a miss.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from faker import Faker

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


def _raw_order(order_id: str, address: str) -> bytes:
    """The order as a hand-built client writes it: the address's line break raw."""
    document = {"pedido": order_id, "itens": 2, "endereco": address}
    return json.dumps(document, ensure_ascii=False).replace("\\n", "\n").encode()


def test_a_raw_line_break_replaced_whole_is_answered_as_sent(wm: Any) -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(11)
    address, other_address = fake.address(), fake.address()  # street, then city: 2 lines
    assert "\n" in address and "\n" in other_address
    sent = _raw_order("P-7", address)
    exchange = recording(
        method="POST", path="/pedidos", headers=JSON_CT, body=sent, response_body=reply("pedido")
    )
    sanitized = Sanitizer(CollectorConfig()).sanitize(exchange)
    assert address.splitlines()[0].encode() not in sanitized.request.body
    json.loads(sanitized.request.body)  # strict JSON once the address is replaced
    load_stubs(wm.url, stubs_of([sanitized]))
    headers = dict(JSON_CT)
    assert answered(canary_call(wm.url, "POST", "/pedidos", content=sent, headers=headers)) == (
        "pedido"
    )
    # Another person's address, sent the same way.
    another = _raw_order("P-7", other_address)
    assert answered(canary_call(wm.url, "POST", "/pedidos", content=another, headers=headers)) == (
        "pedido"
    )
    # Another order is not answered.
    other_order = _raw_order("P-8", address)
    assert (
        answered(canary_call(wm.url, "POST", "/pedidos", content=other_order, headers=headers))
        is None
    )
