"""A miss, sanitized and reduced to its template: what the report stores and compares.

Sanitizing comes first, with the capture's own sanitizer in tokens mode (every value it
finds becomes a ``SANITIZED_*`` token, whatever ``collector.sanitize_mode`` says, so no
pseudonym key is needed and nothing found survives). Then path segments that are ids
(numbers, UUIDs, long tokens with digits, sanitized values, noise) collapse to ``{id}``;
query keys are kept and their values dropped. Two misses with the same host, method,
path template and query keys are the same logical miss.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import pairs_to_mapping
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses.event import MissEvent
from ext_proc_server.misses.sqs_sends import SendReadings, read_sends
from ext_proc_server.sanitize import Sanitizer

ID_SEGMENT = "{id}"
# Numbers, long hex runs, and tokens of 8+ characters holding a digit (order-2024-0001).
_ID_LIKE = re.compile(r"[0-9]+|[0-9A-Fa-f]{16,}|(?=[^/]*[0-9])[A-Za-z0-9._~:@+=-]{8,}")
MAX_QUERY_KEYS = 50
MAX_KEY_CHARS = 100


@dataclass(frozen=True, slots=True)
class MissSample:
    """One sanitized miss: its identity (``key``) plus the sanitized parts the closest
    stub is looked for with. Nothing raw is left in it."""

    host: str
    method: str
    path: str  # the template: /api/users/{id}/orders
    query_keys: tuple[str, ...]
    segments: tuple[str, ...] = ()  # the sanitized path segments, for matching
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-cased names
    body_json: Any = None
    body_form: dict[str, list[str]] | None = None
    body_text: str = ""
    # The port called (80 when Host had none; 0: not known).
    port: int = 0
    # The raw body as the launcher's SQS send matcher reads it (no value kept), or None.
    sqs_sends: SendReadings | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        key: tuple[Any, ...] = (self.host, self.method, self.path, self.query_keys)
        # Another port of one Service is another miss; the default port keeps the id it had.
        return key if self.port in (0, 80) else (*key, self.port)

    @property
    def destination(self) -> str:
        """The host, with the port when it is not the default: what the report shows."""
        return self.host if self.port in (0, 80) else f"{self.host}:{self.port}"

    @property
    def miss_id(self) -> str:
        """A stable id of the logical miss: the same on every loader replica."""
        return hashlib.sha256(json.dumps(self.key).encode()).hexdigest()[:20]


def miss_sanitizer(config: CollectorConfig) -> Sanitizer:
    """The capture's sanitizer, always on and in tokens mode (see the module doc)."""
    strict = config.model_copy(update={"sanitize_enabled": True, "sanitize_mode": "tokens"})
    return Sanitizer(strict)


def describe_miss(
    event: MissEvent, *, sanitizer: Sanitizer, normalizer: NoiseNormalizer
) -> MissSample:
    """Sanitize the event's request and reduce it. Raises SanitizeError like a capture."""
    raw = event.exchange().request
    # Read before sanitizing: the launcher's matcher read the body as it was sent.
    sends = read_sends(raw.body, content_type_header=raw.header("content-type") or "",
                       truncated=raw.body_truncated)  # fmt: skip
    exchange = sanitizer.sanitize(event.exchange())
    request = exchange.request
    host = normalizer.canonical_host(exchange)
    segments = tuple(unquote(s) for s in request.path.removeprefix("/").split("/"))
    template = template_path(segments, normalizer)
    query = pairs_to_mapping(request.query)
    keys = tuple(sorted(k[:MAX_KEY_CHARS] for k in query))[:MAX_QUERY_KEYS]
    body_json, body_form, body_text = _body(request.body, request.content_type)
    return MissSample(
        host=host,
        method=request.method,
        path=template,
        query_keys=keys,
        segments=segments,
        query=query,
        headers=pairs_to_mapping(tuple((k.lower(), v) for k, v in request.headers)),
        body_json=body_json,
        body_form=body_form,
        body_text=body_text,
        port=event.port,
        sqs_sends=sends,
    )


def template_path(segments: Sequence[str], normalizer: NoiseNormalizer) -> str:
    """Sanitized path segments -> the path template (ids as ``{id}``)."""
    return "/" + "/".join(_template_segment(s, normalizer) for s in segments)


def _template_segment(segment: str, normalizer: NoiseNormalizer) -> str:
    if not isinstance(normalizer.normalize_string(segment), str) or _ID_LIKE.fullmatch(segment):
        return ID_SEGMENT
    return segment


def _body(body: bytes, content_type: str) -> tuple[Any, dict[str, list[str]] | None, str]:
    """-> (parsed JSON or None, form fields or None, the text)."""
    text = body.decode("utf-8", errors="replace")
    if not text:
        return None, None, ""
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(text), None, text
        except ValueError:
            pass
    if content_type == "application/x-www-form-urlencoded":
        form = pairs_to_mapping(tuple(parse_qsl(text, keep_blank_values=True)))
        return None, form, text
    return None, None, text
