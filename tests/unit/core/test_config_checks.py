"""Every value is checked when the config loads, and each error names its key."""

from __future__ import annotations

import pytest

from ext_proc_server.capture.filters import CaptureFilter
from ext_proc_server.core.config import decode_body_limits, encode_body_limits, load_config
from ext_proc_server.core.errors import ConfigError


def load(**overrides: object):
    return load_config(None, env={}, overrides=overrides)


def error_of(**overrides: object) -> str:
    with pytest.raises(ConfigError) as info:
        load(**overrides)
    return str(info.value)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"collector.include_paths": ["re:["]}, "collector.include_paths.0: invalid regex"),
        (
            {"collector.exclude_paths": ["/ok", "re:(a)\\1"]},
            "collector.exclude_paths.1: regex not supported by RE2",
        ),
        (
            {"collector.include_paths": ["api"]},
            "collector.include_paths.0: a prefix must start with '/'",
        ),
        (
            {"collector.include_hosts": ["http://api"]},
            "collector.include_hosts.0: not a host pattern",
        ),
        (
            {"control_plane.namespaces": {"shop": {"include_paths": ["re:(?=x)"]}}},
            "control_plane.namespaces.shop.include_paths.0: regex not supported by RE2",
        ),
        (
            {"control_plane.namespaces": {"shop": {"exclude_hosts": ["re:(["]}}},
            "control_plane.namespaces.shop.exclude_hosts.0: invalid regex",
        ),
        (
            {"control_plane.namespaces": {"shop": {"workload_selector": {"app": "my app"}}}},
            "control_plane.namespaces.shop.workload_selector.app: a label value",
        ),
        (
            {"control_plane.namespaces": {"shop": {"workload_selector": {"-app": "x"}}}},
            "control_plane.namespaces.shop.workload_selector.-app: a label name",
        ),
        (
            {
                "control_plane.namespaces": {
                    "shop": {"canary": {"workload_labels": {"UPPER.example.com/x": "y"}}}
                }
            },
            "control_plane.namespaces.shop.canary.workload_labels.UPPER.example.com/x: the key's prefix",
        ),
        (
            {
                "control_plane.namespaces": {
                    "shop": {"canary": {"workload_labels": {"a": "b"}, "hosts": ["*.shop.svc"]}}
                }
            },
            "control_plane.namespaces.shop.canary.hosts.0: not a full host name",
        ),
        (
            {"control_plane.namespaces": {"Shop": {}}},
            "control_plane.namespaces.Shop: 'Shop' is not a valid Kubernetes name",
        ),
        (
            {"control_plane.namespaces": {"istio-system": {}}},
            "control_plane.namespaces.istio-system: the root namespace makes capture mesh-wide",
        ),
        (
            {"control_plane.mockado_namespace": "mock_ado"},
            "control_plane.mockado_namespace: 'mock_ado' is not a valid Kubernetes name",
        ),
        (
            {"serving.shard_groups": {"default": ["x"]}},
            "serving.shard_groups.default: 'default' is the shard",
        ),
        (
            {"serving.shard_groups": {"a" * 47: ["x"]}},
            "serving.shard_groups." + "a" * 47 + ": at most 46 characters",
        ),
        (
            {"serving.shard_groups": {"pay": []}},
            "serving.shard_groups.pay: list at least one host pattern",
        ),
        (
            {"serving.shard_groups": {"pay": ["pay.*"], "ord": ["x", "PAY.*"]}},
            "serving.shard_groups.ord.1: also listed by group 'pay'",
        ),
        (
            {"serving.shard_groups": {"pay": ["re:pay"]}},
            "serving.shard_groups.pay.0: not a host pattern",
        ),
        (
            {"loader.shards": [{"host": "pay/*", "wiremock_url": "http://w:8080"}]},
            "loader.shards.0.host",
        ),
    ],
)
def test_a_bad_value_is_refused_at_load_naming_its_key(overrides, key):
    assert key in error_of(**overrides)


def test_the_root_namespace_is_allowed_under_another_root():
    config = load(
        **{
            "control_plane.root_namespace": "mesh-root",
            "control_plane.namespaces": {"istio-system": {}},
        }
    )
    assert "istio-system" in config.control_plane.namespaces


def test_the_collector_host_follows_the_mockado_namespace():
    assert load().control_plane.collector.host == "mockado-collector.mockado.svc.cluster.local"
    moved = load(**{"control_plane.mockado_namespace": "mocks"})
    assert moved.control_plane.collector.host == "mockado-collector.mocks.svc.cluster.local"
    explicit = load(
        **{
            "control_plane.mockado_namespace": "mocks",
            "control_plane.collector": {"host": "c.mocks.svc.cluster.local"},
        }
    )
    assert explicit.control_plane.collector.host == "c.mocks.svc.cluster.local"


def test_what_the_config_accepts_the_collector_accepts():
    config = load(
        **{
            "collector.include_paths": ["/api", "re:/v[0-9]+/.*"],
            "collector.exclude_hosts": ["*.internal", "health?"],
        }
    )
    capture = CaptureFilter(config.collector)
    assert capture.decide(authority="svc", path="/v2/users", request_id=None).capture
    assert not capture.decide(authority="db.internal", path="/api", request_id=None).capture


def test_a_repeated_key_gives_its_line_and_column(tmp_path):
    path = tmp_path / "mockado.yaml"
    path.write_text("collector:\n  batch_size: 5\n  redis_queue: q\n  batch_size: 6\n")
    with pytest.raises(
        ConfigError, match=r"mockado\.yaml:4:3: invalid YAML \(duplicate key 'batch_size'\)"
    ):
        load_config(path, env={})


def test_a_repeated_section_is_refused_too(tmp_path):
    path = tmp_path / "mockado.yaml"
    path.write_text("loader:\n  max_stubs: 5\nloader:\n  max_stubs: 6\n")
    with pytest.raises(ConfigError, match=r":3:1: invalid YAML \(duplicate key 'loader'\)"):
        load_config(path, env={})


def test_a_syntax_error_gives_line_and_column_but_never_the_text(tmp_path):
    path = tmp_path / "mockado.yaml"
    path.write_text("collector:\n  redis_url: redis://u:s3cr3t@h:6379/0\n  batch_size: [1, 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert "mockado.yaml:4:1: invalid YAML" in message
    assert "s3cr3t" not in message


def test_the_top_level_must_be_sections(tmp_path):
    path = tmp_path / "mockado.yaml"
    path.write_text("- collector\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(path, env={})


def test_a_redis_password_from_the_environment_reaches_the_connection_and_never_a_dump():
    import redis

    from ext_proc_server.core.config import redacted_dump

    config = load_config(
        None,
        env={
            "MOCKADO_COLLECTOR__REDIS_URL": "redis://redis.mockado.svc:6379/0",
            "MOCKADO_COLLECTOR__REDIS_PASSWORD": "p@ss/w#rd 1",
            "MOCKADO_LOADER__REDIS_PASSWORD": "0123",
        },
    )
    for section, password in ((config.collector, "p@ss/w#rd 1"), (config.loader, "0123")):
        kwargs = redis.Redis.from_url(section.redis_url).connection_pool.connection_kwargs
        assert kwargs["password"] == password
    dumped = str(redacted_dump(config)) + repr(config)
    assert "p@ss" not in dumped and "0123" not in dumped


def test_a_password_written_in_the_url_wins():
    config = load(
        **{"collector.redis_url": "redis://:inurl@r:6379/0", "collector.redis_password": "other"}
    )
    assert config.collector.redis_url == "redis://:inurl@r:6379/0"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"collector.body_limits": [{"host": "api.x", "path": "export", "bytes": 4096}]},
            "collector.body_limits.0.path: a prefix must start with '/'",
        ),
        (
            {"collector.body_limits": [{"host": "api.x", "bytes": 2 << 20}]},
            "collector.body_limits.0.bytes: Input should be less than or equal to 1048576",
        ),
        (
            {
                "control_plane.namespaces": {
                    "shop": {"body_limits": [{"host": "a b", "bytes": 4096}]}
                }
            },
            "control_plane.namespaces.shop.body_limits.0.host: not a host pattern",
        ),
        (
            {"collector.body_limits": [{"host": "api.x", "bytes": 4096, "size": 1}]},
            "collector.body_limits.0.size: unknown key",
        ),
    ],
)
def test_body_limits_are_checked_at_load_naming_the_key(overrides, message) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={}, overrides=overrides)
    assert message in str(caught.value)


def test_body_limits_round_trip_through_the_capture_metadata() -> None:
    config = load_config(
        None,
        env={},
        overrides={
            "collector.body_limits": [{"host": "API.x", "path": "re:/e/.*", "bytes": 65536}]
        },
    )
    (rule,) = config.collector.body_limits
    assert rule.host == "api.x"
    assert decode_body_limits(encode_body_limits([rule])) == [("api.x", "re:/e/.*", 65536)]
    with pytest.raises(ValueError, match="not a list"):
        decode_body_limits('{"a": 1}')
