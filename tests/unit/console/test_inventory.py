"""The console's inventory: stubs grouped by namespace, host and endpoint template, with
hits and the misses that landed there."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ext_proc_server.console import build_inventory, stub_path_template
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import MissRecord

NORMALIZER = NoiseNormalizer(CollectorConfig())


@pytest.mark.parametrize(
    ("request_matcher", "template"),
    [
        ({"urlPath": "/api/users/1"}, "/api/users/{id}"),
        ({"url": "/api/users/SANITIZED_EMAIL/orders?x=1"}, "/api/users/{id}/orders"),
        ({"urlPathPattern": "/api/users/[^/]+/orders"}, "/api/users/{id}/orders"),
        ({"urlPathPattern": "/api/v1/order\\-items"}, "/api/v1/order-items"),
        ({"urlPattern": ".*"}, "/{id}"),
        ({}, "/*"),
    ],
)
def test_stub_path_templates(request_matcher: dict, template: str):
    assert stub_path_template(request_matcher, NORMALIZER) == template


def stub(stub_id: str, path: str, namespace: str = "shop", **meta) -> dict:
    return {
        "id": stub_id,
        "request": {"method": "GET", "urlPath": path},
        "response": {"status": 200},
        "metadata": {"mockado": {"namespace": namespace, "host": "api", **meta}},
    }


def test_stubs_hits_and_misses_land_on_their_endpoint():
    stubs = [
        ("default", stub("a", "/users/1", captured_at_s=10.0)),
        ("default", stub("b", "/users/2", captured_at_s=20.0)),
        ("default", stub("c", "/health", namespace="")),
        ("default", {"id": "x", "request": {}, "metadata": {"mockado": {"catch_all": True}}}),
    ]
    misses = [
        MissRecord("m1", "api", "GET", "/users/{id}", (), ("shop", "canary"), 4, 1.0, 2.0, None),
    ]
    views = build_inventory(stubs, misses, normalizer=NORMALIZER, hits={"default": {"a": 5}})
    assert list(views) == ["(none)", "canary", "shop"]
    users = views["shop"].hosts["api"].endpoints["GET", "/users/{id}"]
    assert [s.stub_id for s in users.stubs] == ["a", "b"]
    assert (users.hits, users.misses, users.last_seen_s) == (5, 4, 20.0)
    assert views["canary"].hosts["api"].misses == 4 and views["canary"].stub_count == 0
    assert views["(none)"].hosts["api"].endpoints["GET", "/health"].hits == 0
    unknown = build_inventory(stubs, [], normalizer=NORMALIZER, hits={"default": None})
    assert unknown["shop"].hits is None


@dataclass(frozen=True)
class Drift:
    namespace: str
    host: str
    method: str
    path_template: str
    mapping_id: str
    changes: tuple[str, ...]
    at_s: float


def test_drift_lands_on_its_stub_and_host_and_lifecycle_gives_last_seen():
    stubs = [("default", stub("a", "/users/1")), ("default", stub("b", "/users/2"))]
    drift = [Drift("shop", "api", "GET", "/users/{id}", "a", ("added $.x (number)",), 5.0)] * 2

    def lifecycle(mapping: dict) -> dict:
        return {"first_seen": 1.0, "last_seen": 30.0 if mapping["id"] == "b" else 3.0}

    views = build_inventory(stubs, [], normalizer=NORMALIZER, drift=drift, lifecycle=lifecycle)
    host = views["shop"].hosts["api"]
    users = host.endpoints["GET", "/users/{id}"]
    assert [s.drift for s in users.stubs] == [2, 0] and users.drift == 2
    assert host.drift == 2 and views["shop"].drift == 2
    assert users.last_seen_s == 30.0
