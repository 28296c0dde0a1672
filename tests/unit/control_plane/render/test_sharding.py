"""WireMock shards: which shard serves a host (the loader is the oracle), heap sizing, and
shard groups that cannot work."""

from __future__ import annotations

import re
from typing import Any

import pytest

from control_plane.render import render_all, shard_for_host, shard_services, wiremock_heap_mb
from ext_proc_server.core.errors import RenderError
from ext_proc_server.loader import Router, shard_urls
from tests.unit.control_plane.render.shards import GROUPS, HOSTS, config_with
from tests.unit.control_plane.render.support import files_of, pod_config_of


def test_default_shard_first_then_one_per_group_in_config_order() -> None:
    shards = shard_services(config_with())
    assert [(s.group, s.service) for s in shards] == [
        ("default", "mockado-wiremock"),
        ("payments", "mockado-wiremock-payments"),
        ("partners", "mockado-wiremock-partners"),
    ]
    assert shards[1].url == "http://mockado-wiremock-payments.mockado.svc.cluster.local:8080"


def test_shard_for_host_is_where_the_loader_puts_the_hosts_mappings() -> None:
    config = config_with()
    urls, routes = shard_urls(pod_config_of(files_of(config)))
    router = Router(routes)
    shards = shard_services(config)
    for host in [*HOSTS, "PAYMENTS.example.com", "billing-12.internal"]:
        assert shard_for_host(host, shards).url == urls[router.shard_for(host)], host


def test_default_heap_is_clamped() -> None:
    assert wiremock_heap_mb(config_with(loader={"max_stubs": 10})) == 256
    assert wiremock_heap_mb(config_with(loader={"max_stubs": 10_000})) == 756
    assert wiremock_heap_mb(config_with(loader={"max_stubs": 1_000_000})) == 2048
    assert wiremock_heap_mb(config_with(serving={"heap_mb": 300})) == 300


@pytest.mark.parametrize(
    ("groups", "loader", "message"),
    [
        (GROUPS, {"shards": [{"host": "x.*", "wiremock_url": "http://wm:8080"}]}, "leave it"),
        ({}, {"shards": [{"host": "x.*", "wiremock_url": "http://127.0.0.1:8081"}]}, "machine"),
    ],
)
def test_bad_shard_config_is_refused(
    groups: dict[str, list[str]], loader: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(RenderError, match=re.escape(message)):
        render_all(config_with(groups=groups, loader=loader))
