"""Response shapes: the digest stored in stubs stays the same text, bodies are read as json reads them."""

import hashlib
import json
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import shapes as shapes_module
from ext_proc_server.mapping.noise import field_key
from ext_proc_server.mapping.shapes import (
    MAX_SHAPE_PATHS,
    body_shape,
    json_shape,
    response_shape_digest,
    shape_digest,
)
from tests.unit.mapping.json_strategies import DOCUMENTS, json_texts

JSON = "application/json"


def _digest_as_stored(status, shape):
    # What stubs written so far hold in metadata.mockado.shape: the loader compares it.
    text = json.dumps([status, sorted(shape.items()) if shape is not None else None])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"b":[true,"x",null,{"c":1.5}],"requestId":"r"}',
        '{"naïve \\"quoted\\" key":{"é":[]},"\\u0000":1}'.encode(),
        b"[]",
        b'[1,"a",1.0,[2]]',
    ],
)
def test_the_shape_digest_is_the_text_stubs_already_hold(body):
    shape = body_shape(body, JSON, noise={"request_id"})
    assert shape is not None
    assert shape_digest(201, shape) == _digest_as_stored(201, shape)
    assert shape_digest(204, None) == _digest_as_stored(204, None)
    assert "$.requestId" not in shape


def test_a_list_keeps_every_type_its_elements_have():
    shape = json_shape({"v": [1, "a", 2, None, "b"], "o": {}})
    assert shape == {"$": "object", "$.v": "array", "$.v[]": "null|number|string", "$.o": "object"}


@pytest.mark.parametrize(
    "body",
    # What orjson refuses and json reads: they keep the shape json gives them.
    [b'{"a":NaN}', b'{"a":1e400}', b'{"a":"\\ud800"}', '{"a":[1]}'.encode("utf-16")],
)
def test_bodies_only_json_reads_have_the_shape_json_gives(body):
    assert body_shape(body, JSON) == json_shape(json.loads(body))


def test_not_json_has_no_shape_and_a_huge_body_keeps_its_first_paths():
    assert body_shape(b"{oops", JSON) is None
    assert body_shape(b'{"a":1}', "text/plain") is None
    huge = {f"k{i}": {"x": i} for i in range(MAX_SHAPE_PATHS)}
    shape = body_shape(json.dumps(huge).encode(), JSON)
    assert shape is not None and len(shape) == MAX_SHAPE_PATHS
    assert list(shape)[:3] == ["$", "$.k0", "$.k0.x"]


def test_response_shape_digest_is_status_and_body_shape():
    response = HttpResponse(status=200, headers=(("content-type", JSON),), body=b'{"n":1}')
    assert response_shape_digest(response) == shape_digest(200, {"$": "object", "$.n": "number"})


# -- the fast walk against the plain one ------------------------------------------------

_KINDS = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def plain_shape(document, noise=(), limit=MAX_SHAPE_PATHS):
    """The shape as first written: a call per node, the limit checked before every put."""
    shape = {}

    def put(path, kind):
        known = shape.get(path)
        if known is None:
            shape[path] = kind
        elif kind not in known.split("|"):
            shape[path] = "|".join(sorted({*known.split("|"), kind}))

    def walk(node, path):
        if len(shape) >= limit:
            return
        if isinstance(node, dict):
            put(path, "object")
            for key, value in node.items():
                if field_key(str(key)) not in noise:
                    walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            put(path, "array")
            for value in node:
                walk(value, path + "[]")
        else:
            put(path, _KINDS.get(type(node), "other"))

    walk(document, "$")
    return shape


@settings(max_examples=400, deadline=None)
@given(json_texts())
def test_the_shape_is_the_plain_walks_on_any_json(text):
    document = json.loads(text)
    noise = frozenset({"request_id", "ts"})
    shape = json_shape(document, noise=noise)
    assert shape == plain_shape(document, noise)
    assert list(shape) == list(plain_shape(document, noise))  # same paths kept first
    assert body_shape(text.encode(), JSON, noise=noise) == shape


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(DOCUMENTS, st.just({"k": 1}), st.just({"k": "x"})), max_size=30))
def test_a_list_of_records_keeps_the_first_paths_the_plain_walk_keeps(items):
    # Records skipped as repeats must not move where the path limit cuts the shape.
    document = {"rows": items, "tail": {"after": [1, "x"]}}
    for limit in (1, 2, 5, 9):
        assert _limited(document, limit) == plain_shape(document, limit=limit)


def _limited(document, limit):
    with mock.patch.object(shapes_module, "MAX_SHAPE_PATHS", limit):
        return json_shape(document)
