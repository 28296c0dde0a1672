"""Shards from the config, and routing by host pattern."""

from __future__ import annotations

from ext_proc_server.core.config import load_config
from ext_proc_server.loader import Router, shard_urls


def test_shards_route_by_host_pattern_and_share_urls():
    config = load_config(
        env={},
        overrides={
            "loader.wiremock_url": "http://wm-default:8080",
            "loader.shards": [
                {"host": "payments.*", "wiremock_url": "http://wm-pay:8080"},
                {"host": "*.billing.svc", "wiremock_url": "http://wm-pay:8080"},
                {"host": "orders", "wiremock_url": "http://wm-orders:8080"},
                {"host": "legacy", "wiremock_url": "http://wm-default:8080"},
            ],
            "serving.shard_groups": {"pay": ["payments.*"]},
        },
    )
    urls, routes = shard_urls(config)
    assert urls == {
        "default": "http://wm-default:8080",
        "pay": "http://wm-pay:8080",
        "shard-2": "http://wm-orders:8080",
    }
    router = Router(routes)
    assert router.shard_for("Payments.prod") == "pay"
    # Queue entries carry canonical hosts; "*.billing.svc" took the same form.
    assert router.shard_for("x.billing.svc.cluster.local") == "pay"
    assert router.shard_for("orders") == "shard-2"
    assert router.shard_for("orders.other") == "default"
    assert router.shard_for("legacy") == "default"
    assert router.shard_for("") == "default"
