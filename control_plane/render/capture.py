"""The ext_proc capture filter's values, shared by the local proxy and the EnvoyFilters:
skip rules from include/exclude filters, sampling, and the capture mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from control_plane.render.matchers import host_matcher, path_matcher, sample_fraction
from ext_proc_server.core.config import CollectorService
from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.names import (
    EXT_PROC_FILTER_NAME,
    REQUEST_ATTRIBUTES,
    RESPONSE_ATTRIBUTES,
)

EXT_PROC_STAT_PREFIX = "mockado"
# Blocking mode waits at most this long per message, then fails open.
BLOCKING_MESSAGE_TIMEOUT_S = 0.2


@dataclass(frozen=True)
class SkipRule:
    comment: str
    header: str
    patterns: tuple[dict[str, Any], ...]
    # negate: skip when the request matches NONE of the patterns (include lists).
    negate: bool = False


@dataclass(frozen=True)
class CaptureFilter:
    """Everything the ext_proc snippet in _capture.j2 needs."""

    cluster_name: str
    authority: str
    observability: bool
    failure_mode_allow: bool
    deferred_close_timeout_s: float
    message_timeout_s: float
    initial_metadata: tuple[tuple[str, str], ...]
    rules: tuple[SkipRule, ...] = ()
    sample: dict[str, Any] | None = None
    request_attributes: tuple[str, ...] = REQUEST_ATTRIBUTES
    response_attributes: tuple[str, ...] = RESPONSE_ATTRIBUTES
    filter_name: str = EXT_PROC_FILTER_NAME
    stat_prefix: str = EXT_PROC_STAT_PREFIX


def skip_rules(
    *,
    include_hosts: Sequence[str] = (),
    exclude_hosts: Sequence[str] = (),
    include_paths: Sequence[str] = (),
    exclude_paths: Sequence[str] = (),
) -> tuple[SkipRule, ...]:
    """Excluded paths and hosts first, then the include lists (skip what none matches)."""
    candidates = (
        ("Excluded paths are never captured.", ":path", exclude_paths, path_matcher, False),
        ("Excluded hosts are never captured.", ":authority", exclude_hosts, host_matcher, False),
        ("Only listed paths are captured.", ":path", include_paths, path_matcher, True),
        ("Only listed hosts are captured.", ":authority", include_hosts, host_matcher, True),
    )
    return tuple(
        SkipRule(comment, header, tuple(matcher(p) for p in patterns), negate=negate)
        for comment, header, patterns, matcher, negate in candidates
        if patterns
    )


def sample_matcher(percent: float, runtime_key: str) -> dict[str, Any] | None:
    """The sampling fraction with its runtime key; None at 100% (every request is captured)."""
    fraction = sample_fraction(percent)
    if percent == 100:
        return None  # no matcher: every request is captured
    return {**fraction, "runtime_key": runtime_key}


def is_observability_mode(collector: CollectorService, capture_mode: str | None) -> bool:
    """``capture_mode`` (default: the collector's) is observability, not blocking."""
    mode = capture_mode or collector.capture_mode
    if mode not in ("observability", "blocking"):
        raise RenderError("capture_mode: must be 'observability' or 'blocking'")
    return mode == "observability"
