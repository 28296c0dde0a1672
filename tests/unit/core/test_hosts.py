import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.hosts import (
    ClusterHosts,
    cluster_fqdn_of,
    host_of,
    matched_port,
    port_of,
    told_apart,
    url_host,
)


@pytest.mark.parametrize(
    ("authority", "host"),
    [
        ("api.example:8080", "api.example"),
        ("Api.Example:8080", "api.example"),
        ("API.Example", "api.example"),
        ("api.example", "api.example"),
        ("[::1]:8443", "::1"),
        ("[::1]", "::1"),
        ("10.0.0.1:80", "10.0.0.1"),
        ("::1", "::1"),
        ("", ""),
    ],
)
def test_host_of_drops_port_brackets_and_case(authority: str, host: str) -> None:
    assert host_of(authority) == host


@pytest.mark.parametrize(
    ("authority", "host"),
    [
        ("Api.Example:8080", "api.example"),
        ("api.example", "api.example"),
        ("10.0.0.1:80", "10.0.0.1"),
        ("[::1]:9000", "[::1]"),
        ("::1", "[::1]"),
        ("", ""),
    ],
)
def test_url_host_puts_an_ipv6_literal_in_brackets(authority: str, host: str) -> None:
    assert url_host(host_of(authority)) == host


# -- one host per Kubernetes Service --------------------------------------------------

HOSTS = ClusterHosts(namespaces=["payments"])


@pytest.mark.parametrize(
    ("authority", "namespace", "canonical"),
    [
        # A short name resolves in the namespace of the capturing sidecar.
        ("api", "payments", "api.payments.svc.cluster.local"),
        ("api:8080", "orders", "api.orders.svc.cluster.local"),
        # name.ns: a known namespace (configured, or the exchange's own).
        ("api.payments:80", "", "api.payments.svc.cluster.local"),
        ("api.orders", "orders", "api.orders.svc.cluster.local"),
        ("api.svc", "", "api.svc.cluster.local"),
        ("api.payments.svc", "", "api.payments.svc.cluster.local"),
        ("API.Payments.svc.cluster.local.:443", "x", "api.payments.svc.cluster.local"),
        # Everything else stays as it is.
        ("example.com", "shop", "example.com"),
        ("api.orders", "shop", "api.orders"),
        ("api", "", "api"),
        ("localhost:8080", "shop", "localhost"),
        ("10.0.0.1:80", "shop", "10.0.0.1"),
        ("[::1]:80", "shop", "::1"),
        ("under_score", "shop", "under_score"),
        ("a.b.c.example.org", "shop", "a.b.c.example.org"),
    ],
)
def test_canonical_host_is_the_fqdn_of_a_service_and_nothing_else(
    authority: str, namespace: str, canonical: str
) -> None:
    assert HOSTS.canonical(authority, namespace=namespace) == canonical


def test_the_cluster_domain_is_configurable() -> None:
    hosts = ClusterHosts(cluster_domain="corp.internal.", namespaces=["payments"])
    assert hosts.canonical("api.payments") == "api.payments.svc.corp.internal"
    assert hosts.aliases("api.payments.svc.corp.internal")[0] == "api"
    assert hosts.aliases("api.payments.svc.cluster.local") == ()


def test_aliases_name_every_form_of_one_service_only() -> None:
    assert HOSTS.aliases("api.payments.svc.cluster.local") == (
        "api",
        "api.payments",
        "api.payments.svc",
        "api.payments.svc.cluster.local",
    )
    assert HOSTS.aliases("x.svc.cluster.local") == ("x.svc", "x.svc.cluster.local")
    assert HOSTS.aliases("example.com") == ()
    assert HOSTS.aliases("10.0.0.1") == ()


def test_patterns_take_the_same_canonical_form() -> None:
    assert HOSTS.canonical_pattern("*.payments") == "*.payments.svc.cluster.local"
    assert HOSTS.canonical_pattern("api.payments.svc") == "api.payments.svc.cluster.local"
    assert HOSTS.canonical_pattern("*.svc") == "*.svc.cluster.local"
    assert HOSTS.canonical_pattern("*.example.com") == "*.example.com"
    assert HOSTS.canonical_pattern("api*") == "api*"


@pytest.mark.parametrize(
    ("cluster", "fqdn"),
    [
        ("outbound|8080||api.payments.svc.cluster.local", "api.payments.svc.cluster.local"),
        ("outbound|443|v2|example.com", "example.com"),
        ("inbound|8080||", ""),
        ("PassthroughCluster", ""),
        ("upstream", ""),
    ],
)
def test_the_destination_fqdn_of_an_istio_cluster_name(cluster: str, fqdn: str) -> None:
    assert cluster_fqdn_of(cluster) == fqdn


def test_envoys_fqdn_replaces_an_alias_or_an_ip_but_not_another_name() -> None:
    fqdn = "api.payments.svc.cluster.local"
    assert HOSTS.prefer_cluster_fqdn("api:8080", fqdn) == f"{fqdn}:8080"
    assert HOSTS.prefer_cluster_fqdn("api.payments", fqdn) == fqdn
    assert HOSTS.prefer_cluster_fqdn("10.1.2.3:8080", fqdn) == f"{fqdn}:8080"
    # An egress gateway, or a route that sends one name to another Service.
    gateway = "istio-egressgateway.istio-system.svc.cluster.local"
    assert HOSTS.prefer_cluster_fqdn("example.com", gateway) == "example.com"
    assert HOSTS.prefer_cluster_fqdn("web.shop:80", fqdn) == "web.shop:80"
    assert HOSTS.prefer_cluster_fqdn("api:8080", "example.com") == "api:8080"


_AUTHORITIES = st.sampled_from(
    ["api", "api:8080", "api.payments", "API.Payments:80", "10.1.2.3:8080", "[::1]:80",
     "example.com", "web.shop:80", "api.payments.svc"]
) | st.text(max_size=12)  # fmt: skip
_FQDNS = st.sampled_from(
    ["api.payments.svc.cluster.local", "web.shop.svc.cluster.local", "example.com",
     "api.svc.cluster.local", ""]
) | st.text(max_size=12)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_AUTHORITIES, _FQDNS), min_size=1, max_size=10))
def test_a_kept_answer_is_the_one_computed_afresh(pairs: list[tuple[str, str]]) -> None:
    kept = ClusterHosts(namespaces=["payments"])
    for authority, fqdn in [*pairs, *reversed(pairs)]:
        fresh = ClusterHosts(namespaces=["payments"])  # nothing kept yet
        assert kept.prefer_cluster_fqdn(authority, fqdn) == fresh.prefer_cluster_fqdn(
            authority, fqdn
        )


@pytest.mark.parametrize(
    ("authority", "port"),
    [("api:8080", "8080"), ("api", ""), ("[::1]:80", "80"), ("::1", ""), ("a:b", "")],
)
def test_port_of(authority: str, port: str) -> None:
    assert port_of(authority) == port


@pytest.mark.parametrize(
    ("authority", "port"),
    [
        ("api", 80),  # Jetty reads a Host without a port as 80
        ("api:80", 80),
        ("API.payments:8080", 8080),
        ("api.payments.svc.cluster.local.:09090", 9090),
        ("10.0.0.7:8443", 8443),
        ("[fe80::1]:8443", 8443),
        ("api:", 80),
        # Loopback: the local capture proxy's own port, never the one mocks are called on.
        ("localhost:10000", 0),
        ("LOCALHOST", 0),
        ("app.localhost:3000", 0),
        ("127.0.0.1:3000", 0),
        ("127.1.2.3", 0),
        ("[::1]:8080", 0),
        ("", 0),
    ],
)
def test_the_port_a_stub_matches(authority: str, port: int) -> None:
    assert matched_port(authority) == port


def test_only_a_port_of_its_own_joins_the_keys() -> None:
    assert [told_apart(p) for p in (0, 80, 8080, 443)] == [False, False, True, True]
