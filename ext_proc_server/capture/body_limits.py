"""Per host and path body limits: how many bytes of one stream's bodies are kept.

A stream's limit is decided from its request headers: the first rule of the capturing
namespace (``control_plane.namespaces.<ns>.body_limits``, sent by the capture filter in
the ``x-mockado-body-limits`` metadata) that matches the host and path, else the first
of ``collector.body_limits``, else the stream's default (``body_limit_bytes``). Hosts
are globs on the host of :authority (no port) or on its canonical name (an in-cluster
Service's FQDN, ``core.hosts``), paths are prefixes or ``re:`` regexes
over the whole path, as in the capture filters. Bytes past the limit are counted, never
buffered (``bodies.BodyBuffer``), so memory stays bounded by the largest limit (1 MiB).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from ext_proc_server.core.config import MIB, BodyLimit, decode_body_limits
from ext_proc_server.core.hosts import host_of

BODY_LIMIT_MIN_BYTES = 1024
BODY_LIMIT_MAX_BYTES = MIB

# One rule: (host regex, path prefix or None, path regex or None, bytes).
_Rule = tuple[re.Pattern[str], str | None, re.Pattern[str] | None, int]


class BodyLimitRules:
    """Compiled rules, tried in order; immutable and shared by every stream."""

    __slots__ = ("_rules",)

    def __init__(self, rules: Sequence[_Rule]) -> None:
        self._rules = tuple(rules)

    def __bool__(self) -> bool:
        return bool(self._rules)

    def __add__(self, other: BodyLimitRules) -> BodyLimitRules:
        return BodyLimitRules(self._rules + other._rules)

    def limit_for(self, authority: str, path: str, *, canonical: str = "") -> int | None:
        """The first matching rule's bytes, or None when no rule matches. A rule's host
        matches the host of ``authority`` or ``canonical`` (its canonical name)."""
        if not self._rules:
            return None
        host = host_of(authority)
        for host_regex, prefix, path_regex, limit in self._rules:
            if not (host_regex.fullmatch(host) or (canonical and host_regex.fullmatch(canonical))):
                continue
            if prefix is not None and path.startswith(prefix):
                return limit
            if path_regex is not None and path_regex.fullmatch(path):
                return limit
        return None


NO_RULES = BodyLimitRules(())


def compile_rules(limits: Iterable[tuple[str, str, int]]) -> BodyLimitRules:
    """Rules from (host glob, path filter, bytes); bytes clamped to 1 KiB - 1 MiB.
    Raises ValueError on a regex that does not compile."""
    rules: list[_Rule] = []
    for host, path, limit in limits:
        host_regex = re.compile(fnmatch.translate(host.lower()))
        if path.startswith("re:"):
            prefix, path_regex = None, re.compile(path[3:])
        else:
            prefix, path_regex = path, None
        clamped = min(max(int(limit), BODY_LIMIT_MIN_BYTES), BODY_LIMIT_MAX_BYTES)
        rules.append((host_regex, prefix, path_regex, clamped))
    return BodyLimitRules(rules)


def config_rules(limits: Sequence[BodyLimit]) -> BodyLimitRules:
    """The rules of a config list (collector.body_limits), validated at load."""
    return compile_rules((rule.host, rule.path, rule.bytes) for rule in limits)


@lru_cache(maxsize=64)
def metadata_rules(value: str) -> BodyLimitRules:
    """Rules from the ``x-mockado-body-limits`` metadata; a malformed value gives none
    (capture goes on with the other limits)."""
    try:
        return compile_rules(decode_body_limits(value))
    except (ValueError, re.error):
        return NO_RULES
