from __future__ import annotations

import pytest

from ext_proc_server.core.config import (
    cluster_hosts,
    dedup_key,
    load_config,
    pseudonym_key,
    redacted_dump,
)
from ext_proc_server.core.errors import ConfigError
from tests.support.paths import REPO


def test_defaults_load_without_a_file():
    config = load_config(None, env={})
    assert config.collector.body_limit_bytes == 8 * 1024
    assert config.collector.dedup_cache_size == 10_000
    assert config.loader.redis_batch_size == 500
    assert config.control_plane.collector.failure_mode_allow is True


def test_yaml_then_env_then_overrides(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "collector:\n  batch_size: 50\n  redis_queue: q1\nloader:\n  retry_attempts: 3\n"
    )
    env = {"MOCKADO_COLLECTOR__REDIS_QUEUE": "q2", "MOCKADO_LOADER__BACKUP_ENABLED": "true"}
    config = load_config(path, env=env, overrides={"loader.retry_attempts": 9})
    assert config.collector.batch_size == 50
    assert config.collector.redis_queue == "q2"
    assert config.loader.backup_enabled is True
    assert config.loader.retry_attempts == 9


def test_env_list_values_are_parsed_as_yaml():
    config = load_config(None, env={"MOCKADO_COLLECTOR__EXCLUDE_PATHS": "[/health, re:^/internal]"})
    assert config.collector.exclude_paths == ["/health", "re:^/internal"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MOCKADO_COLLECTOR__REDIS_URL": "http://x"}, "collector.redis_url: invalid URL"),
        ({"MOCKADO_COLLECTOR__BODY_LIMIT_BYTES": "100"}, "collector.body_limit_bytes:"),
        ({"MOCKADO_COLLECTOR__BODY_LIMIT_BYTES": "2000000"}, "collector.body_limit_bytes:"),
        (
            {"MOCKADO_COLLECTOR__MAX_DECOMPRESSED_BYTES": str(1 << 30)},
            "collector.max_decompressed_bytes:",
        ),
        ({"MOCKADO_LOADER__WIREMOCK_URL": "ftp://x"}, "loader.wiremock_url: invalid URL"),
        ({"MOCKADO_LOADER__RETRY_ATTEMPTS": "many"}, "loader.retry_attempts:"),
        ({"MOCKADO_COLLECTOR__SANITIZE_MODE": "off"}, "collector.sanitize_mode:"),
    ],
)
def test_errors_name_the_key(env, expected):
    with pytest.raises(ConfigError) as info:
        load_config(None, env=env)
    assert expected in str(info.value)


def test_unknown_key_is_an_error_naming_it(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("collector:\n  batch_sise: 5\n")
    with pytest.raises(ConfigError, match=r"collector\.batch_sise: unknown key"):
        load_config(path, env={})


def test_bad_regex_in_sanitize_patterns_names_the_key(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("collector:\n  sanitize_patterns:\n  - {name: x, regex: '(', replacement: R}\n")
    with pytest.raises(ConfigError, match=r"collector\.sanitize_patterns\.0\.regex: invalid regex"):
        load_config(path, env={})


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("collector: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(bad, env={})


def test_secrets_are_redacted_and_never_in_repr(tmp_path):
    secret = "hmac-key-that-must-not-leak"
    config = load_config(
        None,
        env={
            "MOCKADO_COLLECTOR__PSEUDONYM_KEY": secret,
            "MOCKADO_LOADER__REDIS_URL": "redis://:p4ssw0rd@cache:6379/0",
        },
    )
    assert pseudonym_key(config.collector) == secret.encode()
    assert secret not in repr(config)
    dumped = str(redacted_dump(config))
    assert secret not in dumped
    assert "p4ssw0rd" not in dumped
    assert "cache:6379" in dumped


def test_pseudonym_key_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-file\n")
    config = load_config(None, env={"MOCKADO_COLLECTOR__PSEUDONYM_KEY_FILE": str(key_file)})
    assert pseudonym_key(config.collector) == b"from-file"
    missing = load_config(None, env={"MOCKADO_COLLECTOR__PSEUDONYM_KEY_FILE": str(tmp_path / "x")})
    with pytest.raises(ConfigError, match=r"collector\.pseudonym_key_file"):
        pseudonym_key(missing.collector)


def test_example_config_in_repo_loads():

    example = REPO / "mockado.example.yaml"
    config = load_config(example, env={})
    assert config.control_plane.namespaces


DEDUP_KEY = "dedup-Key-7f3a9c2e-long-enough"


def test_the_dedup_key_comes_from_the_environment_or_a_file_never_the_config_file(tmp_path):
    config = load_config(None, env={"MOCKADO_COLLECTOR__DEDUP_KEY": DEDUP_KEY})
    assert dedup_key(config.collector) == DEDUP_KEY.encode()
    # Never dumped (the pods' ConfigMap, `mockado up`'s effective config) nor shown.
    assert "dedup_key" not in config.model_dump()["collector"]
    assert DEDUP_KEY not in repr(config) and DEDUP_KEY not in str(redacted_dump(config))
    key_file = tmp_path / "dedup-key"
    key_file.write_text(DEDUP_KEY + "\n")
    from_file = load_config(None, env={"MOCKADO_COLLECTOR__DEDUP_KEY_FILE": str(key_file)})
    assert dedup_key(from_file.collector) == DEDUP_KEY.encode()
    assert dedup_key(load_config(None, env={}).collector) is None
    cfg = tmp_path / "mockado.yaml"
    cfg.write_text(f"collector:\n  dedup_key: {DEDUP_KEY}\n")
    with pytest.raises(ConfigError, match=r"collector\.dedup_key: never in the config file") as err:
        load_config(cfg, env={})
    assert DEDUP_KEY not in str(err.value)


def test_a_short_or_unreadable_dedup_key_is_refused_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"collector\.dedup_key: at least 16 bytes"):
        load_config(None, env={"MOCKADO_COLLECTOR__DEDUP_KEY": "short"})
    config = load_config(None, env={"MOCKADO_COLLECTOR__DEDUP_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match=r"collector\.dedup_key_file: cannot read"):
        dedup_key(config.collector)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MOCKADO_COLLECTOR__CLUSTER_DOMAIN": "not a domain"}, "collector.cluster_domain"),
        (
            {"MOCKADO_COLLECTOR__CLUSTER_NAMESPACES": "[ok, Bad_Name]"},
            "collector.cluster_namespaces.1",
        ),
    ],
)
def test_cluster_names_are_checked_naming_the_key(env, expected):
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        load_config(None, env=env)


def test_cluster_hosts_follow_the_config():
    config = load_config(
        None,
        env={
            "MOCKADO_COLLECTOR__CLUSTER_DOMAIN": "Corp.Internal",
            "MOCKADO_COLLECTOR__CLUSTER_NAMESPACES": "[payments]",
        },
    )
    assert config.collector.cluster_domain == "corp.internal"
    hosts = cluster_hosts(config.collector, namespaces=["orders"])
    assert hosts.canonical("api.payments") == "api.payments.svc.corp.internal"
    assert hosts.canonical("api.orders") == "api.orders.svc.corp.internal"
    assert hosts.canonical("api.shop") == "api.shop"


def test_stub_ttl_is_off_by_default_and_validated_at_load():
    assert load_config(None, env={}).loader.stub_ttl_s is None
    assert load_config(None, env={"MOCKADO_LOADER__STUB_TTL_S": "86400"}).loader.stub_ttl_s == 86400
    with pytest.raises(ConfigError, match=r"loader\.stub_ttl_s"):
        load_config(None, env={}, overrides={"loader.stub_ttl_s": 0})
    with pytest.raises(ConfigError, match=r"loader\.stub_refresh_interval_s"):
        load_config(None, env={}, overrides={"loader.stub_refresh_interval_s": -1})
