"""Files the pods read at start (certificates, key files): mounted from Secret mockado-files
in the pod whose config names them, and refused at render when the pod could not read them."""

from __future__ import annotations

from typing import Any

import pytest

from control_plane.render import render_k8s_manifests
from control_plane.validate import kubernetes_problems
from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import RenderError
from tests.unit.control_plane.render.support import deployments, docs, pod_config_of

SECRET_DIR = "/var/run/secrets/mockado"
# Every config key naming a file a pod reads -> (that pod, a YAML override setting it).
FILE_KEYS = {
    "collector.tls.cert_file": "collector",
    "collector.tls.key_file": "collector",
    "collector.tls.client_ca_file": "collector",
    "collector.pseudonym_key_file": "collector",
    "collector.dedup_key_file": "collector",
    "collector.redis_tls.ca_file": "collector",
    "collector.redis_tls.cert_file": "collector",
    "collector.redis_tls.key_file": "collector",
    "loader.redis_tls.ca_file": "loader",
    "loader.redis_tls.cert_file": "loader",
    "loader.redis_tls.key_file": "loader",
    "loader.wiremock_tls.ca_file": "loader",
    "loader.wiremock_tls.cert_file": "loader",
    "loader.wiremock_tls.key_file": "loader",
}


# A TLS link's files are read only on a link to a service outside the cluster: a local
# URL is pointed at the in-cluster service, which speaks plain text (its TLS is dropped).
OUTSIDE_URLS = {
    "redis_tls": ("redis_url", "rediss://redis.example.com:6380/0"),
    "wiremock_tls": ("wiremock_url", "https://wiremock.example.com"),
}


def config_naming(files: dict[str, str]) -> MockadoConfig:
    """A config whose dotted keys name these files (as `mockado render` loads it)."""
    overrides: dict[str, str] = {}
    for key in files:
        section, link, *_ = key.split(".")
        if link in OUTSIDE_URLS:
            url_key, url = OUTSIDE_URLS[link]
            overrides[f"{section}.{url_key}"] = url
    return load_config(env={}, overrides={**overrides, **files})


def pod(manifests: dict[str, str], component: str) -> dict[str, Any]:
    return deployments(manifests)[f"mockado-{component}"]["spec"]["template"]["spec"]


def secret_volumes(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in pod_spec["volumes"] if "secret" in v]


def mounts(pod_spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in pod_spec["containers"][0]["volumeMounts"]}


@pytest.mark.parametrize("key", sorted(FILE_KEYS))
def test_each_file_key_mounts_its_file_in_its_pod_only(key: str) -> None:
    manifests = render_k8s_manifests(config_naming({key: f"{SECRET_DIR}/the-file.pem"}))
    owner = FILE_KEYS[key]
    other = "loader" if owner == "collector" else "collector"
    owner_pod = pod(manifests, owner)
    assert secret_volumes(owner_pod) == [
        {
            "name": "secret-files",
            "secret": {
                "secretName": "mockado-files",
                "optional": False,
                # Private keys among them: the pod's group reads them, nobody else.
                "defaultMode": 0o440,
                "items": [{"key": "the-file.pem", "path": "the-file.pem"}],
            },
        }
    ]
    assert mounts(owner_pod)["secret-files"] == {
        "name": "secret-files",
        "mountPath": SECRET_DIR,
        "readOnly": True,
    }
    assert secret_volumes(pod(manifests, other)) == []
    assert "secret-files" not in mounts(pod(manifests, other))
    # The pods' own config still names the file where the volume puts it.
    section, *rest = key.split(".")
    node: Any = getattr(pod_config_of(manifests), section)
    for name in rest:
        node = getattr(node, name)
    assert node == f"{SECRET_DIR}/the-file.pem"


@pytest.mark.parametrize("key", sorted(FILE_KEYS))
def test_render_refuses_a_file_the_pod_cannot_read_naming_the_key(key: str) -> None:
    config = config_naming({key: "/etc/mockado/tls/tls.crt"})
    with pytest.raises(RenderError) as caught:
        render_k8s_manifests(config)
    assert str(caught.value) == (
        f"{key}: /etc/mockado/tls/tls.crt is not in {SECRET_DIR}/, the directory the "
        "rendered pod mounts from Secret mockado-files; name a file directly inside it "
        "(the file's name is its key in the Secret)"
    )


@pytest.mark.parametrize("key", sorted(FILE_KEYS))
def test_the_local_stack_keeps_any_path(key: str) -> None:
    # Loading is what `mockado up` does: a path on this machine is fine there.
    config = config_naming({key: "/etc/mockado/tls/tls.crt"})
    section, *rest = key.split(".")
    node: Any = getattr(config, section)
    for name in rest:
        node = getattr(node, name)
    assert node == "/etc/mockado/tls/tls.crt"


@pytest.mark.parametrize(
    "path",
    [
        f"{SECRET_DIR}/tls/tls.crt",  # a subdirectory: the Secret's keys are flat
        f"{SECRET_DIR}/../mockado/tls.crt",
        f"{SECRET_DIR}-other/tls.crt",
        f"{SECRET_DIR}/",
        "tls.crt",  # relative to the pod's working directory
        f"{SECRET_DIR}//tls.crt",
    ],
)
def test_only_a_file_directly_in_the_directory(path: str) -> None:
    with pytest.raises(RenderError, match=r"^collector\.tls\.cert_file: "):
        render_k8s_manifests(config_naming({"collector.tls.cert_file": path}))


@pytest.mark.parametrize("name", ["..data", "tls crt", "clé.pem", "a:b", "x" * 254])
def test_a_file_name_that_is_no_secret_key_is_refused(name: str) -> None:
    with pytest.raises(RenderError, match=r"^loader\.wiremock_tls\.ca_file: .* not a Secret key"):
        render_k8s_manifests(config_naming({"loader.wiremock_tls.ca_file": f"{SECRET_DIR}/{name}"}))


def test_one_item_per_file_and_the_command_that_creates_the_secret() -> None:
    manifests = render_k8s_manifests(
        config_naming(
            {
                "collector.tls.enabled": True,
                "collector.tls.cert_file": f"{SECRET_DIR}/tls.crt",
                "collector.tls.key_file": f"{SECRET_DIR}/tls.key",
                "collector.redis_tls.ca_file": f"{SECRET_DIR}/ca.crt",
                "loader.redis_tls.ca_file": f"{SECRET_DIR}/ca.crt",
            }
        )
    )
    collector_items = secret_volumes(pod(manifests, "collector"))[0]["secret"]["items"]
    assert [item["key"] for item in collector_items] == ["ca.crt", "tls.crt", "tls.key"]
    loader_items = secret_volumes(pod(manifests, "loader"))[0]["secret"]["items"]
    assert loader_items == [{"key": "ca.crt", "path": "ca.crt"}]
    assert (
        "#   kubectl -n mockado create secret generic mockado-files "
        "--from-file=ca.crt=./ca.crt --from-file=tls.crt=./tls.crt --from-file=tls.key=./tls.key"
    ) in manifests["deploy/configmap.yaml"]
    for path in ("deploy/collector.yaml", "deploy/loader.yaml"):
        for doc in docs(manifests[path]):
            assert kubernetes_problems(doc, source=path) == []


def test_no_file_no_volume_and_no_command() -> None:
    manifests = render_k8s_manifests(MockadoConfig())
    for component in ("collector", "loader"):
        assert secret_volumes(pod(manifests, component)) == []
    assert "mockado-files" not in manifests["deploy/configmap.yaml"]


def test_a_local_tls_link_pointed_in_cluster_drops_its_tls_and_its_files() -> None:
    # `mockado up` with Redis and WireMock over TLS on this machine: the pods talk to the
    # in-cluster services, which speak plain text; keeping the TLS settings made the
    # pods refuse their config ("redis_tls.enabled needs a rediss:// URL").
    tls = {"enabled": True, "ca_file": "/etc/local/ca.pem"}
    config = load_config(
        env={},
        overrides={
            "collector.redis_url": "rediss://127.0.0.1:6380/0",
            "collector.redis_tls": tls,
            "loader.redis_url": "rediss://localhost:6380/0",
            "loader.redis_tls": tls,
            "loader.wiremock_url": "https://127.0.0.1:8443",
            "loader.wiremock_tls": tls,
        },
    )
    manifests = render_k8s_manifests(config)
    pods = pod_config_of(manifests)
    assert pods.collector.redis_url.startswith("redis://mockado-redis.")
    assert not pods.collector.redis_tls.enabled
    assert not pods.loader.redis_tls.enabled
    assert not pods.loader.wiremock_tls.enabled
    assert pods.loader.wiremock_url.startswith("http://mockado-wiremock.")
    for component in ("collector", "loader"):
        assert secret_volumes(pod(manifests, component)) == []
    assert "loader.wiremock_tls: dropped" in manifests["deploy/configmap.yaml"]
