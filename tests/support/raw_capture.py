"""Recording through real Envoy to a raw upstream, then replaying from WireMock: the
steps the replay tests share. Requests go out byte for byte (no client normalizes the
path or the header values)."""

from __future__ import annotations

import http.client
from typing import Any, NamedTuple

import httpx

from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config


class RawReply(NamedTuple):
    status: int
    headers: dict[str, bytes]  # lower-case name -> the value's bytes on the wire
    body: bytes


def raw_request(
    port: int,
    method: str,
    target: str,
    *,
    headers: tuple[tuple[str, str | bytes], ...] = (),
    body: bytes | None = None,
    host: str = "127.0.0.1",
) -> RawReply:
    """One request as given; ``body`` (when not None) is sent with its Content-Length."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in headers:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        data = resp.read()
        # http.client reads header bytes as ISO-8859-1: encoding back gives the wire bytes.
        values = {k.lower(): v.encode("latin-1") for k, v in resp.getheaders()}
        return RawReply(resp.status, values, data)
    finally:
        conn.close()


def capture_behind_envoy(
    envoy_factory,
    ext_proc_factory,
    collector: dict,
    upstream_port: int,
    *,
    upstream_http2: bool | None = False,
):
    """``mockado ext-proc`` behind Envoy in front of the upstream, spoken to in HTTP/1.1
    (``upstream_http2``: True HTTP/2, None the client's protocol) -> (ext, envoy)."""
    ext = ext_proc_factory(collector)
    envoy = envoy_for(
        envoy_factory,
        make_config(collector),
        upstream_port=upstream_port,
        ext_proc_port=ext.grpc_port,
        upstream_http2=upstream_http2,
    )
    return ext, envoy


def capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory):
    """``mockado ext-proc`` writing to ``redis_server``, behind Envoy in front of the
    echoing demo upstream (in the client's protocol) -> (ext, envoy)."""
    collector = collector_settings(redis_server.url)
    return capture_behind_envoy(
        envoy_factory, ext_proc_factory, collector, upstream.port, upstream_http2=None
    )


def import_into(wiremock: Any, mappings: list[dict[str, Any]]) -> None:
    """WireMock emptied, then holding exactly ``mappings``."""
    wiremock.reset()
    imported = httpx.post(
        f"{wiremock.url}/__admin/mappings/import", json={"mappings": mappings}, timeout=30
    )
    assert imported.status_code == 200, imported.text
