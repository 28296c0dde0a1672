"""The one place an ``:authority`` becomes a host.

``host_of`` takes the host out of an authority. :class:`ClusterHosts` then makes
every name of one Kubernetes Service one host, its FQDN, the way the cluster's DNS
would resolve it from the namespace the call was made in:

* ``api`` -> ``api.<namespace>.svc.<cluster domain>`` (needs the caller's namespace);
* ``api.payments`` -> ``api.payments.svc.<cluster domain>`` when ``payments`` is a
  namespace the collector knows (the exchange's own, or a configured one);
* ``api.payments.svc`` and ``x.svc`` -> the same with the cluster domain appended.

IPs, ``localhost`` and every other name (``example.com``) stay as they are.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from functools import lru_cache

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
# Where a Host without a port is sent: mocks are called over plain HTTP (docs/serving.md).
HTTP_DEFAULT_PORT = 80
# An RFC 1123 label (Kubernetes Service and namespace names), and the same with fnmatch
# wildcards for host patterns.
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_PATTERN_LABEL = re.compile(r"[-a-z0-9*?\[\]!]+")
# Names the cluster's DNS never resolves through its search path.
_NEVER_IN_CLUSTER = frozenset({"localhost"})
_CACHE_SIZE = 4096
# Envoy cluster names kept (a few per sidecar): each response names one.
_CLUSTER_CACHE_SIZE = 1024


def host_of(authority: str) -> str:
    """The host of an authority: lower-cased, without port, IPv6 brackets or a final dot.

    "Api.Example:8080" -> "api.example"; "[::1]:8443" -> "::1"; "::1" -> "::1".
    """
    value = authority.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        name, _, port = value.partition(":")
        if port.isdigit() or not port:
            value = name
    return value.rstrip(".") if value != "." else value


def url_host(host: str) -> str:
    """``host`` as it appears in a URL or a Host header: an IPv6 literal in brackets."""
    return f"[{host}]" if ":" in host else host


def port_of(authority: str) -> str:
    """The port of an authority, or "" ("api:8080" -> "8080"; "[::1]:80" -> "80")."""
    value = authority.strip()
    head, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or (":" in head and not head.endswith("]")):
        return ""
    return port


@lru_cache(maxsize=_CACHE_SIZE)  # read for every repeat, from a few authorities
def matched_port(authority: str) -> int:
    """The port a stub recorded for ``authority`` matches, as WireMock reads it from Host
    (Jetty: no port is 80): the authority's own, 80 when it has none. 0 (any port) for a
    loopback host (``localhost``, 127.0.0.0/8, ``::1``), whose port is the local capture
    proxy's own and never the one the mocks are called on, and for no authority."""
    host = host_of(authority)
    if not host or host == "localhost" or host.endswith(".localhost") or _is_loopback(host):
        return 0
    port = port_of(authority)
    return int(port) if port else HTTP_DEFAULT_PORT


def told_apart(port: int) -> bool:
    """Whether ``port`` (:func:`matched_port`) joins the dedup key, the stub id and the
    repeat key: any but the default and any port, so their keys stay what they were."""
    return port not in (0, HTTP_DEFAULT_PORT)


def _is_loopback(host: str) -> bool:
    if not (host[0].isdigit() or ":" in host):
        return False  # a name: no parse, no exception
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=_CLUSTER_CACHE_SIZE)
def cluster_fqdn_of(cluster_name: str) -> str:
    """The destination FQDN in an Istio outbound cluster name, else "".

    "outbound|8080||api.payments.svc.cluster.local" -> "api.payments.svc.cluster.local".
    """
    if not cluster_name.startswith("outbound|"):
        return ""
    parts = cluster_name.split("|")
    return parts[3].lower().rstrip(".") if len(parts) == 4 else ""


class ClusterHosts:
    """Canonical hosts: one name per Kubernetes Service (see the module docstring).

    ``namespaces`` are the namespaces known to exist in the cluster, besides the
    exchange's own: ``name.ns`` is a Service only when ``ns`` is one of them.
    """

    __slots__ = ("_cache", "_preferred", "_svc_suffix", "cluster_domain", "namespaces")

    def __init__(
        self, *, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN, namespaces: Iterable[str] = ()
    ) -> None:
        self.cluster_domain = cluster_domain.strip().lower().strip(".")
        self.namespaces = frozenset(n.lower() for n in namespaces)
        self._svc_suffix = f".svc.{self.cluster_domain}"
        self._cache: dict[tuple[str, str], str] = {}
        self._preferred: dict[tuple[str, str], str] = {}

    def canonical(self, authority: str, *, namespace: str = "") -> str:
        """The canonical host of an authority seen from ``namespace`` (no port)."""
        key = (authority, namespace)
        found = self._cache.get(key)
        if found is None:
            found = self._canonical(host_of(authority), namespace.lower(), _LABEL)
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = found
        return found

    def canonical_pattern(self, pattern: str, *, namespace: str = "") -> str:
        """A host pattern (fnmatch) in the canonical form, so it matches canonical hosts:
        ``*.payments`` -> ``*.payments.svc.cluster.local`` when ``payments`` is known."""
        return self._canonical(
            pattern.strip().lower().rstrip("."), namespace.lower(), _PATTERN_LABEL
        )

    def _canonical(self, host: str, namespace: str, label: re.Pattern[str]) -> str:
        labels = host.split(".")
        if (
            host in _NEVER_IN_CLUSTER
            or labels[-1].isdigit()  # an IPv4 address (no top-level domain is numeric)
            or not all(label.fullmatch(part) for part in labels)
        ):
            return host
        count = len(labels)
        if count == 1:
            return f"{host}.{namespace}{self._svc_suffix}" if namespace else host
        if count == 2 and labels[1] == "svc":
            return f"{host}.{self.cluster_domain}"
        if count == 2 and (labels[1] == namespace or labels[1] in self.namespaces):
            return f"{host}{self._svc_suffix}"
        if count == 3 and labels[2] == "svc":
            return f"{host}.{self.cluster_domain}"
        return host

    def aliases(self, canonical: str) -> tuple[str, ...]:
        """Every name of the in-cluster Service ``canonical`` names, shortest first:
        ``api``, ``api.payments``, ``api.payments.svc``, the FQDN. ``x.svc.<domain>`` has
        two (``x.svc`` and itself). Any other host: () (it matches only itself)."""
        if not canonical.endswith(self._svc_suffix):
            return ()
        head = canonical[: -len(self._svc_suffix)]
        labels = head.split(".")
        if len(labels) == 1:
            return (f"{head}.svc", canonical)
        if len(labels) == 2:
            return (labels[0], head, f"{head}.svc", canonical)
        return ()

    def prefer_cluster_fqdn(self, authority: str, fqdn: str) -> str:
        """``authority`` with its host replaced by ``fqdn`` (Envoy's destination Service)
        when that is the Service the authority names, or when the authority is an IP; the
        port is kept. Else ``authority`` unchanged (an egress gateway, a rewritten route).
        Kept per (authority, FQDN), as :meth:`canonical`: each response of a mesh asks."""
        key = (authority, fqdn)
        found = self._preferred.get(key)
        if found is None:
            found = self._prefer_cluster_fqdn(authority, fqdn)
            if len(self._preferred) >= _CACHE_SIZE:
                self._preferred.clear()
            self._preferred[key] = found
        return found

    def _prefer_cluster_fqdn(self, authority: str, fqdn: str) -> str:
        if not fqdn.endswith(self._svc_suffix):
            return authority
        host = host_of(authority)
        if host in self.aliases(fqdn) or _is_ip(host):
            port = port_of(authority)
            return f"{fqdn}:{port}" if port else fqdn
        return authority


def _is_ip(host: str) -> bool:
    return ":" in host or (host.replace(".", "").isdigit() and host.count(".") == 3)
