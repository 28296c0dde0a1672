"""The WireMock admin client: errors translated, never quoting WireMock's detail."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ext_proc_server.core.errors import WireMockError
from ext_proc_server.loader import WireMockClient
from ext_proc_server.loader.wiremock_client import split_refused
from tests.support.fake_wiremock import mapping


def test_client_translates_statuses_and_connect_errors():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/__admin/health":
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/__admin/reset":
            return httpx.Response(503)
        pointer = {"pointer": "/mappings/4/request/bodyPatterns/0"}
        return httpx.Response(422, json={"errors": [{"source": pointer, "detail": "SECRET"}]})

    async def scenario() -> tuple[WireMockError, WireMockError, bool]:
        async with WireMockClient("http://x", transport=httpx.MockTransport(handler)) as client:
            with pytest.raises(WireMockError) as refused:
                await client.import_mappings([mapping(1)])
            with pytest.raises(WireMockError) as down:
                await client.reset()
            return refused.value, down.value, await client.health()

    refused, down, healthy = asyncio.run(scenario())
    assert refused.status_code == 422 and refused.is_terminal
    assert refused.item_index == 4
    assert "SECRET" not in str(refused)
    assert down.status_code == 503 and not down.is_terminal
    assert healthy is False


def test_the_display_url_hides_credentials():
    client = WireMockClient("https://admin:hunter2@wm.internal:8443/")
    assert "hunter2" not in client.display_url
    assert client.display_url.endswith("@wm.internal:8443")
    asyncio.run(client.aclose())


def test_a_refused_batch_is_split_around_the_blamed_item_else_bisected():
    batch = list(range(6))
    assert split_refused(batch, 2) == [[0, 1], [2], [3, 4, 5]]
    assert split_refused(batch, 0) == [[0], [1, 2, 3, 4, 5]]
    assert split_refused(batch, None) == [[0, 1, 2], [3, 4, 5]]
    assert split_refused(batch, 99) == [[0, 1, 2], [3, 4, 5]]
