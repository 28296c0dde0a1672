"""Personal data inside base64 JSON, through a real Envoy and ``mockado ext-proc`` into a
real Redis: a gateway's user-info header, an OAuth ``state``, a Pub/Sub push body, a
form field and a gRPC message's string field. Nothing of the person may reach Redis,
whether written as it was, in the base64 it came in, or in the base64 of the body
around it; the HTTP stubs must still carry the tokens, decoding to sanitized JSON.
Base64 of text too: XML in a custom header, an OAuth ``state`` of text, SAML's
deflated ``SAMLRequest`` and posted ``SAMLResponse``, read in every base64 run the
sinks hold once decoded.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
import zlib
from collections.abc import Iterator

import grpc
import httpx
import pytest

from tests.support.ext_proc_rig import (
    capture_sinks,
    collector_settings,
    counters,
    wait_until,
)
from tests.support.grpc_upstream import grpc_upstream
from tests.support.raw_capture import capture_behind_envoy, capture_echoes
from tests.support.redis_dump import dump_redis
from tests.unit.sanitize.personal_formats import leaked, person, saml_assertion, seeded_faker

pytestmark = pytest.mark.integration

SERVICE = "loja.Clientes"


def _person() -> dict[str, str]:
    fake = seeded_faker(5121)
    return {
        "nome": fake.name(),
        "cpf": fake.cpf(),
        "email": fake.email(),
        "dataNascimento": fake.date_of_birth(minimum_age=18).isoformat(),
        "celular": "+5511961234567",  # phonenumbers' BR mobile example
    }


PERSON = _person()
DOCUMENT = {"pedido": 4815, "cliente": PERSON}
B64 = base64.b64encode(json.dumps(DOCUMENT).encode()).decode()
B64URL = base64.urlsafe_b64encode(json.dumps(DOCUMENT).encode()).decode().rstrip("=")


def _field(number: int, payload: bytes) -> bytes:
    assert len(payload) < 2**14
    length = bytes([len(payload) & 0x7F | 0x80, len(payload) >> 7])
    return bytes([(number << 3) | 2]) + length + payload


MESSAGE = _field(1, b"cli-4815") + _field(2, B64.encode())
FRAMED = b"\x00" + len(MESSAGE).to_bytes(4, "big") + MESSAGE


def _forms() -> dict[str, str]:
    """Every writing of the person a sink could hold."""
    out = {f"{k}": v for k, v in PERSON.items()}
    # Whole tokens: their first bytes encode '{"pedido": 4815, ...', nobody's data.
    out["b64"] = B64
    out["b64_form"] = urllib.parse.quote(B64, safe="")
    out["b64url"] = B64URL
    out["message_b64"] = base64.b64encode(MESSAGE).decode()
    out["framed_b64"] = base64.b64encode(FRAMED).decode()
    out["cpf_json"] = json.dumps(PERSON["cpf"])[1:-1]
    return out


def _leaks(sinks: dict[str, str]) -> list[str]:
    return [f"{n} in {s}" for s, text in sinks.items() for n, v in _forms().items() if v in text]


def test_base64_json_in_http_traffic_reaches_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    pubsub = {
        "message": {"data": B64, "messageId": "2070443601311540", "attributes": {}},
        "subscription": "projects/loja/subscriptions/pedidos-push",
    }
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = [
            client.get("/echo/perfil", headers={"X-Apigateway-Api-Userinfo": B64URL}),
            client.get("/echo/callback", params={"state": B64URL, "code": "4/P7q7W91a-oMsCe"}),
            client.post("/echo/push", json=pubsub),
            client.post(
                "/echo/form",
                content="evento=pedido&payload=" + urllib.parse.quote(B64, safe=""),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
        ]
    assert [r.status_code for r in sent] == [200] * 4
    wait_until(lambda: len(ext.captured()) >= 4, what="four stubs", explain=lambda: counters(ext))
    # Not vacuous: the echoed bodies are in the stubs, their tokens decoding to the
    # sanitized document.
    bodies = {stub["request"]["urlPath"]: stub["response"]["body"] for stub in ext.captured()
              if "body" in stub["response"]}  # fmt: skip
    pushed = json.loads(bodies["/echo/push"])["message"]["data"]
    posted = urllib.parse.unquote(bodies["/echo/form"].partition("payload=")[2])
    for token in (pushed, posted):
        decoded = json.loads(base64.b64decode(token, validate=True))
        assert decoded["pedido"] == 4815
        assert decoded["cliente"]["email"] == "SANITIZED_EMAIL"
        assert decoded["cliente"]["cpf"] == "SANITIZED_DOCUMENT"
    leaks = _leaks(dump_redis(redis_server.url))
    assert leaks == [], leaks


def _echo_missing(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.abort(grpc.StatusCode.NOT_FOUND, "cliente sem cadastro")


@pytest.fixture(scope="module")
def grpc_port() -> Iterator[int]:
    handlers = {"Buscar": grpc.unary_unary_rpc_method_handler(_echo_missing)}
    with grpc_upstream(SERVICE, handlers) as port:
        yield port


def test_grpc_string_field_holding_base64_json_gets_no_stub(
    redis_server, grpc_port, envoy_factory, ext_proc_factory
) -> None:
    """An error answered in headers alone gets a stub matching its request's body: a
    request whose string field holds base64 JSON cannot be edited, so it gets none."""
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory,
                                      collector_settings(redis_server.url), grpc_port,
                                      upstream_http2=True)  # fmt: skip
    with (
        grpc.insecure_channel(f"127.0.0.1:{envoy.port}") as channel,
        pytest.raises(grpc.RpcError) as error,
    ):
        channel.unary_unary(f"/{SERVICE}/Buscar")(MESSAGE, timeout=5)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND

    def skipped() -> bool:
        return (
            ext.metric("collector_stubs_skipped_total", reason="request_binary_unsanitizable") >= 1
        )

    wait_until(skipped, what="the skipped stub", explain=lambda: counters(ext))
    assert ext.captured() == []
    leaks = _leaks(dump_redis(redis_server.url))
    assert leaks == [], leaks


def _deflated(text: str) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(text.encode()) + packer.flush()


_RUN = re.compile(r"[A-Za-z0-9+/_%-]{24,}={0,2}")


def _decoded_runs(text: str) -> list[str]:
    """Every run of base64 (or base64url, percent-escaped or not) in ``text`` that
    decodes to text, or to deflated text: what a sink would hand anyone who decodes it."""
    out = []
    for m in _RUN.finditer(text):
        token = urllib.parse.unquote(m.group()).rstrip("=")
        url = "-" in token or "_" in token
        try:
            data = (base64.urlsafe_b64decode if url else base64.b64decode)(
                token + "=" * (-len(token) % 4)
            )
        except (binascii.Error, ValueError):
            continue
        for reading in (data, None):
            if reading is None:
                try:
                    reading = zlib.decompress(data, -15)
                except zlib.error:
                    continue
            try:
                out.append(reading.decode("utf-8"))
                break
            except UnicodeDecodeError:
                continue
    return out


def test_base64_text_in_headers_queries_and_forms_reaches_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    fake = seeded_faker(5122)
    p = person(fake)
    context = (f"<cliente><nome>{p.name}</nome><cpf>{p.cpf}</cpf><email>{p.email}</email>"
               f"<celular>{p.phone}</celular></cliente>")  # fmt: skip
    tokens = {
        "header": base64.b64encode(context.encode()).decode(),
        "state": base64.urlsafe_b64encode(f"return_to=/conta;cpf={p.cpf};email={p.email}".encode())
        .decode()
        .rstrip("="),
        "redirect": urllib.parse.quote(
            base64.b64encode(_deflated(saml_assertion(p))).decode(), safe=""
        ),
        "post": urllib.parse.quote(base64.b64encode(saml_assertion(p).encode()).decode(), safe=""),
    }
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = [
            client.get("/echo/perfil", headers={"X-User-Context": tokens["header"]}),
            client.get("/echo/callback", params={"state": tokens["state"], "code": "4/P7q7W9"}),
            client.get(f"/echo/sso?SAMLRequest={tokens['redirect']}&RelayState=pedidos"),
            client.post(
                "/echo/acs",
                content=f"SAMLResponse={tokens['post']}&RelayState=%2Fconta",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
        ]
    assert [r.status_code for r in sent] == [200] * 4
    wait_until(lambda: len(ext.captured()) >= 4, what="four stubs", explain=lambda: counters(ext))
    # Not vacuous: the posted assertion is in its stub, still base64 of the document.
    bodies = {stub["request"]["urlPath"]: stub["response"]["body"] for stub in ext.captured()
              if "body" in stub["response"]}  # fmt: skip
    posted = urllib.parse.unquote(bodies["/echo/acs"].partition("SAMLResponse=")[2].split("&")[0])
    assertion = base64.b64decode(posted, validate=True).decode()
    assert "<saml:NameID" in assertion and "SANITIZED_EMAIL</saml:NameID>" in assertion
    planted = [p.name, p.first, p.last, p.cpf, p.email, p.phone, p.birth, *tokens.values()]
    sinks = capture_sinks(ext, ext.captured())
    sinks.update({f"decoded in {sink}": "\n".join(_decoded_runs(text))
                  for sink, text in list(sinks.items())})  # fmt: skip
    assert "SANITIZED_DOCUMENT" in sinks["decoded in stubs"]
    leaks = {sink: found for sink, text in sinks.items() if (found := leaked(text, planted))}
    assert leaks == {}, leaks
