"""Kubernetes hygiene of deploy/: the HPA owns the collector's scale, every Deployment has a
PodDisruptionBudget, topology spread and a startupProbe where start is slow, pods roll
when their ConfigMap changes, and control_plane.workloads sizes and places them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import ConfigError
from tests.unit.control_plane.render.support import deployments, docs, files_of


def config_of(control_plane: dict[str, Any] | None = None, **sections: Any) -> MockadoConfig:
    return MockadoConfig.model_validate({"control_plane": control_plane or {}, **sections})


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    return pod(deployment)["containers"][0]


GROUPS = {"serving": {"shard_groups": {"payments": ["payments.*"]}}}


def test_every_deployment_has_one_pod_disruption_budget_selecting_it() -> None:
    files = files_of(config_of(**GROUPS))
    budgets = docs(files["deploy/poddisruptionbudgets.yaml"])
    assert {b["kind"] for b in budgets} == {"PodDisruptionBudget"}
    by_name = {b["metadata"]["name"]: b for b in budgets}
    workloads = deployments(files)
    assert set(by_name) == set(workloads)
    assert "mockado-wiremock-payments" in by_name
    for name, budget in by_name.items():
        assert budget["apiVersion"] == "policy/v1"
        assert budget["metadata"]["namespace"] == "mockado"
        # One pod at a time: a single-replica workload stays drainable.
        assert budget["spec"] == {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        }
        template_labels = workloads[name]["spec"]["template"]["metadata"]["labels"]
        assert template_labels["app.kubernetes.io/name"] == name


def test_collector_scale_belongs_to_the_hpa_with_configured_bounds() -> None:
    cp = {"workloads": {"collector": {"min_replicas": 3, "max_replicas": 7}}}
    by_kind = {d["kind"]: d for d in docs(files_of(config_of(cp))["deploy/collector.yaml"])}
    assert "replicas" not in by_kind["Deployment"]["spec"]
    hpa = by_kind["HorizontalPodAutoscaler"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 7)
    assert hpa["scaleTargetRef"]["name"] == by_kind["Deployment"]["metadata"]["name"]


def test_collector_runs_one_worker_per_cpu() -> None:
    collector = container(deployments(files_of(config_of()))["mockado-collector"])
    assert collector["command"] == ["mockado"]
    args = collector["args"]
    assert args[:1] == ["ext-proc"]
    assert args[args.index("--workers") + 1] == "auto"


def test_every_deployment_spreads_over_nodes_and_zones() -> None:
    for name, deployment in deployments(files_of(config_of(**GROUPS))).items():
        constraints = pod(deployment)["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in constraints] == [
            "kubernetes.io/hostname",
            "topology.kubernetes.io/zone",
        ], name
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for constraint in constraints:
            assert constraint["maxSkew"] == 1
            # A small cluster still schedules them.
            assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
            selector = constraint["labelSelector"]["matchLabels"]
            assert selector.items() <= labels.items(), name
        if name.startswith("mockado-wiremock"):
            # Shards spread among themselves: one node's loss takes as few as possible.
            assert constraints[0]["labelSelector"]["matchLabels"] == {
                "app.kubernetes.io/component": "wiremock",
                "app.kubernetes.io/part-of": "mockado",
            }


@pytest.mark.parametrize("indexed", [True, False])
def test_wiremock_start_is_a_tcp_startup_probe_then_liveness(indexed: bool) -> None:
    files = files_of(config_of(serving={"indexed_stubs": indexed}))
    wiremock = container(deployments(files)["mockado-wiremock"])
    startup = wiremock["startupProbe"]
    # TCP: it needs no admin credentials, and the JVM (plus compiling the launcher) is slow.
    assert startup["tcpSocket"] == {"port": "http"}
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    assert "initialDelaySeconds" not in wiremock["livenessProbe"]


def test_mockado_pods_have_a_startup_probe_on_their_health_port() -> None:
    workloads = deployments(files_of(config_of()))
    for name in ("mockado-collector", "mockado-loader"):
        startup = container(workloads[name])["startupProbe"]
        assert startup["httpGet"] == {"path": "/healthz", "port": "http-metrics"}, name
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def checksums(files: dict[str, str]) -> dict[str, str]:
    return {
        name: d["spec"]["template"]["metadata"].get("annotations", {}).get("checksum/config", "")
        for name, d in deployments(files).items()
    }


def test_a_configmap_change_changes_the_pod_templates_that_mount_it() -> None:
    before = files_of(config_of())
    after = files_of(config_of(loader={"redis_batch_size": 7}))
    assert before["deploy/configmap.yaml"] != after["deploy/configmap.yaml"]
    old, new = checksums(before), checksums(after)
    for name in ("mockado-collector", "mockado-loader"):
        assert len(old[name]) == 64 and old[name] != new[name], name
    # Redis mounts no ConfigMap: its pod must not roll.
    assert old["mockado-redis"] == new["mockado-redis"] == ""
    # The same config renders the same checksum (no needless roll).
    assert checksums(files_of(config_of())) == old


def test_the_indexed_launcher_configmap_is_checksummed_on_the_shards() -> None:
    files = files_of(config_of(**GROUPS))
    launcher = next(d for d in docs(files["deploy/wiremock.yaml"]) if d["kind"] == "ConfigMap")
    sums = {v for k, v in checksums(files).items() if k.startswith("mockado-wiremock")}
    assert len(sums) == 1 and len(sums.pop()) == 64
    assert launcher["metadata"]["name"] == "mockado-wiremock-launcher"


def test_workloads_config_sizes_and_places_the_pods() -> None:
    cp = {
        "image": "registry.example.com:5000/team/mockado:1.2.3",
        "image_pull_secrets": ["registry-pull"],
        "workloads": {
            "loader": {
                "replicas": 3,
                "resources": {"limits": {"memory": "1Gi"}},
                "node_selector": {"kubernetes.io/os": "linux"},
                "tolerations": [
                    {"key": "dedicated", "value": "mesh", "effect": "NoSchedule"},
                    {"operator": "Exists", "effect": "NoExecute", "toleration_seconds": 30},
                ],
            },
            "redis": {"resources": {"requests": {"cpu": "250m"}}},
        },
    }
    workloads = deployments(files_of(config_of(cp)))
    loader = workloads["mockado-loader"]
    assert loader["spec"]["replicas"] == 3
    assert container(loader)["image"] == "registry.example.com:5000/team/mockado:1.2.3"
    # Unset values keep the defaults.
    assert container(loader)["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "1Gi"},
    }
    assert pod(loader)["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod(loader)["tolerations"] == [
        {"operator": "Equal", "key": "dedicated", "value": "mesh", "effect": "NoSchedule"},
        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
    ]
    redis = container(workloads["mockado-redis"])["resources"]
    assert redis["requests"] == {"cpu": "250m", "memory": "256Mi"}
    for name, deployment in workloads.items():
        assert pod(deployment)["imagePullSecrets"] == [{"name": "registry-pull"}], name
    assert "nodeSelector" not in pod(workloads["mockado-collector"])


@pytest.mark.parametrize(
    ("control_plane", "key", "message"),
    [
        ({"workloads": {"collector": {"min_replicas": 5, "max_replicas": 2}}},
         "control_plane.workloads.collector", "max_replicas: 2 is below min_replicas 5"),
        ({"workloads": {"collector": {"min_replicas": 0}}},
         "control_plane.workloads.collector.min_replicas", "greater than or equal to 1"),
        ({"workloads": {"wiremock": {"replicas": 2}}},
         "control_plane.workloads.wiremock.replicas", "unknown key"),
        ({"workloads": {"loader": {"resources": {"limits": {"memory": "1gb"}}}}},
         "control_plane.workloads.loader.resources.limits.memory", "not a memory quantity"),
        ({"workloads": {"loader": {"resources": {"requests": {"cpu": "2"},
                                                 "limits": {"cpu": "500m"}}}}},
         "control_plane.workloads.loader.resources", "requests.cpu 2 is above limits.cpu 500m"),
        ({"workloads": {"redis": {"node_selector": {"bad key!": "x"}}}},
         "control_plane.workloads.redis.node_selector.bad key!", "label name"),
        ({"workloads": {"collector": {"tolerations": [{"operator": "Exists", "value": "x"}]}}},
         "control_plane.workloads.collector.tolerations.0", "value: must be empty"),
        ({"image_pull_secrets": ["Not_A_Name"]},
         "control_plane.image_pull_secrets.0", "not a valid Kubernetes name"),
        ({"image": "ghcr.io/mockado/mockado 0.1"}, "control_plane.image", "not an image"),
        ({"envoy_version": "1.x"}, "control_plane.envoy_version", "pattern"),
    ],
)  # fmt: skip
def test_bad_workload_values_name_their_key(tmp_path, control_plane, key, message) -> None:
    path = tmp_path / "mockado.yaml"
    path.write_text(yaml.safe_dump({"control_plane": control_plane}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    text = str(caught.value)
    assert key in text and message in text, text


@pytest.mark.parametrize("indexed", [True, False])
def test_every_pod_waits_for_its_sidecar_before_the_app_starts(indexed: bool) -> None:
    # mockado's namespace runs sidecars with mTLS STRICT: an app that starts first fails its
    # first Redis or WireMock call.
    serving = {**GROUPS["serving"], "indexed_stubs": indexed}
    found = deployments(files_of(config_of(serving=serving)))
    assert {"mockado-collector", "mockado-loader", "mockado-redis"} <= found.keys()
    for name, deployment in found.items():
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        proxy = yaml.safe_load(annotations.get("proxy.istio.io/config", "{}"))
        assert proxy["holdApplicationUntilProxyStarts"] is True, name
