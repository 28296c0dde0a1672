"""What `mockado render` derives from more than one key names objects it renders: a
config whose collector host or canary hosts could not work is refused at load, naming
the key."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

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


@pytest.mark.parametrize(
    ("host", "says"),
    [
        # payments is no namespace the config knows: the VirtualService would be for the
        # name api.payments, which no Service has (Istio routes a Service by its full name).
        ("api.payments", "payments is not a namespace this config knows"),
        ("httpbin.org", "org is not a namespace this config knows"),
        # Another DNS domain than the cluster's: a Service name no sidecar routes.
        ("api.payments.svc.corp.local", "outside the cluster's DNS domain"),
        ("API.Payments.svc.cluster.locl", "outside the cluster's DNS domain"),
        # svc in the wrong place: no Service is named like that.
        ("payments.svc", "not a Service's name"),
        ("a.b.payments.svc.cluster.local", "not a Service's name"),
        # A final dot says "outside the cluster", but this is a Service of a known namespace.
        ("api.shop.", "a final dot marks a host outside the cluster"),
    ],
)
def test_a_canary_host_that_would_route_nothing_is_refused_naming_it(host: str, says: str) -> None:
    message = error_of(**{"control_plane.namespaces": canary(["api.shop", host])})
    key, _, reason = message.partition(": ")
    assert key == "control_plane.namespaces.legacy.canary.hosts.1"
    assert says in reason
    assert "\n" not in message


def test_the_refusal_of_a_two_label_host_says_both_ways_to_write_it() -> None:
    message = error_of(**{"control_plane.namespaces": canary(["api.payments"])})
    assert "write its full name (api.payments.svc.cluster.local)" in message
    assert "list payments in collector.cluster_namespaces" in message
    assert "a host outside the cluster ends with a dot (api.payments.)" in message
    corp = error_of(
        **{
            "collector.cluster_domain": "corp.local",
            "control_plane.namespaces": canary(["api.payments.svc.cluster.local"]),
        }
    )
    assert "(collector.cluster_domain: corp.local)" in corp
    assert "<service>.<namespace>.svc.corp.local" in corp


@pytest.mark.parametrize(
    ("hosts", "overrides", "routed"),
    [
        # A namespace the collector is told about makes api.payments its Service.
        (
            ["api.payments"],
            {"collector.cluster_namespaces": ["payments"]},
            ["api.payments.svc.cluster.local"],
        ),
        # A final dot: a host outside the cluster, routed as written.
        (["httpbin.org.", "billing.internal."], {}, ["httpbin.org", "billing.internal"]),
        (["api.payments.svc.cluster.local"], {}, ["api.payments.svc.cluster.local"]),
        (
            ["api.payments.svc.corp.local", "api.shop"],
            {"collector.cluster_domain": "corp.local"},
            ["api.payments.svc.corp.local", "api.shop.svc.corp.local"],
        ),
    ],
)
def test_canary_hosts_that_name_a_service_or_an_outside_host_are_routed_by_that_name(
    hosts: list[str], overrides: dict[str, Any], routed: list[str]
) -> None:
    from control_plane.render import render_all

    namespaces = canary(hosts, on_miss_hosts={hosts[0]: "passthrough"})
    config = load(**{"control_plane.namespaces": namespaces, **overrides})
    files = {f.path: f.text for f in render_all(config)}
    services = list(yaml.safe_load_all(files["istio/legacy/virtualservice-canary.yaml"]))
    assert [vs["spec"]["hosts"] for vs in services if vs] == [[h] for h in routed]
    # on_miss_hosts names the host as the canary lists it; its pass-through policy names
    # the routed host.
    passthrough = files["istio/mockado/sidecar-wiremock-passthrough.yaml"]
    assert routed[0] in passthrough
