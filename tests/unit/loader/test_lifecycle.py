"""Drift and each stub's lifecycle, decided by the loader against the shard's record.
Against the in-process fake WireMock and the fake Redis; no network."""

from __future__ import annotations

import asyncio
import json

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.drift import DriftRecord, drift_records, stub_lifecycle
from ext_proc_server.loader.entries import QueueItem
from ext_proc_server.mapping.shapes import json_shape, mapping_shape, shape_changes
from tests.support.fake_wiremock import FakeWireMock
from tests.support.loader_rig import FakeRedis, fake_loader, metric

KEYS = RedisKeys(queue="mockado:mappings")
STUB_ID = "00000000-0000-0000-0000-00000000abcd"


def _stub(*, status=200, body=None, captured_at_s=100.0, shape="s1", namespace="shop"):
    return {
        "id": STUB_ID,
        "request": {"method": "GET", "urlPath": "/users/7"},
        "response": {"status": status, "jsonBody": body or {"id": 7, "name": "ana"}},
        "metadata": {
            "mockado": {
                "namespace": namespace,
                "host": "users.shop.svc.cluster.local",
                "path_template": "/users/{id}",
                "shape": shape,
                "captured_at_s": captured_at_s,
                "first_seen": captured_at_s,
                "last_seen": captured_at_s,
                "capture_count": 1,
            }
        },
    }


def _held(n, stub):
    return QueueItem(f"{n}-0", 1, host="users", mapping=stub)


class _ListRedis(FakeRedis):
    async def lrange(self, key, start, end):
        return self.lists.get(key, [])[start : end + 1]


def test_a_json_shape_is_keys_and_types_with_lists_folded_and_noise_left_out():
    shape = json_shape(
        {"a": 1, "items": [{"id": 1}, {"id": "x"}], "trace_id": "t"}, noise={"trace_id"}
    )
    assert shape == {"$": "object", "$.a": "number", "$.items": "array",
                     "$.items[]": "object", "$.items[].id": "number|string"}  # fmt: skip
    old, new = (200, {"$.a": "number", "$.b": "string"}), (503, {"$.a": "string", "$.c": "null"})
    assert shape_changes(old, new) == [
        "status 200 -> 503", "removed $.b (string)", "added $.c (null)",
        "type $.a: number -> string",
    ]  # fmt: skip


def test_a_replaced_stub_with_another_shape_is_one_drift_record_and_keeps_its_lifecycle():
    wiremock, redis = FakeWireMock(), _ListRedis()
    loader = fake_loader(redis, wiremock)
    before = metric("mockado_drift_total", namespace="other")
    first = _stub()
    drifted = _stub(status=503, body={"id": 7, "error": "down"}, captured_at_s=200.0, shape="s2")
    asyncio.run(loader.batches.load_batch([_held(1, first)]))
    asyncio.run(loader.batches.load_batch([_held(2, drifted)]))
    # A replay of the same item is not drift again.
    asyncio.run(loader.batches.load_batch([_held(2, drifted)]))

    records = asyncio.run(drift_records(redis, keys=KEYS))
    assert len(records) == 1
    [record] = records
    assert (record.namespace, record.host, record.method, record.path_template) == (
        "shop", "users.shop.svc.cluster.local", "GET", "/users/{id}"
    )  # fmt: skip
    assert record.changes == ("status 200 -> 503", "removed $.name (string)",
                              "added $.error (string)")  # fmt: skip
    assert metric("mockado_drift_total", namespace="other") == before + 1
    assert asyncio.run(drift_records(redis, keys=KEYS, namespace="elsewhere")) == []
    # WireMock serves the new answer, under the same id, with the lifecycle carried over.
    served = wiremock.recorded[STUB_ID]
    assert served["response"]["status"] == 503
    assert stub_lifecycle(served) == {"first_seen": 100.0, "last_seen": 200.0, "capture_count": 2}
    recorded = json.loads(redis.hashes["mockado:mappings:record:default"][STUB_ID])
    assert stub_lifecycle(recorded) == stub_lifecycle(served)
    assert redis.hashes["mockado:mappings:seen-at:default"][STUB_ID] == 200.0


def test_the_same_shape_is_no_drift_and_a_record_round_trips():
    wiremock, redis = FakeWireMock(), _ListRedis()
    loader = fake_loader(redis, wiremock)
    asyncio.run(loader.batches.load_batch([_held(1, _stub())]))
    asyncio.run(loader.batches.load_batch([_held(2, _stub(captured_at_s=300.0))]))
    assert redis.lists == {}
    assert stub_lifecycle(wiremock.recorded[STUB_ID])["capture_count"] == 2
    record = DriftRecord("shop", "h", "GET", "/a", "id", "default", ("status 200 -> 500",), 1.5)
    assert DriftRecord.from_json(record.to_json()) == record
    assert DriftRecord.from_json("not json") is None


def test_a_json_body_kept_as_text_has_its_shape_too():
    text = {"status": 200, "body": '{"id": 7, "tags": ["a"]}'}
    assert mapping_shape({"response": text}) == (
        200, {"$": "object", "$.id": "number", "$.tags": "array", "$.tags[]": "string"}
    )  # fmt: skip
    assert mapping_shape({"response": {"status": 204, "body": "plain"}}) == (204, {})
