"""Keeping one WireMock pod whole: ``mockado keep-shard`` runs beside WireMock in its pod
and answers ready only once that WireMock holds its shard.

WireMock keeps stubs in memory, so a new pod (a rollout, a restart, a scale-up) starts
empty, and its port opens long before the loader notices and reloads it: ready on the
port alone, it would take canary calls and miss every one. The keeper talks to the
WireMock of its own pod (127.0.0.1), never through the shard's Service, which routes only
to Ready pods and so could never reach a pod waiting for its stubs. Every
``loader.resync_check_interval_s`` it runs the loader's resync check (``resync.py``) on
that WireMock: a new WireMock gets its fallbacks and its record back, lost stubs are put
back.

``/readyz`` answers 200 once a check found the WireMock whole or reloaded it, and 503
while it is new (restarted in the pod) or does not answer. A WireMock that only lags its
record (the next round puts the stubs back) stays Ready: taking the only pod of a shard
out for a few stubs would turn every canary call into an error. When Redis does not
answer, nothing changes: a pod that serves keeps serving, one that waits keeps waiting.
Each round also adds what the WireMock served, by the stub that answered, to
``mockado_serving_requests_total`` (``served.py``): the miss ratio's denominator.

Before it turns Ready, the keeper also copies in the stubs that other shards' records hold
for hosts routed to its shard (a new shard, a host moved to it): the loader moves those only
once it can reach the shard, through its Service, so only once the pod is Ready; ready
without them, the pod would miss every call to those hosts until then. They count against
``max_stubs``; the loader's move (``moves``) then writes them to the shard's record and
deletes them from the old shard.

The TLS files the ``loader`` section names (``redis_tls``, ``wiremock_tls``: in Kubernetes a
Secret volume, which the kubelet updates in place when the Secret changes) are followed by
the clients themselves (``core.redis_client``, ``wiremock_client``): when one changed (a
rotated certificate, a new CA), the next connection uses it, so a rotation needs no restart
of the pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import ConfigError, WireMockError
from ext_proc_server.core.metrics import KEEPER_READY, KEEPER_STUBS_TAKEN
from ext_proc_server.core.probes import serve_probes
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.core.tasks import run_until_stopped, stop_on_signals
from ext_proc_server.loader.moves import stubs_routed_to
from ext_proc_server.loader.record import ShardRecord
from ext_proc_server.loader.resync import Holding, ShardResync, reload_lock_ttl_s
from ext_proc_server.loader.routing import Router, shard_urls
from ext_proc_server.loader.served import ServedTally
from ext_proc_server.loader.shards import build_shards
from ext_proc_server.loader.stream import connect_redis
from ext_proc_server.loader.wiremock_client import WireMockClient

log = logging.getLogger(__name__)
BIND_HOST = "0.0.0.0"
START_TIMEOUT_S = 15.0
# What a check found -> Ready or not; the others leave the state as it was.
_READY_AFTER = {Holding.WHOLE: True, Holding.RELOADED: True,
                Holding.EMPTIED: False, Holding.DOWN: False}  # fmt: skip


class ShardKeeper:
    """Keeps the WireMock at ``wiremock_url`` holding shard ``shard``'s record.
    ``await run(stop)``; ``ready`` says whether it holds it; ``await aclose()`` after.

    ``redis`` and ``client`` replace what the config would build."""

    def __init__(
        self,
        config: MockadoConfig,
        *,
        shard: str,
        wiremock_url: str,
        redis: aioredis.Redis | None = None,
        client: WireMockClient | None = None,
    ) -> None:
        cfg = config.loader
        urls, routes = shard_urls(config)
        if shard not in urls:
            raise ConfigError(
                f"--shard {shard!r}: not one of the loader's shards ({', '.join(sorted(urls))})"
            )
        self._stopping = asyncio.Event()
        self._cfg = cfg
        self.redis = redis or connect_redis(cfg)
        clients = {shard: client} if client is not None else {}
        self._router = Router(routes)
        self.shard = build_shards(config, {shard: wiremock_url}, clients, self._router)[shard]
        # Both containers start together: WireMock's JVM answers a few seconds later.
        self.shard.mark_starting()
        self.interval_s = cfg.resync_check_interval_s
        self._record = ShardRecord(
            self.redis,
            keys=RedisKeys(queue=cfg.redis_queue),
            lock_ttl_s=reload_lock_ttl_s(cfg.wiremock_timeout),
        )
        self.resync = self._resync()
        self.served = ServedTally(self.shard)
        self.ready = False
        KEEPER_READY.labels(shard=shard).set(0)

    def _resync(self) -> ShardResync:
        cfg = self._cfg
        return ShardResync(
            shards={self.shard.name: self.shard},
            record=self._record,
            interval_s=self.interval_s,
            batch_size=cfg.redis_batch_size,
            stop=self._stopping,
        )

    async def check(self) -> Holding:
        """One round: check (and reload) the WireMock, then update ``ready``."""
        holding = await self.resync.holding(self.shard)
        ready = _READY_AFTER.get(holding, self.ready)
        if ready and not self.ready:
            ready = await self._take_incoming()
        if ready != self.ready:
            log.log(
                logging.INFO if ready else logging.WARNING,
                "shard %s: wiremock %s; %s",
                self.shard.name, holding.value, "ready" if ready else "not ready",
            )  # fmt: skip
        self.ready = ready
        KEEPER_READY.labels(shard=self.shard.name).set(int(ready))
        if holding is not Holding.DOWN:
            await self._count_served()
        return holding

    async def _count_served(self) -> None:
        try:
            await self.served.read()
        except WireMockError as exc:
            # Counted next round: the counts keep growing in WireMock meanwhile.
            log.debug("shard %s: hit counts not read (%s)", self.shard.name, exc)

    async def _take_incoming(self) -> bool:
        """Copy into the WireMock the stubs other records hold for hosts routed to this
        shard, as many as ``max_stubs`` leaves room for. -> whether that was done."""
        shard, cfg = self.shard, self._cfg
        try:
            room = cfg.max_stubs - await shard.client.count_stubs()
            taken = waiting = 0
            incoming = stubs_routed_to(
                shard.name, redis=self.redis, keys=RedisKeys(queue=cfg.redis_queue),
                record=self._record, router=self._router, batch_size=cfg.redis_batch_size,
            )  # fmt: skip
            async for chunk in incoming:
                fitting = chunk[: max(0, room - taken)]
                if fitting:
                    await shard.client.import_encoded(fitting)
                taken += len(fitting)
                waiting += len(chunk) - len(fitting)
        except (RedisError, WireMockError) as exc:
            log.warning(
                "shard %s: stubs routed here from other shards not copied (%s); not ready",
                shard.name, type(exc).__name__,
            )  # fmt: skip
            return False
        if taken or waiting:
            KEEPER_STUBS_TAKEN.labels(shard=shard.name).inc(taken)
            log.info(
                "shard %s: copied %d stubs routed here from other shards' records (%d more "
                "wait for room, max_stubs=%d); the loader moves them here",
                shard.name, taken, waiting, cfg.max_stubs,
            )  # fmt: skip
        return True

    async def ready_check(self) -> dict[str, bool]:
        return {"shard_loaded": self.ready}

    async def run(self, stop: asyncio.Event) -> None:
        """Check at once, then every ``interval_s``, until ``stop`` is set."""
        log.info("keeping shard %s on %s", self.shard.name, self.shard.client.display_url)
        # A stop cuts a reload short too (between two batches).
        relay = asyncio.create_task(self._stop_on(stop))
        try:
            while not self._stopping.is_set():
                await self.check()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_s)
        finally:
            relay.cancel()

    async def _stop_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._stopping.set()

    async def aclose(self) -> None:
        await self.shard.client.aclose()
        await self.redis.aclose()


async def _main(config: MockadoConfig, *, shard: str, wiremock_url: str) -> int:
    stop = stop_on_signals()
    keeper = ShardKeeper(config, shard=shard, wiremock_url=wiremock_url)
    server = await asyncio.wait_for(
        serve_probes(ready_check=keeper.ready_check, host=BIND_HOST, port=config.loader.http_port),
        timeout=START_TIMEOUT_S,
    )
    return await run_until_stopped(keeper, server, stop)


def keeper_main(config: MockadoConfig, *, shard: str, wiremock_url: str) -> int:
    """``mockado keep-shard``: blocks until SIGTERM/SIGINT. -> exit code."""
    return asyncio.run(_main(config, shard=shard, wiremock_url=wiremock_url))
