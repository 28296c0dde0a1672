"""A precise point tied to a person is personal data (LGPD): coordinates keep two
decimals (about 1 km), a number stays a number and a string a string, in every mode.
Other numbers (prices, ids, a Java ``long``) stay as they are."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

MODES = [{"sanitize_mode": "tokens"}, {"sanitize_mode": "pseudonyms", "pseudonym_key": "k" * 32}]

GEOCODING = {
    "results": [
        {
            "formatted_address": "São Paulo - SP, Brazil",
            "geometry": {
                "location": {"lat": -23.561414, "lng": -46.655881},
                "location_type": "ROOFTOP",
                "viewport": {
                    "northeast": {"lat": -23.5600650197085, "lng": -46.6545320197085},
                    "southwest": {"lat": -23.5627629802915, "lng": -46.6572299802915},
                },
            },
            "place_id": "ChIJ0WGkg4FEzpQRrlsz_whLqZs",
            "types": ["street_address"],
        }
    ],
    "status": "OK",
}
PLACES = {
    "places": [
        {
            "id": "ChIJ0WGkg4FEzpQRrlsz_whLqZs",
            "location": {"latitude": -23.5613991, "longitude": -46.6565712},
            "rating": 4.7,
            "userRatingCount": 1520,
        }
    ]
}
GEOJSON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [-46.655881, -23.561414]},
            "properties": {"price": 12.3456, "id": 987654},
        },
        {
            "type": "Feature",
            "geometry": {
                "type": "LineString",
                "coordinates": [[-46.655881, -23.561414], [-46.652112, -23.558823]],
            },
            "properties": {},
        },
    ],
}
DELIVERY = {
    "pedido": 4512,
    "total": 89.9,
    "entrega": {"latitude": "-23.561414", "longitude": "-46.655881", "taxa": 7.99},
    "rider": {"pickup_lat": -23.55012, "pickup_lng": -46.63311, "speed": 12.345},
}


def _geo_count() -> float:
    labels = {"type": "geo"}
    return REGISTRY.get_sample_value("collector_sanitization_operations_total", labels) or 0.0


def _body(config: dict, document: object) -> str:
    out = sanitizer(**config).sanitize(request_exchange(body=json.dumps(document)))
    return out.request.body.decode()


@pytest.mark.parametrize("config", MODES)
def test_google_geocoding_location_and_viewport_are_coarsened(config: dict):
    document = json.loads(_body(config, GEOCODING))
    geometry = document["results"][0]["geometry"]
    assert geometry["location"] == {"lat": -23.56, "lng": -46.66}
    assert geometry["viewport"]["northeast"] == {"lat": -23.56, "lng": -46.65}
    assert document["results"][0]["place_id"] == GEOCODING["results"][0]["place_id"]


@pytest.mark.parametrize("config", MODES)
def test_google_places_latitude_longitude_are_coarsened(config: dict):
    place = json.loads(_body(config, PLACES))["places"][0]
    assert place["location"] == {"latitude": -23.56, "longitude": -46.66}
    assert place["rating"] == 4.7 and place["userRatingCount"] == 1520


def test_geojson_positions_are_coarsened_other_numbers_stay():
    features = json.loads(_body(MODES[0], GEOJSON))["features"]
    assert features[0]["geometry"]["coordinates"] == [-46.66, -23.56]
    assert features[1]["geometry"]["coordinates"] == [[-46.66, -23.56], [-46.65, -23.56]]
    assert features[0]["properties"] == {"price": 12.3456, "id": 987654}


def test_a_delivery_order_keeps_strings_as_strings_and_prices_as_they_are():
    document = json.loads(_body(MODES[0], DELIVERY))
    assert document["entrega"] == {"latitude": "-23.56", "longitude": "-46.66", "taxa": 7.99}
    assert document["rider"] == {"pickup_lat": -23.55, "pickup_lng": -46.63, "speed": 12.345}
    assert document["pedido"] == 4512 and document["total"] == 89.9


def test_the_coarsened_values_are_counted_and_located():
    before = _geo_count()
    out = sanitizer().sanitize(request_exchange(body=json.dumps(DELIVERY)))
    assert _geo_count() - before == 4
    assert "request.body.json:/entrega/latitude" in out.redactions
    assert "request.body.json:/rider/pickup_lng" in out.redactions


@pytest.mark.parametrize("config", MODES)
def test_query_and_form_coordinates_are_coarsened(config: dict):
    query = (("lat", "-23.561414"), ("lng", "-46.655881"), ("page", "2"), ("v", "1.2.345"))
    exchange = request_exchange(
        body="lat=-23.561414&lon=-46.655881&qty=3",
        content_type="application/x-www-form-urlencoded",
        query=query,
    )
    out = sanitizer(**config).sanitize(exchange)
    assert out.request.query == (
        ("lat", "-23.56"),
        ("lng", "-46.66"),
        ("page", "2"),
        ("v", "1.2.345"),
    )
    assert out.request.body.decode() == "lat=-23.56&lon=-46.66&qty=3"
    assert {"request.query.lat", "request.query.lng", "request.body.form.lon"} <= out.redactions


INERT = [
    {"lat": -23.56, "lng": -46.65},  # already coarse
    {"lat": 123.456789, "lng": 212.5},  # out of range: not coordinates
    {"long": 9007199254740993, "value": 1.23456},  # a Java long
    {"lon": -46.655881, "name": "x"},  # "lon" without a latitude beside it
    {"long": "-46.655881", "label": "longitude of a report"},
    {"price": -23.561414, "latency": 0.123456, "version": "1.2.3"},
    {"type": "Feature", "coordinates": "-46.655881"},
    {"note": "lat: -23.561414"},
]


@pytest.mark.parametrize("document", INERT)
def test_other_numbers_are_left_alone(document: object):
    body = json.dumps(document)
    out = sanitizer().sanitize(request_exchange(body=body))
    assert out.request.body.decode() == body
    assert not any("json:" in r for r in out.redactions)


_COORDINATE = st.floats(min_value=-90, max_value=90, allow_nan=False).map(lambda x: round(x, 7))
_KEYS = st.sampled_from(["lat", "lng", "latitude", "longitude", "Lat", "pickupLng", "total"])
_LEAF = st.one_of(_COORDINATE, _COORDINATE.map(str), st.integers(0, 10**6), st.text(max_size=6))
_DOCUMENTS = st.recursive(
    st.dictionaries(_KEYS, _LEAF, max_size=4),
    lambda inner: (
        st.dictionaries(_KEYS | st.text(max_size=5), inner, max_size=3)
        | st.lists(inner, max_size=3)
    ),
    max_leaves=12,
)


def _shape(node: object) -> object:
    """The document with every number a number and every string a string, values gone."""
    if isinstance(node, dict):
        return {k: _shape(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return type(node).__name__ if not isinstance(node, float) else "number"


@settings(max_examples=150, deadline=None)
@given(_DOCUMENTS)
def test_the_output_stays_json_of_the_same_shape(document: object):
    out = json.loads(_body(MODES[0], document))
    assert _shape(out) == _shape(document)


@pytest.mark.parametrize(
    ("body", "expected", "located"),
    [
        (  # JSON Lines: each line read as a document
            '{"lat": -23.561414, "lng": -46.655881}\n{"lat": 1.23456, "lng": 2.34567}\n',
            '{"lat": -23.56, "lng": -46.66}\n{"lat": 1.23, "lng": 2.35}\n',
            "request.body",
        ),
        (  # NaN: orjson refuses it, json reads it
            '{"lat": -23.561414, "x": NaN}',
            '{"lat": -23.56, "x": NaN}',
            "request.body.json:/lat",
        ),
        (  # escapes in another string
            '{"note": "a\\"b", "lat": -23.561414, "lng": -46.655881}',
            '{"note": "a\\"b", "lat": -23.56, "lng": -46.66}',
            "request.body.json:/lng",
        ),
    ],
)
def test_documents_other_than_plain_objects(body: str, expected: str, located: str):
    out = sanitizer().sanitize(request_exchange(body=body))
    assert out.request.body.decode() == expected
    assert located in out.redactions


def test_a_value_not_rewritten_is_not_located():
    """An exponent is read as a coordinate but not rewritten: no location claims it."""
    body = '[{"latitude": -23.561414e0}]'
    out = sanitizer().sanitize(request_exchange(body=body))
    assert out.request.body.decode() == body
    assert not out.redactions
