"""A collector that stalls (a garbage collection, a slow Redis write, a CPU-throttled pod)
through a real Envoy 1.40 in observability mode: Envoy keeps each finished exchange's stream
open for ``deferred_close_timeout`` (its hold) and the collector reads it once it runs again.

A stall shorter than the hold loses no capture. One longer loses only the exchanges whose
streams Envoy gave up on while the collector was stopped; everything sent once it runs again
is captured. Before, with Envoy holding streams 1 s, a stall of 3 s at 40 requests/s lost
134-175 of 280 captures, most of them after the stall: the collector's gRPC server refused
the streams Envoy had opened meanwhile (over its 64-stream limit, counting those Envoy had
already reset), Envoy counted each refusal as a failed connection, ejected the collector and
closed its connections, and refused every capture for a second or two.

A stall also leaves Envoy's HTTP/2 keepalive pings to the collector unanswered: a ping
unanswered for the keepalive timeout closes its connection with every stream held on it,
and the close counts toward ejecting the collector. The timeout is twice the hold, so a
stall shorter than that closes no connection, wherever the ping lands in it. Before, with
a 5 s timeout and the ping interval forced to 1 s, a 7 s stall held 5 s had 1-2 collector
connections closed by keepalive each run, and the ejection that followed closed the rest.

The stall is the fault itself (SIGSTOP for a measured time); everything else waits for the
counters to settle.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import yaml

from control_plane.render import LOCAL_COLLECTOR_CLUSTER
from tests.support.capture_accounting import counts_reader, moved, settled
from tests.support.ext_proc_rig import capture_lands, collector_settings, envoy_for, make_config

pytestmark = pytest.mark.integration

RATE_PER_S = 40
# Traffic before and after the stall, so streams are open when it starts and new ones come
# while the collector works through the backlog.
AROUND_S = 1.5
# Streams held 1 s, stopped 3 s: the streams of the first 2 s of the stall are lost, and
# about 80 streams arrive at once when the collector runs again.
SHORT_HOLD_S = 1.0
LONG_STALL_S = 3.0
# An exchange sent this long before the stall has been read by the collector; one sent
# just before it may not have been, and its stream is as lost as the stall's.
READ_WITHIN_S = 0.5
# Longer than the 5 s keepalive timeout Envoy had, shorter than twice the 5 s hold: with
# pings every second, one lands in the stall's first 1.15 s on every connection.
KEEPALIVE_STALL_S = 7.0
FORCED_PING_INTERVAL_S = 1.0
# The collector cluster's connection counters: closed by keepalive, by Envoy, by the
# collector, and ejections of the collector.
CONNECTION_STATS = {
    f"cluster.{LOCAL_COLLECTOR_CLUSTER}.http2.keepalive_timeout": "keepalive_timeout",
    f"cluster.{LOCAL_COLLECTOR_CLUSTER}.upstream_cx_destroy_local": "destroyed_local",
    f"cluster.{LOCAL_COLLECTOR_CLUSTER}.upstream_cx_destroy_remote": "destroyed_remote",
    f"cluster.{LOCAL_COLLECTOR_CLUSTER}.outlier_detection.ejections_enforced_total": "ejected",
}


class _PacedTraffic:
    """Requests at ``RATE_PER_S``, each through Envoy to the echo upstream, each path
    unique; records when each was sent and whether it was answered 200."""

    def __init__(self, url: str, seconds: float):
        self.url = url
        self.count = int(seconds * RATE_PER_S)
        self.tag = uuid.uuid4().hex[:8]
        self.sent_at: dict[int, float] = {}
        self.answered = 0
        self._lock = threading.Lock()
        self.started = threading.Event()

    def _one(self, client: httpx.Client, n: int) -> None:
        with self._lock:
            self.sent_at[n] = time.monotonic()
        code = client.get(f"{self.url}/echo/stall-{self.tag}-{n}", timeout=30).status_code
        with self._lock:
            self.answered += code == 200

    def run(self) -> None:
        start = time.monotonic()
        with httpx.Client() as client, ThreadPoolExecutor(16) as pool:
            for n in range(self.count):
                # Paced by the clock, not by answers: a stalled collector never slows traffic.
                delay = start + n / RATE_PER_S - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self._one, client, n)
                self.started.set()


def _pinging_every(interval_s: float, render):
    """``render`` with the collector cluster's keepalive ping sent every ``interval_s``
    (the timeout as rendered): a ping then lands early in any stall."""

    def rendered(port: int, admin_port: int) -> str:
        bootstrap = yaml.safe_load(render(port, admin_port))
        clusters = bootstrap["static_resources"]["clusters"]
        collector = next(c for c in clusters if c["name"] == LOCAL_COLLECTOR_CLUSTER)
        (options,) = collector["typed_extension_protocol_options"].values()
        http2 = options["explicit_http_config"]["http2_protocol_options"]
        http2["connection_keepalive"]["interval"] = f"{interval_s}s"
        return yaml.safe_dump(bootstrap, sort_keys=False)

    return rendered


def _connection_counts(admin_url: str) -> dict[str, int]:
    """The collector cluster's ``CONNECTION_STATS`` now (each required)."""
    pattern = "^(" + "|".join(re.escape(stat) for stat in CONNECTION_STATS) + ")$"
    text = httpx.get(f"{admin_url}/stats", params={"filter": pattern}, timeout=5).text
    found = dict(line.rsplit(": ", 1) for line in text.splitlines() if ": " in line)
    assert set(found) == set(CONNECTION_STATS), text
    return {CONNECTION_STATS[stat]: int(value) for stat, value in found.items()}


def _stalled(
    rig, stall_s: float, *, hold_s: float | None = None, ping_every_s: float | None = None
) -> dict:
    """Traffic through Envoy with the collector stopped ``stall_s`` in its middle, Envoy
    holding finished streams ``hold_s`` and pinging each collector connection every
    ``ping_every_s`` (the rendered defaults when None): what became of every exchange and
    of the collector's connections, once the counters settled."""
    redis_server, upstream, envoy_factory, ext_proc_factory = rig
    settings = collector_settings(redis_server.url)
    ext = ext_proc_factory(settings)
    hold = {} if hold_s is None else {"deferred_close_timeout_s": hold_s}
    config = make_config(settings, control_plane={"collector": hold})

    def start_envoy(render):
        return envoy_factory(
            render if ping_every_s is None else _pinging_every(ping_every_s, render)
        )

    envoy = envoy_for(
        start_envoy, config, upstream_port=upstream.port,
        ext_proc_port=settings["grpc_port"], capture_mode="observability",
    )  # fmt: skip
    capture_lands(envoy.url, lambda: {e["request"].get("urlPath", "") for e in ext.captured()})
    counts = counts_reader(envoy.admin_url, f"http://127.0.0.1:{ext.http_port}/metrics")

    def read() -> dict:
        return {**counts(), "connections": _connection_counts(envoy.admin_url)}

    before = settled(read)
    traffic = _PacedTraffic(envoy.url, stall_s + 2 * AROUND_S)
    sender = threading.Thread(target=traffic.run, daemon=True)
    sender.start()
    traffic.started.wait(30)
    time.sleep(AROUND_S)  # traffic running before the stall: part of the fault, not a wait
    ext.process.pause()
    paused_at = time.monotonic()
    try:
        time.sleep(stall_s)
    finally:
        ext.process.resume()
        resumed_at = time.monotonic()
    sender.join(120)
    after = settled(read)

    prefix = f"/stall-{traffic.tag}-"
    paths = [e["request"].get("urlPath", "") for e in ext.captured()]
    captured = {int(path.rsplit("-", 1)[1]) for path in paths if prefix in path}
    missing = set(range(traffic.count)) - captured
    return {
        "envoy": moved(before["envoy"], after["envoy"]),
        "collector": moved(before["collector"], after["collector"]),
        "connections": moved(before["connections"], after["connections"]),
        "sent": traffic.count,
        "answered": traffic.answered,
        "captured": len(captured),
        "sent_while_stalled": sum(paused_at <= at < resumed_at for at in traffic.sent_at.values()),
        "lost_sent_before": sum(traffic.sent_at[n] < paused_at - READ_WITHIN_S for n in missing),
        "lost_sent_after": sum(traffic.sent_at[n] >= resumed_at for n in missing),
        "stalled_s": round(resumed_at - paused_at, 2),
    }


def _assert_the_stall_was_meant(facts: dict, stall_s: float) -> None:
    # The stall happened with traffic in flight, and about as long as meant: a box so
    # loaded that SIGCONT came a second late tests another stall.
    assert facts["sent_while_stalled"] > 0, facts
    assert facts["stalled_s"] < stall_s + 1.0, facts
    assert facts["answered"] == facts["sent"], facts  # capture never touches traffic


def _assert_only_the_holds_losses(facts: dict) -> None:
    envoy, lost = facts["envoy"], facts["sent"] - facts["captured"]
    # Only exchanges of the stall: whatever was sent once the collector ran again is
    # captured, and whatever was sent well before it had been read.
    assert facts["lost_sent_after"] == 0 and facts["lost_sent_before"] == 0, facts
    # The stall outlasted the hold: Envoy gave up on some streams, each counted by it.
    assert lost > 0 and envoy["lost_after_open"] >= lost, facts
    # No capture stream refused and no collector connection broken: the collector was
    # never ejected.
    assert envoy["not_opened"] == 0 and envoy["broken_after_open"] == 0, facts
    assert envoy["opened"] == facts["sent"], facts


def test_a_collector_stalled_for_less_than_the_hold_loses_no_capture(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    stall_s = 2.5  # under the rendered 5 s hold
    facts = _stalled((redis_server, upstream, envoy_factory, ext_proc_factory), stall_s)
    _assert_the_stall_was_meant(facts, stall_s)
    envoy = facts["envoy"]
    # Every exchange captured: none refused, none reset unanswered, none dropped.
    assert envoy["not_opened"] == 0 and envoy["lost_after_open"] == 0, facts
    assert envoy["answered"] == envoy["opened"] == facts["sent"], facts
    assert facts["captured"] == facts["sent"], facts


def test_a_collector_stalled_past_the_hold_loses_only_what_envoy_gave_up_on(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    rig = (redis_server, upstream, envoy_factory, ext_proc_factory)
    facts = _stalled(rig, LONG_STALL_S, hold_s=SHORT_HOLD_S)
    _assert_the_stall_was_meant(facts, LONG_STALL_S)
    _assert_only_the_holds_losses(facts)


def test_a_stall_longer_than_the_old_keepalive_timeout_closes_no_collector_connection(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    rig = (redis_server, upstream, envoy_factory, ext_proc_factory)
    facts = _stalled(rig, KEEPALIVE_STALL_S, ping_every_s=FORCED_PING_INTERVAL_S)
    _assert_the_stall_was_meant(facts, KEEPALIVE_STALL_S)
    # Every connection's ping went unanswered for the whole stall's remainder, yet none
    # timed out: no connection closed, by either side, and the collector never ejected.
    assert facts["connections"] == dict.fromkeys(CONNECTION_STATS.values(), 0), facts
    _assert_only_the_holds_losses(facts)
