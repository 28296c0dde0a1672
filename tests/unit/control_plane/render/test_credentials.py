"""Credentials in the rendered Kubernetes manifests: every one comes from a Secret by
reference, and no rendered file (above all no ConfigMap) ever holds a value."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from control_plane.render import render_all
from ext_proc_server.core.config import is_secret_key, load_config
from tests.support.paths import REPO
from tests.unit.control_plane.render.support import deployments, docs, files_of

SECRETS = {
    "pseudonym": "pseudonym-key-value-0123456789abcdef",
    "dedup": "dedup-key-value-0123456789abcdef0123",
    "collector_redis": "collector-redis-pass-9f8e",
    "loader_redis": "loader-redis-pass-7d6c",
    "admin": "wiremock-admin-pass-5b4a",
    "url_redis": "url-redis-pass-3c2d",
    "url_wiremock": "url-wiremock-pass-1e0f",
    "shard": "shard-url-pass-4a5b",
}
ADMIN = {
    "MOCKADO_LOADER__WIREMOCK_ADMIN_USER": ("mockado-credentials", "wiremock-admin-user"),
    "MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD": ("mockado-credentials", "wiremock-admin-password"),
}
# Variable -> (Secret, key), or the plain value of a user name.
EXPECTED_ENV = {
    "mockado-collector": {
        "MOCKADO_COLLECTOR__REDIS_USERNAME": "mockado-collector",
        "MOCKADO_COLLECTOR__REDIS_PASSWORD": ("mockado-redis-collector", "password"),
    },
    "mockado-loader": {
        "MOCKADO_LOADER__REDIS_USERNAME": "mockado-loader",
        "MOCKADO_LOADER__REDIS_PASSWORD": ("mockado-redis-loader", "password"),
        **ADMIN,
    },
    "keeper": {
        "MOCKADO_LOADER__REDIS_USERNAME": "mockado-keeper",
        "MOCKADO_LOADER__REDIS_PASSWORD": ("mockado-redis-keeper", "password"),
        **ADMIN,
    },
    "mockado-redis": {
        "REDIS_PASSWORD": ("mockado-credentials", "redis-password"),
        "REDIS_COLLECTOR_PASSWORD": ("mockado-redis-collector", "password"),
        "REDIS_LOADER_PASSWORD": ("mockado-redis-loader", "password"),
        "REDIS_KEEPER_PASSWORD": ("mockado-redis-keeper", "password"),
    },
    "wiremock": {
        "WIREMOCK_ADMIN_USER": ("mockado-credentials", "wiremock-admin-user"),
        "WIREMOCK_ADMIN_PASSWORD": ("mockado-credentials", "wiremock-admin-password"),
    },
}


def config_with_every_secret(tmp_path: Path):
    """A config holding every kind of credential: in fields, in URLs, from the environment."""
    path = tmp_path / "mockado.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "collector": {
                    "redis_url": f"redis://:{SECRETS['url_redis']}@cache.example.com:6379/0",
                    "redis_password": SECRETS["collector_redis"],
                    "sanitize_mode": "pseudonyms",
                },
                "loader": {
                    "redis_password": SECRETS["loader_redis"],
                    "wiremock_url": f"https://ops:{SECRETS['url_wiremock']}@wm.example.com",
                    "wiremock_admin_user": "ops",
                    "wiremock_admin_password": SECRETS["admin"],
                    "shards": [
                        {"host": "pay.*", "wiremock_url": f"http://u:{SECRETS['shard']}@wm-pay:80"}
                    ],
                },
                "control_plane": {"namespaces": {"shop": {}}},
            }
        ),
        encoding="utf-8",
    )
    env = {
        "MOCKADO_COLLECTOR__PSEUDONYM_KEY": SECRETS["pseudonym"],
        "MOCKADO_COLLECTOR__DEDUP_KEY": SECRETS["dedup"],
    }
    return load_config(path, env=env)


def _walk_keys(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [k for k, v in node.items() for k in (k, *_walk_keys(v))]
    if isinstance(node, list):
        return [k for v in node for k in _walk_keys(v)]
    return []


def test_no_rendered_configmap_and_no_rendered_file_holds_a_credential(tmp_path: Path) -> None:
    files = {f.path: f.text for f in render_all(config_with_every_secret(tmp_path))}
    configmaps = [d for text in files.values() for d in docs(text) if d.get("kind") == "ConfigMap"]
    assert {d["metadata"]["name"] for d in configmaps} >= {"mockado-config"}
    for configmap in configmaps:
        dumped = yaml.safe_dump(configmap)
        for name, value in SECRETS.items():
            assert value not in dumped, f"{name} in ConfigMap {configmap['metadata']['name']}"
        for key, text in configmap["data"].items():
            if not key.endswith((".yaml", ".yml", ".json")):
                continue  # the WireMock launcher's Java source
            data = yaml.safe_load(text)
            secret_keys = [k for k in _walk_keys(data) if is_secret_key(str(k))]
            assert secret_keys == [], configmap["metadata"]["name"]
    for path, text in files.items():
        for name, value in SECRETS.items():
            assert value not in text, f"{name} in {path}"
    notes = files["deploy/configmap.yaml"]
    assert "loader.wiremock_admin_password: removed (secret)" in notes
    assert "Secret mockado-credentials key wiremock-admin-password" in notes


def _env_refs(container: dict[str, Any]) -> dict[str, Any]:
    refs: dict[str, Any] = {}
    for var in container.get("env", []):
        if "value" in var:
            assert var["name"].endswith("__REDIS_USERNAME"), var["name"]
            refs[var["name"]] = var["value"]
            continue
        ref = var["valueFrom"]["secretKeyRef"]
        assert not ref.get("optional", False), f"{var['name']}: a pod must not start without it"
        refs[var["name"]] = (ref["name"], ref["key"])
    return refs


def test_every_credential_reference_names_a_key_of_the_credentials_secret() -> None:
    config = load_config(None, env={}, overrides={"serving.shard_groups": {"pay": ["pay.*"]}})
    found = deployments(files_of(config))
    assert set(found) == {"mockado-collector", "mockado-loader", "mockado-redis",
                          "mockado-wiremock", "mockado-wiremock-pay"}  # fmt: skip
    for name, doc in found.items():
        container, *keeper = doc["spec"]["template"]["spec"]["containers"]
        if keeper:
            # Beside WireMock, its keeper reads the shard's record, as its own Redis user.
            assert [c["name"] for c in keeper] == ["keeper"], name
            assert _env_refs(keeper[0]) == EXPECTED_ENV["keeper"], name
        expected = EXPECTED_ENV["wiremock" if name.startswith("mockado-wiremock") else name]
        assert _env_refs(container) == expected, name
        # The kubelet expands $(VAR) only for variables the container defines.
        argv = [*container.get("command", []), *container.get("args", [])]
        used = {v for arg in argv for v in re.findall(r"\$\((\w+)\)", str(arg))}
        assert used <= set(expected), name
        if name == "mockado-redis":
            # One ACL user per component, each with its own password; default is off.
            assert "--requirepass" not in argv
            users = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--user"]
            assert users == ["default", "mockado-collector", "mockado-loader",
                             "mockado-keeper", "mockado-probe"]  # fmt: skip
            assert argv[argv.index("default") + 1 : argv.index("default") + 3] == ["reset", "off"]
            for user, variable in (("mockado-collector", "REDIS_COLLECTOR_PASSWORD"),
                                   ("mockado-probe", "REDIS_PASSWORD")):  # fmt: skip
                assert argv[argv.index(user) + 3] == f">$({variable})", user
            assert "--protected-mode" not in argv
        if name.startswith("mockado-wiremock"):
            auth = argv[argv.index("--admin-api-basic-auth") + 1]
            assert auth == "$(WIREMOCK_ADMIN_USER):$(WIREMOCK_ADMIN_PASSWORD)"
            # /__admin/health wants the credentials too: no probe may call the admin API.
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                assert "/__admin" not in str(container.get(probe, "")), (name, probe)


def test_the_pods_get_their_passwords_from_the_secret_environment(tmp_path: Path) -> None:
    files = files_of(load_config(None, env={}))
    configmap = docs(files["deploy/configmap.yaml"])[0]
    path = tmp_path / "mockado.yaml"
    path.write_text(configmap["data"]["mockado.yaml"], encoding="utf-8")
    secrets = {
        ("mockado-redis-collector", "password"): "c0ll/pw",
        ("mockado-redis-loader", "password"): "l0@der",
        ("mockado-credentials", "wiremock-admin-user"): "mockado",
        ("mockado-credentials", "wiremock-admin-password"): "adm1n",
    }
    env = {
        var: ref if isinstance(ref, str) else secrets[ref]
        for refs in (EXPECTED_ENV["mockado-collector"], EXPECTED_ENV["mockado-loader"])
        for var, ref in refs.items()
    }
    pods = load_config(path, env=env)
    assert pods.loader.wiremock_admin_auth() == ("mockado", "adm1n")
    host = "mockado-redis.mockado.svc.cluster.local"
    assert pods.collector.redis_url.startswith(f"redis://mockado-collector:c0ll%2Fpw@{host}")
    assert pods.loader.redis_url.startswith(f"redis://mockado-loader:l0%40der@{host}")


# The one Secret a cluster rendered before per-component Redis users holds.
ONE_PASSWORD_SECRET = {("mockado-credentials", k) for k in
                       ("wiremock-admin-user", "wiremock-admin-password", "redis-password")}  # fmt: skip
NEW_REDIS_SECRETS = {(f"mockado-redis-{c}", "password") for c in ("collector", "loader", "keeper")}


def test_an_upgrade_from_one_password_keeps_the_old_secret_and_adds_one_per_component() -> None:
    config = load_config(None, env={}, overrides={"serving.shard_groups": {"pay": ["pay.*"]}})
    files = files_of(config)
    refs = {
        (var["valueFrom"]["secretKeyRef"]["name"], var["valueFrom"]["secretKeyRef"]["key"])
        for doc in deployments(files).values()
        for container in doc["spec"]["template"]["spec"]["containers"]
        for var in container.get("env", [])
        if "valueFrom" in var
    }
    # Every key of the old Secret is still read (redis-password by Redis's probe), and the
    # only new ones are the components' Redis passwords.
    assert refs >= ONE_PASSWORD_SECRET
    assert refs - ONE_PASSWORD_SECRET == NEW_REDIS_SECRETS
    # The runbook's Install (which its upgrade section points to) and the ConfigMap's
    # header create each new one.
    runbook = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
    header = files["deploy/configmap.yaml"]
    for secret, key in NEW_REDIS_SECRETS:
        for text in (runbook, header):
            assert f"create secret generic {secret} --from-literal={key}=" in text, secret
