"""Redis's data across a new pod: an emptyDir by default, a PersistentVolumeClaim with
``control_plane.redis_persistence``."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from control_plane import validate
from control_plane.render import render_all
from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import ConfigError
from tests.unit.control_plane.render.support import deployments, files_of, rendered_objects


def config_of(maxmemory: str | None = None, **persistence: Any) -> MockadoConfig:
    cp: dict[str, Any] = {"redis_persistence": persistence} if persistence else {}
    if maxmemory is not None:
        cp["redis_maxmemory"] = maxmemory
    return MockadoConfig.model_validate({"control_plane": cp} if cp else {})


def claim_size(files: dict[str, str]) -> str:
    claims = rendered_objects(files, under="deploy/", kind="PersistentVolumeClaim")
    return claims["mockado-redis-data"]["spec"]["resources"]["requests"]["storage"]


def data_volume(files: dict[str, str]) -> dict[str, Any]:
    spec = deployments(files)["mockado-redis"]["spec"]["template"]["spec"]
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["data"] == "/data"  # where redis-server --dir writes
    return next(v for v in spec["volumes"] if v["name"] == "data")


def test_by_default_redis_data_is_an_empty_dir_and_no_claim() -> None:
    files = files_of(config_of())
    assert "emptyDir" in data_volume(files)
    assert rendered_objects(files, under="deploy/", kind="PersistentVolumeClaim") == {}
    # The file says what goes with the pod.
    assert "the queue, the stub records and the claims go with it" in files["deploy/redis.yaml"]


def test_persistence_puts_redis_data_on_a_claim_a_cluster_accepts() -> None:
    config = config_of(enabled=True, size="8Gi", storage_class="fast-ssd")
    files = files_of(config)
    claims = rendered_objects(files, under="deploy/", kind="PersistentVolumeClaim")
    assert list(claims) == ["mockado-redis-data"]
    claim = claims["mockado-redis-data"]
    assert claim["metadata"]["namespace"] == "mockado"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "fast-ssd",
        "resources": {"requests": {"storage": "8Gi"}},
    }
    assert data_volume(files) == {
        "name": "data",
        "persistentVolumeClaim": {"claimName": "mockado-redis-data"},
    }
    # ReadWriteOnce: the old pod goes before the new one mounts the claim.
    assert deployments(files)["mockado-redis"]["spec"]["strategy"] == {"type": "Recreate"}
    # The pod's group owns the volume (fsGroup): Redis, uid 1000, writes it.
    pod = deployments(files)["mockado-redis"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["fsGroup"] == 1000
    rendered = render_all(config)
    schemas = validate.default_schemas_dir()
    assert validate.check_rendered(rendered, config=config, schemas_dir=schemas) == []


def test_without_a_storage_class_the_claim_takes_the_cluster_default() -> None:
    files = files_of(config_of(enabled=True))
    claim = rendered_objects(files, under="deploy/", kind="PersistentVolumeClaim")
    spec = claim["mockado-redis-data"]["spec"]
    assert "storageClassName" not in spec
    assert spec["resources"]["requests"]["storage"] == "4Gi"


@pytest.mark.parametrize(
    ("persistence", "key", "message"),
    [
        ({"enabled": True, "size": "0Gi"}, "control_plane.redis_persistence.size", "more than 0"),
        ({"size": "lots"}, "control_plane.redis_persistence.size", "not a memory quantity"),
        ({"storage_class": "Fast_SSD"}, "control_plane.redis_persistence.storage_class",
         "not a valid Kubernetes name"),
        ({"enable": True}, "control_plane.redis_persistence.enable", ""),
        # Less than REDIS_DISK_FACTOR x redis_maxmemory (1gb): a rewrite could fill it.
        ({"enabled": True, "size": "2Gi"}, "control_plane.redis_persistence.size",
         "less than 4 x redis_maxmemory (1gb) = 4Gi"),
    ],
)  # fmt: skip
def test_bad_persistence_values_name_their_key(tmp_path, persistence, key, message) -> None:
    path = tmp_path / "mockado.yaml"
    data = {"control_plane": {"redis_persistence": persistence}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    text = str(caught.value)
    assert key in text and message in text, text


@pytest.mark.parametrize(
    ("maxmemory", "disk"),
    [("1gb", "4Gi"), ("512mb", "2Gi"), ("3gb", "12Gi"), ("300mb", "1200Mi"), ("10mb", "256Mi")],
)
def test_the_data_volume_follows_redis_maxmemory(maxmemory: str, disk: str) -> None:
    # The emptyDir's sizeLimit: past it the kubelet evicts the pod, so it holds the
    # append-only file and its rewrite (REDIS_DISK_FACTOR x maxmemory, at least 256Mi).
    files = files_of(config_of(maxmemory))
    assert data_volume(files) == {"name": "data", "emptyDir": {"sizeLimit": disk}}
    redis = deployments(files)["mockado-redis"]["spec"]["template"]["spec"]["containers"][0]
    assert redis["command"][redis["command"].index("--maxmemory") + 1] == maxmemory
    # The claim's default size too.
    assert claim_size(files_of(config_of(maxmemory, enabled=True))) == disk


def test_a_claim_at_least_the_derived_size_is_kept_as_set() -> None:
    assert claim_size(files_of(config_of("1gb", enabled=True, size="4Gi"))) == "4Gi"
    assert claim_size(files_of(config_of("1gb", enabled=True, size="20Gi"))) == "20Gi"
    # Lowering maxmemory under a set size is fine; raising it past the size is refused.
    assert claim_size(files_of(config_of("512mb", enabled=True, size="3Gi"))) == "3Gi"
    with pytest.raises(ConfigError, match=r"control_plane\.redis_persistence\.size: 3Gi"):
        load_config(env={}, overrides={"control_plane.redis_maxmemory": "1gb",
                                       "control_plane.redis_persistence.size": "3Gi"})  # fmt: skip
