"""What shares a national phone's layout and is no phone stays as it is: dates, ISBNs,
an SSN's layout, IP addresses, versions, money, UUIDs, timestamps, card-like runs,
order ids and SKUs whose digits are no valid number, Portugal's and Peru's 3-3-3
layout (a quantity with spaces between thousands reads the same), bare digit runs."""

from __future__ import annotations

import json
import uuid

import phonenumbers
import pytest
from faker import Faker

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()


def _isbns() -> list[str]:
    fake = Faker("en_US")
    fake.seed_instance(3)
    return [fake.isbn10() for _ in range(20)] + [fake.isbn13() for _ in range(20)]


def _dates_and_times() -> list[str]:
    fake = Faker("en_US")
    fake.seed_instance(4)
    out = []
    for _ in range(20):
        moment = fake.date_time()
        out += [
            moment.strftime("%Y-%m-%d"),
            moment.strftime("%m/%d/%Y"),
            moment.strftime("%d.%m.%Y"),
            moment.isoformat(),
            moment.strftime("%Y-%m-%d %H:%M:%S"),
        ]
    return out


def _invalid_nanp_ids() -> list[str]:
    """Order ids in the dashed layout whose digits are no NANP number (area code from
    0 or 1, or unassigned): "123-456-7890"."""
    fake = Faker("en_US")
    fake.seed_instance(5)
    out = []
    while len(out) < 30:
        d = fake.numerify("##########")
        if not phonenumbers.is_valid_number(phonenumbers.parse(d, "US")):
            out.append(f"{d[:3]}-{d[3:6]}-{d[6:]}")
    return out


def _ssns_and_ips() -> list[str]:
    """SSNs and IPv4 addresses (seeded: a test's values never depend on what ran before). An
    SSN whose digits are a valid Brazilian number is left out: the Brazilian reader takes
    it as before, on any layout ("500-68-1752" is a valid BR number)."""
    fake = Faker("en_US")
    fake.seed_instance(6)
    ssns = []
    while len(ssns) < 10:
        ssn = fake.ssn()
        if not phonenumbers.is_valid_number(phonenumbers.parse(ssn.replace("-", ""), "BR")):
            ssns.append(ssn)
    return ssns + [fake.ipv4() for _ in range(10)]


STAY = (
    _isbns()
    + _dates_and_times()
    + _invalid_nanp_ids()
    + _ssns_and_ips()
    + [str(uuid.UUID(int=i * 7919 + 12345)) for i in range(10)]
    + ["123-456-7890", "1.2.3", "10.20.30", "1.234.567,89", "R$ 1.234.567,89",
       "912 345 678", "912 345 678 €", "21 234 5678", "4400123456", "1733412345",
       "4111 1111 1111 1112", "SKU-612-34-56-78", "612 34 56 78 90", "v200.123.4567",
       "1.201.555.0123", "201-555-0123-9", "2024-12-07T10:11:12Z", "07400123456"]
)  # fmt: skip


@pytest.mark.parametrize("value", STAY)
def test_what_only_looks_national_stays_in_text(value: str) -> None:
    assert not is_token(value)
    text = f"ref {value} ok"
    assert SANITIZER.sanitize_text(text) == text


@pytest.mark.parametrize("key", ["orderId", "pedido", "sku", "info"])
def test_order_ids_under_id_keys_stay(key: str) -> None:
    for value in _invalid_nanp_ids():
        body = json.dumps({key: value})
        assert SANITIZER.sanitize(request_exchange(body=body)).request.body.decode() == body
