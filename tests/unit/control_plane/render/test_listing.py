"""`mockado render --list`: each scope, where it renders, at what sampling; each canary host
and the shard serving it."""

from __future__ import annotations

import re
from typing import Any

from control_plane.render import listing, shard_services
from ext_proc_server.core.config import MockadoConfig


def make_config(namespaces: dict[str, Any], **control_plane: Any) -> MockadoConfig:
    cp = {"namespaces": namespaces, **control_plane}
    return MockadoConfig.model_validate({"control_plane": cp})


def test_list_shows_each_scope_with_its_sampling_and_files() -> None:
    config = make_config(
        {"shop": {"sample_percent": 12.5, "direction": "both", "workload_selector": {"app": "a"}},
         "legacy": {"enabled": False}}
    )  # fmt: skip
    text = listing(config)
    assert re.search(r"mesh\s+istio-system\s+disabled", text)
    assert re.search(
        r"namespace\s+shop\s+both \(in-mesh calls twice\)\s+12\.5%\s+a\s+istio/shop/", text
    )
    assert re.search(r"namespace\s+legacy\s+disabled", text)
    assert "(observability, fail open)" in text
    assert "CANARY" not in text


def test_list_shows_global_mode_and_a_closed_collector() -> None:
    config = make_config(
        {}, collector={"failure_mode_allow": False}, **{"global": {"enabled": True}}
    )
    text = listing(config)
    assert re.search(r"mesh\s+istio-system\s+inbound\s+100%\s+all\s+istio/istio-system/", text)
    assert "FAIL CLOSED" in text


def test_list_shows_each_canary_host_and_the_shard_serving_it() -> None:
    canary = {"workload_labels": {"track": "canary"}, "hosts": ["pay.example.com"]}
    config = make_config({"checkout": {"enabled": False, "canary": canary}})
    (shard,) = shard_services(config)
    assert re.search(
        rf"checkout\s+track=canary\s+pay\.example\.com\s+{re.escape(shard.host)}\s+"
        r"istio/checkout/virtualservice-canary\.yaml",
        listing(config),
    )
