"""What `mockado render` derives from more than one key names objects it renders: a
config whose collector host or canary hosts could not work is refused at load, naming
the key."""

from __future__ import annotations

from typing import Any

import pytest

from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import ConfigError


def load(**overrides: object):
    return load_config(None, env={}, overrides=overrides)


def error_of(**overrides: object) -> str:
    with pytest.raises(ConfigError) as info:
        load(**overrides)
    return str(info.value)


def canary(hosts: list[str], **settings: Any) -> dict[str, Any]:
    return {
        "legacy": {"canary": {"workload_labels": {"app": "web"}, "hosts": hosts, **settings}},
        "shop": {},
    }


@pytest.mark.parametrize(
    "host",
    [
        # Rendered as Service "collector" in mockado's namespace: nothing at this name.
        "collector.observability.svc.cluster.local",
        # Another mockado's namespace, or no Service at all.
        "mockado-collector.mocks.svc.cluster.local",
        "collector.example.com",
    ],
)
def test_a_collector_host_outside_mockados_namespace_is_refused(host: str) -> None:
    message = error_of(**{"control_plane.collector": {"host": host}})
    assert message.startswith("control_plane.collector.host: not a Service in mockado's")
    assert "<service>.mockado.svc.cluster.local" in message


@pytest.mark.parametrize(
    ("host", "groups"),
    [
        ("mockado-redis.mockado.svc.cluster.local", {}),
        ("mockado-loader.mockado.svc.cluster.local", {}),
        ("mockado-wiremock.mockado.svc.cluster.local", {}),
        ("mockado-wiremock-pay.mockado.svc.cluster.local", {"pay": ["pay.*"]}),
    ],
)
def test_a_collector_host_naming_another_mockado_service_is_refused(
    host: str, groups: dict[str, list[str]]
) -> None:
    message = error_of(
        **{"control_plane.collector": {"host": host}, "serving.shard_groups": groups}
    )
    assert message.startswith("control_plane.collector.host: ")
    assert "is another mockado Service" in message


def test_a_collector_host_that_is_no_service_name_is_refused() -> None:
    message = error_of(**{"control_plane.collector": {"host": "1c.mockado.svc.cluster.local"}})
    assert message.startswith("control_plane.collector.host: '1c' is not a Service name")


def test_a_collector_host_in_another_cluster_domain_is_refused_naming_both_keys() -> None:
    message = error_of(
        **{
            "collector.cluster_domain": "corp.internal",
            "control_plane.collector": {"host": "mockado-collector.mockado.svc.cluster.local"},
        }
    )
    assert message.startswith("control_plane.collector.host: in the DNS domain cluster.local")
    assert "collector.cluster_domain is corp.internal" in message


def test_a_collector_service_of_its_own_name_in_mockados_namespace_and_domain_loads() -> None:
    config = load(
        **{
            "collector.cluster_domain": "corp.internal",
            "control_plane.mockado_namespace": "mocks",
            "control_plane.collector": {"host": "capture.mocks.svc.corp.internal"},
        }
    )
    assert config.control_plane.collector.host == "capture.mocks.svc.corp.internal"
    default = load(**{"collector.cluster_domain": "corp.internal"})
    assert default.control_plane.collector.host == "mockado-collector.mockado.svc.corp.internal"


@pytest.mark.parametrize(
    "hosts",
    [
        ["api.shop", "api.shop.svc.cluster.local"],
        ["api.shop.svc", "pay.example.com", "API.shop"],
    ],
)
def test_two_names_of_one_service_in_one_canary_are_refused(hosts: list[str]) -> None:
    # With on_miss_hosts telling them apart, one of them would silently lose.
    on_miss = {hosts[0]: "fail", hosts[-1]: "passthrough"}
    message = error_of(
        **{"control_plane.namespaces": canary(hosts, on_miss="fail", on_miss_hosts=on_miss)}
    )
    index = len(hosts) - 1
    assert message == (
        f"control_plane.namespaces.legacy.canary.hosts.{index}: the same Service as hosts.0 "
        "(api.shop.svc.cluster.local); list each Service once (one route serves all its "
        "names, with one on_miss)"
    )
    same_mode = error_of(**{"control_plane.namespaces": canary(hosts)})
    assert same_mode.startswith(f"control_plane.namespaces.legacy.canary.hosts.{index}: ")


def test_a_service_in_two_canaries_loads() -> None:
    namespaces = canary(["api.shop"])
    namespaces["shop"] = {
        "canary": {"workload_labels": {"app": "web"}, "hosts": ["api.shop.svc.cluster.local"]}
    }
    assert load(**{"control_plane.namespaces": namespaces}).control_plane.namespaces


def test_a_refused_canary_host_is_the_only_error_reported() -> None:
    message = error_of(
        **{"control_plane.namespaces": canary(["api:8080"], on_miss_hosts={"api:8080": "fail"})}
    )
    assert message == (
        "control_plane.namespaces.legacy.canary.hosts.0: not a full host name (no wildcard, "
        "no port, no short name: e.g. payments.payments.svc.cluster.local)"
    )


def test_on_miss_hosts_still_names_a_host_the_canary_does_not_list() -> None:
    message = error_of(
        **{"control_plane.namespaces": canary(["api.shop"], on_miss_hosts={"pay.shop": "fail"})}
    )
    assert message == (
        "control_plane.namespaces.legacy.canary.on_miss_hosts.pay.shop: "
        "not one of this canary's hosts"
    )
