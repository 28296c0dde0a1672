"""JSON nested past Python's recursion limit: a counted drop or no shape, never a failed batch."""

import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.repeats import json_shape
from ext_proc_server.mapping.shapes import body_shape, load_json
from ext_proc_server.pipeline import Prepared, Skipped, default_stages, prepare
from tests.unit.pipeline.pipeline_helpers import dropped

JSON = (("content-type", "application/json"),)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_exchange(path: str, depth: int) -> Exchange:
    return Exchange(
        id=path,
        request=HttpRequest(
            method="POST", path=path, authority="api.example", headers=JSON, body=nested(depth)
        ),
        response=HttpResponse(status=200, headers=JSON, body=nested(depth)),
    )


@pytest.mark.parametrize("depth", [1_100, 5_000])
def test_too_deep_is_not_json_to_the_shapes(depth):
    with pytest.raises(ValueError):
        load_json(nested(depth))
    assert body_shape(nested(depth), "application/json") is None
    assert json_shape(nested(depth)) == json_shape(b"not json")
    assert body_shape(nested(3), "application/json") == {
        "$": "array", "$[]": "array", "$[][]": "array"
    }  # fmt: skip


@pytest.mark.parametrize("depth", [990, 1_020, 5_000])
def test_deep_json_is_dropped_or_skipped_with_a_count_never_an_internal_error(depth):
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    before = (dropped("malformed"), dropped("internal_error"))
    outcome = prepare(deep_exchange("/deep", depth), wired, dedup_enabled=True)
    assert dropped("internal_error") == before[1]
    assert isinstance(outcome, Skipped) or (
        outcome is None and dropped("malformed") == before[0] + 1
    )
    shallow = prepare(deep_exchange("/fine", 3), wired, dedup_enabled=True)
    assert isinstance(shallow, Prepared) and shallow.entry is not None


def test_remembering_a_deep_response_does_not_raise():
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    index = wired.repeats
    exchange = deep_exchange("/deep", 5_000)
    key = index.key_of(exchange)
    index.remember(key, "mapping-id")
    assert index.recorded(key) == "mapping-id"
