"""Response shapes: what drift is measured on.

A response's *shape* is its status and, for a JSON body, each key path with the JSON
type of its value (``$.items[].id: number``), never the values themselves. List
elements share one path (``[]``), so a longer list is the same shape; noise fields
(request ids, trace ids, ``collector.noise_rules``) are left out, so a field that comes
and goes with every call is not drift; sanitized values keep their type, so a new
pseudonym is not drift either.

The collector puts :func:`shape_digest` into the dedup key, so a known request whose
response changed shape is let through and replaces its stub; the loader describes what
changed with :func:`shape_changes`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Collection, Mapping
from json.encoder import encode_basestring_ascii as _quote
from typing import Any, NamedTuple

import orjson

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.noise import field_key

# Paths kept per shape: a body with more is described by its first ones (the digest
# still covers every path).
MAX_SHAPE_PATHS = 2_000
# Changes listed per drift record.
MAX_CHANGES = 20
_TYPES = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}

Shape = dict[str, str]
_LEAVES = frozenset(_TYPES)


def json_shape(document: Any, *, noise: Collection[str] = ()) -> Shape:
    """Key path -> JSON type of a parsed document; keys in ``noise`` (compared with
    :func:`~ext_proc_server.mapping.noise.field_key`) are left out."""
    shape: Shape = {}
    try:
        _walk(document, "$", shape, noise)
    except _Full:  # not contextlib.suppress: its object cost as much as a small body's walk
        return shape
    return shape


class _Full(Exception):
    """MAX_SHAPE_PATHS paths are kept: nothing more is added (nor retyped)."""


def _walk(node: Any, path: str, shape: Shape, noise: Collection[str]) -> None:
    # The hot part of a first-seen exchange's drift check. Leaves are typed without a
    # recursive call each, and a member's new path is put inline (_put's first case: a
    # call per member was a tenth of this walk); the walk stops (_Full) once
    # MAX_SHAPE_PATHS are kept.
    if isinstance(node, dict):
        _put(shape, path, "object")
        prefix = path + "."
        for key, value in node.items():
            name = key if type(key) is str else str(key)
            if field_key(name) in noise:
                continue
            kind = _TYPES.get(type(value))
            if kind is None:
                _walk(value, prefix + name, shape, noise)
                continue
            # _put, inline: a call per member was 4 % of the walk (callgrind).
            member = prefix + name
            known = shape.get(member)
            if known is None:
                shape[member] = kind
                if len(shape) >= MAX_SHAPE_PATHS:
                    raise _Full
            elif known != kind:
                _add(shape, member, kind)
    elif isinstance(node, list):
        _put(shape, path, "array")
        path += "[]"
        records = None
        for value in node:
            kind = _TYPES.get(type(value))
            if kind is None:
                if type(value) is dict:
                    # An object with the keys and leaf types of one before it in this list
                    # (records) would add nothing: each of its paths holds its type.
                    record = (tuple(value), tuple(map(type, value.values())))
                    if records is None:
                        records = set()
                    elif record in records:
                        continue
                    if _LEAVES.issuperset(record[1]):
                        records.add(record)
                _walk(value, path, shape, noise)
            elif shape.get(path) != kind:  # a list of scalars: one call per new type
                _put(shape, path, kind)
    else:
        _put(shape, path, _TYPES.get(type(node), "other"))


def _put(shape: Shape, path: str, kind: str) -> None:
    known = shape.get(path)
    if known is None:
        shape[path] = kind
        if len(shape) >= MAX_SHAPE_PATHS:
            raise _Full
    elif known != kind:
        _add(shape, path, kind)


def _add(shape: Shape, path: str, kind: str) -> None:
    # Elements of one list may differ in type: their path keeps every type seen, sorted.
    known = shape[path]
    if kind not in known.split("|"):
        shape[path] = "|".join(sorted({*known.split("|"), kind}))


class JsonBody(NamedTuple):
    """A JSON body and what :func:`load_json` read in it (:data:`NOT_JSON`: nothing), so
    another reader of the same bytes need not parse them again."""

    body: bytes
    document: Any


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


# JsonBody.document of a body that is not JSON (None is JSON's null).
NOT_JSON: Any = _NotJson()


def read_json_body(body: bytes, content_type: str) -> JsonBody | None:
    """The body as :func:`body_shape` reads it; None when it is not declared JSON or empty."""
    if "json" not in content_type or not body:
        return None
    try:
        return JsonBody(body, load_json(body))
    except (ValueError, RecursionError):
        # Nested past Python's recursion limit: no shape, as for a body that is not JSON.
        return JsonBody(body, NOT_JSON)


def parsed_shape(parsed: JsonBody | None, *, noise: Collection[str] = ()) -> Shape | None:
    """:func:`body_shape` of a body read by :func:`read_json_body`."""
    if parsed is None or parsed.document is NOT_JSON:
        return None
    try:
        return json_shape(parsed.document, noise=noise)
    except (ValueError, RecursionError):
        return None


def body_shape(body: bytes, content_type: str, *, noise: Collection[str] = ()) -> Shape | None:
    """The shape of a JSON response body, or None when it is not JSON."""
    return parsed_shape(read_json_body(body, content_type), noise=noise)


def load_json(body: bytes) -> Any:
    """A JSON document parsed with orjson (about 3x cheaper than json), with json where
    orjson refuses what json accepts (NaN, lone surrogates, a number past a double, a BOM,
    UTF-16): the same shape either way (orjson reads an integer past 64 bits as a float:
    a number all the same). Raises ValueError when it is not JSON, or
    nested deeper than json can read (orjson stops at 1,024 levels, json at the recursion
    limit)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        try:
            return json.loads(body)
        except RecursionError as exc:
            raise ValueError("JSON nested too deep") from exc


def shape_digest(status: int, shape: Shape | None) -> str:
    """Hex digest (16 bytes) of a status and a shape: equal shapes, equal digests."""
    if shape is None:
        return _digest(f"[{int(status)}, null]")
    if len(shape) > MAX_REMEMBERED_SHAPE_PATHS or sum(map(len, shape)) > MAX_REMEMBERED_SHAPE_CHARS:
        return _digest(_shape_text(int(status), shape))
    return _remembered_digest(int(status), tuple(shape.items()))


# Shapes recur (one endpoint answers alike whatever was asked): the digest of each small
# one is kept, so its text is not sorted, quoted and hashed again (bounded in entries,
# and in paths and their characters per entry: keys come from upstreams).
SHAPE_DIGEST_CACHE_SIZE = 1024
MAX_REMEMBERED_SHAPE_PATHS = 64
MAX_REMEMBERED_SHAPE_CHARS = 4096


@functools.lru_cache(maxsize=SHAPE_DIGEST_CACHE_SIZE)
def _remembered_digest(status: int, items: tuple[tuple[str, str], ...]) -> str:
    return _digest(_shape_text(status, dict(items)))


def _shape_text(status: int, shape: Shape) -> str:
    # The text of json.dumps([status, sorted(shape.items())]), built directly (3x cheaper).
    # Paths are unique: sorting them sorts the items (string compares, not tuples).
    pairs = ", ".join([f"[{_quote(path)}, {_quote(shape[path])}]" for path in sorted(shape)])
    return f"[{status}, [{pairs}]]"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def response_shape_digest(response: HttpResponse, *, noise: Collection[str] = ()) -> str:
    """:func:`shape_digest` of a response: its status and its body's shape."""
    return response_shape(response, noise=noise)[0]


def response_shape(
    response: HttpResponse, *, noise: Collection[str] = ()
) -> tuple[str, JsonBody | None]:
    """:func:`response_shape_digest`, and the body as read for it."""
    parsed = read_json_body(response.body, response.content_type)
    return shape_digest(response.status, parsed_shape(parsed, noise=noise)), parsed


def mapping_shape(mapping: Mapping[str, Any], *, noise: Collection[str] = ()) -> tuple[int, Shape]:
    """(status, shape) of a WireMock stub's response as mockado wrote it."""
    response = mapping.get("response") or {}
    status = int(response.get("status") or 200)
    if "jsonBody" in response:
        return status, json_shape(response["jsonBody"], noise=noise)
    body = response.get("body")
    if isinstance(body, str) and body.lstrip()[:1] in ("{", "["):
        # JSON kept as its own text (served byte for byte).
        try:
            return status, json_shape(json.loads(body), noise=noise)
        except ValueError:
            pass
    return status, {}


def shape_changes(old: tuple[int, Shape], new: tuple[int, Shape]) -> list[str]:
    """What differs between two (status, shape): status first, then removed, added and
    retyped paths, at most :data:`MAX_CHANGES` (the last line says how many more)."""
    (old_status, old_shape), (new_status, new_shape) = old, new
    changes = [f"status {old_status} -> {new_status}"] if old_status != new_status else []
    for path in sorted(old_shape.keys() - new_shape.keys()):
        changes.append(f"removed {path} ({old_shape[path]})")
    for path in sorted(new_shape.keys() - old_shape.keys()):
        changes.append(f"added {path} ({new_shape[path]})")
    for path in sorted(old_shape.keys() & new_shape.keys()):
        if old_shape[path] != new_shape[path]:
            changes.append(f"type {path}: {old_shape[path]} -> {new_shape[path]}")
    if len(changes) > MAX_CHANGES:
        more = len(changes) - (MAX_CHANGES - 1)
        changes = [*changes[: MAX_CHANGES - 1], f"... and {more} more"]
    return changes
