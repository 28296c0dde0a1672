"""``body_limits``: per host and path body limits, under ``collector`` and under each
``control_plane.namespaces.<ns>`` (the namespace's reach the collector in the capture
filter's gRPC initial metadata)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import Field, field_validator

from ext_proc_server.core.config.checks import check_host_patterns, check_path_filters
from ext_proc_server.core.config.sections import KIB, MIB, ConfigSection

_SEPARATORS = (",", ":")

# Rules per list: they travel in gRPC metadata and are tried in order per stream.
MAX_BODY_LIMIT_RULES = 32


class BodyLimit(ConfigSection):
    """Bodies of requests to ``host`` whose path matches ``path`` are kept up to ``bytes``
    (request and response alike), so a known large response can be captured whole."""

    # A host glob on the host of :authority (no port), as collector.include_hosts.
    host: str
    # A path prefix, or ``re:REGEX`` over the whole path, as collector.include_paths.
    path: str = "/"
    bytes: int = Field(ge=KIB, le=MIB)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        host = value.strip().lower()
        try:
            check_host_patterns([host])
        except ValueError as exc:
            raise ValueError(str(exc)) from None  # one value, not a list: no index
        return host

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        try:
            check_path_filters([value])
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        return value


def encode_body_limits(limits: Sequence[BodyLimit]) -> str:
    """A namespace's rules as the capture filter sends them (``META_BODY_LIMITS``):
    compact JSON, ``[[host, path, bytes], ...]``."""
    return json.dumps(
        [[rule.host, rule.path, rule.bytes] for rule in limits], separators=_SEPARATORS
    )


def decode_body_limits(value: str) -> list[tuple[str, str, int]]:
    """The rules of ``encode_body_limits`` (at most MAX_BODY_LIMIT_RULES); raises
    ValueError when the value is not that format."""
    try:
        rows = json.loads(value)
        if not isinstance(rows, list):
            raise ValueError("not a list")
        out = []
        for host, path, limit in rows[:MAX_BODY_LIMIT_RULES]:
            if not (isinstance(host, str) and isinstance(path, str) and type(limit) is int):
                raise ValueError("not [host, path, bytes]")
            out.append((host, path, limit))
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body limits metadata: malformed ({type(exc).__name__})") from exc
    return out
