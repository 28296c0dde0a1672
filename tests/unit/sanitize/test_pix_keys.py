"""A Pix random key (chave aleatória) is a UUID that the central bank's directory maps
to one person's bank account: under ``chave`` (the Pix API's charge), ``pixKey`` or
``chavePix`` it went out, kept as ids are. It is replaced now as the account's number
is; other UUIDs, a charge's ``txid``, an end-to-end id and NF-e's 44-digit ``chave``
(an access key) stay."""

from __future__ import annotations

import json
import uuid

from prometheus_client import REGISTRY

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-pix-keys")
KEY = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"


def _body(document: object, sanitize=SANITIZER) -> object:
    return json.loads(sanitize.sanitize(request_exchange(body=json.dumps(document))).request.body)


def _counted() -> float:
    labels = {"type": "bank_account"}
    return REGISTRY.get_sample_value("collector_sanitization_operations_total", labels) or 0


def test_random_keys_by_field_name() -> None:
    charge = {"calendario": {"expiracao": 3600}, "txid": "7978c0c97ea847e78e8849634473c1f1",
              "valor": {"original": "37.00"}, "chave": KEY,
              "solicitacaoPagador": "Pedido 1234"}  # fmt: skip
    before = _counted()
    assert _body(charge) == {**charge, "chave": "SANITIZED_ACCOUNT"}
    for name in ("pixKey", "chavePix", "chave_pix", "pix_key"):
        assert _body({"recebedor": {name: KEY.upper()}}) == {
            "recebedor": {name: "SANITIZED_ACCOUNT"}
        }
    assert _counted() == before + 5


def test_a_pseudonym_is_another_random_key() -> None:
    out = PSEUDONYMS.sanitize(
        request_exchange(body=json.dumps({"chave": KEY}), response_body=json.dumps({"pixKey": KEY}))
    )
    fresh = json.loads(out.request.body)["chave"]
    assert fresh != KEY and uuid.UUID(fresh).version == 4 and fresh == fresh.lower()
    assert json.loads(out.response.body)["pixKey"] == fresh


def test_other_ids_and_keys_stay() -> None:
    kept = {"id": KEY, "endToEndId": "E12345678202012061234abcdef12345",
            "txid": KEY.replace("-", ""), "chave": "35200114200166000187550010000000071123456788",
            "idempotencyKey": KEY, "items": [{"chave": "cor", "valor": "azul"}]}  # fmt: skip
    assert _body(kept) == kept
