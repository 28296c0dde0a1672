"""Stubs written by earlier versions, as the loader meets them: in an import, in a
shard's record, and in a WireMock that already holds them when the loader starts."""

from __future__ import annotations

import asyncio
import json

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD, QueueItem
from ext_proc_server.loader.shards import Shard
from tests.support.fake_wiremock import FakeWireMock
from tests.support.loader_rig import FakeRedis, fake_loader, metric, queued

KEYS = RedisKeys(queue="mockado:mappings")
RETIRED = "wiremock_loader_stubs_retired_total"
REASON = "old_stub_body_unknown"


def old_stub(stub_id: str, method: str, **request: object) -> dict:
    """A stub as earlier versions wrote it: no priority_scale in its metadata."""
    return {
        "id": stub_id,
        "priority": 40,
        "request": {"method": method, "urlPath": f"/{stub_id}", **request},
        "response": {"status": 200, "body": stub_id},
        "metadata": {"mockado": {"hash": stub_id, "first_seen": 1.0}},
    }


UPLOAD = old_stub("upload", "POST")  # an old multipart upload: no body matcher
LISTING = old_stub("listing", "GET")
SEARCH = old_stub(
    "search",
    "POST",
    bodyPatterns=[
        {"equalToJson": {"ids": [1]}, "ignoreArrayOrder": True, "ignoreExtraElements": True}
    ],
)


def test_an_import_leaves_out_old_stubs_it_cannot_narrow_and_counts_them() -> None:
    wiremock = FakeWireMock()
    before = metric(RETIRED, reason=REASON)

    async def run() -> list[int]:
        async with wiremock.client() as client:
            return await client.import_encoded([json.dumps(m) for m in (LISTING, UPLOAD, SEARCH)])

    assert asyncio.run(run()) == [1]
    assert set(wiremock.stubs) == {"listing", "search"}
    assert wiremock.stubs["listing"]["request"]["bodyPatterns"] == [{"absent": True}]
    assert "ignoreArrayOrder" not in json.dumps(wiremock.stubs["search"])
    assert metric(RETIRED, reason=REASON) == before + 1


def test_an_import_of_only_retired_stubs_sends_nothing() -> None:
    wiremock = FakeWireMock()

    async def run() -> list[int]:
        async with wiremock.client() as client:
            return await client.import_encoded([json.dumps(UPLOAD)])

    assert asyncio.run(run()) == [0]
    assert wiremock.imports == 0


def test_the_seed_narrows_old_stubs_a_wiremock_holds_and_removes_the_unfaithful() -> None:
    wiremock = FakeWireMock()
    wiremock.stubs.update({m["id"]: m for m in (LISTING, UPLOAD, SEARCH)})
    before = metric(RETIRED, reason=REASON)

    async def start() -> Shard:
        async with wiremock.client() as client:
            shard = Shard(name="default", client=client)
            await shard.seed()
            return shard

    shard = asyncio.run(start())
    assert set(wiremock.stubs) == {"listing", "search"}
    assert wiremock.stubs["search"]["metadata"]["mockado"]["priority_scale"] == 2
    assert "upload" not in shard.known_ids
    assert shard.stub_count == 2
    assert metric(RETIRED, reason=REASON) == before + 1


def test_a_retired_stub_leaves_the_record_so_the_shard_is_reloaded_once() -> None:
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, wiremock)
    shard = loader.shards[DEFAULT_SHARD]

    async def load() -> None:
        await shard.seed()
        await loader.batches.load_batch([queued(n) for n in range(3)])

    asyncio.run(load())
    record = redis.hashes[KEYS.shard_record(DEFAULT_SHARD)]
    # A record kept from an earlier version holds an old upload stub.
    record["upload"] = json.dumps(UPLOAD)
    wiremock.restart()
    assert asyncio.run(loader.resync.check(shard)) is True
    assert "upload" not in record and len(record) == 3
    assert "upload" not in wiremock.stubs
    # It holds its record now: the next check reloads nothing.
    assert asyncio.run(loader.resync.check(shard)) is False


def _removed_ids(redis: FakeRedis) -> list[str]:
    """The ids the loader appended to the log of removed stubs."""
    return [
        stub_id
        for stream, fields in redis.added
        if stream == KEYS.removed_stubs
        for stub_id in fields["ids"].split()
    ]


def test_a_stub_retired_at_seed_leaves_the_record_and_releases_its_claims() -> None:
    wiremock, redis = FakeWireMock(), FakeRedis()
    wiremock.stubs.update({m["id"]: m for m in (LISTING, UPLOAD, SEARCH)})
    loader = fake_loader(redis, wiremock)
    shard = loader.shards[DEFAULT_SHARD]
    record = redis.hashes.setdefault(KEYS.shard_record(DEFAULT_SHARD), {})
    record.update({m["id"]: json.dumps(m) for m in (LISTING, UPLOAD, SEARCH)})

    asyncio.run(shard.seed())
    assert "upload" not in wiremock.stubs and "upload" not in record
    # Its request is recorded again at its next capture, on today's format.
    assert redis.dropped_keys == [KEYS.stub_state("upload")]
    assert _removed_ids(redis) == ["upload"]


def test_a_stub_retired_on_reload_releases_its_claims() -> None:
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, wiremock)
    shard = loader.shards[DEFAULT_SHARD]
    asyncio.run(shard.seed())
    redis.hashes[KEYS.shard_record(DEFAULT_SHARD)] = {"upload": json.dumps(UPLOAD)}
    wiremock.restart()
    assert asyncio.run(loader.resync.check(shard)) is True
    assert redis.dropped_keys == [KEYS.stub_state("upload")]
    assert _removed_ids(redis) == ["upload"]


def test_an_old_queued_stub_left_out_of_the_import_releases_its_claims_at_once() -> None:
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, wiremock)
    items = [queued(1), QueueItem("2-0", 1, host="api", mapping=UPLOAD), queued(3)]

    async def load() -> None:
        await loader.shards[DEFAULT_SHARD].seed()
        await loader.batches.load_batch(items)

    asyncio.run(load())
    assert set(redis.acked) == {"1-0", "2-0", "3-0"}
    record = redis.hashes[KEYS.shard_record(DEFAULT_SHARD)]
    # Never recorded, so no resync check has to find it; its request is recorded again.
    assert "upload" not in record and len(record) == 2
    assert "upload" not in redis.hashes.get(KEYS.seen_index(DEFAULT_SHARD), {})
    assert redis.dropped_keys == [KEYS.stub_state("upload")]
    assert _removed_ids(redis) == ["upload"]
    assert "upload" not in loader.shards[DEFAULT_SHARD].known_ids
