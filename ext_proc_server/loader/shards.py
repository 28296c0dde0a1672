"""One WireMock shard as the loader sees it: its client, the ids and stub count it holds,
whether it answers, and the catch-all stub it must always have."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ext_proc_server.core.config import MockadoConfig, cluster_hosts
from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.metrics import LOADER_ERRORS, LOADER_STUB_COUNT, LOADER_STUBS_RETIRED
from ext_proc_server.loader.routing import Router
from ext_proc_server.loader.wiremock_client import WireMockAuthError, WireMockClient, client_for
from ext_proc_server.mapping import old_stubs
from ext_proc_server.mapping.catch_all import catch_all_mapping, passthrough_mapping

log = logging.getLogger(__name__)

# The loader app's endpoint that each shard's catch-all webhook calls on a miss.
UNMATCHED_PATH = "/unmatched"


@dataclass
class Shard:
    name: str
    client: WireMockClient
    # Ids WireMock holds: an overwrite of one of them does not grow the store.
    known_ids: set[str] = field(default_factory=set)
    stub_count: int = 0
    seeded: bool = False
    available: bool = True
    down_since: float = 0.0
    # Why it is down: the error type counted (a refusal of the credentials is logged anew).
    down_because: str = ""
    last_count_at: float = 0.0
    last_seed_at: float = 0.0
    # One import at a time per shard keeps the stub count and budget exact.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The lowest-priority stub answering misses at once (mapping_catch_all).
    catch_all: dict[str, Any] | None = None
    # Just above it: the hosts whose misses go to the real service (on_miss: passthrough).
    passthroughs: list[dict[str, Any]] = field(default_factory=list)
    # (shard, ids) -> drop stubs removed for good from the record, their claims released
    # (``ShardRecord.remove``; None: the record is left to the next resync).
    forget: Callable[[str, Collection[str]], Awaitable[None]] | None = None

    @property
    def fallbacks(self) -> list[dict[str, Any]]:
        """The stubs the loader writes from its config, not from the queue."""
        return [*([self.catch_all] if self.catch_all is not None else []), *self.passthroughs]

    def set_count(self, count: int) -> None:
        self.stub_count = count
        LOADER_STUB_COUNT.labels(shard=self.name).set(count)

    async def seed(self) -> None:
        """Known ids from WireMock's own list: at startup and after WireMock came back."""
        mappings = await self.client.list_mappings()
        self.known_ids = {str(m.get("id") or m.get("uuid")) for m in mappings}
        missing = [m for m in self.fallbacks if m["id"] not in self.known_ids]
        if missing:
            # A fresh or restarted WireMock: put the fallbacks back before anything is served.
            await self.client.import_mappings(missing)
            self.known_ids.update(m["id"] for m in missing)
            mappings.extend(missing)
        old = old_stubs(mappings)
        for batch in old.batches:
            await self.client.import_mappings(batch)  # narrowed to the current format
        for stub_id, reason in old.retired:
            # Written by an earlier version and not faithful: a miss, not a wrong answer.
            await self.client.delete_mapping(stub_id)
            LOADER_STUBS_RETIRED.labels(reason=reason).inc()
            self.known_ids.discard(stub_id)
        if old.retired and self.forget is not None:
            # Its next capture records it again, on today's format.
            await self.forget(self.name, [stub_id for stub_id, _ in old.retired])
        self.set_count(len(mappings) - len(old.retired))
        now = time.monotonic()
        self.last_seed_at = self.last_count_at = now
        self.seeded = True

    def mark_down(self, exc: WireMockError, *, held: int = 0) -> None:
        """WireMock did not answer, or refused the credentials: counted each time, logged
        once per outage (and again when its cause changes)."""
        refused = isinstance(exc, WireMockAuthError)
        error_type = "wiremock_unauthorized" if refused else "wiremock_unavailable"
        LOADER_ERRORS.labels(error_type=error_type, shard=self.name).inc()
        if self.available or error_type != self.down_because:
            if self.available:
                self.down_since = time.monotonic()
            self.available = False
            self.down_because = error_type
            log.log(
                logging.ERROR if refused else logging.WARNING,
                "wiremock shard %s unavailable (%s); holding %d items and retrying",
                self.name, exc, held,
            )  # fmt: skip

    def mark_starting(self) -> None:
        """A WireMock starting beside us (its pod just started): it not answering yet is
        expected, not an outage to log; its first answer is logged with the wait."""
        self.available = False
        self.down_since = time.monotonic()
        self.down_because = "wiremock_unavailable"

    def mark_up(self) -> bool:
        """WireMock answered. -> True when it was down until now."""
        if self.available:
            return False
        self.available = True
        log.info(
            "wiremock shard %s back after %.1fs", self.name, time.monotonic() - self.down_since
        )
        return True


def build_shards(
    config: MockadoConfig,
    urls: Mapping[str, str],
    clients: Mapping[str, WireMockClient],
    router: Router,
    *,
    forget: Callable[[str, Collection[str]], Awaitable[None]] | None = None,
) -> dict[str, Shard]:
    """One Shard per WireMock URL (see ``routing.shard_urls``, or a part of it);
    ``clients`` replaces the client of the shards it names (an in-process WireMock, for
    instance); ``forget``: :attr:`Shard.forget`."""
    loader = config.loader
    notify_url = (
        config.serving.unmatched_webhook_url
        or f"http://127.0.0.1:{loader.http_port}{UNMATCHED_PATH}"
    )
    shards = {
        name: Shard(
            name=name,
            client=clients.get(name) or client_for(loader, url),
            catch_all=catch_all_mapping(shard=name, notify_url=notify_url),
            forget=forget,
        )
        for name, url in urls.items()
    }
    for name, stub in passthrough_stubs(config, router):
        if name in shards:
            shards[name].passthroughs.append(stub)
    return shards


def passthrough_stubs(config: MockadoConfig, router: Router) -> list[tuple[str, dict[str, Any]]]:
    """(shard, pass-through stub) for every canary host with ``on_miss: passthrough``,
    each host once, on the shard its stubs are routed to."""
    namespaces = config.control_plane.namespaces
    hosts = cluster_hosts(config.collector, namespaces=namespaces.keys())
    base_url = config.serving.passthrough_url
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for namespace, settings in sorted(namespaces.items()):
        canary = settings.canary
        for host in canary.passthrough_hosts() if canary is not None else ():
            canonical = hosts.canonical(host, namespace=namespace)
            shard = router.shard_for(canonical)
            out.setdefault(
                canonical,
                (
                    shard,
                    passthrough_mapping(
                        shard=shard,
                        host=canonical,
                        aliases=hosts.aliases(canonical),
                        proxy_base_url=base_url or None,
                    ),
                ),
            )
    return list(out.values())
