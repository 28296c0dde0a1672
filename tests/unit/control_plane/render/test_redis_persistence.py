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


def config_of(**persistence: Any) -> MockadoConfig:
    data = {"control_plane": {"redis_persistence": persistence}} if persistence else {}
    return MockadoConfig.model_validate(data)


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
