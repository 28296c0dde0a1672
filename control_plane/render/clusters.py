"""Envoy cluster values: endpoints, upstream TLS, and the collector cluster with its limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from control_plane.render.matchers import is_ip
from ext_proc_server.core.config import (
    COLLECTOR_STREAMS_PER_CONNECTION,
    CollectorService,
    TLSClient,
)
from ext_proc_server.core.errors import RenderError

# Envoy pings each collector connection this often (plus up to Envoy's 15 % jitter, counted
# from the last answer) and closes it when a ping goes unanswered for the keepalive timeout:
# how a connection that died without closing (a node gone, a NAT or conntrack entry dropped)
# is found. A stalled collector answers no ping either, so the timeout is twice the hold
# (deferred_close_timeout_s), at least 5 s: a shorter stall never closes a connection, and
# the streams it holds are read once the collector runs again. A longer stall loses more
# to a close only when it lands in the stall's last hold (those streams would have been
# read): a longer interval makes that rarer, a shorter one finds a dead connection sooner.
COLLECTOR_KEEPALIVE_INTERVAL_S = 30.0
COLLECTOR_KEEPALIVE_JITTER = 0.15
# Never shorter than Envoy's former 5 s, however short the hold.
COLLECTOR_KEEPALIVE_MIN_TIMEOUT_S = 5.0

# Envoy's router counts each reset of a stream to the collector as one local-origin failure
# (onUpstreamReset), whatever closed it: a connection closed under its streams (a keepalive
# timeout, a collector restart) counts up to COLLECTOR_STREAMS_PER_CONNECTION failures at
# once, and three used to eject the collector, which closes every other connection to it
# with their held streams. One more than a connection carries ejects only on failures that
# span connections: connects refused or timed out (each stream waiting on one counts), or
# several connections lost together.
COLLECTOR_FAILURES_TO_EJECT = COLLECTOR_STREAMS_PER_CONNECTION + 1

SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


def check_port(port: int) -> int:
    if not 0 <= port <= 65535:
        raise RenderError("port out of range")
    return port


def endpoint(host: str, port: int) -> dict[str, Any]:
    """A cluster's address: an IP is STATIC, a name LOGICAL_DNS."""
    if not host:
        raise RenderError("endpoint: empty host")
    if not 1 <= port <= 65535:
        raise RenderError("endpoint: port out of range")
    return {"host": host, "port": port, "discovery": "STATIC" if is_ip(host) else "LOGICAL_DNS"}


def system_ca_file() -> str:
    for candidate in SYSTEM_CA_FILES:
        if Path(candidate).is_file():
            return candidate
    raise RenderError(
        "upstream TLS: no system CA bundle found; pass upstream_ca_file to verify the upstream"
    )


def tls_socket(
    *,
    host: str,
    server_name: str | None,
    ca_file: str | None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> dict[str, Any]:
    """Values of the upstream TLS snippet. ``ca_file`` None means: do not verify."""
    name = server_name or host
    return {
        "sni": None if is_ip(name) else name,
        "ca_file": ca_file,
        "san_type": "IP_ADDRESS" if is_ip(name) else "DNS",
        "san": name,
        "cert_file": cert_file,
        "key_file": key_file,
    }


def istio_cluster_name(collector: CollectorService) -> str:
    """The collector's outbound cluster as Istio names it."""
    if "." not in collector.host:
        raise RenderError(
            "control_plane.collector.host: use the service's full name "
            "(e.g. mockado-collector.mockado.svc.cluster.local)"
        )
    return f"outbound|{collector.port}||{collector.host}"


def _circuit_breaker(collector: CollectorService) -> dict[str, Any]:
    return {
        "max_requests": collector.max_requests,
        "max_connections": max(1, min(collector.max_requests, 1024)),
        "streams_per_connection": COLLECTOR_STREAMS_PER_CONNECTION,
    }


def collector_keepalive(collector: CollectorService) -> dict[str, float]:
    """The collector cluster's HTTP/2 keepalive: the ping interval, the timeout (the longest
    collector stall that closes no connection) and the bound within which a dead
    connection is closed."""
    timeout_s = max(COLLECTOR_KEEPALIVE_MIN_TIMEOUT_S, 2 * collector.deferred_close_timeout_s)
    interval_s = COLLECTOR_KEEPALIVE_INTERVAL_S
    return {
        "interval_s": interval_s,
        "timeout_s": timeout_s,
        "dead_connection_bound_s": interval_s * (1 + COLLECTOR_KEEPALIVE_JITTER) + timeout_s,
    }


def collector_limits(collector: CollectorService) -> dict[str, Any]:
    """The Istio collector cluster's name, circuit-breaker limits (DestinationRule) and
    HTTP/2 keepalive (the capture EnvoyFilter's CLUSTER patch)."""
    return {
        "cluster_name": istio_cluster_name(collector),
        **_circuit_breaker(collector),
        "keepalive": collector_keepalive(collector),
    }


def collector_cluster(
    collector: CollectorService,
    *,
    cluster_name: str,
    host: str,
    port: int,
    tls: TLSClient | None,
    server_name: str | None = None,
    trusted_ca_file: str | None = None,
) -> dict[str, Any]:
    """The ext_proc cluster: HTTP/2 with its keepalive, fast connect timeout, circuit
    breakers, optional TLS."""
    out = endpoint(host, port)
    out.update(
        cluster_name=cluster_name,
        **_circuit_breaker(collector),
        keepalive=collector_keepalive(collector),
        failures_to_eject=COLLECTOR_FAILURES_TO_EJECT,
        tls=bool(tls and tls.enabled),
        tls_socket=None,
    )
    if tls and tls.enabled:
        ca_file = None
        if tls.verify:
            ca_file = tls.ca_file or trusted_ca_file or system_ca_file()
        out["tls_socket"] = tls_socket(
            host=host,
            server_name=server_name,
            ca_file=ca_file,
            cert_file=tls.cert_file,
            key_file=tls.key_file,
        )
    return out
