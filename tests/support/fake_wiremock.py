"""An in-process WireMock admin API (httpx.MockTransport), for loader tests without a JVM."""

from __future__ import annotations

import json
import uuid

import httpx

from ext_proc_server.loader import WireMockClient


class FakeWireMock:
    """Stub store behind an httpx.MockTransport: 422 for a mapping marked bad, like the real one."""

    def __init__(self) -> None:
        self.stubs: dict[str, dict] = {}
        self.down_for = 0  # answer this many requests with a connect error
        self.imports = 0

    @property
    def recorded(self) -> dict[str, dict]:
        """The stubs the loader imported from the queue: everything but the catch-all."""
        return {k: v for k, v in self.stubs.items() if "catch_all" not in json.dumps(v)}

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down_for > 0:
            self.down_for -= 1
            raise httpx.ConnectError("refused", request=request)
        path = request.url.path
        if path == "/__admin/mappings/import":
            self.imports += 1
            mappings = json.loads(request.content)["mappings"]
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
        if path == "/__admin/health":
            return httpx.Response(200, json={"status": "healthy"})
        return httpx.Response(404)

    def client(self) -> WireMockClient:
        return WireMockClient("http://wiremock.test", transport=httpx.MockTransport(self.handler))


def mapping(n: int, **request: object) -> dict:
    return {
        "id": str(uuid.UUID(int=n + 1)),
        "request": {"method": "GET", "urlPath": f"/item/{n}", **request},
        "response": {"status": 200, "body": f"item {n}"},
    }
