"""A mock never answers wrong: recorded through a real Envoy 1.40 and ``mockado ext-proc``,
served by a real WireMock 3.13.2.

A PNG, an ISO-8859-1 statement with a CPF inside, a windows-1252 page, a 25 KB JSON
export under a per-path limit and UTF-8 text outside ASCII are each served with the recorded status and Content-Type
and the recorded bytes, apart from the sanitized values (the PNG's text chunk, the CPF).
An over-limit response without a per-path limit gets no stub and a counted skip: WireMock
answers it with a clear miss, never an empty or cut body.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from control_plane.render import render_sidecar_envoy
from tests.support.ext_proc_rig import collector_settings, counters, make_config, wait_until
from tests.support.http_answers import answer
from tests.support.processes import wait_for_value
from tests.support.raw_capture import capture_behind_envoy, import_into
from tests.support.skip_records import skip_record

pytestmark = pytest.mark.integration

CPF = "529.982.247-25"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(*, with_text: bool) -> bytes:
    """A 2x2 RGB PNG; ``with_text``: plus a tEXt chunk naming its owner (metadata)."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
    pixels = _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\x00\xff\x00" * 2))
    text = _chunk(b"tEXt", b"Author\x00Joana Silva, CPF " + CPF.encode()) if with_text else b""
    return b"\x89PNG\r\n\x1a\n" + header + text + pixels + _chunk(b"IEND", b"")


STATEMENT = (
    "Extrato de conta corrente\nAgência: São Paulo - Centro\n"
    f"CPF do titular: {CPF}\nDescrição: Depósito em conta   R$ 1.234,56\n"
    "Saldo disponível: R$ 9.876,54\n"
)
PAGE = (
    '<!DOCTYPE html><html><head><meta charset="windows-1252"><title>Preços</title></head>'
    "<body><p>Oferta “especial” — só 10€ • até amanhã</p></body></html>"
)


def _export(rows: int) -> bytes:
    items = [{"sku": f"A-{n:05d}", "qty": n % 7, "price": f"{n % 100}.50"} for n in range(rows)]
    return json.dumps({"items": items}, indent=1).encode()


EXPORT = _export(420)  # about 25 KB, under the /v1/export limit
DUMP = _export(420)  # the same size where no rule raises the 8 KiB default

UPLOADED = b'{"stored": true}'
# path -> (Content-Type, body as the upstream sends it)
RESPONSES = {
    "/logo.png": ("image/png", _png(with_text=True)),
    "/statement": ("text/plain; charset=iso-8859-1", STATEMENT.encode("latin-1")),
    "/page": ("text/html", PAGE.encode("cp1252")),
    "/v1/export": ("application/json", EXPORT),
    "/v1/dump": ("application/json", DUMP),
    # UTF-8 outside ASCII, declared or not: served as WireMock "body", still the same bytes.
    "/v1/cities": ("application/json", '{ "cidade":"São Paulo",  "preço": "10€" }'.encode()),
    "/notes": ("text/plain", "Observação: entregar às 18h — portão 2\n".encode()),
}


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        content_type, body = RESPONSES[self.path]
        answer(self, 200, body, content_type)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        answer(self, 201, UPLOADED)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def upstream_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    thread.join(10)


def _served(url: str, path: str) -> httpx.Response:
    return httpx.get(url + path, headers={"Host": "127.0.0.1"}, timeout=10)


def _proxied_until_recorded(envoy_url: str, ext, *, stubbed: set[str]) -> None:
    """Every path of RESPONSES through Envoy, then those of ``stubbed`` not recorded yet
    again until each is: a busy box can pass Envoy's timeouts towards the collector, and
    that capture ends incomplete (counted)."""

    def recorded() -> set[str]:
        return {m["request"].get("urlPath") for m in ext.captured()}

    with httpx.Client(timeout=10) as client:

        def proxied(paths: Iterable[str]) -> None:
            for path in paths:
                resp = client.get(envoy_url + path)
                assert resp.content == RESPONSES[path][1]  # capture never changes traffic

        def again() -> bool:
            time.sleep(2.0)  # the captures in flight land first
            missing = stubbed - recorded()
            proxied(sorted(missing))
            return not missing

        proxied(RESPONSES)
        wait_until(
            lambda: recorded() == stubbed or again(),
            timeout_s=90,
            what=f"{len(stubbed)} stubs in Redis",
            explain=lambda: counters(ext),
        )


def test_each_kind_of_body_is_served_byte_for_byte_or_not_at_all(
    redis_server, upstream_port, envoy_factory, ext_proc_factory, wiremock
) -> None:
    assert len(EXPORT) > 24_000
    collector = collector_settings(
        redis_server.url,
        body_limits=[{"host": "127.0.0.1", "path": "/v1/export", "bytes": 64 * 1024}],
    )
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, upstream_port)
    _proxied_until_recorded(envoy.url, ext, stubbed=set(RESPONSES) - {"/v1/dump"})
    assert len(ext.captured()) == 6
    wait_until(
        lambda: ext.metric("collector_stubs_skipped_total", reason="response_truncated") == 1,
        what="the over-limit response counted as skipped",
    )
    mappings = ext.captured()
    assert "/v1/dump" not in {m["request"].get("urlPath") for m in mappings}
    assert CPF not in json.dumps(mappings) and "Joana" not in json.dumps(mappings)
    import_into(wiremock, mappings)

    png = _served(wiremock.url, "/logo.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content == _png(with_text=False)  # the text chunk removed, the rest as sent

    statement = _served(wiremock.url, "/statement")
    assert statement.headers["content-type"] == "text/plain; charset=iso-8859-1"
    before, _, after = STATEMENT.partition(CPF)
    text = statement.content.decode("latin-1")
    assert statement.content == text.encode("latin-1")
    assert text.startswith(before) and text.endswith(after)
    assert CPF not in text and text[len(before) : len(text) - len(after)].startswith("SANITIZED")

    page = _served(wiremock.url, "/page")
    assert page.headers["content-type"] == "text/html"
    assert page.content == PAGE.encode("cp1252")

    for path in ("/v1/export", "/v1/cities", "/notes"):
        content_type, body = RESPONSES[path]
        served = _served(wiremock.url, path)
        assert served.headers["content-type"] == content_type
        assert served.content == body, path

    # No stub: a clear miss, never an empty or cut body; the per-host record says why.
    dump = _served(wiremock.url, "/v1/dump")
    assert dump.status_code == 404 and not dump.content.startswith(b'{\n "items"')
    assert skip_record(redis_server.url, ext.queue) == (
        {"response_truncated": 1},
        ["response_truncated GET /v1/dump"],
    )


def test_a_binary_request_body_matches_only_its_bytes(
    redis_server, upstream_port, envoy_factory, ext_proc_factory, wiremock
) -> None:
    collector = collector_settings(redis_server.url)
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, upstream_port)
    upload = bytes(range(256)) * 4  # not UTF-8
    octets = {"content-type": "application/octet-stream"}
    assert httpx.post(envoy.url + "/upload", content=upload, headers=octets).status_code == 201
    wait_until(lambda: len(ext.captured()) == 1, what="the upload's stub")
    (mapping,) = ext.captured()
    expected = base64.b64encode(upload).decode("ascii")
    assert mapping["request"]["bodyPatterns"] == [{"binaryEqualTo": expected}]
    import_into(wiremock, [mapping])
    headers = {"Host": "127.0.0.1", **octets}
    same = httpx.post(wiremock.url + "/upload", content=upload, headers=headers, timeout=10)
    assert same.status_code == 201 and same.content == UPLOADED
    other = httpx.post(wiremock.url + "/upload", content=upload[::-1], headers=headers, timeout=10)
    assert other.status_code == 404


def test_mockado_up_serves_each_body_through_the_loader_or_a_clear_miss(
    stack_factory, upstream_port
) -> None:
    """The whole path users run: Envoy, capture, sanitize, the rule, the queue, the loader
    and WireMock, as ``mockado up`` starts them."""
    config = "collector:\n  body_limits:\n    - {host: 127.0.0.1, path: /v1/export, bytes: 65536}\n"
    stack = stack_factory(upstream=f"http://127.0.0.1:{upstream_port}", config_text=config)
    with httpx.Client(timeout=10) as client:
        for path, (_, body) in RESPONSES.items():
            assert client.get(stack.proxy_url + path).content == body

    def served(path: str) -> httpx.Response | None:
        resp = httpx.get(stack.wiremock_url + path, timeout=5)
        if resp.status_code == 200:
            return resp
        # A busy box can pass Envoy's timeouts towards the collector, and that capture
        # ends incomplete (counted): the call is made again (a repeat, if it was not lost).
        assert httpx.get(stack.proxy_url + path, timeout=10).content == RESPONSES[path][1]
        return None

    for path in ("/page", "/v1/export", "/v1/cities", "/notes"):
        resp = wait_for_value(
            lambda path=path: served(path), timeout_s=60, interval_s=2.0, what=f"{path}'s stub"
        )
        assert (resp.headers["content-type"], resp.content) == RESPONSES[path], path
    png = wait_for_value(
        lambda: served("/logo.png"), timeout_s=60, interval_s=2.0, what="the image's stub"
    )
    assert png.content == _png(with_text=False)
    statement = wait_for_value(
        lambda: served("/statement"), timeout_s=60, interval_s=2.0, what="the statement's stub"
    )
    assert CPF not in statement.content.decode("latin-1")
    assert statement.headers["content-type"] == "text/plain; charset=iso-8859-1"
    # Everything else has landed by now; the over-limit dump never will.
    miss = httpx.get(stack.wiremock_url + "/v1/dump", timeout=5)
    assert miss.status_code == 404 and miss.json()["error"] == "no recording matched"


def test_a_namespace_body_limit_reaches_the_collector_through_the_rendered_filter(
    redis_server, upstream_port, envoy_factory, ext_proc_factory
) -> None:
    """The capture filter an Istio sidecar gets (here as a sidecar-style bootstrap) sends
    the namespace's body_limits; the collector keeps that path's export whole."""
    namespaces = {
        "reports": {"body_limits": [{"host": "127.0.0.1", "path": "/v1/dump", "bytes": 65536}]}
    }
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    config = make_config(collector, control_plane={"namespaces": namespaces})

    def render(listen_port: int, admin_port: int) -> str:
        return render_sidecar_envoy(
            config, namespace="reports", listen_host="127.0.0.1", listen_port=listen_port,
            admin_port=admin_port, app_port=upstream_port, collector_host="127.0.0.1",
            collector_port=ext.grpc_port,
        )  # fmt: skip

    envoy = envoy_factory(render)
    with httpx.Client(timeout=10) as client:
        for path in ("/v1/dump", "/v1/export"):
            assert client.get(envoy.url + path).content == RESPONSES[path][1]
    wait_until(lambda: len(ext.captured()) == 1, what="the dump's stub")
    wait_until(
        lambda: ext.metric("collector_stubs_skipped_total", reason="response_truncated") == 1,
        what="the export, over the default limit here, skipped",
    )
    (mapping,) = ext.captured()
    assert mapping["request"]["urlPath"] == "/v1/dump"
    assert mapping["response"]["body"].encode() == DUMP
