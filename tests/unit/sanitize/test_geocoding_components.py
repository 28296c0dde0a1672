"""Google's geocoding answer (the Geocoding and Places APIs share its shape) locates one
address in ``address_components``: each component's long and short name is what its
``types`` say. The street number, street, premise, neighbourhood (a sublocality: the
bairro, replaced as a ``bairro`` field is) and postal code are replaced; the region
(city, state, country) stays, as in any address."""

from __future__ import annotations

import json

import pytest

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

STREET = ("1578", "Avenida Paulista", "Av. Paulista", "01310-200", "Conjunto 42", "Edifício Itália",
          "Bela Vista")  # fmt: skip
REGION = ("São Paulo", "SP", "Brazil", "BR")


def _component(long_name: str, short_name: str, *types: str) -> dict:
    return {"long_name": long_name, "short_name": short_name, "types": list(types)}


GEOCODED = {
    "results": [
        {
            "address_components": [
                _component("1578", "1578", "street_number"),
                _component("Avenida Paulista", "Av. Paulista", "route"),
                _component("Conjunto 42", "Conjunto 42", "subpremise"),
                _component("Edifício Itália", "Edifício Itália", "premise"),
                _component(
                    "Bela Vista", "Bela Vista", "political", "sublocality", "sublocality_level_1"
                ),
                _component("São Paulo", "São Paulo", "locality", "political"),
                _component("São Paulo", "SP", "administrative_area_level_1", "political"),
                _component("Brazil", "BR", "country", "political"),
                _component("01310-200", "01310-200", "postal_code"),
            ],
            "formatted_address": "Av. Paulista, 1578 - Bela Vista, São Paulo - SP, 01310-200",
            "place_id": "ChIJAVkDPzdOqEcRcDteW0YgIQQ",
            "types": ["street_address"],
        }
    ],
    "status": "OK",
}


@pytest.mark.parametrize("mode", ["tokens", "pseudonyms"])
def test_the_components_that_locate_the_address_are_replaced_the_region_stays(mode: str):
    config = {"sanitize_mode": mode}
    if mode == "pseudonyms":
        config["pseudonym_key"] = "k" * 32
    body = json.dumps(GEOCODED, ensure_ascii=False)
    out = sanitizer(**config).sanitize(request_exchange(body="{}", response_body=body))
    text = out.response.body.decode()
    document = json.loads(text)  # still JSON
    for value in STREET:
        assert value not in text, value
    components = document["results"][0]["address_components"]
    regions = {c["long_name"] for c in components} | {c["short_name"] for c in components}
    assert set(REGION) <= regions
    assert [c["types"] for c in components] == [
        c["types"] for c in GEOCODED["results"][0]["address_components"]
    ]


def test_a_typed_entry_of_one_value_still_reads_its_type_first():
    body = json.dumps([{"tipo": "CELULAR", "valor": "11987654321"},
                       {"tipo": "SITE", "valor": "https://loja.example"}])  # fmt: skip
    out = sanitizer().sanitize(request_exchange(body=body)).request.body.decode()
    assert "11987654321" not in out and "https://loja.example" in out
