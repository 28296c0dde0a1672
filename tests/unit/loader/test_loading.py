"""One batch to the end: refusals isolated, poison dead-lettered, outages waited out.
Against an in-process fake WireMock and a fake Redis that records acks, dead letters
and hand-backs. No network."""

from __future__ import annotations

import asyncio
import json

from ext_proc_server.loader import parse_entry
from tests.support.fake_wiremock import FakeWireMock, mapping
from tests.support.loader_rig import FakeRedis, fake_loader, metric, queued


def test_a_refused_item_is_isolated_and_the_rest_lands():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(
        redis, wiremock, retry_attempts=3, claim_timeout_s=30, retry_backoff=1, retry_max_delay=30
    )
    items = [queued(n) for n in range(5)] + [queued(5, bad=True)] + [queued(n) for n in range(6, 9)]
    asyncio.run(loader.batches.load_batch(items))
    assert sorted(wiremock.recorded) == sorted(mapping(n)["id"] for n in range(9) if n != 5)
    assert sorted(redis.acked) == sorted(f"{n}-0" for n in range(9) if n != 5)
    assert redis.deleted == redis.acked
    # First delivery of 3: handed back, to be reclaimed after a 0.5-1 s backoff.
    assert list(redis.released) == ["5-0"]
    assert 29_000 <= redis.released["5-0"] <= 29_500
    assert redis.added == []


def test_an_item_out_of_deliveries_goes_to_dead_letter_with_its_reason():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, wiremock, retry_attempts=3)
    before = metric("wiremock_loader_mappings_processed_total", status="dead_lettered")
    asyncio.run(loader.batches.load_batch([queued(1), queued(2, deliveries=3, bad=True)]))
    assert list(wiremock.recorded) == [mapping(1)["id"]]
    [(stream, fields)] = redis.added
    assert stream == "mockado:mappings:dead"
    assert fields["reason"] == "WireMockError HTTP 422"
    assert fields["status_code"] == "422"
    assert fields["source_id"] == "2-0"
    assert json.loads(fields["mapping"]) == mapping(2, bad=True)
    assert sorted(redis.acked) == ["1-0", "2-0"]
    assert metric("wiremock_loader_mappings_processed_total", status="dead_lettered") == before + 1


def test_an_undecodable_entry_is_dead_lettered_without_its_content():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, wiremock)
    broken = parse_entry("9-0", {b"mapping": b"[1, 2", b"host": b"api"}, deliveries=1)
    asyncio.run(loader.batches.load_batch([broken, queued(1)]))
    [(_, fields)] = redis.added
    assert fields["error_type"] == "invalid_item"
    assert "mapping" not in fields
    assert sorted(redis.acked) == ["1-0", "9-0"]
    assert list(wiremock.recorded) == [mapping(1)["id"]]


def test_an_outage_is_waited_out_without_touching_the_poison_budget():
    wiremock, redis = FakeWireMock(), FakeRedis()
    wiremock.down_for = 4
    loader = fake_loader(redis, wiremock, retry_attempts=1)
    asyncio.run(loader.batches.load_batch([queued(n) for n in range(3)]))
    assert len(wiremock.recorded) == 3
    assert sorted(redis.acked) == ["0-0", "1-0", "2-0"]
    assert redis.added == [] and redis.released == {}


def test_stop_during_an_outage_hands_the_batch_back_unacked():
    wiremock, redis = FakeWireMock(), FakeRedis()
    wiremock.down_for = 10**6
    loader = fake_loader(redis, wiremock, claim_timeout_s=7)

    async def scenario() -> None:
        task = asyncio.create_task(loader.batches.load_batch([queued(1), queued(2)]))
        await asyncio.sleep(0.05)
        loader.stop()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())
    assert redis.acked == [] and redis.added == []
    # Idle = claim_timeout_s: any replica's XAUTOCLAIM takes them at once.
    assert redis.released == {"1-0": 7000, "2-0": 7000}
