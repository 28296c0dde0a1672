"""Answers chosen by what a canary's request carries beside its URL, through a live
WireMock 3.13.2: the port of a Service it called."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.wiremock_stubs import (
    answered,
    canary_call,
    load_stubs,
    recording,
    reply,
    stubs_of,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def wm(wiremock: Any) -> Iterator[Any]:
    wiremock.reset()
    yield wiremock
    wiremock.reset()


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_each_port_of_a_service_answers_only_its_own_requests(wm: Any, reverse: bool) -> None:
    """One Service answering ``GET /status`` on 8080 (the app) and 9090 (its admin): each
    recording answers its own port under every name of the Service, and neither answers
    the default port or a third one. A recording without a port answers every name without
    one (or with :80), as before; a loopback host's port is the local proxy's, so any."""
    recorded = [
        recording(method="GET", path="/status", host="api.shop:8080", response_body=reply("app")),
        recording(
            method="GET",
            path="/status",
            host="api.shop.svc.cluster.local:9090",
            response_body=reply("admin"),
        ),
        recording(method="GET", path="/index", host="web", response_body=reply("plain")),
        recording(method="GET", path="/index", host="web:8443", response_body=reply("8443")),
        recording(method="GET", path="/here", host="localhost:10000", response_body=reply("local")),
    ]
    mappings = stubs_of(recorded[::-1] if reverse else recorded)
    assert len(mappings) == len(recorded)
    load_stubs(wm.url, mappings)

    def answer(host: str, path: str = "/status") -> str | None:
        return answered(canary_call(wm.url, "GET", path, host=host))

    for name in ("api", "api.shop", "API.shop.svc", "api.shop.svc.cluster.local."):
        assert answer(f"{name}:8080") == "app", name
        assert answer(f"{name}:9090") == "admin", name
        assert answer(name) is None, name
        assert answer(f"{name}:7070") is None, name
    for name in ("web", "web:80", "web.shop", "web.shop.svc", "web.shop.svc.cluster.local"):
        assert answer(name, "/index") == "plain", name
    assert answer("web:8443", "/index") == "8443"
    assert answer("web.shop.svc.cluster.local:8443", "/index") == "8443"
    assert answer("web:8080", "/index") is None
    assert answer("web.other", "/index") is None
    assert answer(f"localhost:{wm.port}", "/here") == "local"
