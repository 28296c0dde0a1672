"""A header value that is not UTF-8 (an ISO-8859-1 file name, a name a legacy client
writes in its own charset), recorded through a real Envoy 1.40 and ``mockado ext-proc``:
the exchange gets no stub, a counted skip with its per-host record like every other
reason, and none of the value's bytes reaches Redis or the collector's log."""

from __future__ import annotations

import pytest

from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    wait_until,
)
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream
from tests.support.redis_dump import dump_redis
from tests.support.skip_records import skip_record

pytestmark = pytest.mark.integration

CSV = ("Content-Type", "text/csv")
# "João Gonçalves.csv" in ISO-8859-1: ã and ç as one byte each (surrogate escapes here).
LATIN1_NAME = 'attachment; filename="Jo\udce3o Gon\udce7alves.csv"'
ANSWERS = {
    "/files/named": RawAnswer(200, (CSV, ("Content-Disposition", LATIN1_NAME)), b"a,b\n1,2\n"),
    "/files/plain": RawAnswer(200, (CSV,), b"a,b\n3,4\n"),
    "/files/ok": RawAnswer(200, (CSV,), b"a,b\n5,6\n"),
}
# (path, request headers as bytes on the wire)
REQUESTS = [
    ("/files/named", ()),
    ("/files/plain", (("X-Customer", b"Jo\xe3o Gon\xe7alves"),)),
    ("/files/ok", ()),
]
SKIPPED = {
    "/files/named": "response_header_undecodable",
    "/files/plain": "request_header_undecodable",
}
# Parts of the value that must be found nowhere mockado writes.
RAW_PARTS = (b"Jo\xe3o", b"Gon\xe7", b"alves", b"Jo\\xe3o", b"Jo\xef\xbf\xbdo")


def test_a_header_value_that_is_not_utf8_is_a_counted_skip_recorded_per_host(
    redis_server, envoy_factory, ext_proc_factory, wiremock
) -> None:
    collector = collector_settings(redis_server.url)
    with raw_upstream(ANSWERS) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for path, headers in REQUESTS:
            status, _headers, body = raw_request(envoy.port, "GET", path, headers=headers)
            assert (status, body) == (200, ANSWERS[path].body), path  # proxied unchanged
        wait_until(
            lambda: all(
                ext.metric("collector_stubs_skipped_total", reason=reason) == 1
                for reason in SKIPPED.values()
            ),
            what="both skips counted",
            explain=lambda: counters(ext),
        )
        wait_until(lambda: len(ext.captured()) == 1, what="the one stub")
    assert ext.metric("collector_dropped_total", reason="malformed") == 0

    counts, recent = skip_record(redis_server.url, collector["redis_queue"])
    recent = sorted(recent)
    assert counts == dict.fromkeys(SKIPPED.values(), 1)
    assert recent == sorted(f"{reason} GET {path}" for path, reason in SKIPPED.items())

    # None of the value's bytes, raw, escaped or read as U+FFFD, in Redis or the log.
    stored = "".join(dump_redis(redis_server.url).values()).encode("utf-8", "surrogateescape")
    logged = ext.process.log_path.read_bytes()
    for part in RAW_PARTS:
        assert part not in stored and part not in logged, part

    # The recorded exchange replays; the skipped ones get a clear miss.
    import_into(wiremock, ext.captured())
    served = raw_request(wiremock.port, "GET", "/files/ok")
    assert (served.status, served.body) == (200, ANSWERS["/files/ok"].body)
    for path, headers in REQUESTS[:2]:
        assert raw_request(wiremock.port, "GET", path, headers=headers).status == 404, path
