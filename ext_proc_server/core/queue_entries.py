"""The capture queue's wire format, shared by its producer (the pipeline) and consumer (the loader).

Each stream entry carries one WireMock mapping as compact JSON, plus the destination
host (for shard routing) and the enqueue time (for queue lag). The producer's entries
hold the mapping as UTF-8 bytes, as Redis takes them: a str would be copied once more
per write, and on a batch of 100 stubs that transient copy cost page faults (more system
than user CPU).
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


# mapping: bytes (UTF-8 JSON); host, enqueued_at_s: str.
QueueEntry = dict[str, bytes | str]


def encode_entry(mapping: Mapping[str, Any], *, host: str = "") -> QueueEntry:
    return {
        FIELD_MAPPING: encode_mapping(mapping),
        FIELD_HOST: host,
        FIELD_ENQUEUED_AT: f"{time.time():.3f}",
    }


def encode_mapping(mapping: Mapping[str, Any]) -> bytes:
    """Compact JSON in UTF-8, non-ASCII kept as is. orjson (several times cheaper) writes
    the same values; what it refuses (an integer past 64 bits) json writes. Raises
    UnicodeEncodeError for a string that is not valid UTF-8 (a lone surrogate): Redis
    could not hold it."""
    try:
        return orjson.dumps(mapping)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(mapping, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


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
