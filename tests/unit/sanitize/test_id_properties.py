"""Property tests, one per identifier family: any id of the family is kept byte for byte
in a JSON value, a path segment, a query value, x-request-id and free text. Hypothesis
drives the families' own generators (tests/unit/sanitize/world_ids.py) and its own
strategies for UUIDs of every version, IP addresses, datetimes and snowflake bit fields,
which reach the edges (all-digit UUIDs, zero fields) a seeded sweep rarely does."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize import world_ids
from tests.unit.sanitize.id_places import changed_places
from tests.unit.sanitize.sanitize_helpers import sanitizer
from tests.unit.sanitize.world_ids import personal_reading

SANITIZER = sanitizer()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _written(value: uuid.UUID, form: int) -> str:
    text = str(value) if form < 2 else value.hex
    return text.upper() if form % 2 else text


def _uuid7(ms: int, rand_a: int, rand_b: int) -> uuid.UUID:
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b)


_FORMS = st.integers(0, 3)
uuids = st.builds(_written, st.uuids(), _FORMS)
versioned = st.builds(
    _written,
    st.integers(1, 5).flatmap(lambda n: st.uuids(version=n)),
    _FORMS,  # type: ignore[arg-type]
)
# RFC 9562's version 7 at any millisecond, with all-zero and all-one random fields.
uuid7s = st.builds(
    _written,
    st.builds(
        _uuid7, st.integers(0, 2**48 - 1), st.integers(0, 2**12 - 1), st.integers(0, 2**62 - 1)
    ),
    _FORMS,
)
# A version 4 UUID whose middle groups are digits and open as a Brazilian mobile does
# ("0" and an area code, then "9": "5aa71072-0869-4605-9570-..."): once read as a phone.
digit_middles = st.builds(
    lambda head, area, rest, variant, tail, form: _written(
        uuid.UUID(f"{head:08x}0{area}9{4}{rest[:3]}{variant}{rest[3:]}{tail:012x}"), form
    ),
    st.integers(0, 2**32 - 1),
    st.integers(11, 99),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.sampled_from("89"),
    st.integers(0, 2**48 - 1),
    _FORMS,
)
ip_addresses = st.ip_addresses().map(str)
timestamps = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).flatmap(
    lambda d: st.sampled_from(
        [d.isoformat(), d.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), str(int(d.timestamp()))]
    )
)


def _family(name: str) -> st.SearchStrategy[str]:
    return st.randoms(use_true_random=False).map(world_ids.GENERATORS[name])


@SETTINGS
@given(st.one_of(uuids, versioned, uuid7s, digit_middles))
def test_a_uuid_is_kept(value: str) -> None:
    assert changed_places(SANITIZER, value) == []


@SETTINGS
@given(ip_addresses)
def test_an_ip_address_is_kept(value: str) -> None:
    assert changed_places(SANITIZER, value) == []


@SETTINGS
@given(timestamps)
def test_a_timestamp_is_kept(value: str) -> None:
    assert changed_places(SANITIZER, value) == []


@pytest.mark.parametrize(
    "family",
    ["ulid", "object_id", "stripe", "aws_arn", "aws_request_id", "git_sha", "traceparent",
     "b3", "xray", "mac", "version", "nfe_key", "order_number", "uuid1", "uuid3", "uuid5"],
)  # fmt: skip
def test_an_id_of_the_family_is_kept(family: str) -> None:
    @SETTINGS
    @given(_family(family))
    def kept(value: str) -> None:
        assert changed_places(SANITIZER, value) == []

    kept()


@SETTINGS
@given(st.integers(0, 2**41 - 1), st.integers(0, 2**10 - 1), st.integers(0, 2**12 - 1))
def test_a_snowflake_is_kept_unless_its_digits_are_a_card(
    ms: int, worker: int, sequence: int
) -> None:
    """Twitter's and Discord's layout: milliseconds since their epoch, then worker (or
    worker and process) and sequence bits."""
    value = str((ms << 22) | (worker << 12) | sequence)
    assert changed_places(SANITIZER, value) == [] or personal_reading(value)


@pytest.mark.parametrize("family", ["aws_account", "barcode"])
def test_a_bare_digit_id_is_kept_unless_its_digits_are_personal(family: str) -> None:
    @SETTINGS
    @given(_family(family))
    def kept(value: str) -> None:
        assert changed_places(SANITIZER, value) == [] or personal_reading(value)

    kept()


def test_the_generators_are_deterministic() -> None:
    assert world_ids.families(5) == world_ids.families(5)
    assert world_ids.uuid7(random.Random(0))[14] == "7"
