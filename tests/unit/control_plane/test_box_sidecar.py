"""The cluster-in-a-box sidecar gets what Istio pushes to a captured workload's sidecar: the
capture EnvoyFilter's HTTP filter inbound and its CLUSTER MERGE on the collector cluster
(the HTTP/2 keepalive), merged as Istio merges it, as `mockado render --check` does. Envoy
(the sidecars' 1.37 and the bundled 1.40) accepts the bootstrap."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane import validate
from control_plane.render import render_all
from ext_proc_server.core.config import MockadoConfig
from tests.support.box.errors import BoxError
from tests.support.box.manifests import Manifests
from tests.support.box.sidecar import inject_sidecar

HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
SHOP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-api, namespace: shop}
spec:
  selector: {matchLabels: {app: shop-api}}
  template:
    metadata: {labels: {app: shop-api}}
    spec:
      containers: [{name: app, image: shop-api, ports: [{name: http, containerPort: 8000}]}]
---
apiVersion: v1
kind: Service
metadata: {name: shop-api, namespace: shop}
spec:
  selector: {app: shop-api}
  ports: [{name: http, port: 80, targetPort: 8000}]
"""


def config(hold_s: float = 7.5) -> MockadoConfig:
    return MockadoConfig.model_validate(
        {
            "control_plane": {
                "namespaces": {"shop": {"direction": "inbound"}},
                "collector": {"deferred_close_timeout_s": hold_s},
            }
        }
    )


def mesh(cfg: MockadoConfig) -> Manifests:
    """The rendered objects (deploy/ and istio/) and the shop's workload, applied."""
    manifests = Manifests()
    for f in render_all(cfg):
        if f.path.startswith(("deploy/", "istio/")) and f.kind != "grafana":
            manifests.apply_yaml(f.text, source=f.path)
    manifests.apply_yaml(SHOP)
    return manifests


def injected(manifests: Manifests) -> dict[str, Any]:
    """The bootstrap of the shop's sidecar."""
    inject_sidecar(manifests, namespace="shop", deployment="shop-api", image="proxy", app_port=8000)
    configmap = manifests.get("ConfigMap", "shop", "shop-api-istio-proxy")
    assert configmap is not None
    return yaml.safe_load(configmap["data"]["envoy.yaml"])


def collector_http2(bootstrap: dict[str, Any], cfg: MockadoConfig) -> dict[str, Any]:
    collector = cfg.control_plane.collector
    name = f"outbound|{collector.port}||{collector.host}"
    (cluster,) = [c for c in bootstrap["static_resources"]["clusters"] if c["name"] == name]
    options = cluster["typed_extension_protocol_options"][HTTP_OPTIONS]
    return options["explicit_http_config"]["http2_protocol_options"]


@pytest.mark.parametrize(("hold_s", "timeout"), [(7.5, "15s"), (1.0, "5s")])
def test_the_box_sidecars_collector_cluster_carries_the_keepalive(
    tmp_path: Path, envoy_binary: str, hold_s: float, timeout: str
) -> None:
    cfg = config(hold_s)
    bootstrap = injected(mesh(cfg))
    # The EnvoyFilter's keepalive, and the DestinationRule's stream limit Istio writes kept.
    assert collector_http2(bootstrap, cfg) == {
        "max_concurrent_streams": 32,
        "connection_keepalive": {"interval": "30s", "timeout": timeout},
    }
    path = tmp_path / "sidecar.yaml"
    path.write_text(yaml.safe_dump(bootstrap, sort_keys=False))
    assert validate.envoy_validate([path], envoy=envoy_binary) == []


def test_the_box_refuses_a_cluster_patch_it_cannot_apply_as_istio_does() -> None:
    cfg = config()
    manifests = mesh(cfg)
    envoyfilter = manifests.get("EnvoyFilter", "shop", "mockado-capture")
    assert envoyfilter is not None
    # A circuit breaker would be appended to Istio's: not a merge the box (or the check) makes.
    appended = copy.deepcopy(envoyfilter)
    (wrong,) = [p for p in appended["spec"]["configPatches"] if p["applyTo"] == "CLUSTER"]
    wrong["patch"]["value"]["circuit_breakers"] = {"thresholds": []}
    manifests.apply(appended)
    with pytest.raises(BoxError, match="only a CLUSTER MERGE of the collector cluster"):
        injected(manifests)
    # A cluster matched by anything but its name is not followed, and said so.
    unnamed = copy.deepcopy(envoyfilter)
    (wrong,) = [p for p in unnamed["spec"]["configPatches"] if p["applyTo"] == "CLUSTER"]
    wrong["match"]["cluster"] = {"portNumber": cfg.control_plane.collector.port}
    manifests.apply(unnamed)
    with pytest.raises(BoxError, match="only CLUSTER patches naming their cluster"):
        injected(manifests)
