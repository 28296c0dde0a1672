"""Removed stubs let go of their claims, so their requests are recorded again.

Every path that takes a stub out of a shard's record or out of WireMock for good (an
old-format stub retired at seed or reload, one WireMock refuses on reload, one past
``loader.stub_ttl_s``) queues :func:`release_claims` on the same transaction: the stubs'
states go (a dedup or repeat claim counts only while its stub's state exists), and their
ids are appended to the log of removed stubs that collectors follow to forget them
in-process (``mapping.removals``). Only mapping ids are written.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ext_proc_server.core.redis_keys import REMOVED_STUBS_KEPT_S, RedisKeys
from ext_proc_server.mapping.removals import IDS_FIELD

# Ids per log entry.
IDS_PER_ENTRY = 500


def release_claims(
    pipe: Any, *, keys: RedisKeys, mapping_ids: Sequence[str], now_s: float | None = None
) -> None:
    """Queue, on ``pipe`` (a redis-py pipeline), the release of these stubs' claims and
    their entries in the log of removed stubs (trimmed past ``REMOVED_STUBS_KEPT_S``)."""
    if not mapping_ids:
        return
    ids = list(dict.fromkeys(mapping_ids))
    pipe.delete(*(keys.stub_state(mapping_id) for mapping_id in ids))
    now_s = time.time() if now_s is None else now_s
    oldest_ms = int((now_s - REMOVED_STUBS_KEPT_S) * 1000)
    for start in range(0, len(ids), IDS_PER_ENTRY):
        chunk = " ".join(ids[start : start + IDS_PER_ENTRY])
        pipe.xadd(
            keys.removed_stubs, {IDS_FIELD: chunk}, minid=f"{max(oldest_ms, 0)}-0",
            approximate=True,
        )  # fmt: skip
