"""The Kubernetes rules the cluster-in-a-box applies, pinned without docker: the argv a
container runs, where its environment comes from, its security context, ports, volumes,
and the sidecar's translation of Istio settings. test_cluster_box.py runs them for real."""

from __future__ import annotations

import base64
import stat

import pytest

from tests.support.box.errors import BoxError
from tests.support.box.manifests import Manifests, secret_generic
from tests.support.box.podspec import (
    EnvSources,
    container_env,
    cpu_cores,
    effective_argv,
    expand,
    memory_bytes,
    resolve_port,
    security,
    service_link_env,
)
from tests.support.box.sidecar import envoy_duration, outbound_cluster
from tests.support.box.volumes import materialize, mounts

IMAGE = {"entrypoint": ["mockado"], "cmd": ["ext-proc", "--config", "/etc/mockado/mockado.yaml"]}


@pytest.mark.parametrize(
    ("command", "args", "argv"),
    [
        (None, None, ["mockado", "ext-proc", "--config", "/etc/mockado/mockado.yaml"]),
        # args replace CMD and keep ENTRYPOINT: repeating the entrypoint runs it twice.
        (None, ["loader"], ["mockado", "loader"]),
        (None, ["mockado", "loader"], ["mockado", "mockado", "loader"]),
        # command replaces ENTRYPOINT and drops CMD too.
        (["mockado"], None, ["mockado"]),
        (
            ["mockado"],
            ["loader", "--log-format", "json"],
            ["mockado", "loader", "--log-format", "json"],
        ),
    ],
)
def test_effective_argv_follows_kubernetes_command_and_args(command, args, argv):
    assert effective_argv(**IMAGE, command=command, args=args) == argv


def test_an_image_without_entrypoint_or_cmd_and_a_spec_without_command_cannot_run():
    with pytest.raises(BoxError, match="no command"):
        effective_argv(entrypoint=None, cmd=None, command=None, args=None)


def test_references_expand_from_the_environment_and_dollars_escape():
    env = {"PORT": "8080"}
    assert expand("--port=$(PORT)", env) == "--port=8080"
    assert expand("$(MISSING) and $$(PORT)", env) == "$(MISSING) and $(PORT)"


def _sources(**secrets: dict) -> EnvSources:
    configmaps = {"settings": {"A": "from-configmap", "B": "from-configmap"}}
    return EnvSources(
        configmap=configmaps.get, secret=secrets.get, fields={"metadata.name": "pod-0"}
    )


def test_env_wins_over_env_from_which_wins_over_service_links():
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "settings"}}, {"secretRef": {"name": "absent", "optional": True}}],
        "env": [{"name": "B", "value": "from-env $(A)"},
                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
    }  # fmt: skip
    env = container_env(container, _sources(), service_env={"A": "from-service", "S": "service"})
    assert env == {
        "A": "from-configmap",
        "B": "from-env from-configmap",
        "S": "service",
        "POD": "pod-0",
    }


def test_a_required_secret_that_does_not_exist_stops_the_container():
    container = {"name": "c", "envFrom": [{"secretRef": {"name": "mockado-env"}}]}
    with pytest.raises(BoxError, match="'mockado-env' does not exist"):
        container_env(container, _sources(), service_env={})


def test_a_secret_made_like_kubectl_create_secret_generic_reads_back():
    manifests = Manifests()
    manifests.apply(secret_generic("mockado", "mockado-env", from_literal={"KEY": "s3cr3t"}))
    doc = manifests.get("Secret", "mockado", "mockado-env")
    assert doc["data"] == {"KEY": base64.b64encode(b"s3cr3t").decode()}
    assert manifests.secret_data("mockado", "mockado-env") == {"KEY": b"s3cr3t"}


def test_service_links_use_the_upper_case_name_with_underscores():
    env = service_link_env("mockado-redis", "10.0.0.7", [{"name": "redis", "port": 6379}])
    assert env["MOCKADO_REDIS_SERVICE_HOST"] == "10.0.0.7"
    assert env["MOCKADO_REDIS_PORT"] == "tcp://10.0.0.7:6379"
    assert env["MOCKADO_REDIS_SERVICE_PORT_REDIS"] == "6379"


POD = {
    "securityContext": {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
        "fsGroup": 1000,
    }
}


def test_the_container_security_context_overrides_the_pod_and_adds_its_own():
    container = {"name": "c", "securityContext": {
        "runAsUser": 1337, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]}}}  # fmt: skip
    sec = security(POD, container, image_user="")
    assert sec.user == "1337:1000"
    assert sec.groups == (1000,)
    assert sec.read_only_root and sec.no_new_privileges and sec.cap_drop == ("ALL",)


@pytest.mark.parametrize(
    ("image_user", "message"), [("", "runs as root"), ("mockado", "non-numeric")]
)
def test_run_as_non_root_refuses_an_image_user_it_cannot_prove_is_not_root(image_user, message):
    pod = {"securityContext": {"runAsNonRoot": True}}
    with pytest.raises(BoxError, match=message):
        security(pod, {"name": "c"}, image_user=image_user)


def test_named_ports_resolve_in_the_pod_and_unknown_names_fail():
    pod = {
        "containers": [{"name": "c", "ports": [{"name": "http-metrics", "containerPort": 9090}]}]
    }
    assert resolve_port("http-metrics", pod, what="probe") == 9090
    assert resolve_port(8080, pod, what="probe") == 8080
    with pytest.raises(BoxError, match="'metrics' names no container port"):
        resolve_port("metrics", pod, what="probe")


def test_quantities():
    assert memory_bytes("512Mi") == 512 * 2**20
    assert memory_bytes("1G") == 10**9
    assert cpu_cores("500m") == 0.5
    assert cpu_cores("1") == 1.0


def test_configmap_items_and_sub_paths_mount_the_chosen_keys(tmp_path):
    pod = {"volumes": [
        {"name": "config", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "dir/a.yaml", "mode": 0o600}]}},
        {"name": "scratch", "emptyDir": {}},
    ]}  # fmt: skip
    volumes = materialize(
        pod, pod_dir=tmp_path, configmap={"cfg": {"a": b"A", "b": b"B"}}.get, secret={}.get,
        claim={}.get,
    )  # fmt: skip
    assert (volumes["config"].host / "dir/a.yaml").read_bytes() == b"A"
    assert not (volumes["config"].host / "b").exists()
    assert stat.S_IMODE((volumes["config"].host / "dir/a.yaml").stat().st_mode) == 0o600
    assert stat.S_IMODE(volumes["scratch"].host.stat().st_mode) == 0o777
    container = {"name": "c", "volumeMounts": [
        {"name": "config", "mountPath": "/etc/app/a.yaml", "subPath": "dir/a.yaml"},
        {"name": "scratch", "mountPath": "/tmp"},
    ]}  # fmt: skip
    found = {m.container: (m.host, m.read_only) for m in mounts(container, volumes)}
    assert found["/etc/app/a.yaml"] == (volumes["config"].host / "dir/a.yaml", True)
    assert found["/tmp"] == (volumes["scratch"].host, False)


def test_a_mount_of_an_undeclared_volume_or_a_missing_key_fails(tmp_path):
    with pytest.raises(BoxError, match="no key 'missing'"):
        materialize({"volumes": [{"name": "v", "configMap": {"name": "cfg", "items": [{"key": "missing", "path": "x"}]}}]},
                    pod_dir=tmp_path, configmap={"cfg": {}}.get, secret={}.get, claim={}.get)  # fmt: skip
    with pytest.raises(BoxError, match="the pod has no such volume"):
        mounts({"name": "c", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}, {})


def test_istio_durations_become_envoy_durations():
    assert envoy_duration("250ms") == "0.250s"
    assert envoy_duration("2m") == "120.000s"
    with pytest.raises(BoxError):
        envoy_duration("soon")


def test_the_sidecar_speaks_http2_to_a_grpc_service_within_its_destination_rule_limits():
    manifests = Manifests()
    manifests.apply_yaml("""
apiVersion: v1
kind: Service
metadata: {name: collector, namespace: mockado}
spec: {ports: [{name: grpc, port: 50051, appProtocol: grpc}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: collector, namespace: mockado}
spec:
  host: collector.mockado.svc.cluster.local
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 8, connectTimeout: 250ms}, http: {http2MaxRequests: 16}}}
""")
    cluster = outbound_cluster(manifests, "outbound|50051||collector.mockado.svc.cluster.local")
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert "http2_protocol_options" in options["explicit_http_config"]
    assert cluster["connect_timeout"] == "0.250s"
    assert cluster["circuit_breakers"]["thresholds"][0] == {
        "priority": "DEFAULT",
        "max_connections": 8,
        "max_requests": 16,
    }
    with pytest.raises(BoxError, match="no Service mockado/collector with port 9"):
        outbound_cluster(manifests, "outbound|9||collector.mockado.svc.cluster.local")


def test_with_an_fs_group_secret_files_belong_to_it_and_its_members_read_them(tmp_path):
    """The kubelet's rule for a read-only volume under fsGroup: group fsGroup, mode | 0440."""
    pod = {"securityContext": {"fsGroup": 1000}, "volumes": [
        {"name": "files", "secret": {"secretName": "s", "defaultMode": 0o400}},
        {"name": "open", "secret": {"secretName": "s"}},
    ]}  # fmt: skip
    volumes = materialize(pod, pod_dir=tmp_path, configmap={}.get,
                          secret={"s": {"k": b"v"}}.get, claim={}.get)  # fmt: skip
    locked, open_ = (volumes[name].host / "k" for name in ("files", "open"))
    assert (stat.S_IMODE(locked.stat().st_mode), locked.stat().st_gid) == (0o440, 1000)
    assert (stat.S_IMODE(open_.stat().st_mode), open_.stat().st_gid) == (0o644, 1000)
    alone = materialize(
        {"volumes": pod["volumes"][:1]}, pod_dir=tmp_path / "alone", configmap={}.get,
        secret={"s": {"k": b"v"}}.get, claim={}.get,
    )  # fmt: skip
    key = alone["files"].host / "k"
    assert (stat.S_IMODE(key.stat().st_mode), key.stat().st_gid) == (0o400, 0)


def test_a_claim_outlives_the_pod_and_a_missing_one_holds_the_pod(tmp_path):
    """What one pod wrote on a PersistentVolumeClaim, the next pod mounting it finds; a pod
    of an emptyDir starts empty; a claim never applied keeps the pod Pending."""
    pod = {"securityContext": {"fsGroup": 1000}, "volumes": [
        {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "scratch", "emptyDir": {}},
    ]}  # fmt: skip
    claims = {"data": tmp_path / "claims" / "data"}
    first = materialize(pod, pod_dir=tmp_path / "pod-1", configmap={}.get, secret={}.get,
                        claim=claims.get)  # fmt: skip
    assert (first["data"].read_only, first["data"].host.stat().st_gid) == (False, 1000)
    (first["data"].host / "appendonly.aof").write_bytes(b"kept")
    (first["scratch"].host / "tmp").write_bytes(b"gone")
    second = materialize(pod, pod_dir=tmp_path / "pod-2", configmap={}.get, secret={}.get,
                         claim=claims.get)  # fmt: skip
    assert (second["data"].host / "appendonly.aof").read_bytes() == b"kept"
    assert list(second["scratch"].host.iterdir()) == []
    with pytest.raises(BoxError, match="persistentvolumeclaim 'data' not found"):
        materialize(pod, pod_dir=tmp_path / "pod-3", configmap={}.get, secret={}.get,
                    claim={}.get)  # fmt: skip
