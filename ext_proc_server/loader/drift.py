"""Drift records and each stub's lifecycle, as stored in Redis and read back.

A *drift record* says that a recorded request came back with another status or JSON
shape: which stub (namespace, host, method, path template, mapping id, shard), what
changed (``status 200 -> 503``, ``added $.items[].price (number)``) and when. Only
sanitized, shape-level facts: no value of a request or a response. The records live in
one capped list (``RedisKeys.drift_log``, newest first, :data:`MAX_DRIFT_RECORDS`).

Each stub's lifecycle (``first_seen``, ``last_seen``, ``capture_count``) lives in its
WireMock metadata (``metadata.mockado``) and in its shard's record; :func:`stub_lifecycle`
reads it from a mapping, :func:`recorded_stub` reads one stub from a shard's record.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.stream import connect_redis
from ext_proc_server.mapping.shapes import mapping_shape, shape_changes

MAX_DRIFT_RECORDS = 1_000


@dataclass(frozen=True, slots=True)
class DriftRecord:
    namespace: str
    host: str
    method: str
    path_template: str
    mapping_id: str
    shard: str
    changes: tuple[str, ...]
    at_s: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> DriftRecord | None:
        """None for an entry that is not a drift record (never raises)."""
        try:
            data = json.loads(text)
            return cls(**{**data, "changes": tuple(data["changes"])})
        except (ValueError, TypeError, KeyError):
            return None


def mockado_metadata(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata.mockado`` of a stub ({} when it has none)."""
    metadata = mapping.get("metadata")
    found = metadata.get("mockado") if isinstance(metadata, Mapping) else None
    return dict(found) if isinstance(found, Mapping) else {}


def stub_lifecycle(mapping: Mapping[str, Any]) -> dict[str, float | int | None]:
    """first_seen, last_seen (epoch seconds) and capture_count of a stub; a stub written
    before they existed falls back on its capture time and one capture."""
    meta = mockado_metadata(mapping)
    captured = meta.get("captured_at_s")
    return {
        "first_seen": meta.get("first_seen", captured),
        "last_seen": meta.get("last_seen", captured),
        "capture_count": int(meta.get("capture_count", 1)),
    }


def drift_between(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    noise: Collection[str],
    shard: str,
    at_s: float,
) -> DriftRecord | None:
    """The drift record when ``new`` replaces ``old`` with another status or shape, else
    None (the same shape; a replay of the same item)."""
    old_meta, new_meta = mockado_metadata(old), mockado_metadata(new)
    old_shape, new_shape = mapping_shape(old, noise=noise), mapping_shape(new, noise=noise)
    if "shape" in old_meta and "shape" in new_meta:
        if old_meta["shape"] == new_meta["shape"]:
            return None
    elif old_shape == new_shape:
        return None
    changes = shape_changes(old_shape, new_shape) or ["response shape changed"]
    request = new.get("request") or {}
    return DriftRecord(
        namespace=str(new_meta.get("namespace", "")),
        host=str(new_meta.get("host", "")),
        method=str(request.get("method", "ANY")),
        path_template=str(new_meta.get("path_template", "")),
        mapping_id=str(new.get("id", "")),
        shard=shard,
        changes=tuple(changes),
        at_s=at_s,
    )


def queue_drift(pipe: Any, *, keys: RedisKeys, records: Sequence[DriftRecord]) -> None:
    """Add ``records`` to the capped drift list on a Redis pipeline (the caller runs it)."""
    if records:
        pipe.lpush(keys.drift_log, *(r.to_json() for r in records))
        pipe.ltrim(keys.drift_log, 0, MAX_DRIFT_RECORDS - 1)


async def drift_records(
    redis: aioredis.Redis,
    *,
    keys: RedisKeys,
    namespace: str | None = None,
    limit: int = MAX_DRIFT_RECORDS,
) -> list[DriftRecord]:
    """The drift records, newest first, of one namespace or all."""
    try:
        raw = await redis.lrange(keys.drift_log, 0, MAX_DRIFT_RECORDS - 1)
    except RedisError as exc:
        raise QueueError(f"redis: reading drift records failed ({type(exc).__name__})") from exc
    records = [r for r in map(DriftRecord.from_json, raw) if r is not None]
    if namespace is not None:
        records = [r for r in records if r.namespace == namespace]
    return records[:limit]


async def recorded_stub(
    redis: aioredis.Redis, *, keys: RedisKeys, shard: str, mapping_id: str
) -> dict[str, Any] | None:
    """One stub as its shard's record holds it (with its lifecycle metadata), or None."""
    try:
        raw = await redis.hget(keys.shard_record(shard), mapping_id)
    except RedisError as exc:
        raise QueueError(f"redis: reading a stub failed ({type(exc).__name__})") from exc
    if raw is None:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        return None
    return mapping if isinstance(mapping, dict) else None


def read_drift(config: MockadoConfig, *, namespace: str | None = None) -> list[DriftRecord]:
    """``drift_records`` from the loader's Redis, for ``mockado drift``."""

    async def read() -> list[DriftRecord]:
        redis = connect_redis(config.loader)
        try:
            keys = RedisKeys(queue=config.loader.redis_queue)
            return await drift_records(redis, keys=keys, namespace=namespace)
        finally:
            await redis.aclose()

    return asyncio.run(read())


def drift_table(records: Sequence[DriftRecord]) -> str:
    """The records as a plain-text table, newest first."""
    rows = [("WHEN (UTC)", "NAMESPACE", "METHOD", "HOST", "PATH", "CHANGES")]
    for r in records:
        when = datetime.fromtimestamp(r.at_s, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        rows.append((when, r.namespace, r.method, r.host, r.path_template, "; ".join(r.changes)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + row[-1]
        for row in rows
    )
