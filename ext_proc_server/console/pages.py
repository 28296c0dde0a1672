"""The console's pages: server-rendered HTML (Jinja2, autoescaped), plain links and
tables, no JavaScript. Every page reads the records afresh (the stubs at most every
``STUBS_CACHE_S``); nothing here writes."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ext_proc_server.console.auth import ConsoleAuth
from ext_proc_server.console.inventory import (
    DriftLike,
    Lifecycle,
    NamespaceView,
    build_inventory,
    capture_time_lifecycle,
)
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import MockadoError
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import MissRecord
from ext_proc_server.pipeline import HostSkips

CONSOLE_PATH = "/console"
StubsSource = Callable[[], Awaitable[Sequence[tuple[str, Mapping[str, Any]]]]]
MissesSource = Callable[[], Awaitable[Sequence[MissRecord]]]
# Shard -> {stub id: requests answered}, or None where the shard keeps no count.
HitsSource = Callable[[], Awaitable[Mapping[str, Mapping[str, int] | None]]]
# Host -> its record of captures that got no stub (the collector's skip record).
SkipsSource = Callable[[], Awaitable[Mapping[str, HostSkips]]]
# The drift records, newest first.
DriftSource = Callable[[], Awaitable[Sequence[DriftLike]]]
Handler = Callable[[Request], Awaitable[Response]]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.filters["when"] = lambda s: (
        time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(s)) if s else "-"
    )
    env.filters["count"] = lambda value: "n/a" if value is None else value
    env.filters["reasons"] = lambda counts: ", ".join(
        f"{reason} {count}" for reason, count in sorted(counts.items())
    )
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True)
    return env


class Console:
    """The pages, given where the stubs and the miss report come from."""

    def __init__(
        self,
        config: MockadoConfig,
        *,
        stubs: StubsSource,
        misses: MissesSource,
        hits: HitsSource | None = None,
        skips: SkipsSource | None = None,
        drift: DriftSource | None = None,
        lifecycle: Lifecycle = capture_time_lifecycle,
    ) -> None:
        self._auth = ConsoleAuth(config.loader)
        self._stubs = stubs
        self._misses = misses
        self._hits = hits
        self._skips = skips
        self._drift = drift
        self._lifecycle = lifecycle
        self._normalizer = NoiseNormalizer(config.collector)
        self._env = _environment()
        self._grafana_url = config.loader.console_grafana_url

    def routes(self) -> list[BaseRoute]:
        return [
            Route(CONSOLE_PATH, self._guard(self._root)),
            Route(f"{CONSOLE_PATH}/", self._guard(self._namespaces)),
            Route(f"{CONSOLE_PATH}/misses", self._guard(self._miss_report)),
            Route(f"{CONSOLE_PATH}/ns/{{namespace}}", self._guard(self._namespace)),
            Route(f"{CONSOLE_PATH}/ns/{{namespace}}/{{host}}", self._guard(self._host)),
            Route(f"{CONSOLE_PATH}/stub/{{shard}}/{{stub_id}}", self._guard(self._stub)),
        ]

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            refused = self._auth.refuse(request)
            if refused is not None:
                return refused
            try:
                return await handler(request)
            except (MockadoError, RedisError) as exc:
                # The error's type only: its text could name a URL.
                return self._page("error.html", 503, reason=type(exc).__name__)

        return guarded

    def _page(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        html = self._env.get_template(template).render(
            console=CONSOLE_PATH, grafana_url=self._grafana_url, **context
        )
        return HTMLResponse(html, status_code=status_code)

    async def _inventory(self) -> dict[str, NamespaceView]:
        hits = await self._hits() if self._hits is not None else None
        skips = await self._skip_records()
        return build_inventory(
            await self._stubs(),
            await self._misses(),
            normalizer=self._normalizer,
            hits=hits,
            skips=skips,
            drift=await self._drift_records(),
            lifecycle=self._lifecycle,
        )

    async def _drift_records(self) -> Sequence[DriftLike]:
        return await self._drift() if self._drift is not None else []

    async def _skip_records(self) -> Mapping[str, HostSkips]:
        return await self._skips() if self._skips is not None else {}

    async def _root(self, _: Request) -> Response:
        return RedirectResponse(f"{CONSOLE_PATH}/", status_code=308)

    async def _namespaces(self, _: Request) -> Response:
        skips = sorted((await self._skip_records()).values(), key=lambda s: s.host)
        return self._page(
            "namespaces.html", namespaces=list((await self._inventory()).values()), skips=skips
        )

    async def _namespace(self, request: Request) -> Response:
        view = (await self._inventory()).get(request.path_params["namespace"])
        if view is None:
            return self._page("not_found.html", 404, what="namespace")
        return self._page("namespace.html", namespace=view)

    async def _host(self, request: Request) -> Response:
        view = (await self._inventory()).get(request.path_params["namespace"])
        host = view.hosts.get(request.path_params["host"]) if view else None
        if view is None or host is None:
            return self._page("not_found.html", 404, what="host")
        endpoints = sorted(host.endpoints.values(), key=lambda e: (e.path, e.method))
        return self._page("host.html", namespace=view, host=host, endpoints=endpoints)

    async def _stub(self, request: Request) -> Response:
        shard, stub_id = request.path_params["shard"], request.path_params["stub_id"]
        for owner, mapping in await self._stubs():
            if owner == shard and str(mapping.get("id") or mapping.get("uuid")) == stub_id:
                meta = (mapping.get("metadata") or {}).get("mockado") or {}
                counts = (await self._hits()).get(shard) if self._hits is not None else None
                hits = None if counts is None else counts.get(stub_id, 0)
                drift = [d for d in await self._drift_records() if d.mapping_id == stub_id]
                return self._page(
                    "stub.html", shard=shard, stub_id=stub_id, mapping=mapping, meta=meta,
                    hits=hits, lifecycle=self._lifecycle(mapping), drift=drift,
                )  # fmt: skip
        return self._page("not_found.html", 404, what="stub")

    async def _miss_report(self, _: Request) -> Response:
        stubs = {str(m.get("id") or m.get("uuid")): shard for shard, m in await self._stubs()}
        return self._page("misses.html", misses=await self._misses(), stub_shards=stubs)
