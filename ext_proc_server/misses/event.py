"""One miss as a shard's catch-all webhook reports it (see ``mapping.catch_all``).

The event holds the raw request: it lives only in the loader's memory until
``template.describe_miss`` has sanitized it, and never reaches Redis, logs or errors.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ext_proc_server.core.exchange import Exchange, HttpRequest, Pairs
from ext_proc_server.mapping.catch_all import MISS_BODY_LIMIT_CHARS

# Bounds on what one event may carry into memory.
MAX_EVENT_BYTES = 64 * 1024
MAX_HEADERS = 100


class InvalidMissEvent(ValueError):
    """The webhook body is not a miss event."""


@dataclass(frozen=True, slots=True)
class MissEvent:
    shard: str
    method: str
    host: str
    url: str
    headers: Pairs
    body: bytes
    seen_at_s: float
    # Host's port (WireMock's: 80 when there is none); 0 when the event did not say.
    port: int = 0

    def exchange(self) -> Exchange:
        """The request as the sanitizer takes it (no response: a miss has none)."""
        parts = urlsplit(self.url)
        return Exchange(
            id=str(uuid.uuid4()),
            request=HttpRequest(
                method=self.method,
                path=parts.path or "/",
                query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
                headers=self.headers,
                body=self.body,
                body_truncated=len(self.body) >= MISS_BODY_LIMIT_CHARS,
                authority=self.host if self.port in (0, 80) else f"{self.host}:{self.port}",
            ),
        )


def parse_miss_event(raw: bytes, *, now_s: float | None = None) -> MissEvent:
    """The webhook body -> a MissEvent. Raises InvalidMissEvent (which names no value)."""
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidMissEvent("miss event too large")
    try:
        event = json.loads(raw)
        method, host, url = str(event["method"]), str(event["host"]), str(event["url"])
        shard = str(event["shard"])
    except (ValueError, KeyError, TypeError):
        raise InvalidMissEvent("not a miss event") from None
    if not isinstance(event, dict) or not url.startswith("/"):
        raise InvalidMissEvent("not a miss event")
    return MissEvent(
        shard=shard,
        method=method.upper()[:16],
        host=host.lower()[:255],
        url=url,
        headers=_headers(event.get("headers")),
        body=str(event.get("body") or "").encode("utf-8"),
        seen_at_s=time.time() if now_s is None else now_s,
        port=_port(event.get("port")),
    )


def _port(value: Any) -> int:
    """A TCP port, else 0 (not said)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    return 0


def _headers(value: Any) -> Pairs:
    """WireMock's headers: name -> a value or a list of values."""
    if not isinstance(value, Mapping):
        return ()
    out: list[tuple[str, str]] = []
    for name, values in list(value.items())[:MAX_HEADERS]:
        for item in values if isinstance(values, list) else [values]:
            out.append((str(name), str(item)))
    return tuple(out)
