"""What the console shows, built from the loader's records in Redis: every shard's
recorded stubs (``RedisKeys.shard_record``) and the miss report.

Namespaces come from each stub's capture metadata and each miss's namespaces; endpoints
are path templates, the way the miss report writes them (``{id}`` for ids, numbers,
sanitized values and pattern holes), so a miss lands on the endpoint it missed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import ID_SEGMENT, MissRecord, split_path_pattern, template_path
from ext_proc_server.pipeline import HostSkips

NO_NAMESPACE = "(none)"
# A regex segment that is more than an escaped literal: a hole.
_REGEX_SYNTAX = re.compile(r"(?<!\\)[\[\](){}*+?.|^$]")


class DriftLike(Protocol):
    """What the console reads of a drift record (``loader.drift.DriftRecord``)."""

    namespace: str
    host: str
    method: str
    path_template: str
    mapping_id: str
    changes: tuple[str, ...]
    at_s: float


# A stub's lifecycle from its mapping: first_seen, last_seen and capture_count.
Lifecycle = Callable[[Mapping[str, Any]], Mapping[str, float | int | None]]


def capture_time_lifecycle(mapping: Mapping[str, Any]) -> Mapping[str, float | int | None]:
    """The lifecycle of a stub that carries only its capture time."""
    captured = ((mapping.get("metadata") or {}).get("mockado") or {}).get("captured_at_s")
    return {"first_seen": captured, "last_seen": captured, "capture_count": 1}


@dataclass(frozen=True, slots=True)
class StubRow:
    shard: str
    stub_id: str
    method: str
    url: str
    status: int | None
    last_seen_s: float
    # Requests it answered (mockado's launcher counts them); None where unknown.
    hits: int | None = None
    drift: int = 0


def total_hits(stubs: Iterable[StubRow]) -> int | None:
    """The sum of the known counts; None when no stub's count is known."""
    known = [s.hits for s in stubs if s.hits is not None]
    return sum(known) if known else None


@dataclass
class Endpoint:
    method: str
    path: str
    stubs: list[StubRow] = field(default_factory=list)
    misses: int = 0

    @property
    def last_seen_s(self) -> float:
        return max((s.last_seen_s for s in self.stubs), default=0.0)

    @property
    def hits(self) -> int | None:
        return total_hits(self.stubs)

    @property
    def drift(self) -> int:
        return sum(s.drift for s in self.stubs)


@dataclass
class HostView:
    host: str
    endpoints: dict[tuple[str, str], Endpoint] = field(default_factory=dict)
    misses: int = 0
    # Captures of this host that got no stub, by reason (the collector's skip record).
    skips: HostSkips | None = None
    # Drift records of this host's stubs (in this namespace), newest first.
    drift_records: list[DriftLike] = field(default_factory=list)

    @property
    def drift(self) -> int:
        return len(self.drift_records)

    @property
    def skipped(self) -> int:
        return sum(self.skips.counts.values()) if self.skips else 0

    @property
    def stub_count(self) -> int:
        return sum(len(e.stubs) for e in self.endpoints.values())

    @property
    def last_seen_s(self) -> float:
        return max((e.last_seen_s for e in self.endpoints.values()), default=0.0)

    @property
    def hits(self) -> int | None:
        return total_hits(s for e in self.endpoints.values() for s in e.stubs)

    def endpoint(self, method: str, path: str) -> Endpoint:
        return self.endpoints.setdefault((method, path), Endpoint(method, path))


@dataclass
class NamespaceView:
    name: str
    hosts: dict[str, HostView] = field(default_factory=dict)

    def host(self, name: str) -> HostView:
        return self.hosts.setdefault(name, HostView(name))

    @property
    def stub_count(self) -> int:
        return sum(h.stub_count for h in self.hosts.values())

    @property
    def misses(self) -> int:
        return sum(h.misses for h in self.hosts.values())

    @property
    def skipped(self) -> int:
        return sum(h.skipped for h in self.hosts.values())

    @property
    def drift(self) -> int:
        return sum(h.drift for h in self.hosts.values())

    @property
    def last_seen_s(self) -> float:
        return max((h.last_seen_s for h in self.hosts.values()), default=0.0)

    @property
    def hits(self) -> int | None:
        return total_hits(
            s for h in self.hosts.values() for e in h.endpoints.values() for s in e.stubs
        )


def build_inventory(
    stubs: Iterable[tuple[str, Mapping[str, Any]]],
    misses: Iterable[MissRecord],
    *,
    normalizer: NoiseNormalizer,
    hits: Mapping[str, Mapping[str, int] | None] | None = None,
    skips: Mapping[str, HostSkips] | None = None,
    drift: Iterable[DriftLike] = (),
    lifecycle: Lifecycle = capture_time_lifecycle,
) -> dict[str, NamespaceView]:
    """(shard, mapping) pairs, the miss report, each shard's hit counts (None: unknown),
    each host's skip record and the drift records -> namespace views, sorted by name."""
    hits = hits or {}
    drift = list(drift)
    drift_by_stub: dict[str, int] = {}
    for record in drift:
        drift_by_stub[record.mapping_id] = drift_by_stub.get(record.mapping_id, 0) + 1
    views: dict[str, NamespaceView] = {}
    for shard, mapping in stubs:
        meta = (mapping.get("metadata") or {}).get("mockado") or {}
        if meta.get("catch_all"):
            continue
        request = mapping.get("request") or {}
        namespace = str(meta.get("namespace") or NO_NAMESPACE)
        host = str(meta.get("host") or "(any host)")
        method = str(request.get("method") or "ANY")
        path = stub_path_template(request, normalizer)
        stub_id = str(mapping.get("id") or mapping.get("uuid") or "")
        counts = hits.get(shard)
        row = StubRow(
            shard=shard,
            stub_id=stub_id,
            method=method,
            url=_url(request),
            status=(mapping.get("response") or {}).get("status"),
            last_seen_s=float(lifecycle(mapping).get("last_seen") or 0.0),
            hits=None if counts is None else counts.get(stub_id, 0),
            drift=drift_by_stub.get(stub_id, 0),
        )
        view = views.setdefault(namespace, NamespaceView(namespace))
        view.host(host).endpoint(method, path).stubs.append(row)
    for miss in misses:
        for namespace in miss.namespaces or (NO_NAMESPACE,):
            host = views.setdefault(namespace, NamespaceView(namespace)).host(miss.host)
            host.misses += miss.count
            host.endpoint(miss.method, miss.path).misses += miss.count
    for record in drift:
        namespace = record.namespace or NO_NAMESPACE
        view = views.setdefault(namespace, NamespaceView(namespace))
        view.host(record.host).drift_records.append(record)
    for view in views.values():
        for host in view.hosts.values():
            host.skips = (skips or {}).get(host.host)
    return dict(sorted(views.items()))


def stub_path_template(request: Mapping[str, Any], normalizer: NoiseNormalizer) -> str:
    """The path template of a stub's URL matcher (``{id}`` for every hole)."""
    for kind in ("urlPath", "url"):
        if kind in request:
            path = str(request[kind]).split("?", 1)[0]
            return template_path(path.removeprefix("/").split("/"), normalizer)
    for kind in ("urlPathPattern", "urlPattern", "urlPathTemplate"):
        if kind in request:
            segments = split_path_pattern(str(request[kind]).split("?", 1)[0])
            return "/" + "/".join(_pattern_segment(s, normalizer) for s in segments)
    return "/*"


def _pattern_segment(segment: str, normalizer: NoiseNormalizer) -> str:
    if _REGEX_SYNTAX.search(segment):
        return ID_SEGMENT
    return template_path([segment.replace("\\", "")], normalizer).removeprefix("/")


def _url(request: Mapping[str, Any]) -> str:
    for kind in ("url", "urlPath", "urlPattern", "urlPathPattern", "urlPathTemplate"):
        if kind in request:
            return str(request[kind])
    return "(any URL)"
