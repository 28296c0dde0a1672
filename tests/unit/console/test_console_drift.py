"""The console's drift page and each stub's lifecycle: read-only views of the loader's
drift records and the stub metadata (docs/drift.md, docs/staleness.md)."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette

from ext_proc_server.console import Console
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.loader import DriftRecord

STUB = {
    "id": "s1",
    "request": {"method": "GET", "urlPath": "/api/profile/7"},
    "response": {"status": 200, "body": "{}"},
    "metadata": {
        "mockado": {
            "namespace": "shop", "host": "users.shop.svc.cluster.local",
            "captured_at_s": 1_800_000_000.0, "first_seen": 1_700_000_000.0,
            "last_seen": 1_800_000_000.0, "capture_count": 42,
        }
    },
}  # fmt: skip
CHANGED = DriftRecord(
    "shop", "users.shop.svc.cluster.local", "GET", "/api/profile/{id}", "s1", "default",
    ("added $.tier (number)",), 1_800_000_000.0,
)  # fmt: skip
GONE = DriftRecord("shop", "h", "GET", "/old", "s9", "default", ("status 200 -> 503",), 1.0)


async def stubs():
    return [("default", STUB)]


async def no_misses():
    return []


async def drift():
    return [CHANGED, GONE]


def _get(path: str) -> httpx.Response:
    config = MockadoConfig.model_validate(
        {"loader": {"console_user": "ops", "console_password": "correct horse"}}
    )
    console = Console(config, stubs=stubs, misses=no_misses, drift=drift)
    app = Starlette(routes=console.routes())

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://loader") as http:
            return await http.get(path, auth=("ops", "correct horse"))

    return asyncio.run(scenario())


def test_the_drift_page_lists_each_record_and_links_the_stub_still_recorded():
    page = _get("/console/drift")
    assert page.status_code == 200
    assert 'href="/console/drift"' in page.text
    assert "added $.tier (number)" in page.text and "status 200 -&gt; 503" in page.text
    assert 'href="/console/stub/default/s1"' in page.text
    assert '/old</code> <span class="muted">(stub gone)' in page.text


def test_a_stub_page_shows_its_lifecycle_and_its_drift():
    page = _get("/console/stub/default/s1")
    assert page.status_code == 200
    assert "First seen 2023-11-14 22:13:20 UTC" in page.text
    assert "last seen 2027-01-15 08:00:00 UTC" in page.text and "42 captures" in page.text
    assert "added $.tier (number)" in page.text and "status 200" not in page.text


def test_drift_is_counted_per_namespace_host_and_endpoint():
    import re

    def cells(html: str) -> list[list[str]]:
        rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
        return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
                for r in rows]  # fmt: skip

    [shop] = [row for row in cells(_get("/console/").text) if row and row[0] == "shop"]
    assert shop[-1] == "2"  # the stub's drift, and one of a stub gone since
    hosts = {row[0]: row for row in cells(_get("/console/ns/shop").text) if row}
    assert hosts["users.shop.svc.cluster.local"][-1] == "1" and hosts["h"][-1] == "1"
    page = _get("/console/ns/shop/users.shop.svc.cluster.local").text
    [endpoint] = [row for row in cells(page) if row and row[0] == "GET"]
    assert endpoint[1] == "/api/profile/{id}" and endpoint[-1] == "1", endpoint
