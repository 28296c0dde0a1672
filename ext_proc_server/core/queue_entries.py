"""The capture queue's wire format, shared by its producer (the pipeline) and consumer (the loader).

Each stream entry carries one WireMock mapping as compact JSON, plus the destination
host (for shard routing) and the enqueue time (for queue lag).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import orjson

from ext_proc_server.core.errors import QueueError

FIELD_MAPPING = "mapping"
FIELD_HOST = "host"
FIELD_ENQUEUED_AT = "enqueued_at_s"


def encode_entry(mapping: Mapping[str, Any], *, host: str = "") -> dict[str, str]:
    return {
        FIELD_MAPPING: encode_mapping(mapping),
        FIELD_HOST: host,
        FIELD_ENQUEUED_AT: f"{time.time():.3f}",
    }


def encode_mapping(mapping: Mapping[str, Any]) -> str:
    """Compact JSON, non-ASCII kept as is. orjson (several times cheaper) writes the same
    values; what it refuses (an integer past 64 bits, a lone surrogate) goes to json, as
    before (a lone surrogate then fails the caller's UTF-8 check)."""
    try:
        return orjson.dumps(mapping).decode("utf-8")
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(mapping, separators=(",", ":"), ensure_ascii=False)


def decode_entry(fields: Mapping[bytes | str, bytes | str]) -> tuple[dict[str, Any], str]:
    """-> (mapping, host). Raises QueueError for an entry that is not a mapping."""
    norm = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }
    try:
        mapping = json.loads(norm[FIELD_MAPPING])
    except (KeyError, ValueError) as exc:
        raise QueueError("queue entry: not a JSON mapping") from exc
    if not isinstance(mapping, dict):
        raise QueueError("queue entry: mapping is not an object")
    return mapping, norm.get(FIELD_HOST, "")
