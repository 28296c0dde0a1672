"""Numbers flagged only by their field's name, wherever they sit among other numbers.

The JSON walk finds a number in the text by its place in the gap between two strings,
counting the numbers and literals before it. An object that ends in a number and is
skipped as clean (``[{"n": 1}, 912345678]``) used to leave that count short: the phone
after it was read as ``1``, did not fit, and leaked. Each document here plants phone
numbers under phone-named fields among objects, lists and literals; every one must be
replaced and everything else left exactly as it was.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PHONE_KEYS = ("telefone", "celular", "phone")
# Mobile numbers without an area code: nine digits from 9; nothing else here has 9 digits.
PHONES = st.integers(min_value=900_000_000, max_value=999_999_999)
INERT = st.one_of(
    st.integers(min_value=-999, max_value=999),
    st.sampled_from([1.5, 0.25, True, False, None, "x", "ok", ""]),
)
KEYS = st.sampled_from(["n", "id", "qty", "flag", "label"])


def _members(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.dictionaries(KEYS, children, max_size=4)


CLEAN = st.recursive(
    INERT, lambda children: st.lists(children, max_size=3) | _members(children), max_leaves=8
)


@st.composite
def _document(draw: st.DrawFn) -> dict:
    """An object whose phone-named fields hold a phone, or a list of phones mixed with
    clean objects, lists and literals; clean members around them."""
    document = {}
    for index in range(draw(st.integers(min_value=1, max_value=3))):
        key = f"{draw(st.sampled_from(PHONE_KEYS))}{index or ''}"
        if draw(st.booleans()):
            document[key] = draw(PHONES)
        else:
            items = draw(st.lists(st.one_of(PHONES, CLEAN), min_size=1, max_size=5))
            document[key] = [*items, draw(PHONES)] if draw(st.booleans()) else items
        if draw(st.booleans()):
            document[f"{draw(KEYS)}{index}"] = draw(CLEAN)
    return document


def _expect_replaced(original: object, sanitized: object, under_phone: bool) -> None:
    if isinstance(original, dict):
        assert isinstance(sanitized, dict) and list(sanitized) == list(original)
        for key, value in original.items():
            _expect_replaced(value, sanitized[key], key.rstrip("0123456789") in PHONE_KEYS)
    elif isinstance(original, list):
        assert isinstance(sanitized, list) and len(sanitized) == len(original)
        for item, fresh in zip(original, sanitized, strict=True):
            # List items inherit the field's name; an object's members have their own.
            _expect_replaced(item, fresh, under_phone)
    elif type(original) is int and original >= 900_000_000:
        if under_phone or sanitized != original:
            assert isinstance(sanitized, str) and str(original) not in sanitized
        # Elsewhere a phone-like number may be replaced too (a phone cue is near it).
    else:
        assert sanitized == original and type(sanitized) is type(original)


def _sanitized(text: str) -> object:
    clean = SANITIZER.sanitize(request_exchange(body=text))
    return json.loads(clean.request.body)


@SETTINGS
@given(_document(), st.sampled_from([(",", ":"), (", ", ": ")]))
@example({"telefone": [{"n": 1}, 912345678]}, (", ", ": "))
@example({"telefone": [{"n": "s", "id": 1}, 912345678]}, (",", ":"))
@example({"telefone": [{"n": 912000001}, 987654321]}, (",", ":"))
@example({"telefone": [[{"n": 1}, {"n": 2}], 912345678, 912345679]}, (",", ":"))
def test_every_phone_is_replaced_and_nothing_else_changes(document, separators):
    text = json.dumps(document, separators=separators)
    _expect_replaced(document, _sanitized(text), under_phone=False)


@SETTINGS
@given(_document())
def test_the_same_with_a_repeated_key(document):
    """A repeated key sends the body to the pairs decoder: the same walk over its tree."""
    text = json.dumps(document)
    repeated = '{"n": 1, ' + text[1:-1] + ', "n": 2}'
    sanitized = _sanitized(repeated)
    assert sanitized.pop("n") == 2
    _expect_replaced(document, sanitized, under_phone=False)
