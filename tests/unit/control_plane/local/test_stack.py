from __future__ import annotations

import pytest

from control_plane.local.stack import parse_upstream, plan_shards, summary_text
from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import StackError


def test_parse_upstream_defaults_ports_by_scheme():
    assert parse_upstream("http://api.local").port == 80
    https = parse_upstream("https://api.example.com:8443/base")
    assert (https.host, https.port, https.tls) == ("api.example.com", 8443, True)
    assert parse_upstream("127.0.0.1:3000").port == 3000


def test_parse_upstream_rejects_other_schemes():
    with pytest.raises(StackError, match="upstream: invalid URL"):
        parse_upstream("ftp://x")


def test_one_shard_listens_on_the_wiremock_port():
    plans = plan_shards(load_config(None, env={}), base_port=8080, count=1)
    assert [(p.name, p.port) for p in plans] == [("default", 8080)]


def test_shards_from_groups_then_count_take_free_ports():
    config = load_config(
        None,
        env={"MOCKADO_SERVING__SHARD_GROUPS": "{payments: ['payments.*'], users: ['users.*']}"},
    )
    plans = plan_shards(config, base_port=8080, count=1)
    assert [p.name for p in plans] == ["default", "payments", "users"]
    assert plans[1].host_patterns == ["payments.*"]
    # The base port belongs to the mock router; shards get their own free ports.
    assert 8080 not in {p.port for p in plans}
    assert len({p.port for p in plans}) == 3
    anonymous = plan_shards(load_config(None, env={}), base_port=9000, count=3)
    assert [p.name for p in anonymous] == ["default", "shard1", "shard2"]


def test_summary_names_every_place():
    where = {
        "proxy": "http://127.0.0.1:10000",
        "upstream": "http://127.0.0.1:3000",
        "mocks": "http://127.0.0.1:8080 (default)",
        "collector_metrics": "http://127.0.0.1:1/metrics",
        "loader_metrics": "http://127.0.0.1:2/metrics",
        "envoy_admin": "http://127.0.0.1:3",
        "logs": "/tmp/x/logs",
        "backups": "/tmp/x/backups",
        "redis": "embedded redis-server",
    }
    text = summary_text(where)
    for value in where.values():
        assert value in text
