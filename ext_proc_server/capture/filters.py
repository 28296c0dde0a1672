"""Which streams the server captures: host and path filters, then sampling.

The same filters can also run in Envoy (the control plane renders them as
matchers); here they are enforced again, so a hand-written Envoy config or a
stale EnvoyFilter cannot make the collector keep what the config excludes.

* Hosts are fnmatch patterns (case-insensitive) on the host of :authority
  (``core.hosts.host_of``: no port, no IPv6 brackets).
* Paths are prefixes, or regexes with a ``re:`` prefix that must match the whole
  path (the query string excluded), as in the rendered Envoy matchers.
* Sampling hashes x-request-id, so one request id always gets the same decision
  on every replica; a request without one is sampled at random.
"""

from __future__ import annotations

import fnmatch
import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.hosts import host_of

_HASH_SPACE = 2**64


class _PathMatcher:
    __slots__ = ("_prefixes", "_regex")

    def __init__(self, patterns: Sequence[str], *, key: str) -> None:
        self._prefixes = tuple(p for p in patterns if not p.startswith("re:"))
        regexes = [p[3:] for p in patterns if p.startswith("re:")]
        try:
            self._regex = re.compile("|".join(f"(?:{r})" for r in regexes)) if regexes else None
        except re.error as exc:
            raise ConfigError(f"collector.{key}: invalid regex ({exc.msg})") from exc

    def matches(self, path: str) -> bool:
        if self._prefixes and path.startswith(self._prefixes):
            return True
        return bool(self._regex is not None and self._regex.fullmatch(path))


class _HostMatcher:
    __slots__ = ("_regex",)

    def __init__(self, patterns: Sequence[str]) -> None:
        parts = [fnmatch.translate(p.lower()) for p in patterns]
        self._regex = re.compile("|".join(parts)) if parts else None

    def matches(self, host: str) -> bool:
        return bool(self._regex is not None and self._regex.match(host))


@dataclass(frozen=True, slots=True)
class Decision:
    capture: bool
    # Why not: "filtered" or "not_sampled" (a collector_dropped_total reason).
    reason: str = ""


CAPTURE = Decision(True)
FILTERED = Decision(False, "filtered")
NOT_SAMPLED = Decision(False, "not_sampled")


class CaptureFilter:
    """Decides, from the request headers alone, whether a stream is captured."""

    def __init__(self, config: CollectorConfig) -> None:
        self._include_hosts = _HostMatcher(config.include_hosts)
        self._exclude_hosts = _HostMatcher(config.exclude_hosts)
        self._include_paths = _PathMatcher(config.include_paths, key="include_paths")
        self._exclude_paths = _PathMatcher(config.exclude_paths, key="exclude_paths")
        self._has_include_hosts = bool(config.include_hosts)
        self._has_include_paths = bool(config.include_paths)
        self._has_host_rules = bool(config.include_hosts or config.exclude_hosts)
        self._has_path_rules = bool(config.include_paths or config.exclude_paths)
        self.sample_rate = config.sample_rate
        self._threshold = int(config.sample_rate * _HASH_SPACE)
        # No rule and no sampling: every stream is captured, nothing to decide.
        self.captures_all = not (self._has_host_rules or self._has_path_rules) and (
            config.sample_rate >= 1.0
        )

    def decide(self, *, authority: str, path: str, request_id: str | None) -> Decision:
        """``path`` is the path without its query string."""
        if self._has_host_rules:
            host = host_of(authority)
            if self._exclude_hosts.matches(host):
                return FILTERED
            if self._has_include_hosts and not self._include_hosts.matches(host):
                return FILTERED
        if self._has_path_rules:
            if self._exclude_paths.matches(path):
                return FILTERED
            if self._has_include_paths and not self._include_paths.matches(path):
                return FILTERED
        if not self.sampled(request_id):
            return NOT_SAMPLED
        return CAPTURE

    def sampled(self, request_id: str | None) -> bool:
        if self.sample_rate >= 1.0:
            return True
        if self.sample_rate <= 0.0:
            return False
        if request_id:
            digest = hashlib.blake2b(request_id.encode("utf-8", "replace"), digest_size=8)
            return int.from_bytes(digest.digest(), "big") < self._threshold
        return random.random() < self.sample_rate
