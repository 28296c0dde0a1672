import uuid

import pytest

from ext_proc_server.capture import CaptureFilter
from ext_proc_server.core.config import CollectorConfig, load_config
from ext_proc_server.core.errors import ConfigError


def decide(cfg: CollectorConfig, authority="api.example", path="/v1/users", request_id="r1"):
    return CaptureFilter(cfg).decide(authority=authority, path=path, request_id=request_id)


def test_no_rules_captures_everything():
    assert decide(CollectorConfig()).capture
    # The assembler then skips deciding; any rule or sampling makes it decide again.
    assert CaptureFilter(CollectorConfig()).captures_all
    for cfg in (
        CollectorConfig(exclude_hosts=["metrics"]),
        CollectorConfig(include_paths=["/v1"]),
        CollectorConfig(sample_rate=0.5),
    ):
        assert not CaptureFilter(cfg).captures_all


def test_exclude_hosts_fnmatch_ignores_port_and_case():
    cfg = CollectorConfig(exclude_hosts=["*.internal", "metrics"])
    assert decide(cfg, authority="db.INTERNAL:5432").reason == "filtered"
    assert decide(cfg, authority="metrics:9090").reason == "filtered"
    assert decide(cfg, authority="api.example").capture


def test_host_patterns_see_an_ipv6_host_without_brackets():
    cfg = CollectorConfig(exclude_hosts=["::1"])
    assert decide(cfg, authority="[::1]:8080").reason == "filtered"
    assert decide(cfg, authority="[::2]:8080").capture


def test_include_hosts_filters_everything_else():
    cfg = CollectorConfig(include_hosts=["payments.*"])
    assert decide(cfg, authority="payments.svc:80").capture
    assert decide(cfg, authority="orders.svc").reason == "filtered"


def test_path_prefix_and_regex_filters():
    cfg = CollectorConfig(exclude_paths=["/health", r"re:/v1/users/\d+/avatar"])
    assert decide(cfg, path="/healthz").reason == "filtered"
    assert decide(cfg, path="/v1/users/42/avatar").reason == "filtered"
    # A regex must match the whole path, as the rendered Envoy matcher does.
    assert decide(cfg, path="/v1/users/42/avatar/big").capture
    assert decide(cfg, path="/v1/users/42").capture


def test_include_paths():
    cfg = CollectorConfig(include_paths=["/api/", "re:/v[0-9]+/.*"])
    assert decide(cfg, path="/api/x").capture
    assert decide(cfg, path="/v2/thing").capture
    assert decide(cfg, path="/static/app.js").reason == "filtered"


def test_exclude_wins_over_include():
    cfg = CollectorConfig(include_paths=["/api/"], exclude_paths=["/api/internal"])
    assert decide(cfg, path="/api/internal/x").reason == "filtered"


def test_invalid_regex_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"collector\.exclude_paths\.0: invalid regex"):
        load_config(None, env={}, overrides={"collector.exclude_paths": ["re:("]})


def test_sampling_is_stable_per_request_id_and_near_the_rate():
    flt = CaptureFilter(CollectorConfig(sample_rate=0.3))
    ids = [str(uuid.UUID(int=n * 7919 + 13)) for n in range(4000)]
    first = [flt.sampled(i) for i in ids]
    again = [CaptureFilter(CollectorConfig(sample_rate=0.3)).sampled(i) for i in ids]
    assert first == again
    assert 0.25 < sum(first) / len(first) < 0.35


def test_sample_rate_edges_and_reason():
    assert decide(CollectorConfig(sample_rate=0.0)).reason == "not_sampled"
    assert decide(CollectorConfig(sample_rate=1.0), request_id=None).capture


def test_filters_are_checked_before_sampling():
    cfg = CollectorConfig(sample_rate=0.0, exclude_paths=["/x"])
    assert decide(cfg, path="/x").reason == "filtered"
