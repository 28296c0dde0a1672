"""render_all: every file once, each of the right kind, in a stable order."""

from __future__ import annotations

import yaml

from control_plane.render import render_all
from ext_proc_server.core.config import MockadoConfig


def test_every_file_once_with_its_kind_in_a_stable_order() -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"namespaces": {"shop": {}, "payments": {}}}}
    )
    files = render_all(config)
    paths = [f.path for f in files]
    assert len(paths) == len(set(paths))
    assert paths == [f.path for f in render_all(config)]
    assert paths[:2] == [
        "istio/payments/envoyfilter-capture.yaml",
        "istio/payments/networkpolicy-collector.yaml",
    ]
    for f in files:
        first = f.path.split("/")[0]
        if first == "envoy_configs":
            assert f.kind == "envoy"
        elif f.path.startswith("prometheus/"):
            assert f.kind == "prometheus"
        elif f.path.startswith("deploy/grafana/"):
            assert f.kind == "grafana"
        elif first == "deploy" or "networkpolicy" in f.path:
            assert f.kind == "k8s"
        elif "envoyfilter" in f.path:
            assert f.kind == "envoyfilter"
        else:
            assert f.kind == "istio"


def test_the_local_example_captures_to_the_configured_grpc_port() -> None:
    config = MockadoConfig.model_validate({"collector": {"grpc_port": 6000}})
    local = next(f for f in render_all(config) if f.path == "envoy_configs/local.yaml")
    boot = yaml.safe_load(local.text)
    collector = next(
        c for c in boot["static_resources"]["clusters"] if c["name"] == "mockado_collector"
    )
    endpoint = collector["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"]["port_value"] == 6000
    listener = boot["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener["port_value"] == 10000
