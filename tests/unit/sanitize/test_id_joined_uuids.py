"""A UUID joined by "-" to more is still an identifier: an idempotency key's
"<uuid>-0001", an attempt's "<uuid>-2", a prefixed "order-<uuid>". One random UUID in
200 to 300 has all-digit middle groups ("0869-4605-9570"), read as a phone when the
UUID is not the whole token; the UUIDs here are Python's uuid1/uuid4 and UUIDs whose
groups are all digits. A number after the UUID is its own: a card there is found.
"""

from __future__ import annotations

import json
import random
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import make_card, request_exchange, sanitizer
from tests.unit.sanitize.world_ids import personal_reading

SANITIZER = sanitizer()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SUFFIXES = ("-0001", "-1", "-2", "-000123", "-20261207")
PREFIXES = ("order-", "idem-", "pay-2026-")


def _digit_uuid(rng: random.Random) -> str:
    """A UUID (version 4 bits kept) whose middle groups are digits, as one in 200 is."""
    value = uuid.UUID(int=rng.getrandbits(128), version=4)
    text = str(value)
    middle = f"{rng.randrange(10**4):04d}-4{rng.randrange(10**3):03d}-{rng.choice('89')}"
    last = f"{rng.randrange(10**12):012d}" if rng.random() < 0.5 else text[24:]
    return text[:9] + middle + f"{rng.randrange(10**3):03d}-" + last


def _corpus() -> list[str]:
    """UUIDs whose digits read as a phone, a card or a document once cut out."""
    rng = random.Random(20261207)
    found: list[str] = []
    while len(found) < 300:
        candidate = _digit_uuid(rng)
        groups = candidate.split("-")
        if any(personal_reading(d) for d in ("".join(groups[1:4]), groups[4]) if d.isdigit()):
            found.append(candidate)
    return found + [str(uuid.uuid4()) for _ in range(100)] + [str(uuid.uuid1()) for _ in range(50)]


UUIDS = _corpus()


def _kept(keys: list[str]) -> list[str]:
    """The keys left byte for byte in a JSON body, a query and free text."""
    body = json.dumps({"items": [{"idempotencyKey": k, "valor": 10} for k in keys]})
    exchange = request_exchange(
        body=body, query=tuple(("key", k) for k in keys), response_body=" ".join(keys)
    )
    out = SANITIZER.sanitize(exchange)
    fresh = json.loads(out.request.body)["items"]
    query = [value for _, value in out.request.query]
    text = out.response.body.decode().split(" ")
    return [
        key
        for key, item, value, word in zip(keys, fresh, query, text, strict=True)
        if item["idempotencyKey"] == value == word == key
    ]


def test_the_corpus_holds_uuids_whose_digits_read_as_personal() -> None:
    assert len(UUIDS) == 450 and all(uuid.UUID(u) for u in UUIDS)
    tails = {u.rsplit("-", 1)[1].isdigit() for u in UUIDS[:300]}
    assert tails == {True, False}  # a last group of digits (a card's length) and of hex
    assert all(
        any(personal_reading(d) for d in ("".join(g[1:4]), g[4]) if d.isdigit())
        for g in (u.split("-") for u in UUIDS[:300])
    )


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_uuid_with_a_counter_after_it_is_kept(suffix: str) -> None:
    keys = [u + suffix for u in UUIDS] + [u.upper() + suffix for u in UUIDS[:100]]
    lost = sorted(set(keys) - set(_kept(keys)))
    assert not lost, f"{len(lost)} of {len(keys)} changed, e.g. {lost[:3]}"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_uuid_after_a_prefix_is_kept(prefix: str) -> None:
    keys = [prefix + u for u in UUIDS] + [prefix + u + "-3" for u in UUIDS[:100]]
    lost = sorted(set(keys) - set(_kept(keys)))
    assert not lost, f"{len(lost)} of {len(keys)} changed, e.g. {lost[:3]}"


def test_a_card_or_phone_after_the_uuid_is_still_found() -> None:
    card = make_card("4111", 16)
    key = UUIDS[0]
    for text in (f"{key}-{card}", f"id {key}-0001 cartão {card}", f"{key}-0001 +55 11 91234-5678"):
        out = SANITIZER.sanitize_text(text)
        assert card not in out and "91234-5678" not in out and key in out, out


@SETTINGS
@given(
    value=st.uuids(),
    digits=st.booleans(),
    seed=st.integers(0, 2**32),
    counter=st.integers(0, 10**8 - 1),
    joined=st.sampled_from(["suffix", "prefix", "both"]),
)
def test_property_any_joined_uuid_is_kept(
    value: uuid.UUID, digits: bool, seed: int, counter: int, joined: str
) -> None:
    text = _digit_uuid(random.Random(seed)) if digits else str(value)
    if joined != "prefix":
        text = f"{text}-{counter:04d}"
    if joined != "suffix":
        text = f"req-{text}"
    # The counter alone, once cut off, must be no personal number (an 8-digit one is not).
    assert _kept([text]) == [text]
