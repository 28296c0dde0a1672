"""A person in the request line and headers, where nothing but a layer hides one,
through a real Envoy to an upstream that echoes, captured by ``mockado ext-proc`` into a
real Redis: query values percent-encoded twice (a name, a ``return_to`` whose own query
was encoded before it), a proxy's user headers holding a display name (oauth2-proxy,
Apache, Azure App Service), base64 of ``name=value`` text in a header and a query. No
planted value, in any encoding, may reach Redis, the stubs or the collector's log; each
request still gets its stub.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from urllib.parse import quote

import httpx
import pytest

from tests.support.ext_proc_rig import capture_sinks, wait_for_stubs
from tests.support.raw_capture import capture_echoes
from tests.unit.sanitize.personal_formats import leaked, person, seeded_faker, twice

pytestmark = pytest.mark.integration

USER_HEADERS = ("X-Remote-User", "Remote-User", "X-Forwarded-User",
                "X-Forwarded-Preferred-Username", "X-MS-Client-Principal-Name")  # fmt: skip


def _ascii(text: str) -> str:
    """``text`` without its accents: a header's value is ASCII."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _encodings(value: str) -> list[str]:
    return [value, quote(value, safe=""), quote(value), twice(value)]


def test_request_parts_reach_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    fake = seeded_faker(20261206)
    p, other = person(fake), person(fake)
    searched = f"{p.first} {p.last}"
    back = f"https://loja.example/cb?nome={quote(other.name)}&pedido=4815"
    pairs = f"nome={other.name}&cpf={other.cpf}&pedido=4815"
    token = base64.urlsafe_b64encode(pairs.encode()).decode().rstrip("=")
    named = f"nome={other.name}".encode()
    planted = [*_encodings(p.name), _ascii(p.name), *_encodings(searched), *_encodings(other.name),
               other.cpf, base64.urlsafe_b64encode(named[: len(named) // 3 * 3]).decode()]  # fmt: skip
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = [
            client.get(f"/echo/busca?nome={twice(p.name)}&q={twice(searched)}&pagina=2"),
            client.get(f"/echo/login?return_to={twice(back)}&pedido=4815"),
            client.get("/echo/perfil", headers={name: _ascii(p.name) for name in USER_HEADERS}),
            client.get(f"/echo/contexto?ctx={token}", headers={"X-User-Context": token}),
        ]
    assert [r.status_code for r in sent] == [200] * 4
    stubs = wait_for_stubs(ext, 4, skipped={}, what="a stub per request")
    # Not vacuous: each request is in its stub.
    paths = sorted(stub["request"]["urlPath"] for stub in stubs)
    assert paths == ["/echo/busca", "/echo/contexto", "/echo/login", "/echo/perfil"]
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, planted))}  # fmt: skip
    assert leaks == {}, leaks


def test_a_name_only_the_body_marks_is_replaced_in_the_query(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    """A search for a person whose name is in no name list (``?q=…``): only the body's
    ``cliente.nome``, read after the query, says it is a name; the echoed answer repeats
    it in prose. It went out in the query of the stub and of the Redis entry."""
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    name = "Zuleica Brandemburgo"
    body = {"cliente": {"nome": name, "cidade": "Pelotas"}, "nota": f"retorno de {name} amanhã"}
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = client.post("/echo/clientes/busca", params={"q": name, "pagina": "2"}, json=body)
    assert sent.status_code == 200
    stubs = wait_for_stubs(ext, 1, skipped={}, what="the search's stub")
    # Not vacuous: the search is in its stub, its other parameter as sent.
    assert [stub["request"]["urlPath"] for stub in stubs] == ["/echo/clientes/busca"]
    assert "2" in json.dumps(stubs[0]["request"].get("queryParameters", {}))
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, _encodings(name)))}  # fmt: skip
    assert leaks == {}, leaks


def test_a_name_only_the_body_marks_is_replaced_in_the_path_and_the_form(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    """The same person in the path as a slug and in a form's search field (the echoing
    upstream answers with the form): only the form's ``cliente[nome]`` says it is a
    name. Both went out in the stub and in Redis."""
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    name = "Zuleica Brandemburgo"
    form = {"cliente[nome]": name, "busca": name, "pagina": "2"}
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = client.post("/echo/clientes/zuleica-brandemburgo/pedidos", data=form)
    assert sent.status_code == 200
    stubs = wait_for_stubs(ext, 1, skipped={}, what="the search's stub")
    # Not vacuous: the request is in its stub, its path around the name as sent.
    (request,) = [stub["request"] for stub in stubs]
    assert "/echo/clientes/" in json.dumps(request) and "pedidos" in json.dumps(request)
    planted = [*_encodings(name), name.replace(" ", "+"), "zuleica-brandemburgo"]
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, planted))}  # fmt: skip
    assert leaks == {}, leaks
