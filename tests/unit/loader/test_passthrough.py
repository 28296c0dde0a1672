"""Pass-through fallbacks: which shard gets one for which host, and what it proxies to."""

from __future__ import annotations

from ext_proc_server.core.config import load_config
from ext_proc_server.loader import Router, shard_urls
from ext_proc_server.loader.shards import passthrough_stubs
from ext_proc_server.mapping.catch_all import CATCH_ALL_PRIORITY


def _config(**serving):
    canary = {
        "workload_labels": {"track": "canary"},
        "hosts": ["api.payments.svc.cluster.local", "partner.example.com", "ledger.example.com"],
        "on_miss": "passthrough",
        "on_miss_hosts": {"ledger.example.com": "fail"},
    }
    return load_config(
        None,
        env={},
        overrides={
            "control_plane.namespaces": {"shop": {"enabled": False, "canary": canary}},
            "serving": serving,
            "loader.shards": [{"host": "partner.*", "wiremock_url": "http://wm-partner:8080"}],
        },
    )


def test_each_passthrough_host_gets_one_fallback_on_its_shard_above_the_catch_all():
    config = _config()
    stubs = dict(
        (stub["metadata"]["mockado"]["host"], (shard, stub))
        for shard, stub in passthrough_stubs(config, Router(shard_urls(config)[1]))
    )
    assert sorted(stubs) == ["api.payments.svc.cluster.local", "partner.example.com"]
    shard, payments = stubs["api.payments.svc.cluster.local"]
    assert shard == "default"
    assert payments["priority"] == CATCH_ALL_PRIORITY - 1
    # The real service, on the port the call was made to (Host's; 80 when none).
    assert payments["response"] == {
        "proxyBaseUrl": "http://api.payments.svc.cluster.local:{{request.port}}",
        "transformers": ["response-template"],
    }
    # Every name of the in-cluster Service, as the recorded stubs match it.
    assert "api\\.payments" in payments["request"]["host"]["matches"]
    assert stubs["partner.example.com"][0] != "default"


def test_a_configured_passthrough_url_is_where_every_miss_goes():
    config = _config(passthrough_url="http://127.0.0.1:10000")
    for _, stub in passthrough_stubs(config, Router(shard_urls(config)[1])):
        assert stub["response"] == {"proxyBaseUrl": "http://127.0.0.1:10000"}
