"""Stubs written by earlier versions of mockado, replayed by a real WireMock 3.13.2 after
they reach it through the loader's client (the queue, a reload from the record, a
restore) or are already held when the loader starts: each answers only requests it was
recorded for, or is gone (a miss), never another request's answer."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.wiremock_client import WireMockClient
from ext_proc_server.mapping.java_regex import java_regex_escape
from ext_proc_server.mapping.priority import SCALE_KEY

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}
XML = {"Content-Type": "text/xml"}


def old_stub(name: str, request: dict, body: str) -> dict:
    """A stub as earlier versions wrote it: no priority_scale in its metadata."""
    stub_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    return {
        "id": stub_id,
        "uuid": stub_id,
        "name": name,
        "priority": 40,
        "request": request,
        "response": {"status": 200, "body": body},
        "metadata": {"mockado": {"namespace": "shop", "hash": name, "first_seen": 1.0}},
    }


def old_json(path: str, expected: object) -> dict:
    pattern = {"equalToJson": expected, "ignoreArrayOrder": True, "ignoreExtraElements": True}
    return {"method": "POST", "urlPath": path, "bodyPatterns": [pattern]}


PATCH = [{"op": "remove", "path": "/items/0"}, {"op": "add", "path": "/items/0", "value": "caneca"}]
SOAP = "<getOrders><customer>SANITIZED_EMAIL</customer></getOrders>"
SOAP_REGEX = "(?s)" + java_regex_escape("<getOrders><customer>") + ".+?"
SOAP_REGEX += java_regex_escape("</customer></getOrders>")
# Another file than the one recorded, as a browser's form sends it.
UPLOAD = (
    '--b7\r\nContent-Disposition: form-data; name="file"; filename="boleto-8812.pdf"\r\n'
    "Content-Type: application/pdf\r\n\r\n%PDF-1.7 boleto 8812\r\n--b7--\r\n"
)
OLD = [
    old_stub("patch", old_json("/v1/carts/7", PATCH), "patched"),
    old_stub("ids", old_json("/v1/items/lookup", {"ids": [101]}), "item 101"),
    old_stub(
        "pay",
        old_json("/v1/payments", {"amount": 10, "card": "${json-unit.ignore-element}"}),
        "paid",
    ),
    old_stub(
        "soap",
        {"method": "POST", "urlPath": "/soap", "bodyPatterns": [{"matches": SOAP_REGEX}]},
        "one",
    ),
    old_stub("search", {"method": "GET", "urlPath": "/v1/search"}, "everything"),
    old_stub("upload", {"method": "POST", "urlPath": "/v1/uploads"}, "report.pdf stored"),
]
# (request, the answer recorded for it or None): requests another recording answered.
WRONG = [
    (("POST", "/v1/carts/7", JSON, json.dumps(PATCH[::-1])), None),
    (("POST", "/v1/items/lookup", JSON, '{"ids": [101, 102]}'), None),
    (("POST", "/v1/payments", JSON, '{"amount": 10}'), None),
    (("POST", "/soap", XML, SOAP.replace("</customer>", "</customer><customer>b@x</customer>", 1)), None),
    (("GET", "/v1/search", JSON, '{"query": {"term": {"sku": "x"}}}'), None),
    (("POST", "/v1/uploads", {"Content-Type": "multipart/form-data; boundary=b7"}, UPLOAD), None),
]  # fmt: skip
RIGHT = [
    (("POST", "/v1/carts/7", JSON, json.dumps(PATCH)), "patched"),
    (("POST", "/v1/items/lookup", JSON, '{"ids": [101]}'), "item 101"),
    (("POST", "/v1/payments", JSON, '{"amount": 10, "card": "4111"}'), "paid"),
    (("POST", "/soap", XML, SOAP.replace("SANITIZED_EMAIL", "ana@x")), "one"),
    (("GET", "/v1/search", {}, None), "everything"),
]  # fmt: skip


def answer(url: str, request: tuple) -> str | None:
    """The body WireMock answers ``request`` with; None for its 404 (no stub matched)."""
    method, path, headers, body = request
    reply = httpx.request(method, url + path, headers=headers, content=body, timeout=10)
    return None if reply.status_code == 404 else reply.text


def load(url: str, stubs: list[dict]) -> list[int]:
    """Through the loader's own import, as the queue, a reload or a restore loads them."""

    async def run() -> list[int]:
        async with WireMockClient(url) as client:
            return await client.import_encoded([json.dumps(stub) for stub in stubs])

    return asyncio.run(run())


@pytest.mark.parametrize(("request_", "recorded"), WRONG, ids=[s["name"] for s in OLD])
def test_an_old_stub_loaded_never_answers_a_request_it_was_not_recorded_for(
    wm, request_, recorded
) -> None:
    load(wm.url, OLD)
    assert answer(wm.url, request_) == recorded


@pytest.mark.parametrize(("request_", "recorded"), RIGHT, ids=[s["name"] for s in OLD[:5]])
def test_an_old_stub_loaded_still_answers_its_own_request(wm, request_, recorded) -> None:
    load(wm.url, OLD)
    assert answer(wm.url, request_) == recorded


def test_old_stubs_a_wiremock_holds_are_narrowed_or_removed_when_the_loader_starts(wm) -> None:
    # Written straight into WireMock, as an older loader left them.
    imported = httpx.post(f"{wm.url}/__admin/mappings/import", json={"mappings": OLD}, timeout=30)
    assert imported.status_code == 200, imported.text
    assert answer(wm.url, WRONG[0][0]) == "patched"  # the wrong answer before the seed

    async def start() -> None:
        async with WireMockClient(wm.url) as client:
            await Shard(name="default", client=client).seed()

    asyncio.run(start())
    for request, recorded in [*WRONG, *RIGHT]:
        assert answer(wm.url, request) == recorded, request
    held = httpx.get(f"{wm.url}/__admin/mappings", timeout=10).json()["mappings"]
    assert sorted(m["id"] for m in held) == sorted(s["id"] for s in OLD[:5])
    assert all(m["metadata"]["mockado"][SCALE_KEY] == 2 for m in held)


ITEMS = st.lists(st.integers(0, 3), min_size=0, max_size=3)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    recorded=st.fixed_dictionaries(
        {"ids": ITEMS, "card": st.sampled_from(["${json-unit.ignore-element}", "4111"])}
    ),
    sent=st.fixed_dictionaries(
        {"ids": ITEMS}, optional={"card": st.sampled_from(["4111", "x"]), "extra": st.just(1)}
    ),
)
def test_a_narrowed_json_stub_never_answers_a_request_the_old_one_did_not(
    wm, recorded: dict, sent: dict
) -> None:
    stub = old_stub("lookup", old_json("/lookup", recorded), "recorded")
    request = ("POST", "/lookup", JSON, json.dumps(sent))
    imported = httpx.post(
        f"{wm.url}/__admin/mappings/import", json={"mappings": [stub]}, timeout=30
    )
    assert imported.status_code == 200, imported.text
    old_answer = answer(wm.url, request)
    load(wm.url, [stub])  # the same id, narrowed
    new_answer = answer(wm.url, request)
    if new_answer is not None:
        assert old_answer == new_answer == "recorded"
    # The recording's own request still matches after.
    own = {**recorded, "card": "4111"}
    assert answer(wm.url, ("POST", "/lookup", JSON, json.dumps(own))) == "recorded"
