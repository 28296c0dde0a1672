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

import hashlib
import json
from collections.abc import Collection, Mapping
from json.encoder import encode_basestring_ascii as _quote
from typing import Any

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
    # recursive call each; the walk stops (_Full) once MAX_SHAPE_PATHS are kept.
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
            else:
                _put(shape, prefix + name, kind)
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


def body_shape(body: bytes, content_type: str, *, noise: Collection[str] = ()) -> Shape | None:
    """The shape of a JSON response body, or None when it is not JSON."""
    if "json" not in content_type or not body:
        return None
    try:
        document = load_json(body)
        return json_shape(document, noise=noise)
    except (ValueError, RecursionError):
        # Nested past Python's recursion limit: no shape, as for a body that is not JSON.
        return None


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
    # The text of json.dumps([status, sorted(shape.items())]), built directly (3x cheaper).
    if shape is None:
        text = f"[{int(status)}, null]"
    else:
        # Paths are unique: sorting them sorts the items (string compares, not tuples).
        pairs = ", ".join([f"[{_quote(path)}, {_quote(shape[path])}]" for path in sorted(shape)])
        text = f"[{int(status)}, [{pairs}]]"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def response_shape_digest(response: HttpResponse, *, noise: Collection[str] = ()) -> str:
    """:func:`shape_digest` of a response: its status and its body's shape."""
    shape = body_shape(response.body, response.content_type, noise=noise)
    return shape_digest(response.status, shape)


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
