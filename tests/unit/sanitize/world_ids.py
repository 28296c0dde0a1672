"""Identifiers as the systems that issue them write them, built by their own generators
(Python's ``uuid``, ``hashlib``, ``ipaddress``, python-stdnum) or by their published
layouts (RFC 9562's version 7, ULID, MongoDB's ObjectId, Twitter's and Discord's
snowflakes, W3C trace context, B3, AWS X-Ray, NF-e's access key), from a fixed seed.

``families(count)`` maps each family to ``count`` ids; the same seed gives the same ids.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import string
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from stdnum import ean, isbn

from ext_proc_server.sanitize import phones
from ext_proc_server.sanitize import validators as v
from tests.unit.sanitize.sanitize_helpers import make_cnpj

SEED = 9562
# 2015-01-01 to 2030-01-01 in milliseconds: when the ids' clocks read.
_FROM_MS = 1_420_070_400_000
_TO_MS = 1_893_456_000_000
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_BASE62 = string.digits + string.ascii_letters
_TWITTER_EPOCH_MS = 1_288_834_974_657
_DISCORD_EPOCH_MS = 1_420_070_400_000


def _ms(rng: random.Random) -> int:
    return rng.randrange(_FROM_MS, _TO_MS)


def uuid1(rng: random.Random) -> str:
    # uuid.uuid1's layout: 100 ns intervals since 1582-10-15, a clock sequence, a node.
    ticks = _ms(rng) * 10_000 + 0x01B21DD213814000 + rng.randrange(10_000)
    return str(
        uuid.UUID(
            fields=(
                ticks & 0xFFFFFFFF,
                (ticks >> 32) & 0xFFFF,
                0x1000 | (ticks >> 48) & 0x0FFF,
                0x80 | rng.randrange(0x40),
                rng.randrange(0x100),
                rng.getrandbits(48),
            )
        )
    )


def uuid3(rng: random.Random) -> str:
    return str(uuid.uuid3(uuid.NAMESPACE_URL, f"https://api.example.com/orders/{rng.random()}"))


def uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def uuid5(rng: random.Random) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"host{rng.getrandbits(32)}.example.com"))


def uuid7(rng: random.Random) -> str:
    """RFC 9562 5.7: 48-bit Unix milliseconds, version 7, 12 random bits, the variant,
    62 random bits."""
    value = (_ms(rng) << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64)
    value |= (0b10 << 62) | rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def ulid(rng: random.Random) -> str:
    value = (_ms(rng) << 80) | rng.getrandbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def object_id(rng: random.Random) -> str:
    """MongoDB: 4-byte seconds, 5 random bytes (per process), a 3-byte counter."""
    seconds = _ms(rng) // 1000
    return f"{seconds:08x}{rng.getrandbits(40):010x}{rng.getrandbits(24):06x}"


def twitter_snowflake(rng: random.Random) -> str:
    ms = _ms(rng) - _TWITTER_EPOCH_MS
    return str((ms << 22) | (rng.getrandbits(10) << 12) | rng.getrandbits(12))


def discord_snowflake(rng: random.Random) -> str:
    ms = _ms(rng) - _DISCORD_EPOCH_MS
    return str(
        (ms << 22) | (rng.getrandbits(5) << 17) | (rng.getrandbits(5) << 12) | rng.getrandbits(12)
    )


def stripe_id(rng: random.Random) -> str:
    prefix = rng.choice(("ch_", "cus_", "pi_", "pm_", "in_", "sub_", "evt_", "txn_", "re_"))
    size = 14 if prefix == "cus_" else 24
    return prefix + "".join(rng.choice(_BASE62) for _ in range(size))


def aws_account(rng: random.Random) -> str:
    return f"{rng.randrange(10**12):012d}"


def aws_arn(rng: random.Random) -> str:
    account = aws_account(rng)
    region = rng.choice(("us-east-1", "sa-east-1", "eu-west-2"))
    return rng.choice(
        (
            f"arn:aws:iam::{account}:role/service-role/app-{rng.randrange(1000)}",
            f"arn:aws:sqs:{region}:{account}:orders-{rng.randrange(100)}",
            f"arn:aws:lambda:{region}:{account}:function:handler:{rng.randrange(1, 40)}",
        )
    )


def aws_request_id(rng: random.Random) -> str:
    """x-amzn-RequestId (a version 4 UUID) or S3's x-amz-request-id (16 upper hex)."""
    if rng.random() < 0.5:
        return uuid4(rng)
    return f"{rng.getrandbits(64):016X}"


def git_sha(rng: random.Random) -> str:
    full = hashlib.sha1(f"commit {rng.getrandbits(64)}".encode()).hexdigest()
    return full if rng.random() < 0.5 else full[:7]


def traceparent(rng: random.Random) -> str:
    return f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-{rng.choice(('00', '01'))}"


def b3(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-{rng.choice('01d')}"


def xray(rng: random.Random) -> str:
    return f"Root=1-{_ms(rng) // 1000:08x}-{rng.getrandbits(96):024x};Sampled=1"


def ipv4(rng: random.Random) -> str:
    return str(ipaddress.IPv4Address(rng.getrandbits(32)))


def ipv6(rng: random.Random) -> str:
    return str(ipaddress.IPv6Address(rng.getrandbits(128)))


def mac(rng: random.Random) -> str:
    octets = [f"{rng.getrandbits(8):02x}" for _ in range(6)]
    return rng.choice((":", "-")).join(octets)


def version(rng: random.Random) -> str:
    major, minor, patch = rng.randrange(30), rng.randrange(50), rng.randrange(200)
    return rng.choice(
        (
            f"{major}.{minor}.{patch}",
            f"v{major}.{minor}.{patch}-rc.{rng.randrange(9)}",
            f"{major}.{minor}.{patch}+build.{rng.randrange(100000)}",
            f"{datetime.fromtimestamp(_ms(rng) / 1000, UTC):%Y%m%d}.{rng.randrange(40)}",
        )
    )


def timestamp(rng: random.Random) -> str:
    moment = datetime.fromtimestamp(_ms(rng) / 1000, UTC)
    return rng.choice(
        (
            moment.isoformat(),
            moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            (moment - timedelta(hours=3)).replace(tzinfo=None).isoformat() + "-03:00",
            moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            str(int(moment.timestamp())),
            str(int(moment.timestamp() * 1000)),
        )
    )


def barcode(rng: random.Random) -> str:
    """EAN-13 (ISBN-13's 978/979 among them), UPC-A (12) and GTIN-14."""
    size = rng.choice((12, 13, 14))
    if size == 13 and rng.random() < 0.3:
        body = rng.choice(("978", "979")) + f"{rng.randrange(10**9):09d}"
        return isbn.compact(body + ean.calc_check_digit(body))
    body = "".join(rng.choice(string.digits) for _ in range(size - 1))
    return body + ean.calc_check_digit(body)


def nfe_key(rng: random.Random) -> str:
    """NF-e's access key: state, year and month, the issuer's CNPJ, model 55, series,
    number, emission type, a random code and a modulo-11 check digit; written bare or
    as DANFE prints it (groups of four)."""
    cnpj12 = f"{rng.randrange(10**12):012d}"
    cnpj = make_cnpj(cnpj12)
    body = (
        f"{rng.choice((11, 23, 31, 33, 35, 41, 43, 52, 53))}{rng.randrange(15, 30):02d}"
        f"{rng.randrange(1, 13):02d}{cnpj}55{rng.randrange(1000):03d}{rng.randrange(10**9):09d}"
        f"1{rng.randrange(10**8):08d}"
    )
    key = body + nfe_check_digit(body)
    return key if rng.random() < 0.5 else " ".join(key[i : i + 4] for i in range(0, 44, 4))


def order_number(rng: random.Random) -> str:
    return rng.choice(
        (
            f"{rng.randrange(100, 1000)}-{rng.randrange(10**7):07d}-{rng.randrange(10**7):07d}",
            f"PED-{rng.randrange(2015, 2030)}-{rng.randrange(10**6):06d}",
            f"#{rng.randrange(10**5, 10**9)}",
            f"{rng.randrange(10**9, 10**10)}-{rng.randrange(100):02d}",
        )
    )


def nfe_check_digit(body: str) -> str:
    weights = [2, 3, 4, 5, 6, 7, 8, 9] * 6
    total = sum(int(d) * w for d, w in zip(reversed(body), weights, strict=False))
    check = 11 - total % 11
    return "0" if check >= 10 else str(check)


def _uuid_forms(make: Callable[[random.Random], str]) -> Callable[[random.Random], str]:
    """A UUID as it is written: lower (RFC 9562), upper (.NET, Windows), without hyphens."""

    def written(rng: random.Random) -> str:
        value = make(rng)
        form = rng.randrange(4)
        if form == 1:
            return value.upper()
        if form == 2:
            return value.replace("-", "")
        return value.replace("-", "").upper() if form == 3 else value

    return written


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "uuid1": _uuid_forms(uuid1),
    "uuid3": _uuid_forms(uuid3),
    "uuid4": _uuid_forms(uuid4),
    "uuid5": _uuid_forms(uuid5),
    "uuid7": _uuid_forms(uuid7),
    "ulid": ulid,
    "object_id": object_id,
    "twitter_snowflake": twitter_snowflake,
    "discord_snowflake": discord_snowflake,
    "stripe": stripe_id,
    "aws_account": aws_account,
    "aws_arn": aws_arn,
    "aws_request_id": aws_request_id,
    "k8s_uid": uuid4,
    "git_sha": git_sha,
    "traceparent": traceparent,
    "b3": b3,
    "xray": xray,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "mac": mac,
    "version": version,
    "timestamp": timestamp,
    "barcode": barcode,
    "nfe_key": nfe_key,
    "order_number": order_number,
}


def families(count: int, *, seed: int = SEED) -> dict[str, list[str]]:
    out = {}
    for offset, (name, make) in enumerate(GENERATORS.items()):
        rng = random.Random(seed * 1000 + offset)
        out[name] = [make(rng) for _ in range(count)]
    return out


def personal_reading(digits: str) -> bool:
    """Whether bare digits are, by their check digits and issuer, a card, a CNPJ, a CPF or
    a phone: what an id of those digits may honestly be read as."""
    return (
        v.card_valid(digits)
        or v.cnpj_valid(digits)
        or v.cpf_valid(digits)
        or phones.bare_phone(digits)
    )
