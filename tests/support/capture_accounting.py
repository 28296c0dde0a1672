"""Where every exchange a real Envoy offers for capture ends up: captured by the collector,
or counted as lost by Envoy or the collector (an exchange the collector finished just as
Envoy gave up on its stream is both: never neither).

Envoy's side, from the collector cluster's counters (docs/runbook.md, "Where a lost capture
is counted"):

- ``not_opened``: ``upstream_cx_none_healthy``, ``upstream_rq_pending_failure_eject`` and
  the circuit breaker's overflows: no stream opened (no healthy collector host, the
  connection the stream waited for failed, ``max_requests`` reached); traffic went on.
- ``answered``: ``upstream_rq_2xx``: streams the collector ended itself. It counts each (one
  fate: enqueued, a duplicate, or dropped with a reason).
- ``lost_after_open``: ``upstream_rq_total - upstream_rq_2xx - upstream_rq_active``: streams
  opened that ended without the collector's answer: their connection broken, or reset by
  Envoy itself (observability mode gives a stream ``deferred_close_timeout`` after its
  exchange ends, then gives up on it).
- ``not_opened_or_broken``: ``upstream_rq_5xx``, the 503s Envoy answered the capture filter
  itself: one for each stream it never opened (each of ``not_opened``: Envoy counts them as
  completed, never as opened), and one for each opened stream whose connection broke. Not
  a count of broken streams: under refusals it is mostly refusals.
- ``broken_after_open``: ``upstream_rq_5xx - not_opened``: the opened streams whose
  connection broke, a part of ``lost_after_open`` (the rest Envoy reset itself).

The collector's ``incomplete`` drops are streams reset under it after their request headers:
Envoy counts those too (lost after open), so they are left out of the collector's fates here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx

from control_plane.render import LOCAL_COLLECTOR_CLUSTER
from tests.support.metrics_text import by_label, scrape, total

CLUSTER_STATS = (
    "upstream_rq_total",
    "upstream_rq_active",
    "upstream_cx_none_healthy",
    "upstream_rq_pending_failure_eject",
    "upstream_rq_pending_overflow",
    "upstream_rq_active_overflow",
)
# Envoy creates a response class's counter at its first response: absent reads as 0.
CLUSTER_CLASSES = ("upstream_rq_2xx", "upstream_rq_5xx")
EXT_PROC_STATS = ("failure_mode_allowed",)


def _stats(admin_url: str, names: dict[str, str], lazy: dict[str, str]) -> dict[str, int]:
    """``names`` (full stat -> short name), each required: a stat renamed or missing fails
    the check instead of reading as 0; ``lazy``: those Envoy creates when first counted."""
    wanted = {**names, **lazy}
    pattern = "^(" + "|".join(re.escape(stat) for stat in sorted(wanted)) + ")$"
    text = httpx.get(f"{admin_url}/stats", params={"filter": pattern}, timeout=5).text
    found = dict(line.rsplit(": ", 1) for line in text.splitlines() if ": " in line)
    assert set(names) <= set(found), text
    counts = dict.fromkeys(lazy.values(), 0)
    counts.update({wanted[stat]: int(value) for stat, value in found.items()})
    return counts


def _ext_proc_prefix(admin_url: str) -> str:
    """The one capture filter's stats prefix (``http.<listener>.ext_proc.<filter>``)."""
    text = httpx.get(f"{admin_url}/stats", params={"filter": r"\.streams_started$"}, timeout=5).text
    found = set(re.findall(r"^(http\..+\.ext_proc\..+)\.streams_started: ", text, re.MULTILINE))
    assert len(found) == 1, text
    return found.pop()


def envoy_counts(admin_url: str, cluster_name: str = LOCAL_COLLECTOR_CLUSTER) -> dict[str, int]:
    """Envoy's capture counters now, from its admin API at ``admin_url`` (one capture
    listener; the local bootstrap's collector cluster unless named)."""
    names = {f"cluster.{cluster_name}.{name}": name for name in CLUSTER_STATS}
    ext_proc = _ext_proc_prefix(admin_url)
    names.update({f"{ext_proc}.{name}": name for name in EXT_PROC_STATS})
    lazy = {f"cluster.{cluster_name}.{name}": name for name in CLUSTER_CLASSES}
    found = _stats(admin_url, names, lazy)
    not_opened = (
        found["upstream_cx_none_healthy"]
        + found["upstream_rq_pending_failure_eject"]
        + found["upstream_rq_pending_overflow"]
        + found["upstream_rq_active_overflow"]
    )
    return {
        "active": found["upstream_rq_active"],
        "not_opened": not_opened,
        "opened": found["upstream_rq_total"],
        "answered": found["upstream_rq_2xx"],
        "lost_after_open": found["upstream_rq_total"]
        - found["upstream_rq_2xx"]
        - found["upstream_rq_active"],
        "not_opened_or_broken": found["upstream_rq_5xx"],
        "broken_after_open": found["upstream_rq_5xx"] - not_opened,
        "failure_mode_allowed": found["failure_mode_allowed"],
    }


def collector_counts(samples: dict) -> dict[str, float]:
    """The collector's fates so far, from its ``/metrics`` samples: every stream it ended
    itself, each once."""
    dropped = by_label(samples, "collector_dropped_total", "reason")
    return {
        "seen": total(samples, "collector_requests_total"),
        "held": total(samples, "collector_queue_size"),
        "enqueued": total(samples, "collector_enqueued_total"),
        "duplicates": total(
            samples, "collector_deduplication_operations_total", result="duplicate"
        ),
        "incomplete": dropped.get("incomplete", 0.0),
        "dropped": sum(v for reason, v in dropped.items() if reason != "incomplete"),
        **{f"dropped_{reason}": v for reason, v in dropped.items() if v},
    }


def moved(before: dict, after: dict) -> dict:
    """Each counter's change between two readings."""
    return {key: after[key] - before.get(key, 0) for key in after}


def counts_reader(admin_url: str, metrics_url: str) -> Callable[[], dict]:
    """A reader of Envoy's capture counters and the collector's, at once."""
    return lambda: {
        "envoy": envoy_counts(admin_url),
        "collector": collector_counts(scrape(metrics_url)),
    }


def settled(read: Callable[[], dict], *, reads: int = 3, timeout_s: float = 120.0) -> dict:
    """``read()`` once unchanged ``reads`` times in a row, with no capture stream open in
    Envoy and no capture held by the collector."""
    last, same = None, 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = read()
        idle = now["envoy"]["active"] == 0 and now["collector"]["held"] == 0
        same = same + 1 if now == last and idle else 0
        if same >= reads:
            return now
        last = now
        time.sleep(0.5)
    raise AssertionError(f"capture counters never settled: {last}")
