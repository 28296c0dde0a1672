"""Every metrics port mockado renders (a container port named ``http-metrics``) is scraped
(a Prometheus Operator monitor and a plain scrape job cover it), and only the scraper may
reach it: the NetworkPolicies let the scraper's pods in and nobody else but mockado's own
pods, and the mesh lets Prometheus, outside it, through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import ConfigError
from tests.unit.control_plane.render.support import deployments, files_of, rendered_objects

GOLDEN_CONFIG = Path(__file__).parent / "golden" / "config.yaml"
METRICS_PORT = "http-metrics"


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions In/Exists) on labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op = expr["key"], expr["operator"]
        if op == "In" and labels.get(key) not in expr["values"]:
            return False
        if op == "Exists" and key not in labels:
            return False
    return True


def metrics_ports(files: dict[str, str]) -> list[tuple[str, dict[str, str], int]]:
    """(Deployment, its pods' labels, container port) of every port named http-metrics."""
    found = []
    for name, deployment in deployments(files).items():
        pod = deployment["spec"]["template"]
        for container in pod["spec"]["containers"]:
            for port in container.get("ports", []):
                if "metrics" in port["name"]:
                    assert port["name"] == METRICS_PORT, f"{name}: {port['name']}"
                    found.append((name, pod["metadata"]["labels"], port["containerPort"]))
    return found


def monitored(files: dict[str, str], namespace: str, labels: dict[str, str]) -> bool:
    """A PodMonitor selects the pod's http-metrics port, or a ServiceMonitor a Service of
    it whose http-metrics port leads there."""
    monitors = rendered_objects(files, under="deploy/monitoring/")
    services = rendered_objects(files, under="deploy/", kind="Service").values()
    for monitor in monitors.values():
        spec = monitor["spec"]
        if monitor["kind"] == "PrometheusRule":
            continue  # the alert rules scrape nothing
        if namespace not in spec["namespaceSelector"].get("matchNames", []):
            continue
        if monitor["kind"] == "PodMonitor":
            ports = {e["port"] for e in spec["podMetricsEndpoints"]}
            if selects(spec["selector"], labels) and METRICS_PORT in ports:
                return True
        elif monitor["kind"] == "ServiceMonitor":
            ports = {e["port"] for e in spec["endpoints"]}
            for service in services:
                if not selects(spec["selector"], service["metadata"]["labels"]):
                    continue
                if not selects({"matchLabels": service["spec"]["selector"]}, labels):
                    continue
                if any(p["name"] in ports and p["targetPort"] == METRICS_PORT
                       for p in service["spec"]["ports"]):  # fmt: skip
                    return True
    return False


def scrape_job(files: dict[str, str], labels: dict[str, str]) -> bool:
    """A job of prometheus/scrape.yaml keeps the pod's component and its http-metrics port."""
    for job in yaml.safe_load(files["prometheus/scrape.yaml"])["scrape_configs"]:
        kept = {r["source_labels"][0]: r["regex"] for r in job["relabel_configs"]
                if r.get("action") == "keep"}  # fmt: skip
        component = kept.get("__meta_kubernetes_pod_label_app_kubernetes_io_component")
        if (
            component == labels["app.kubernetes.io/component"]
            and kept.get("__meta_kubernetes_pod_container_port_name") == METRICS_PORT
        ):
            return True
    return False


def peers_on(files: dict[str, str], labels: dict[str, str], port: int) -> list[dict | None]:
    """Who the NetworkPolicies selecting the pod let in on ``port``: each peer; None for
    a rule open to every source."""
    policies = rendered_objects(files, under="deploy/", kind="NetworkPolicy").values()
    peers: list[dict | None] = []
    for policy in policies:
        if not selects(policy["spec"]["podSelector"], labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            peers.extend(rule.get("from") or [None])
    return peers


def is_scraper(peer: dict | None, config: MockadoConfig) -> bool:
    cp = config.control_plane
    return (
        peer is not None
        and peer.get("namespaceSelector", {}).get("matchLabels")
        == {"kubernetes.io/metadata.name": cp.scraper_namespace()}
        and peer.get("podSelector", {}).get("matchLabels") == cp.metrics_scraper.pod_labels
    )


def is_mockado_pod(peer: dict | None) -> bool:
    """A peer of mockado's own namespace (no namespaceSelector), named by labels."""
    return peer is not None and set(peer) == {"podSelector"} and bool(peer["podSelector"])


def mesh_lets_prometheus_in(files: dict[str, str], ns: str, labels: dict, port: int) -> bool:
    """Prometheus runs outside the mesh: the port takes plain text (PERMISSIVE), and an
    ALLOW rule lets any source GET /metrics on it."""
    istio = {k: v for k, v in files.items() if k.startswith(f"istio/{ns}/")}
    permissive = any(
        selects(d["spec"].get("selector", {}), labels)
        and (d["spec"].get("portLevelMtls") or {}).get(port, {}).get("mode") == "PERMISSIVE"
        for d in rendered_objects(istio, under="istio/", kind="PeerAuthentication").values()
    )
    allowed = any(
        selects(d["spec"]["selector"], labels)
        and any("from" not in rule and any(str(port) in op["operation"]["ports"]
                and "/metrics" in op["operation"].get("paths", ["/metrics"])
                for op in rule["to"]) for rule in d["spec"]["rules"])
        for d in rendered_objects(istio, under="istio/", kind="AuthorizationPolicy").values()
    )  # fmt: skip
    return permissive and allowed


SCRAPER = {"namespace": "monitoring", "pod_labels": {"app": "prometheus", "team": "obs"}}


@pytest.mark.parametrize(
    "overrides",
    [{}, {"control_plane.metrics_scraper": SCRAPER}],
    ids=["golden", "own-scraper"],
)
def test_every_metrics_port_is_scraped_and_only_by_the_scraper(overrides: dict) -> None:
    config = load_config(GOLDEN_CONFIG, env={}, overrides=overrides)
    files = files_of(config)
    ns = config.control_plane.mockado_namespace
    ports = metrics_ports(files)
    components = {labels["app.kubernetes.io/component"] for _, labels, _ in ports}
    assert {"collector", "loader", "wiremock"} <= components
    for name, labels, port in ports:
        assert monitored(files, ns, labels), f"{name}:{port}: no monitor scrapes it"
        assert scrape_job(files, labels), f"{name}:{port}: no job in prometheus/scrape.yaml"
        peers = peers_on(files, labels, port)
        assert any(is_scraper(p, config) for p in peers), f"{name}:{port}: scraper refused"
        strangers = [p for p in peers if not (is_scraper(p, config) or is_mockado_pod(p))]
        assert not strangers, f"{name}:{port}: open to {strangers}"
        assert mesh_lets_prometheus_in(files, ns, labels, port), f"{name}:{port}: mesh refuses"


def test_the_scraper_defaults_to_prometheus_namespace_and_must_be_named() -> None:
    config = MockadoConfig.model_validate({"control_plane": {"prometheus_namespace": "obs"}})
    assert config.control_plane.scraper_namespace() == "obs"
    files = files_of(config)
    for _name, labels, port in metrics_ports(files):
        assert [p for p in peers_on(files, labels, port) if is_scraper(p, config)] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "obs"}},
             "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}}}
        ]  # fmt: skip
    # An empty selector would be every pod of the namespace.
    with pytest.raises(ConfigError, match=r"control_plane\.metrics_scraper\.pod_labels"):
        load_config(env={}, overrides={"control_plane.metrics_scraper.pod_labels": {}})
