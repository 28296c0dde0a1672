"""Which WireMock shard an item goes to: by its host, first matching pattern wins."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Sequence

from ext_proc_server.core.config import MockadoConfig, cluster_hosts

DEFAULT_SHARD = "default"


def safe_name(name: str) -> str:
    """A shard name usable in paths and metric labels."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "shard"


def shard_urls(config: MockadoConfig) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """-> ({shard name: wiremock url}, [(host pattern, shard name), ...] in config order).

    Routes sharing a WireMock URL share one shard. The loader's own wiremock_url is
    "default"; other URLs take the name of the ``serving.shard_groups`` group that lists
    the route's host pattern, else "shard-<n>" in order of appearance. Patterns take the
    canonical host form (``core.hosts.ClusterHosts``): queue entries carry canonical hosts.
    """
    loader = config.loader
    hosts = cluster_hosts(config.collector)
    names_by_url = {loader.wiremock_url: DEFAULT_SHARD}
    urls = {DEFAULT_SHARD: loader.wiremock_url}
    routes: list[tuple[str, str]] = []
    for route in loader.shards:
        name = names_by_url.get(route.wiremock_url)
        if name is None:
            groups = [g for g, hosts in config.serving.shard_groups.items() if route.host in hosts]
            name = safe_name(groups[0]) if len(groups) == 1 else f"shard-{len(urls)}"
            while name in urls:
                name = f"{name}-{len(urls)}"
            names_by_url[route.wiremock_url] = name
            urls[name] = route.wiremock_url
        routes.append((hosts.canonical_pattern(route.host), name))
    return urls, routes


class Router:
    """Host -> shard name, first matching fnmatch pattern wins (case-insensitive)."""

    def __init__(self, routes: Sequence[tuple[str, str]], *, cache_size: int = 4096) -> None:
        self._routes = list(routes)
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    @property
    def fingerprint(self) -> str:
        """Names this routing (10 hex digits): replicas sharing it route every host alike."""
        return hashlib.sha256(json.dumps(self._routes).encode()).hexdigest()[:10]

    def shard_for(self, host: str) -> str:
        found = self._cache.get(host)
        if found is not None:
            return found
        lowered = host.lower()
        found = next(
            (name for pattern, name in self._routes if fnmatch.fnmatchcase(lowered, pattern)),
            DEFAULT_SHARD,
        )
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[host] = found
        return found
