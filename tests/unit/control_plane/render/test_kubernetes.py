"""Kubernetes manifests: hardened pods, the pods' config (no secrets, in-cluster URLs), one
WireMock Deployment per shard, and the network policies; read back as data."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from control_plane.assets import WIREMOCK_LAUNCHER
from control_plane.render import pod_config, render_k8s_manifests
from ext_proc_server.capture.server import STOP_TIMEOUT_S
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError
from ext_proc_server.loader import shard_urls
from ext_proc_server.loader.service import TASK_STOP_TIMEOUT_S
from tests.unit.control_plane.render.shards import config_with
from tests.unit.control_plane.render.support import docs, files_of, pod_config_of


def make_config(namespaces: dict[str, Any] | None = None, **control_plane: Any) -> MockadoConfig:
    cp = {"namespaces": namespaces or {}, **control_plane}
    return MockadoConfig.model_validate({"control_plane": cp})


def wiremock_commands(files: dict[str, str]) -> list[list[str]]:
    return [
        d["spec"]["template"]["spec"]["containers"][0]["command"]
        for d in docs(files["deploy/wiremock.yaml"])
        if d["kind"] == "Deployment"
    ]


def test_every_pod_is_hardened() -> None:
    files = files_of(make_config({"shop": {}}))
    pods = [
        d["spec"]["template"]["spec"]
        for path, text in files.items()
        if path.startswith("deploy/")
        for d in docs(text)
        if d["kind"] == "Deployment"
    ]
    assert len(pods) == 4
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 1000
        mounts = set()
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["limits"]
            mounts |= {m["name"] for m in container["volumeMounts"]}
        # Every writable volume is some container's.
        assert {v["name"] for v in pod["volumes"] if "emptyDir" in v} <= mounts


def test_collector_deployment_service_and_hpa() -> None:
    by_kind = {d["kind"]: d for d in docs(files_of(MockadoConfig())["deploy/collector.yaml"])}
    deployment = by_kind["Deployment"]
    # The HPA owns the scale: an apply must not reset it.
    assert "replicas" not in deployment["spec"]
    resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    ports = {p["name"]: p["port"] for p in by_kind["Service"]["spec"]["ports"]}
    assert ports == {"grpc": 50051, "http-metrics": 9090}
    hpa = by_kind["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    targets = {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
        for m in hpa["spec"]["metrics"]
    }
    assert targets == {"cpu": 70, "memory": 80}


@pytest.mark.parametrize(
    ("section", "key"),
    [("collector", "grpc_port"), ("collector", "http_port"), ("loader", "http_port")],
)
def test_kubernetes_needs_fixed_ports(section: str, key: str) -> None:
    config = MockadoConfig.model_validate({section: {key: 0}})
    with pytest.raises(RenderError, match=f"{section}.*fixed port"):
        render_k8s_manifests(config)


def test_wiremock_and_redis_flags() -> None:
    config = MockadoConfig.model_validate(
        {"serving": {"heap_mb": 300, "max_request_journal_entries": 50}}
    )
    files = files_of(config)
    deployment = next(d for d in docs(files["deploy/wiremock.yaml"]) if d["kind"] == "Deployment")
    command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["java", "-Xmx300m"]
    assert command[command.index("--max-request-journal-entries") + 1] == "50"
    assert "--disable-request-logging" in command
    assert command[command.index("--root-dir") + 1] == "/home/wiremock"
    redis = docs(files["deploy/redis.yaml"])[0]["spec"]["template"]["spec"]["containers"][0]
    args = redis["command"]
    assert args[args.index("--maxmemory") + 1] == "1gb"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    assert "allkeys-lru would silently evict" in files["deploy/redis.yaml"]
    # Ready when it answers PING (with the password), not when its port opens.
    ping = redis["readinessProbe"]["exec"]["command"]
    assert ping[:2] == ["sh", "-c"] and 'REDISCLI_AUTH="$REDIS_PASSWORD"' in ping[2]
    assert ping[2].endswith("ping | grep -qx PONG")
    assert redis["livenessProbe"] == {"tcpSocket": {"port": "redis"}, "periodSeconds": 10}


def test_wiremock_pods_run_the_indexed_launcher_or_stock_wiremock() -> None:
    files = files_of(MockadoConfig())
    launcher, deployment, _service = docs(files["deploy/wiremock.yaml"])[:3]
    # The ConfigMap carries the very launcher `mockado up` and the tests run.
    assert launcher["kind"] == "ConfigMap"
    assert launcher["data"]["MockadoWireMock.java"] == WIREMOCK_LAUNCHER.read_text()
    pod = deployment["spec"]["template"]["spec"]
    [copy_jar] = pod["initContainers"]
    assert copy_jar["image"] == "wiremock/wiremock:3.13.2"
    assert copy_jar["command"] == [
        "cp", "/var/wiremock/lib/wiremock-standalone.jar", "/opt/wiremock/wiremock-standalone.jar"
    ]  # fmt: skip
    wiremock, _keeper = pod["containers"]
    assert wiremock["image"] == "eclipse-temurin:17-jdk"
    command = wiremock["command"]
    assert command[command.index("-cp") + 1] == "/opt/wiremock/wiremock-standalone.jar"
    assert command[command.index("-cp") + 2] == "/etc/mockado/MockadoWireMock.java"
    assert "-jar" not in command
    mounts = {m["name"]: m for m in wiremock["volumeMounts"]}
    assert mounts["launcher"]["readOnly"] and mounts["wiremock-lib"]["readOnly"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["launcher"]["configMap"]["name"] == launcher["metadata"]["name"]
    for container in (copy_jar, wiremock):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True

    stock = files_of(MockadoConfig.model_validate({"serving": {"indexed_stubs": False}}))
    stock_docs = docs(stock["deploy/wiremock.yaml"])
    assert [d["kind"] for d in stock_docs] == ["Deployment", "Service"]
    pod = stock_docs[0]["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    wiremock, _keeper = pod["containers"]
    assert wiremock["image"] == "wiremock/wiremock:3.13.2"
    assert wiremock["command"][4:6] == ["-jar", "/var/wiremock/lib/wiremock-standalone.jar"]


def test_one_wiremock_deployment_and_service_per_shard() -> None:
    files = files_of(config_with())
    by_kind: dict[str, list[str]] = {}
    for doc in docs(files["deploy/wiremock.yaml"]):
        by_kind.setdefault(doc["kind"], []).append(doc["metadata"]["name"])
    expected = ["mockado-wiremock", "mockado-wiremock-payments", "mockado-wiremock-partners"]
    # One ConfigMap (the launcher every shard runs) for all shards.
    assert by_kind == {
        "ConfigMap": ["mockado-wiremock-launcher"],
        "Deployment": expected,
        "Service": expected,
    }
    for doc in docs(files["deploy/wiremock.yaml"]):
        name = doc["metadata"]["name"]
        if doc["kind"] == "ConfigMap":
            continue
        if doc["kind"] == "Service":
            assert doc["spec"]["selector"] == {"app.kubernetes.io/name": name}
        else:
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert labels["app.kubernetes.io/name"] == name
            # The base NetworkPolicy selects every shard by component.
            assert labels["app.kubernetes.io/component"] == "wiremock"


def test_every_shard_gets_the_serving_flags() -> None:
    commands = wiremock_commands(files_of(config_with(loader={"max_stubs": 20_000})))
    assert len(commands) == 3
    for command in commands:
        assert "--no-request-journal" in command
        assert "--disable-request-logging" in command
        assert "--max-request-journal-entries" not in command
        # Sized to the stub budget: 20000 / 20 + 256.
        assert command[1] == "-Xmx1256m"
    bounded = wiremock_commands(
        files_of(config_with(serving={"max_request_journal_entries": 50, "heap_mb": 300}))
    )
    for command in bounded:
        assert command[command.index("--max-request-journal-entries") + 1] == "50"
        assert "--no-request-journal" not in command
        assert command[1] == "-Xmx300m"


def test_each_wiremock_pod_is_ready_only_through_its_keeper_of_a_shard_the_loader_has() -> None:
    files = files_of(config_with())
    loader_shards, _ = shard_urls(pod_config_of(files))
    kept = []
    for doc in docs(files["deploy/wiremock.yaml"]):
        if doc["kind"] != "Deployment":
            continue
        # The old pod serves until the new one holds the shard.
        assert doc["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
        pod = doc["spec"]["template"]["spec"]
        keeper = next(c for c in pod["containers"] if c["name"] == "keeper")
        args = keeper["args"]
        assert args[:1] == ["keep-shard"]
        assert args[args.index("--wiremock-url") + 1] == "http://127.0.0.1:8080"
        kept.append(args[args.index("--shard") + 1])
        port = int(args[args.index("--http-port") + 1])
        assert {"name": "http-metrics", "containerPort": port, "protocol": "TCP"} in keeper["ports"]
        assert keeper["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http-metrics"}
        env = {e["name"] for e in keeper["env"]}
        assert {"MOCKADO_LOADER__REDIS_PASSWORD", "MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD"} <= env
        mounts = {m["mountPath"]: m["name"] for m in keeper["volumeMounts"]}
        config_volume = next(v for v in pod["volumes"] if v["name"] == mounts["/etc/mockado"])
        assert config_volume["configMap"] == {"name": "mockado-config"}
    assert sorted(kept) == sorted(loader_shards)


def test_the_collector_and_loader_sidecars_outlast_their_shutdown() -> None:
    """Istio ends a stopping pod's sidecar after 5 s by default: what the collector accepted,
    or the loader's import in flight, would then never reach Redis."""
    config = MockadoConfig.model_validate({"loader": {"wiremock_timeout": 25}})
    files = files_of(config)
    # The capture supervisor waits for its workers this long at most.
    for name, stop_s in (("collector", STOP_TIMEOUT_S), ("loader", 25 + TASK_STOP_TIMEOUT_S)):
        deployment = next(
            d for d in docs(files[f"deploy/{name}.yaml"]) if d["kind"] == "Deployment"
        )
        template = deployment["spec"]["template"]
        proxy = json.loads(template["metadata"]["annotations"]["proxy.istio.io/config"])
        assert proxy["holdApplicationUntilProxyStarts"] is True
        drain_s = int(proxy["terminationDrainDuration"].removesuffix("s"))
        assert stop_s < drain_s < template["spec"]["terminationGracePeriodSeconds"], name


def test_configmap_routes_each_group_to_its_service_in_order() -> None:
    pod = pod_config_of(files_of(config_with()))
    assert [(s.host, s.wiremock_url) for s in pod.loader.shards] == [
        ("payments.*", "http://mockado-wiremock-payments.mockado.svc.cluster.local:8080"),
        ("billing-?.internal", "http://mockado-wiremock-payments.mockado.svc.cluster.local:8080"),
        (
            "*.partner.example.com",
            "http://mockado-wiremock-partners.mockado.svc.cluster.local:8080",
        ),
    ]
    assert pod.loader.wiremock_url == "http://mockado-wiremock.mockado.svc.cluster.local:8080"
    assert pod.serving.unmatched_webhook_url == (
        "http://mockado-loader.mockado.svc.cluster.local:9091/unmatched"
    )
    # The loader names the shards after the groups.
    urls, _routes = shard_urls(pod)
    assert sorted(urls) == ["default", "partners", "payments"]


def test_webhook_url_follows_the_loader_port_and_keeps_a_remote_url() -> None:
    pod = pod_config_of(files_of(config_with(loader={"http_port": 9500})))
    assert pod.serving.unmatched_webhook_url.endswith(".svc.cluster.local:9500/unmatched")
    remote = "http://hooks.example.net/miss"
    pod = pod_config_of(files_of(config_with(serving={"unmatched_webhook_url": remote})))
    assert pod.serving.unmatched_webhook_url == remote
    local = "http://127.0.0.1:9091/unmatched"
    pod = pod_config_of(files_of(config_with(serving={"unmatched_webhook_url": local})))
    assert "mockado-loader.mockado.svc" in pod.serving.unmatched_webhook_url


def test_without_groups_only_the_default_shard() -> None:
    files = files_of(config_with(groups={}))
    assert [d["metadata"]["name"] for d in docs(files["deploy/wiremock.yaml"])] == [
        "mockado-wiremock-launcher",
        "mockado-wiremock",
        "mockado-wiremock",
    ]
    assert pod_config_of(files).loader.shards == []


def test_network_policies() -> None:
    config = make_config(
        {
            "shop": {},
            "canary-ns": {
                "enabled": False,
                "canary": {"workload_labels": {"track": "canary"}, "hosts": ["pay.example.com"]},
            },
        }
    )
    files = files_of(config)
    policies = {d["metadata"]["name"]: d for d in docs(files["deploy/networkpolicies.yaml"])}
    redis_from = [f["podSelector"] for f in policies["mockado-redis"]["spec"]["ingress"][0]["from"]]
    assert redis_from[0]["matchExpressions"][0]["values"] == ["mockado-collector", "mockado-loader"]
    # Every WireMock shard too: its keeper reads the shard's record.
    assert redis_from[1]["matchLabels"] == {
        "app.kubernetes.io/component": "wiremock",
        "app.kubernetes.io/part-of": "mockado",
    }
    # The base WireMock policy covers every shard and lets only the loader in.
    wiremock = policies["mockado-wiremock"]["spec"]
    assert wiremock["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "wiremock"
    assert wiremock["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mockado-loader"}}}
    ]
    # Metrics ports: only the scraper (Prometheus's pods in prometheus_namespace, by default
    # mockado's), nobody else; the keeper's beside each WireMock too.
    scraper = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mockado"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    assert wiremock["ingress"][1] == {
        "from": [scraper],
        "ports": [{"protocol": "TCP", "port": 9092}],
    }
    # Canary access lives with the canary namespace's files.
    assert "canary-ns" not in files["deploy/networkpolicies.yaml"]
    canary = yaml.safe_load(files["istio/canary-ns/networkpolicy-wiremock-canary.yaml"])
    assert canary["metadata"]["namespace"] == "mockado"
    source = canary["spec"]["ingress"][0]["from"][0]
    assert source["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "canary-ns"
    }
    assert source["podSelector"]["matchLabels"] == {"track": "canary"}
    # The collector's base policy opens only metrics; the gRPC port per capture namespace.
    assert policies["mockado-collector-metrics"]["spec"]["ingress"] == [
        {"from": [scraper], "ports": [{"protocol": "TCP", "port": 9090}]}
    ]
    # The loader's: the scraper, and the WireMock shards' misses webhook.
    assert policies["mockado-loader"]["spec"]["ingress"] == [
        {"from": [scraper, {"podSelector": {"matchLabels": redis_from[1]["matchLabels"]}}],
         "ports": [{"protocol": "TCP", "port": 9091}]}
    ]  # fmt: skip
    grpc = yaml.safe_load(files["istio/shop/networkpolicy-collector.yaml"])["spec"]["ingress"][0]
    assert grpc["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "shop"
    }
    # Who may stream is a mesh identity (the collector's AuthorizationPolicy), never a label
    # a pod could set on itself.
    assert "podSelector" not in grpc["from"][0]


def test_pod_config_has_no_secrets_and_in_cluster_urls() -> None:
    config = MockadoConfig.model_validate(
        {
            "collector": {
                "pseudonym_key": "k" * 32,
                "redis_url": "redis://user:hunter2@cache:6379/0",
            },
            "control_plane": {"namespaces": {"shop": {}}},
        }
    )
    data, notes = pod_config(config)
    text = yaml.safe_dump(data)
    assert "hunter2" not in text and "k" * 32 not in text
    assert data["collector"]["redis_url"] == "redis://cache:6379/0"
    assert data["loader"]["redis_url"] == "redis://mockado-redis.mockado.svc.cluster.local:6379/0"
    assert "control_plane" not in data
    assert any("MOCKADO_COLLECTOR__REDIS_URL" in n for n in notes)
    assert all("hunter2" not in n for n in notes)


def test_a_console_open_on_the_loopback_is_refused_in_kubernetes() -> None:
    """In a pod the loopback is shared (containers, kubectl port-forward, a sidecar relaying
    its callers): a console open there would ask nobody for credentials."""
    config = MockadoConfig.model_validate(
        {"control_plane": {"namespaces": {}}, "loader": {"console_open_on_loopback": True}}
    )
    with pytest.raises(RenderError, match=r"loader\.console_open_on_loopback"):
        pod_config(config)
    with pytest.raises(RenderError, match=r"loader\.console_open_on_loopback"):
        render_k8s_manifests(config)
