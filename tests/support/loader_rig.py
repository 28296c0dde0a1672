"""An in-process loader, its config, stubs and waiting, for loader tests."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import redis
from prometheus_client import REGISTRY

from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.loader.consumer import Loader


def stub(n: int, *, run: str, persistent: bool = False, body: str | None = None) -> dict:
    mapping = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}/{n}")),
        "request": {"method": "GET", "urlPath": f"/{run}/item/{n}"},
        "response": {"status": 200, "body": body or f"item {n}"},
    }
    if persistent:
        mapping["persistent"] = True
    return mapping


def config_for(redis_url: str, wiremock_url: str, queue: str, **loader: object) -> MockadoConfig:
    overrides = {
        "loader.redis_url": redis_url,
        "loader.wiremock_url": wiremock_url,
        "loader.redis_queue": queue,
        "loader.retry_backoff": 0.05,
        "loader.retry_max_delay": 0.5,
        "loader.http_port": 0,
    }
    overrides.update({f"loader.{k}": v for k, v in loader.items()})
    return load_config(env={}, overrides=overrides)


class LoaderThread:
    """An in-process Loader on its own event loop thread."""

    def __init__(self, config: MockadoConfig) -> None:
        self.config = config
        self._started = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        self.loader = Loader(self.config)
        self._started.set()
        try:
            await self.loader.run(self.stop)
        finally:
            await self.loader.aclose()

    def __enter__(self) -> LoaderThread:
        self._thread.start()
        assert self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self._thread.join(60)
        assert not self._thread.is_alive(), "loader did not stop"


def wait_for(check: Callable[[], bool], *, timeout_s: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, redis.RedisError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
