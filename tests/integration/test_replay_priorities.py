"""Which of two overlapping stubs answers, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed by a real WireMock 3.13.2.

JSON objects and queries accept extra values, so the recording of a first page also
matches its next page (the same request and a ``cursor``). The more specific stub must
win: for requests past the old cap of specificity 49 (a path and some 25 JSON values)
as for small ones, and between stubs written on the old priority scale and new ones,
however they reach WireMock (the queue, a reload from the record, a restore) and for
old stubs a WireMock already holds when the loader starts.
"""

from __future__ import annotations

import asyncio
import copy
import json

import httpx
import pytest

from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.wiremock_client import WireMockClient
from ext_proc_server.mapping import stub_priority
from ext_proc_server.mapping.priority import OLD_SPECIFICITY_CAP, SCALE_KEY, SPECIFICITY_CAP
from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.raw_capture import RawReply, capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
LISTING = "/v1/orders/search"
# A back-office listing: facets a client sends on every page, as an orders API takes them.
FACETS = {
    "status": "shipped", "carrier": "correios", "service": "sedex", "warehouse": "gru-2",
    "channel": "marketplace", "seller": "loja-centro", "region": "sudeste", "state": "SP",
    "city": "Campinas", "payment": "boleto", "installments": 3, "currency": "BRL",
    "min_total": 50, "max_total": 900, "sort": "created_at", "direction": "desc",
    "page_size": 50, "include_items": True, "include_invoices": False, "gift": False,
    "priority": "normal", "tag": "black-friday", "coupon": "NATAL10", "locale": "pt-BR",
    "timezone": "America/Sao_Paulo", "view": "compact",
}  # fmt: skip
PAGE_1 = json.dumps(FACETS).encode()
PAGE_2 = json.dumps({**FACETS, "cursor": "b3JkZXItMTAw"}).encode()
ANSWER_1 = RawAnswer(200, (JSON,), b'{"orders":["o-1","o-2"],"next":"b3JkZXItMTAw"}')
ANSWER_2 = RawAnswer(200, (JSON,), b'{"orders":["o-3"],"next":null}')
SEARCH_1 = RawAnswer(200, (JSON,), b'{"hits":["caneca","prato"],"page":1}')
SEARCH_2 = RawAnswer(200, (JSON,), b'{"hits":["copo"],"page":2}')
# (target, body, answer): each request and the answer the service gave it, in this order.
RECORDED = [
    (LISTING, PAGE_1, ANSWER_1),
    (LISTING, PAGE_2, ANSWER_2),
    ("/search?q=caneca", None, SEARCH_1),
    ("/search?q=caneca&page=2", None, SEARCH_2),
]


@pytest.fixture(scope="module")
def recorded(redis_server, envoy_factory, ext_proc_factory) -> dict[bytes, dict]:
    """Each request through Envoy -> its stub, by the body of the answer it replays."""
    collector = collector_settings(redis_server.url)
    answers: dict[str, RawAnswer] = {}
    with raw_upstream(answers) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for target, body, answer in RECORDED:
            # The upstream answers by path: each page gets its own answer in turn.
            answers[target.split("?", 1)[0]] = answer
            method = "POST" if body is not None else "GET"
            headers = (JSON,) if body is not None else ()
            got = raw_request(envoy.port, method, target, headers=headers, body=body)
            assert got.body == answer.body, target
        wait_until(
            lambda: len(ext.captured()) == len(RECORDED),
            what="a stub of each request",
            explain=lambda: counters(ext),
        )
        stubs = ext.captured()
    assert len(stubs) == len(RECORDED)
    return {_served(stub): stub for stub in stubs}


def _served(stub: dict) -> bytes:
    return stub["response"]["body"].encode()


def _specificity(stub: dict) -> int:
    """What a stub on this scale says of its request's specificity (no scenario state)."""
    return SPECIFICITY_CAP - (stub["priority"] - 2) // 2


def _written_by_the_old_scale(stub: dict) -> dict:
    """The stub as loaders before the wider scale wrote it: no scale in its metadata."""
    old = copy.deepcopy(stub)
    old["priority"] = 2 + 2 * (OLD_SPECIFICITY_CAP - min(_specificity(stub), OLD_SPECIFICITY_CAP))
    del old["metadata"]["mockado"][SCALE_KEY]
    return old


def _import_raw(url: str, stubs: list[dict]) -> None:
    """Stubs added as they are, after those WireMock holds (newer, on a tie)."""
    imported = httpx.post(f"{url}/__admin/mappings/import", json={"mappings": stubs}, timeout=30)
    assert imported.status_code == 200, imported.text


def _listing(port: int, body: bytes) -> RawReply:
    return raw_request(port, "POST", LISTING, headers=(JSON,), body=body)


def _search(port: int, target: str) -> RawReply:
    return raw_request(port, "GET", target)


def _load(url: str, encoded: list[str]) -> None:
    """Through the loader's own import, as the queue, a reload or a restore loads them."""

    async def run() -> None:
        async with WireMockClient(url) as client:
            await client.import_encoded(encoded)

    asyncio.run(run())


def test_the_next_page_gets_its_own_answer_past_specificity_49(recorded, wm) -> None:
    page1, page2 = recorded[ANSWER_1.body], recorded[ANSWER_2.body]
    # Page 1 newest (recorded again later): on a tie WireMock answers with it.
    import_into(wm, [page2])
    _import_raw(wm.url, [page1])
    assert _listing(wm.port, PAGE_2).body == ANSWER_2.body
    assert _listing(wm.port, PAGE_1).body == ANSWER_1.body
    assert _specificity(page1) > OLD_SPECIFICITY_CAP


@pytest.mark.parametrize("old_one", [SEARCH_1.body, SEARCH_2.body, ANSWER_1.body, ANSWER_2.body])
def test_stubs_of_the_old_scale_keep_their_order_beside_new_ones(
    recorded, wm, old_one: bytes
) -> None:
    stubs = [
        _written_by_the_old_scale(stub) if served == old_one else stub
        for served, stub in recorded.items()
    ]
    _load(wm.url, [json.dumps(stub) for stub in stubs])
    assert _search(wm.port, "/search?q=caneca").body == SEARCH_1.body
    assert _search(wm.port, "/search?q=caneca&page=2").body == SEARCH_2.body
    assert _listing(wm.port, PAGE_1).body == ANSWER_1.body
    # An old stub past its cap ranks as the cap, below a new one past it: the new one
    # answers its own request either way.
    if old_one != ANSWER_2.body:
        assert _listing(wm.port, PAGE_2).body == ANSWER_2.body


def test_old_stubs_a_wiremock_holds_are_moved_when_the_loader_starts(recorded, wm) -> None:
    first_page = _written_by_the_old_scale(recorded[SEARCH_1.body])
    # Written straight into WireMock, as an older loader left it.
    import_into(wm, [recorded[SEARCH_2.body]])
    _import_raw(wm.url, [first_page])
    assert _search(wm.port, "/search?q=caneca&page=2").body == SEARCH_1.body

    async def start() -> None:
        async with WireMockClient(wm.url) as client:
            await Shard(name="default", client=client).seed()

    asyncio.run(start())
    held = httpx.get(f"{wm.url}/__admin/mappings/{first_page['id']}", timeout=10).json()
    assert held["priority"] == stub_priority(_specificity(recorded[SEARCH_1.body]))
    assert held["metadata"]["mockado"][SCALE_KEY] == 2
    assert _search(wm.port, "/search?q=caneca&page=2").body == SEARCH_2.body
    assert _search(wm.port, "/search?q=caneca").body == SEARCH_1.body
