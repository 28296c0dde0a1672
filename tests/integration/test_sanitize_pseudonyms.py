"""Pseudonyms against real processes and a live WireMock: the same person gets the same
pseudonyms in the request, the response and in two separate `mockado sanitize`
processes, and a mapping recorded in pseudonyms mode still matches its canary."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import phonenumbers
import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.mapping.stubs import ScenarioTracker, build_mapping
from ext_proc_server.sanitize import Sanitizer

pytestmark = pytest.mark.integration

KEY = "integration-pseudonym-key"
PERSON = {
    "nome": "Maria da Silva Souza",
    "dataNascimento": "14/03/1985",
    "telefone": "(11) 91234-5678",
    "endereco": {"logradouro": "Rua das Flores", "numero": "123", "cep": "01452-000",
                 "cidade": "São Paulo"},
}  # fmt: skip
REPLY = {
    "cliente": {"nomeCompleto": "MARIA DA SILVA SOUZA", "birthDate": "1985-03-14",
                "celular": "+55 11 91234-5678", "status": "ATIVO"},
    "plano": {"nome": "Plano Família Premium"},
}  # fmt: skip


def _exchange() -> Exchange:
    json_ct = (("content-type", "application/json"),)
    return Exchange(
        id="pseudonyms-1",
        namespace="crm",
        workload="web",
        request=HttpRequest(
            method="POST",
            path="/v1/clientes",
            authority="crm.svc",
            headers=json_ct,
            body=json.dumps({"cliente": PERSON, "plano": "premium"}, ensure_ascii=False).encode(),
        ),
        response=HttpResponse(
            status=201, headers=json_ct, body=json.dumps(REPLY, ensure_ascii=False).encode()
        ),
    )


def _sanitizer() -> Sanitizer:
    return Sanitizer(CollectorConfig(sanitize_mode="pseudonyms", pseudonym_key=KEY))


def _sanitize_in_a_process(
    mockado_bin: str, clean_env: dict[str, str], tmp_path: Path, record: dict
) -> dict:
    config = tmp_path / "mockado.yaml"
    config.write_text("collector:\n  sanitize_mode: pseudonyms\n")
    done = subprocess.run(
        [mockado_bin, "sanitize", "--config", str(config)],
        input=json.dumps(record, ensure_ascii=False) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean_env, "MOCKADO_COLLECTOR__PSEUDONYM_KEY": KEY},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_pseudonyms_agree_across_request_response_and_processes(
    mockado_bin: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    record = _exchange().to_record()
    first = _sanitize_in_a_process(mockado_bin, clean_env, tmp_path, record)
    second = _sanitize_in_a_process(mockado_bin, clean_env, tmp_path, record)
    assert first == second
    in_process = _sanitizer().sanitize(_exchange()).to_record()
    assert in_process["request"]["body"] == first["request"]["body"]

    sent = json.loads(first["request"]["body"])["cliente"]
    replied = json.loads(first["response"]["body"])["cliente"]
    raw = json.dumps(first, ensure_ascii=False)
    for original in ("Maria", "Souza", "14/03/1985", "1985-03-14", "91234-5678", "Flores"):
        assert original not in raw
    # One person, one pseudonym: the same fake name (in the response's casing), the same
    # fake birth date (in each message's format) and the same fake phone.
    assert replied["nomeCompleto"] == sent["nome"].upper()
    day, month, year = sent["dataNascimento"].split("/")
    assert replied["birthDate"] == f"{year}-{month}-{day}"
    assert sent["telefone"][-10:] == replied["celular"][-10:]
    assert phonenumbers.is_valid_number(phonenumbers.parse(sent["telefone"], "BR"))
    assert sent["endereco"]["cidade"] == "São Paulo"
    assert json.loads(first["response"]["body"])["plano"] == REPLY["plano"]


def _mapping(exchange: Exchange) -> dict[str, Any]:
    config = CollectorConfig(sanitize_mode="pseudonyms", pseudonym_key=KEY)
    normalizer = NoiseNormalizer(config)
    dedup = Deduplicator(config, normalizer=normalizer)
    mapping = build_mapping(
        exchange,
        dedup_hash=dedup.hash(exchange),
        config=config,
        normalizer=normalizer,
        scenarios=ScenarioTracker(),
    )
    assert mapping is not None
    return mapping


def _post(url: str, body: dict) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/clientes",
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Host": "crm.svc", "Content-Type": "application/json"},
        timeout=10,
    )


def test_a_mapping_recorded_in_pseudonyms_mode_matches_its_canary(wm: Any) -> None:
    sanitized = _sanitizer().sanitize(_exchange())
    assert {"request.body.json:/cliente/nome", "response.body.json:/cliente/nomeCompleto"} <= (
        sanitized.redactions
    )
    resp = httpx.post(
        f"{wm.url}/__admin/mappings/import",
        json={"mappings": [_mapping(sanitized)]},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text

    # The canary sends its own (real-looking) person: the pseudonymized places are noise.
    canary = {"cliente": {**PERSON, "nome": "Joana Prado", "telefone": "(21) 3456-7890"},
              "plano": "premium"}  # fmt: skip
    matched = _post(wm.url, canary)
    assert matched.status_code == 201, matched.text
    replied = matched.json()
    assert replied == json.loads(sanitized.response.body)
    assert "Maria" not in matched.text

    # The recorded request itself (pseudonyms and all) matches too.
    assert _post(wm.url, json.loads(sanitized.request.body)).status_code == 201

    # A different stable value is a different request: no match.
    other = _post(wm.url, {**canary, "plano": "basico"})
    assert other.status_code == 404
