"""Hypothesis strategies for `mockado.yaml` files users could plausibly write: the
``control_plane`` and ``serving`` sections the renderers read, as plain data (what the
YAML file holds), some of it outside what the config accepts."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


@st.composite
def dns_labels(draw: st.DrawFn, *, max_size: int = 63) -> str:
    """A DNS-1123 label, often long: up to ``max_size`` characters."""
    size = draw(st.sampled_from([1, 3, 8, 20, max_size - 1, max_size]))
    size = max(1, min(size, max_size))
    first = draw(st.sampled_from(_ALNUM))
    if size == 1:
        return first
    middle = draw(st.text(_ALNUM + "-", min_size=size - 2, max_size=size - 2))
    return first + middle + draw(st.sampled_from(_ALNUM))


def _label_values() -> st.SearchStrategy[str]:
    # Values YAML 1.1 or 1.2 would read as something else than a string when unquoted.
    tricky = ["on", "no", "yes", "off", "true", "0755", "1e3", "null", "1_000", "0x1f"]
    return st.one_of(
        st.sampled_from(tricky),
        st.from_regex(r"[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?", fullmatch=True),
    )


def labels(*, min_size: int = 0) -> st.SearchStrategy[dict[str, str]]:
    keys = st.sampled_from(
        ["app", "track", "version", "app.kubernetes.io/name", "example.com/tier"]
    )
    return st.dictionaries(keys, _label_values(), min_size=min_size, max_size=2)


def _mistaken(draw: st.DrawFn, *, one_in: int = 10) -> bool:
    """Now and then a value the loader refuses: most examples still render."""
    return draw(st.integers(0, one_in - 1)) == 1  # not a bound: Hypothesis favours those


@st.composite
def canary_hosts(draw: st.DrawFn, namespaces: list[str]) -> str:
    """A host in one of the forms users write: ``svc.ns``, ``svc.ns.svc``, the FQDN, an
    external name, in upper case or with spaces; now and then a short name, a port or a
    final dot, which the loader refuses."""
    service = draw(dns_labels())
    namespace = draw(st.sampled_from(namespaces)) if namespaces else draw(dns_labels())
    if _mistaken(draw, one_in=25):  # a canary lists several hosts
        return draw(
            st.sampled_from([service, f"{service}.{namespace}:8080", f"{service}.{namespace}."])
        )
    host = draw(
        st.sampled_from(
            [
                f"{service}.{namespace}",
                f"{service}.{namespace}.svc",
                f"{service}.{namespace}.svc.cluster.local",
                f"{service}.example.com",
                f"api.{service}.partner.example.com",
            ]
        )
    )
    return draw(st.sampled_from([host, host, host, host.upper(), f" {host} "]))


def _canary(draw: st.DrawFn, namespaces: list[str]) -> dict[str, Any]:
    hosts = draw(st.lists(canary_hosts(namespaces), min_size=1, max_size=4))
    if namespaces and _mistaken(draw):
        # One Service under two of its names (the loader refuses it: one route, one on_miss).
        service = f"{draw(dns_labels())}.{draw(st.sampled_from(namespaces))}"
        hosts += [service, f"{service}.svc.cluster.local"]
    canary: dict[str, Any] = {
        "workload_labels": draw(labels(min_size=1)),
        "hosts": hosts,
        "on_miss": draw(st.sampled_from(["fail", "passthrough"])),
    }
    per_host = draw(
        st.dictionaries(
            st.sampled_from(hosts), st.sampled_from(["fail", "passthrough"]), max_size=2
        )
    )
    if per_host:
        canary["on_miss_hosts"] = per_host
    return canary


_HOST_FILTERS = [
    "*.shop.svc.cluster.local",
    "api",
    "re:.*\\.internal",
    "vault.internal",
    "Api.Example.COM",
]
_PATH_FILTERS = ["/healthz", "/api/", "re:/internal/[a-z]+", "re:/v[0-9]+/.*"]


def _body_limits(draw: st.DrawFn) -> list[dict[str, Any]]:
    rule = st.fixed_dictionaries(
        {
            "host": st.sampled_from(["*.example.com", "api.shop", "Upload.Shop.svc.cluster.local"]),
            "path": st.sampled_from(["/", "/upload", "re:/files/[0-9]+"]),
            "bytes": st.sampled_from([1024, 65536, 1048576]),
        }
    )
    return draw(st.lists(rule, max_size=3))


def _capture_settings(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {
        "direction": draw(st.sampled_from(["inbound", "outbound", "both"])),
        "sample_percent": draw(st.sampled_from([100, 50, 12.5, 0.01, 0])),
        "body_limit_bytes": draw(st.sampled_from([1024, 8192, 1048576])),
    }
    for key, choices in (
        ("include_hosts", _HOST_FILTERS),
        ("exclude_hosts", _HOST_FILTERS),
        ("include_paths", _PATH_FILTERS),
        ("exclude_paths", _PATH_FILTERS),
    ):
        values = draw(st.lists(st.sampled_from(choices), max_size=2, unique=True))
        if values:
            out[key] = values
    limits = _body_limits(draw)
    if limits:
        out["body_limits"] = limits
    selector = draw(labels())
    if selector:
        out["workload_selector"] = selector
    return out


@st.composite
def namespace_settings(draw: st.DrawFn, namespaces: list[str]) -> dict[str, Any]:
    enabled = draw(st.booleans())
    out: dict[str, Any] = {"enabled": enabled, **_capture_settings(draw)}
    if enabled and draw(st.booleans()):
        out["debug_tap"] = True
    if draw(st.booleans()):
        out["default_deny_egress"] = True
    if draw(st.booleans()):
        out["canary"] = _canary(draw, namespaces)
    return out


@st.composite
def shard_groups(draw: st.DrawFn) -> dict[str, list[str]]:
    names = draw(st.lists(dns_labels(max_size=46), max_size=3, unique=True))
    patterns = [
        "payments.*",
        "*.partner.example.com",
        "billing-?.internal",
        "*.shop",
        "inventory.*.svc.cluster.local",
    ]
    groups: dict[str, list[str]] = {}
    free = list(patterns)
    for name in names:
        if name == "default" or not free:
            continue
        chosen = draw(st.lists(st.sampled_from(free), min_size=1, max_size=2, unique=True))
        free = [p for p in free if p not in chosen]
        groups[name] = chosen
    return groups


def _collector_service(draw: st.DrawFn, mockado_namespace: str, domain: str) -> dict[str, Any]:
    """control_plane.collector: the default host or one written by hand, TLS or not."""
    out: dict[str, Any] = {"port": draw(st.sampled_from([50051, 443, 8443]))}
    fqdn = f"mockado-collector.{mockado_namespace}.svc.{domain}"
    if _mistaken(draw):
        short = [fqdn.rpartition(".svc.")[0], f"{fqdn.rpartition('.svc.')[0]}.svc", f"{fqdn}:50051"]
        host = draw(st.sampled_from(["mockado-collector", *short]))
    elif _mistaken(draw):
        # Names that parse but no rendered Service answers: another namespace, another
        # mockado Service, another DNS domain.
        other_domain = "corp.example" if domain == "cluster.local" else "cluster.local"
        host = draw(
            st.sampled_from(
                [
                    f"collector.observability.svc.{domain}",
                    f"mockado-redis.{mockado_namespace}.svc.{domain}",
                    f"mockado-wiremock.{mockado_namespace}.svc.{domain}",
                    f"mockado-collector.{mockado_namespace}.svc.{other_domain}",
                    "collector.example.com",
                ]
            )
        )
    else:
        own = f"capture.{mockado_namespace}.svc.{domain}"
        host = draw(st.sampled_from([None, None, fqdn, f" {fqdn.title()}. ", own]))
    if host is not None:
        out["host"] = host
    if draw(st.booleans()):
        # Envoy validates the bootstraps (sidecar-example.yaml) with the file: one that exists.
        out["tls"] = {"enabled": True, "verify": draw(st.booleans())}
        if draw(st.booleans()):
            out["tls"]["ca_file"] = "/etc/ssl/certs/ca-certificates.crt"
    return out


@st.composite
def mockado_configs(draw: st.DrawFn) -> dict[str, Any]:
    """A whole config file's data; the loader may still refuse some of it."""
    names = draw(st.lists(dns_labels(), min_size=1, max_size=4, unique=True))
    names = [n for n in names if n != "istio-system"] or ["shop"]
    mockado_namespace = draw(
        st.sampled_from(["mockado", "mesh-tools", names[0] + "x"[: 63 - len(names[0])]])
    )
    known = [*names, mockado_namespace]
    namespaces = {name: draw(namespace_settings(known)) for name in names}
    cp: dict[str, Any] = {"mockado_namespace": mockado_namespace, "namespaces": namespaces}
    if draw(st.booleans()):
        cp["global"] = {"enabled": True, **_capture_settings(draw)}
        for settings in namespaces.values():
            settings["enabled"] = False
            settings.pop("debug_tap", None)
    domain = draw(st.sampled_from(["cluster.local", "corp.example"]))
    cp["collector"] = _collector_service(draw, mockado_namespace, domain)
    cp["trust_domain"] = draw(st.sampled_from(["cluster.local", "mesh.example.com"]))
    if draw(st.booleans()):
        cp["prometheus_namespace"] = draw(dns_labels())
    collector: dict[str, Any] = {}
    if draw(st.booleans()):
        collector["cluster_namespaces"] = draw(st.lists(dns_labels(), max_size=2, unique=True))
    if domain != "cluster.local" or draw(st.booleans()):
        collector["cluster_domain"] = domain
    serving = {"shard_groups": draw(shard_groups())}
    loader: dict[str, Any] = {}
    if draw(st.booleans()):
        loader = {"console_user": "ops", "console_password": "s3cret-pass"}
    return {"control_plane": cp, "collector": collector, "serving": serving, "loader": loader}
