"""A vehicle's plate points at its owner; under ``placa``, ``plate`` or ``licensePlate``
and after ``placa`` in text it went out. A plate of Brazil's two shapes (``ABC-1234``,
Mercosul's ``BRA2E19``) is replaced now; a ``placa`` holding anything else (a graphics
card, a motherboard) stays."""

from __future__ import annotations

import json
import re

from faker import Faker
from prometheus_client import REGISTRY

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-plates")


def _shape(plate: str) -> str:
    return re.sub("[0-9]", "9", re.sub("[A-Za-z]", "A", plate))


def _body(document: dict, sanitize=SANITIZER) -> dict:
    return json.loads(sanitize.sanitize(request_exchange(body=json.dumps(document))).request.body)


def test_plates_by_field_name_in_both_shapes() -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(5)
    before = (
        REGISTRY.get_sample_value("collector_sanitization_operations_total", {"type": "plate"}) or 0
    )
    for _ in range(100):
        plate = fake.license_plate()  # "ABC-1234", "KAA-8A06": both shapes
        document = {"veiculo": {"placa": plate, "modelo": "Gol"}, "licensePlate": plate.replace("-", ""),
                    "produto": {"placa": "RTX 4090"}}  # fmt: skip
        assert _body(document) == {**document, "veiculo": {"placa": "SANITIZED_PLATE", "modelo": "Gol"},
                                   "licensePlate": "SANITIZED_PLATE"}  # fmt: skip
        fresh = _body(document, PSEUDONYMS)
        assert (
            _shape(fresh["veiculo"]["placa"]) == _shape(plate)
            and fresh["veiculo"]["placa"] != plate
        )
        assert fresh["licensePlate"] == fresh["veiculo"]["placa"].replace("-", "")
    after = REGISTRY.get_sample_value("collector_sanitization_operations_total", {"type": "plate"})
    assert after == before + 400


def test_plates_after_placa_in_text() -> None:
    text = "Veículo placa BRA2E19; placa do veículo: XYZ-9876. Placa de vídeo RTX 4090, placa mãe B550."
    out = SANITIZER.sanitize(request_exchange(body=text, content_type="text/plain"))
    assert out.request.body.decode() == (
        "Veículo placa SANITIZED_PLATE; placa do veículo: SANITIZED_PLATE. "
        "Placa de vídeo RTX 4090, placa mãe B550."
    )


def test_a_plate_after_a_word_saying_which() -> None:
    """``placa antiga ABC-1234`` (the grey plate before Mercosul's) went out: a word
    between the cue and the plate stopped the match. The shape must still follow."""
    text = (
        "Transferência: placa antiga ABC-1234, placa nova: BRA2E19, placa do veículo "
        "anterior xyz9876. Placa antiga de 1990; placa nova RTX 4090."
    )
    out = SANITIZER.sanitize(request_exchange(body=text, content_type="text/plain"))
    assert out.request.body.decode() == (
        "Transferência: placa antiga SANITIZED_PLATE, placa nova: SANITIZED_PLATE, placa do "
        "veículo anterior SANITIZED_PLATE. Placa antiga de 1990; placa nova RTX 4090."
    )
