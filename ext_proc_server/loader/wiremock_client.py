"""A small asyncio client for WireMock's admin API, used by the loader and restore.

Every httpx failure becomes a :class:`WireMockError`: ``status_code`` is the HTTP
status of a refused request, ``None`` when WireMock could not be reached, so
``WireMockError.is_terminal`` tells a bad mapping (4xx) from a WireMock that is
down (connect error, timeout, 5xx). A 401/403 is :class:`WireMockAuthError`: the
admin API refused the loader's credentials, which is no mapping's fault, so it is
not terminal (held items wait for the fix, nothing is dead-lettered). Messages name
the operation and the status, never WireMock's error detail: it quotes the mapping back.

With ``tls`` on, the client reads its certificate files again when they changed (a
rotated Secret volume, ``core.file_watch``) before its next request: new connections use
them, with no restart; requests in flight finish on the old connections, closed after.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx

from ext_proc_server.core.config import LoaderConfig, TLSClient, redact_url
from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.file_watch import FileWatch, tls_files
from ext_proc_server.core.metrics import LOADER_STUBS_RETIRED, LOADER_WIREMOCK_DURATION
from ext_proc_server.mapping import encoded_on_current_format

IMPORT_OPTIONS = {"duplicatePolicy": "OVERWRITE", "deleteAllNotInImport": False}
_IMPORT_OPTIONS_JSON = json.dumps(IMPORT_OPTIONS, separators=(",", ":"))
T = TypeVar("T")
log = logging.getLogger(__name__)
# The admin API refused the credentials (WireMock answers 401; a proxy in front may say 403).
AUTH_REFUSED_STATUSES = (401, 403)


class WireMockAuthError(WireMockError):
    """WireMock's admin API refused the loader's credentials (or their absence)."""

    @property
    def is_terminal(self) -> bool:
        # Wrong or missing credentials are an outage to wait out, not a bad mapping.
        return False


def encode_mapping(mapping: dict[str, Any]) -> str:
    """One mapping as compact JSON, as the queue carries it."""
    return json.dumps(mapping, separators=(",", ":"), ensure_ascii=False)


def _verify(tls: TLSClient | None) -> ssl.SSLContext | bool:
    if tls is None or not tls.enabled:
        return True
    context = ssl.create_default_context(cafile=tls.ca_file)
    if not tls.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


def split_refused(batch: list[T], blamed: int | None) -> list[list[T]]:
    """A batch WireMock refused -> its parts to import again: the item it blamed alone
    (``WireMockError.item_index``) when it said which; else two halves."""
    if blamed is not None and 0 <= blamed < len(batch):
        parts = [batch[:blamed], batch[blamed : blamed + 1], batch[blamed + 1 :]]
        return [p for p in parts if p]
    middle = len(batch) // 2
    return [batch[:middle], batch[middle:]]


async def import_isolating(
    chunks: Sequence[list[T]], send: Callable[[list[T]], Awaitable[None]]
) -> list[T]:
    """``send`` each chunk; a chunk WireMock refused (4xx) is split (``split_refused``)
    until each refused item stands alone. An outage raises. -> the refused items."""
    refused: list[T] = []
    stack = [chunk for chunk in reversed(chunks) if chunk]
    while stack:
        chunk = stack.pop()
        try:
            await send(chunk)
        except WireMockError as exc:
            if not exc.is_terminal:
                raise
            if len(chunk) == 1:
                refused.append(chunk[0])
            else:
                stack.extend(reversed(split_refused(chunk, exc.item_index)))
    return refused


def _blamed_index(response: httpx.Response) -> int | None:
    # WireMock answers a bad import with errors[].source.pointer = "/mappings/<i>/...".
    try:
        errors = response.json().get("errors") or []
        pointer = errors[0]["source"]["pointer"]
    except (ValueError, AttributeError, LookupError, TypeError):
        return None
    parts = str(pointer).split("/")
    if len(parts) >= 3 and parts[1] == "mappings" and parts[2].isdigit():
        return int(parts[2])
    return None


class WireMockClient:
    """One WireMock's admin API. Use as ``async with`` or call :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 10.0,
        tls: TLSClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.display_url = redact_url(self.base_url)
        self._timeout_s = timeout_s
        self._tls = tls
        self._transport = transport
        self._auth = auth
        # A transport handed in makes its own connections (httpx ignores ``verify`` then).
        self._watch = FileWatch(tls_files(tls) if transport is None else [])
        self._http = self._new_http()
        # Clients replaced after a rotation, closed once no request runs on them.
        self._retired: list[httpx.AsyncClient] = []
        self._in_flight = 0

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self._timeout_s,
            verify=_verify(self._tls),
            transport=self._transport,
            # HTTP Basic on every admin call (WireMock's --admin-api-basic-auth).
            auth=httpx.BasicAuth(*self._auth) if self._auth else None,
            # Several shards and a prefetching loader share few connections.
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
            headers={"content-type": "application/json"},
        )

    def _follow_tls_files(self) -> None:
        """A new HTTP client when a TLS file changed since the current one read them."""
        state = self._watch.changed()
        if state is None:
            return
        try:
            fresh = self._new_http()
        except (OSError, ssl.SSLError) as exc:
            # Half-written or unreadable: the current client goes on; the next request retries.
            log.warning("wiremock %s: tls files changed but unreadable (%s); retrying",
                        self.display_url, type(exc).__name__)  # fmt: skip
            return
        log.info("wiremock %s: tls files changed; new connections use them", self.display_url)
        self._retired.append(self._http)
        self._http = fresh
        self._watch.seen(state)

    async def _close_retired(self) -> None:
        if self._in_flight == 0:
            retired, self._retired = self._retired, []
            for http in retired:
                await http.aclose()

    async def __aenter__(self) -> WireMockClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        for http in self._retired:
            await http.aclose()
        self._retired = []

    async def _request(
        self, method: str, path: str, *, operation: str, content: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:  # fmt: skip
        self._follow_tls_files()
        started = time.perf_counter()
        self._in_flight += 1
        try:
            response = await self._http.request(method, path, content=content, params=params)
        except httpx.TimeoutException as exc:
            raise WireMockError(f"wiremock {operation}: timed out") from exc
        except httpx.HTTPError as exc:
            raise WireMockError(
                f"wiremock {operation}: unreachable ({type(exc).__name__})"
            ) from exc
        finally:
            LOADER_WIREMOCK_DURATION.observe(time.perf_counter() - started)
            self._in_flight -= 1
            await self._close_retired()
        if response.status_code in AUTH_REFUSED_STATUSES:
            raise WireMockAuthError(
                f"wiremock {operation}: HTTP {response.status_code}, the admin API refused the "
                "credentials (check loader.wiremock_admin_user and loader.wiremock_admin_password)",
                status_code=response.status_code,
            )
        if response.status_code >= 400:
            raise WireMockError(
                f"wiremock {operation}: HTTP {response.status_code}",
                status_code=response.status_code,
                item_index=_blamed_index(response),
            )
        return response

    @staticmethod
    def _json(response: httpx.Response, *, operation: str) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError as exc:
            raise WireMockError(f"wiremock {operation}: answer is not JSON") from exc
        if not isinstance(data, dict):
            raise WireMockError(f"wiremock {operation}: answer is not a JSON object")
        return data

    async def import_mappings(self, mappings: Sequence[dict[str, Any]]) -> None:
        """POST /__admin/mappings/import, overwriting stubs with the same id.

        WireMock parses the whole batch first, so a refused batch (422) changed nothing;
        the error's ``item_index`` names the blamed mapping, when WireMock said.
        """
        await self.import_encoded([encode_mapping(m) for m in mappings])

    async def import_encoded(self, encoded: Sequence[str]) -> list[int]:
        """:meth:`import_mappings` for mappings already encoded as JSON objects (the
        loader passes the queue's text through instead of parsing and re-encoding it).
        Every import comes here: a stub written by an earlier version is narrowed to the
        current matchers and priority scale, or left out and counted when it cannot be
        (``mapping.stub_format``). -> the positions in ``encoded`` left out."""
        kept: list[str] = []
        left_out: list[int] = []
        for at, text in enumerate(encoded):
            upgraded, reason = encoded_on_current_format(text)
            if upgraded is None:
                LOADER_STUBS_RETIRED.labels(reason=reason).inc()
                left_out.append(at)
            else:
                kept.append(upgraded)
        if not kept:
            return left_out
        mappings = ",".join(kept)
        body = f'{{"mappings":[{mappings}],"importOptions":{_IMPORT_OPTIONS_JSON}}}'
        await self._request(
            "POST",
            "/__admin/mappings/import",
            operation=f"import of {len(encoded)}",
            content=body.encode(),
        )
        return left_out

    async def list_mappings(self) -> list[dict[str, Any]]:
        """Every stub WireMock holds (GET /__admin/mappings)."""
        response = await self._request("GET", "/__admin/mappings", operation="list")
        mappings = self._json(response, operation="list").get("mappings")
        if not isinstance(mappings, list):
            raise WireMockError("wiremock list: answer has no mappings list")
        return [m for m in mappings if isinstance(m, dict)]

    async def stub_hits(self) -> dict[str, int] | None:
        """Requests each stub answered (mockado's launcher: GET /__admin/mockado/hits), or
        None from a WireMock without that endpoint (stock WireMock keeps no such count)."""
        try:
            response = await self._request("GET", "/__admin/mockado/hits", operation="hits")
        except WireMockError as exc:
            if exc.status_code == 404:
                return None
            raise
        counts = self._json(response, operation="hits")
        return {str(k): int(v) for k, v in counts.items() if isinstance(v, int)}

    async def has_mapping(self, mapping_id: str) -> bool:
        """GET /__admin/mappings/{id}: False on 404."""
        return await self._unless_absent("GET", f"/__admin/mappings/{mapping_id}", "get")

    async def delete_mapping(self, mapping_id: str) -> bool:
        """DELETE /__admin/mappings/{id}. -> False when WireMock did not hold it (404)."""
        return await self._unless_absent("DELETE", f"/__admin/mappings/{mapping_id}", "delete")

    async def _unless_absent(self, method: str, path: str, operation: str) -> bool:
        """The request succeeded: True; WireMock answered 404: False; else it raises."""
        try:
            await self._request(method, path, operation=operation)
        except WireMockError as exc:
            if exc.status_code == 404:
                return False
            raise
        return True

    async def count_stubs(self) -> int:
        """meta.total of GET /__admin/mappings?limit=1: cheap even with many stubs."""
        response = await self._request(
            "GET", "/__admin/mappings", operation="count", params={"limit": 1}
        )
        total = self._json(response, operation="count").get("meta", {}).get("total")
        if not isinstance(total, int):
            raise WireMockError("wiremock count: answer has no meta.total")
        return total

    async def reset(self) -> None:
        """POST /__admin/reset: drop the stubs added through the API (file stubs reload)."""
        await self._request("POST", "/__admin/reset", operation="reset")

    async def health(self) -> bool:
        """True when GET /__admin/health answers 2xx."""
        try:
            await self._request("GET", "/__admin/health", operation="health")
        except WireMockError:
            return False
        return True


def client_for(config: LoaderConfig, url: str) -> WireMockClient:
    """A client for one WireMock with the loader's timeout, TLS and admin credentials."""
    return WireMockClient(
        url,
        timeout_s=config.wiremock_timeout,
        tls=config.wiremock_tls,
        auth=config.wiremock_admin_auth(),
    )
