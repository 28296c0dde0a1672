"""Identity numbers, long names, fragments and file names through a real Envoy to an
upstream that echoes, captured by ``mockado ext-proc`` into a real Redis: a name of
seven words in a path and a search, PIS/PASEP, SUS card, driving licence and voter's
card numbers by field name and after their names in text, a person in a Referer's
fragment, and a name in an uploaded file's name (a multipart part's and a
``Content-Disposition`` header's). No planted value may reach Redis, the stubs or the
collector's log; each request still gets its stub, and WireMock answers from it. In
pseudonyms mode a name in a percent-encoded query comes back percent-encoded.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import quote, unquote

import httpx
import pytest

from tests.support.ext_proc_rig import capture_sinks, wait_for_stubs
from tests.support.raw_capture import capture_echoes, import_into
from tests.unit.sanitize.personal_formats import leaked, person, seeded_faker
from tests.unit.sanitize.test_id_documents import CNH, CNS, PIS, VOTER_ID

pytestmark = pytest.mark.integration


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def test_documents_long_names_and_file_names_reach_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory, wm
) -> None:
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    fake = seeded_faker(20261207)
    p, other = person(fake), person(fake)
    long_name = f"{p.first} Aparecida {p.last} dos Santos Oliveira {p.last}"
    record = {"cliente": {"nome": other.name, "pis": PIS[0], "pisPasep": PIS[1],
                          "cartaoSus": CNS[0], "numeroCartaoSus": CNS[1]}}  # fmt: skip
    report = (f"Paciente {other.name}, CNS {CNS[1]}, CNH {CNH[0]}, "
              f"título de eleitor {VOTER_ID[0]}, NIS {PIS[1]}.")  # fmt: skip
    upload = (
        '--b\r\nContent-Disposition: form-data; name="arquivo"; '
        f'filename="curriculo-{_slug(long_name)}.txt"\r\nContent-Type: text/plain\r\n\r\n'
        "experiencia: 10 anos\r\n--b--\r\n"
    )
    disposition = f"attachment; filename*=UTF-8''Contrato%20{quote(other.name)}.pdf"
    planted = [long_name, _slug(long_name), quote(long_name), other.name, quote(other.name),
               _slug(other.name),
               *PIS, *CNS, CNH[0], VOTER_ID[0], p.cpf]  # fmt: skip
    referer = (f"https://loja.example/clientes/{_slug(other.name)}/conta"
               f"#nome={quote(other.name)}&cpf={p.cpf}")  # fmt: skip
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = [
            client.get(f"/echo/pessoas/{_slug(long_name)}?q={quote(long_name)}&pagina=2"),
            client.get("/echo/conta", headers={"Referer": referer}),
            client.post("/echo/cadastro", json=record),
            client.post(
                "/echo/laudo",
                content=report.encode(),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            ),
            client.post(
                "/echo/upload",
                content=upload.encode(),
                headers={"Content-Type": "multipart/form-data; boundary=b"},
            ),
            client.put(
                "/echo/arquivo",
                content=b"%PDF-",
                headers={"Content-Type": "text/plain", "Content-Disposition": disposition},
            ),
        ]
    assert [r.status_code for r in sent] == [200] * 6
    stubs = wait_for_stubs(ext, 6, skipped={}, what="a stub per request")
    paths = sorted(str(s["request"].get("urlPath") or s["request"].get("urlPathPattern"))
                   for s in stubs)  # fmt: skip
    assert len(paths) == 6 and "/echo/laudo" in paths and "/echo/upload" in paths, paths
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, planted))}  # fmt: skip
    assert leaks == {}, leaks
    # What was replaced still matches: WireMock answers each request from its stub.
    import_into(wm, stubs)
    with httpx.Client(base_url=wm.url, timeout=10) as client:
        replayed = [client.get(f"/echo/pessoas/{_slug(long_name)}?q={quote(long_name)}&pagina=2"),
                    client.post("/echo/cadastro", json=record)]  # fmt: skip
    assert [r.status_code for r in replayed] == [200, 200], [r.text for r in replayed]


def test_mockado_sanitize_writes_a_query_pseudonym_encoded(
    mockado_bin: str, clean_env: dict[str, str], tmp_path
) -> None:
    """The capture record ``mockado sanitize`` writes holds each query value as sent:
    percent-encoded. A pseudonym went out decoded (``Lorenzo Pastor``, a raw "ç")."""
    config = tmp_path / "mockado.yaml"
    config.write_text("collector:\n  sanitize_mode: pseudonyms\n")
    query = {"nome": ["Jo%C3%A3o%20Concei%C3%A7%C3%A3o%20Ara%C3%BAjo"],
             "endereco": ["Rua%20das%20Ac%C3%A1cias%2C%20120"], "pagina": ["2"]}  # fmt: skip
    record = {"id": "q-1", "request": {"method": "GET", "path": "/busca", "query": query,
                                       "headers": {}, "body": ""}}  # fmt: skip
    done = subprocess.run(
        [mockado_bin, "sanitize", "--config", str(config)],
        input=json.dumps(record) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean_env, "MOCKADO_COLLECTOR__PSEUDONYM_KEY": "leak-documents-key"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)["request"]["query"]
    assert written["pagina"] == ["2"]
    for name in ("nome", "endereco"):
        (value,) = written[name]
        assert value != query[name][0]
        assert value.isascii() and " " not in value and "," not in value, (name, value)
        assert "%20" in value  # spaces written as the value wrote them
        assert leaked(unquote(value), ["João Conceição Araújo", "Acácias"]) == []


def test_logs_and_client_addresses_reach_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    """A log tail as ``text/plain`` (logfmt pairs, a JSON line) and a client's public
    address in a login event and in ``X-Forwarded-For``."""
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    p = person(seeded_faker(20261209))
    address = "189.45.12.200"
    log = (
        f"2026-12-06T05:00:00Z INFO cadastro nome={p.name} cpf={p.cpf} ip={address}\n"
        f'2026-12-06T05:00:01Z WARN user="{p.name}" celular="{p.phone}"\n'
        f'127.0.0.1 - - [06/Dec/2026:05:00:02 +0000] "GET /clientes/{_slug(p.name)} HTTP/1.1" 200\n'
        + json.dumps({"msg": "login", "cliente": {"nome": p.name, "cep": p.cep}}) + "\n"
    )  # fmt: skip
    event = {
        "evento": "login",
        "ip": address,
        "dispositivo": {"ipAddress": "2804:14c:5b70:8015::1"},
    }
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = [
            client.post(
                "/echo/logs",
                content=log.encode(),
                headers={"Content-Type": "text/plain; charset=utf-8"},
            ),
            client.post("/echo/eventos", json=event, headers={"X-Forwarded-For": address}),
        ]
    assert [r.status_code for r in sent] == [200, 200]
    stubs = wait_for_stubs(ext, 2, skipped={}, what="a stub per request")
    planted = [p.name, p.cpf, p.phone, p.cep, address, "2804:14c:5b70:8015", _slug(p.name)]
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, planted))}  # fmt: skip
    assert leaks == {}, leaks
    # Coarsened, not removed: the network is still there.
    assert "189.45.12.0" in json.dumps(stubs)


def test_accounts_plates_and_passports_reach_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory, wm
) -> None:
    """Open Finance Brasil's shapes (a customer's identification, an account), a
    vehicle's plate and a payee's bank account, echoed as the response too."""
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    fake = seeded_faker(20261210)
    p, plate = person(fake), fake.license_plate()
    identification = {"data": [{"civilName": p.name, "birthDate": p.birth,
                                "documents": {"cpfNumber": p.cpf,
                                              "passport": {"number": "FZ482913", "country": "BRA"}},
                                "postalAddresses": [{"address": f"{p.street}, {p.number}",
                                                     "townName": p.city, "postCode": p.cep}]}]}  # fmt: skip
    account = {"data": {"compeCode": "001", "branchCode": "6272", "number": "94088392",
                        "checkDigit": "4", "type": "CONTA_DEPOSITO_A_VISTA"}}  # fmt: skip
    transfer = {"favorecido": {"nome": p.name, "agencia": "0001", "contaCorrente": "73591846-2"},
                "veiculo": {"placa": plate, "modelo": "Gol"}, "valor": "129.90"}  # fmt: skip
    bodies = {"/echo/open-banking/customers/v2/personal/identifications": identification,
              "/echo/open-banking/accounts/v2/accounts": account, "/echo/transferencias": transfer}  # fmt: skip
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = [client.post(path, json=body) for path, body in bodies.items()]
    assert [r.status_code for r in sent] == [200] * 3
    stubs = wait_for_stubs(ext, 3, skipped={}, what="a stub per request")
    planted = [p.name, p.cpf, p.street, p.cep, "FZ482913", "94088392", "73591846", plate]
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, planted))}  # fmt: skip
    assert leaks == {}, leaks
    # The places replaced match any value: WireMock answers each request from its stub.
    import_into(wm, stubs)
    with httpx.Client(base_url=wm.url, timeout=10) as client:
        replayed = [client.post(path, json=body) for path, body in bodies.items()]
    assert [r.status_code for r in replayed] == [200] * 3, [r.text for r in replayed]
    assert replayed[1].json()["data"]["branchCode"] == "6272"


def test_echoed_names_and_links_in_bodies_reach_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory, wm
) -> None:
    """A validation answer naming the person its request named (Problem Details,
    ASP.NET's errors), a HAL link and an HTML link to the person's page: the upstream
    echoes each body, so it is sanitized as the request's and the response's."""
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    p = person(seeded_faker(20261206))
    problem = {"cliente": {"nome": p.name, "cpf": p.cpf},
               "detail": f"O CPF {p.cpf} de {p.name} não confere",
               "errors": {"Name": [f"'{p.name}' is too long"]},
               "_links": {"self": {"href": f"https://api.loja.example/clientes/{_slug(p.name)}"}}}  # fmt: skip
    page = f'<p><a href="/clientes/{_slug(p.name)}/pedidos">pedidos</a></p>'
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        sent = [
            client.post("/echo/validacao", json=problem),
            client.post("/echo/pagina", content=page.encode(),
                        headers={"Content-Type": "text/html; charset=utf-8"}),
        ]  # fmt: skip
    assert [r.status_code for r in sent] == [200, 200]
    stubs = wait_for_stubs(ext, 2, skipped={}, what="a stub per request")
    planted = [p.name, _slug(p.name), p.cpf]
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, planted))}  # fmt: skip
    assert leaks == {}, leaks
    assert "SANITIZED_NAME' is too long" in json.dumps(stubs)
    import_into(wm, stubs)
    with httpx.Client(base_url=wm.url, timeout=10) as client:
        replayed = client.post("/echo/validacao", json=problem)
    assert replayed.status_code == 200, replayed.text
