"""Stubs written before a ``Set-Cookie`` with ``Expires`` got ``Max-Age``, as the loader
meets them: in an import, and in a WireMock that already holds them when it starts. Their
cookie expired days after the capture, and a client's jar dropped the session the mock
served; each gets the ``Max-Age`` it had from the recorded answer."""

from __future__ import annotations

import asyncio
import json
from email.utils import formatdate

from ext_proc_server.loader.shards import Shard
from ext_proc_server.mapping import on_current_format
from tests.support.fake_wiremock import FakeWireMock

CAPTURED_S = 1_700_000_000.0
HOUR_S = 3600


def _expires(offset_s: int) -> str:
    return formatdate(CAPTURED_S + offset_s, usegmt=True)


def stub(stub_id: str, cookies: object, mockado: dict) -> dict:
    """A recorded stub as an earlier version wrote it: cookies with their Expires alone."""
    return {
        "id": stub_id,
        "priority": 40,
        "request": {"method": "GET", "urlPath": f"/{stub_id}", "bodyPatterns": [{"absent": True}]},
        "response": {"status": 200, "headers": {"Set-Cookie": cookies}, "body": stub_id},
        "metadata": {"mockado": {"hash": stub_id, **mockado}},
    }


SESSION = f"session=SANITIZED_TOKEN; Path=/; Expires={_expires(HOUR_S)}; HttpOnly"
CLEARED = f"remember=; Expires={_expires(-HOUR_S)}"
# Written on today's format, save for the cookie.
ON_SCALE = {"captured_at_s": CAPTURED_S, "first_seen": 1.0, "priority_scale": 2, "stub_format": 3}
BEFORE_SCALE = {"captured_at_s": CAPTURED_S}


def test_a_stub_on_the_current_scale_gets_max_age_from_its_capture_time() -> None:
    upgraded, reason = on_current_format(stub("login", [SESSION, CLEARED], ON_SCALE))
    assert reason == ""
    assert upgraded["response"]["headers"]["Set-Cookie"] == [
        f"{SESSION}; Max-Age={HOUR_S}",
        f"{CLEARED}; Max-Age=0",
    ]
    assert upgraded["request"] == stub("login", SESSION, ON_SCALE)["request"]
    assert upgraded["priority"] == 40


def test_a_stub_before_the_current_scale_is_narrowed_and_gets_max_age() -> None:
    upgraded, _ = on_current_format(stub("login", SESSION, BEFORE_SCALE))
    assert upgraded["response"]["headers"]["Set-Cookie"] == f"{SESSION}; Max-Age={HOUR_S}"
    assert upgraded["metadata"]["mockado"]["priority_scale"] == 2


def test_a_cookie_with_its_own_max_age_or_an_unknown_capture_time_is_left_alone() -> None:
    own = stub("own", f"{SESSION}; Max-Age=60", ON_SCALE)
    unknown = stub("unknown", SESSION, {**ON_SCALE, "captured_at_s": None})
    for mapping in (own, unknown):
        assert on_current_format(mapping) == (mapping, "")


def test_an_import_serves_old_cookies_with_max_age() -> None:
    wiremock = FakeWireMock()

    async def run() -> list[int]:
        async with wiremock.client() as client:
            return await client.import_encoded([json.dumps(stub("login", SESSION, ON_SCALE))])

    assert asyncio.run(run()) == []
    cookie = wiremock.stubs["login"]["response"]["headers"]["Set-Cookie"]
    assert cookie == f"{SESSION}; Max-Age={HOUR_S}"


def test_the_seed_gives_max_age_to_old_cookies_a_wiremock_holds() -> None:
    wiremock = FakeWireMock()
    held = stub("login", SESSION, ON_SCALE)
    wiremock.stubs["login"] = held

    async def start() -> None:
        async with wiremock.client() as client:
            await Shard(name="default", client=client).seed()

    asyncio.run(start())
    assert wiremock.stubs["login"]["response"]["headers"]["Set-Cookie"] == (
        f"{SESSION}; Max-Age={HOUR_S}"
    )
