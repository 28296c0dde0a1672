"""An in-process WireMock admin API (httpx.MockTransport), for loader tests without a JVM."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import httpx

from ext_proc_server.loader import WireMockClient


class FakeWireMock:
    """Stub store behind an httpx.MockTransport: 422 for a mapping marked bad, like the real one.

    ``credentials`` (user, password): every admin call without them gets a 401, as with
    WireMock's ``--admin-api-basic-auth``."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.stubs: dict[str, dict] = {}
        self.down_for = 0  # answer this many requests with a connect error
        self.imports = 0
        self.imported_stubs = 0
        self.unauthorized = 0
        self.calls: list[str] = []  # "METHOD /path?query" of each authorised admin call
        self._expected_auth = (
            "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
            if credentials
            else None
        )

    def restart(self) -> None:
        """A new WireMock process: API stubs live in memory only."""
        self.stubs.clear()

    @property
    def recorded(self) -> dict[str, dict]:
        """The stubs the loader imported from the queue: everything but the catch-all."""
        return {k: v for k, v in self.stubs.items() if "catch_all" not in json.dumps(v)}

    async def serve(self, request: httpx.Request) -> httpx.Response:
        # Every call yields to the event loop once, as a network round trip does.
        await asyncio.sleep(0)
        return self.handler(request)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down_for > 0:
            self.down_for -= 1
            raise httpx.ConnectError("refused", request=request)
        if self._expected_auth and request.headers.get("authorization") != self._expected_auth:
            self.unauthorized += 1
            return httpx.Response(401)
        path = request.url.path
        self.calls.append(f"{request.method} {path}?{request.url.query.decode()}".rstrip("?"))
        if path == "/__admin/mappings/import":
            self.imports += 1
            mappings = json.loads(request.content)["mappings"]
            self.imported_stubs += len(mappings)
            for index, mapping in enumerate(mappings):
                if mapping.get("request", {}).get("bad"):
                    pointer = f"/mappings/{index}/request"
                    return httpx.Response(422, json={"errors": [{"source": {"pointer": pointer}}]})
            for mapping in mappings:
                self.stubs[mapping["id"]] = mapping
            return httpx.Response(200, json={})
        if path == "/__admin/mappings":
            listed = list(self.stubs.values())
            if request.url.params.get("limit"):
                listed = listed[: int(request.url.params["limit"])]
            return httpx.Response(
                200, json={"mappings": listed, "meta": {"total": len(self.stubs)}}
            )
        if path.startswith("/__admin/mappings/") and request.method == "GET":
            found = self.stubs.get(path.rsplit("/", 1)[1])
            return httpx.Response(200, json=found) if found else httpx.Response(404)
        if path.startswith("/__admin/mappings/") and request.method == "DELETE":
            found = self.stubs.pop(path.rsplit("/", 1)[1], None)
            return httpx.Response(200) if found else httpx.Response(404)
        if path == "/__admin/health":
            return httpx.Response(200, json={"status": "healthy"})
        return httpx.Response(404)

    def client(self, *, auth: tuple[str, str] | None = None) -> WireMockClient:
        return WireMockClient(
            "http://wiremock.test", transport=httpx.MockTransport(self.serve), auth=auth
        )


def mapping(n: int, **request: object) -> dict:
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "request": {"method": "GET", "urlPath": f"/item/{n}", **request},
        "response": {"status": 200, "body": f"item {n}"},
    }
