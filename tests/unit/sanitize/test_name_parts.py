"""A person's name kept in parts and written whole elsewhere in the body: Plaid's
identity answer (``owners[].names`` beside ``user.first_name``/``last_name``). The parts
were replaced and the whole name went out."""

from __future__ import annotations

import json

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()


def _response(body: dict) -> dict:
    exchange = request_exchange(body="{}", response_body=json.dumps(body))
    return json.loads(SANITIZER.sanitize(exchange).response.body)


def test_the_whole_name_of_a_persons_parts_is_replaced_where_the_body_repeats_it() -> None:
    body = {
        "accounts": [
            {"owners": [{"names": ["Alberta Bobbeth Charleson"], "city": "Malakoff"}]},
            {"owners": [{"names": ["Alberta Charleson"]}]},
        ],
        "user": {"first_name": "Alberta", "middle_name": "Bobbeth", "last_name": "Charleson"},
        "note": "Charleson Road branch; Alberta office",
    }
    out = _response(body)
    assert out["accounts"][0]["owners"][0]["names"] == ["SANITIZED_NAME"]
    assert out["accounts"][1]["owners"][0]["names"] == ["SANITIZED_NAME"]
    assert out["accounts"][0]["owners"][0]["city"] == "Malakoff"
    # A part alone (a road, a province) is no whole name: it stays.
    assert out["note"] == "Charleson Road branch; Alberta office"


def test_parts_with_no_first_and_last_make_no_name() -> None:
    body = {
        "contact": {"last_name": "Charleson", "title": "Mr"},
        "names": ["Mr Charleson"],
    }
    assert _response(body)["names"] == ["Mr Charleson"]
