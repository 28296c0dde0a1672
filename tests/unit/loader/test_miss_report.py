"""Which canary namespaces a miss belongs to: a miss keeps the Host it was called by, so
each canary host answers under every name of its Service and, written with a final dot
(a host outside the cluster), without the dot."""

from __future__ import annotations

from ext_proc_server.core.config import load_config
from ext_proc_server.loader.miss_report import canary_namespaces


def config_with_canary(hosts: list[str]):
    namespaces = {
        "web": {"canary": {"workload_labels": {"app": "web"}, "hosts": hosts}},
        "shop": {},
    }
    return load_config(None, env={}, overrides={"control_plane.namespaces": namespaces})


def test_a_canary_service_answers_for_every_name_it_may_be_called_by() -> None:
    found = canary_namespaces(config_with_canary(["api.shop"]))
    for name in ("api", "api.shop", "api.shop.svc", "api.shop.svc.cluster.local"):
        assert found[name] == ["web"], name


def test_a_host_outside_the_cluster_answers_without_its_final_dot() -> None:
    found = canary_namespaces(config_with_canary(["httpbin.org."]))
    assert found == {"httpbin.org": ["web"]}


def test_a_canary_listing_a_full_name_answers_for_its_shorter_names() -> None:
    found = canary_namespaces(config_with_canary(["orders.shop.svc.cluster.local"]))
    assert found["orders.shop"] == ["web"]
    assert found["orders"] == ["web"]
