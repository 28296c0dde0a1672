"""Work a first-seen exchange shares, each giving what the plain computation gives: the
shape digest remembered per shape, and the repeat fingerprint read from the shape's parse
of the same bytes. (JSON objects without a hole, kept as parsed, are held to the plain
walk in test_noise.)"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import RepeatIndex
from ext_proc_server.mapping.repeats import response_facts
from ext_proc_server.mapping.shapes import (
    MAX_REMEMBERED_SHAPE_CHARS,
    MAX_REMEMBERED_SHAPE_PATHS,
    json_shape,
    read_json_body,
    shape_digest,
)
from tests.unit.mapping.json_strategies import DOCUMENTS, json_texts
from tests.unit.mapping.mapping_helpers import JSON

JSON_TYPE = "application/json"

CONTENT_TYPES = st.sampled_from(["application/json", "application/problem+json", "text/plain"])


def _plain_digest(status: int, shape: dict[str, str] | None) -> str:
    items = None if shape is None else sorted(shape.items())
    return hashlib.sha256(json.dumps([status, items]).encode()).hexdigest()[:32]


@settings(max_examples=300, deadline=None)
@given(DOCUMENTS, st.sampled_from([200, 201, 404, 500]))
def test_a_remembered_shape_digest_is_the_plain_one_in_any_insertion_order(
    document: Any, status: int
) -> None:
    shape = json_shape(document)
    backwards = dict(reversed(shape.items()))
    for _ in range(2):  # computed, then remembered
        assert shape_digest(status, shape) == _plain_digest(status, shape)
        assert shape_digest(status, backwards) == _plain_digest(status, shape)
    assert shape_digest(status, None) == _plain_digest(status, None)


def test_a_shape_past_the_remembered_size_is_digested_as_well() -> None:
    shape = {f"$.k{n}": "number" for n in range(MAX_REMEMBERED_SHAPE_PATHS + 5)}
    assert shape_digest(200, shape) == _plain_digest(200, shape)
    shape["$.k0"] = "string"
    assert shape_digest(200, shape) == _plain_digest(200, shape)
    long_keys = {"$." + "k" * MAX_REMEMBERED_SHAPE_CHARS: "number", "$": "object"}
    assert shape_digest(200, long_keys) == _plain_digest(200, long_keys)


def _key_for(index: RepeatIndex, response: HttpResponse) -> Any:
    """The repeat key of a GET / to "api" answered by ``response``."""
    return index.key(
        method="GET",
        host="api",
        path="/",
        query=(),
        body=b"",
        body_state="",
        response=response_facts(response),
    )


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(json_texts(), st.sampled_from(["", "{oops", "NaN", "[" * 1100 + "]" * 1100])),
    CONTENT_TYPES,
    st.sampled_from([0, 1, 2]),
)
def test_the_fingerprint_read_from_the_shapes_parse_is_the_one_read_alone(
    text: str, content_type: str, flags: int
) -> None:
    body = text.encode("utf-8", "surrogatepass")
    index = RepeatIndex(CollectorConfig(dedup_key="k" * 32))
    response = HttpResponse(
        status=200,
        headers=(("content-type", content_type),),
        body=body,
        body_truncated=bool(flags & 1),
        body_dropped=bool(flags & 2),
    )
    key = _key_for(index, response)
    parsed = read_json_body(body, response.content_type)
    if parsed is not None:
        index.fingerprint_from(key, parsed)
        assert key.fingerprint == index.fingerprint(response)
    assert index.fingerprint_of(key) == index.fingerprint(response)


def test_other_bytes_leave_the_fingerprint_to_the_raw_body() -> None:
    index = RepeatIndex(CollectorConfig())
    raw = HttpResponse(status=200, headers=JSON, body=b'{"a":"x@y.z"}')
    key = _key_for(index, raw)
    parsed = read_json_body(b'{"a":1}', JSON_TYPE)
    assert parsed is not None
    index.fingerprint_from(key, parsed)
    assert key.fingerprint is None
    assert index.fingerprint_of(key) == index.fingerprint(raw)
