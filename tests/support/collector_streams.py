"""The capture streams a real Envoy holds to the collector cluster, and those its circuit
breaker refused (``control_plane.collector.max_requests``): exchanges that went uncaptured,
counted only by Envoy.

Envoy 1.38 and later count a stream refused at ``max_requests`` in
``upstream_rq_active_overflow``, and one refused while it waits for a connection (the pending
queue full, as when a burst arrives before the first connection is up) in
``upstream_rq_pending_overflow``; 1.37 and earlier count both in the latter and have no
``upstream_rq_active_overflow``. Each the answering Envoy has is read, so a check holds on
either."""

from __future__ import annotations

import re

import httpx

from control_plane.render import LOCAL_COLLECTOR_CLUSTER
from tests.support.sidecar_stats import refusal_counters, running_version


def _stats(admin_url: str, cluster_name: str, names: tuple[str, ...]) -> dict[str, int]:
    """``names`` of the cluster's stats, each required: a stat renamed or missing must fail
    the check, not read as 0."""
    full = {f"cluster.{cluster_name}.{name}": name for name in names}
    pattern = "^(" + "|".join(re.escape(stat) for stat in sorted(full)) + ")$"
    text = httpx.get(f"{admin_url}/stats", params={"filter": pattern}, timeout=5).text
    found = dict(line.rsplit(": ", 1) for line in text.splitlines() if ": " in line)
    assert set(found) == set(full), text
    return {full[stat]: int(value) for stat, value in found.items()}


def refused_captures(admin_url: str, cluster_name: str = LOCAL_COLLECTOR_CLUSTER) -> int:
    """The streams to ``cluster_name`` Envoy refused at its circuit breaker so far, from the
    admin API at ``admin_url`` (the local bootstrap's collector cluster unless named)."""
    counters = refusal_counters(running_version(admin_url))
    return sum(_stats(admin_url, cluster_name, counters).values())


def capture_streams_open(admin_url: str, cluster_name: str = LOCAL_COLLECTOR_CLUSTER) -> int:
    """The capture streams Envoy holds open to ``cluster_name`` now: each takes one of its
    ``max_requests`` slots."""
    return _stats(admin_url, cluster_name, ("upstream_rq_active",))["upstream_rq_active"]
