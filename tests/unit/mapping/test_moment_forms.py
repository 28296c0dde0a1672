"""The forms an expiry takes in a credential or token answer beyond ISO 8601 and 10-digit
epoch seconds: Cognito's float epochs, App Service's managed identity date; and the
relative ones, served as recorded."""

from __future__ import annotations

import re
import time

import pytest

from ext_proc_server.mapping.moment_forms import moment_from_now
from ext_proc_server.mapping.moments_from_now import body_from_now

ANSWERED_S = 1_764_950_400  # a whole second, as Date gives it
LIFETIME_S = 3_600
MOMENT_S = ANSWERED_S + LIFETIME_S  # 1764954000
EPOCH_DIGITS = re.compile(
    r"\{\{regexExtract \(now offset='(\d+) seconds' format='epoch'\) "
    r"'\^\(\\d\{(\d+)\}\)\(\\d\{(\d+)\}\)' 'moment'\}\}\{\{moment\.0\}\}\.\{\{moment\.1\}\}"
)


def _app_service(at_s: float) -> str:
    return time.strftime("%m/%d/%Y %H:%M:%S +00:00", time.gmtime(at_s))


@pytest.mark.parametrize(
    ("value", "offset", "whole", "fraction", "tail"),
    [
        ("1.764954E9", 3_600 + 999, 1, 6, "E9"),  # a JVM drops trailing zeros: rounded up
        ("1.764954123E9", 3_600 + 123, 1, 9, "E9"),
        ("1.764954000123E9", 3_600, 1, 12, "E9"),  # milliseconds
        ("1.7649540001234E9", 3_600, 1, 12, "0E9"),  # past them: zeros
        ("1.764954000e+09", 3_600, 1, 9, "e+09"),  # C's %e
        ("1764954000.0", 3_600, 10, 1, ""),  # Python's repr
        ("1764954000.25", 3_600, 10, 2, ""),
    ],
)
def test_a_float_epoch_keeps_its_form_and_width(
    value: str, offset: int, whole: int, fraction: int, tail: str
) -> None:
    templated = moment_from_now(value, ANSWERED_S)
    assert templated is not None
    found = EPOCH_DIGITS.match(templated)
    assert found is not None, templated
    assert (int(found.group(1)), int(found.group(2)), int(found.group(3))) == (
        offset,
        whole,
        fraction,
    )
    assert templated[found.end() :] == tail
    # As many characters: the digits read, the point, the tail.
    assert whole + 1 + fraction + len(tail) == len(value)


def test_app_services_managed_identity_date_is_served_in_its_form() -> None:
    templated = moment_from_now(_app_service(MOMENT_S), ANSWERED_S)
    assert templated == (
        "{{now offset='3600 seconds' timezone='UTC' format=\"MM/dd/yyyy HH:mm:ss' +00:00'\"}}"
    )


@pytest.mark.parametrize(
    "value",
    [
        "1.7649E9",  # its last digit counts 100 000 seconds: more than the lifetime
        "1.764954123E8",  # not epoch seconds of this era
        "0.764954123E9",
        "17649540.00",
        "1.764954123E10",
        _app_service(ANSWERED_S - 1),  # expired when recorded
        "12/05/2025 5:00:00 PM +00:00",  # App Service on Windows: its width follows the date
        "13/45/2025 17:00:00 +00:00",  # no such date
        time.strftime("%m/%d/%Y %H:%M:%S +02:00", time.gmtime(MOMENT_S)),  # not UTC
    ],
)
def test_other_forms_are_served_as_recorded(value: str) -> None:
    assert moment_from_now(value, ANSWERED_S) is None


def test_cognitos_credentials_are_served_from_now() -> None:
    body = (
        '{"Credentials":{"AccessKeyId":"ASIA","Expiration":1.764954E9,"SecretKey":"s",'
        '"SessionToken":"t"},"IdentityId":"us-east-1:1"}'
    )
    templated = body_from_now(body, ANSWERED_S)
    assert templated is not None
    assert EPOCH_DIGITS.sub("X", templated) == body.replace("1.764954", "X")


def test_an_app_service_token_is_served_from_now() -> None:
    body = (
        '{"access_token":"t","expires_on":"' + _app_service(MOMENT_S) + '",'
        '"resource":"https://vault.azure.net","token_type":"Bearer"}'
    )
    templated = body_from_now(body, ANSWERED_S)
    assert templated is not None and "offset='3600 seconds'" in templated


@pytest.mark.parametrize(
    "body",
    [
        # GCP's metadata server: a lifetime, relative to when the client reads it.
        '{"access_token":"ya29.t","expires_in":3599,"token_type":"Bearer"}',
        # An OAuth 2.0 token endpoint (RFC 6749 5.1): the same.
        '{"access_token":"t","token_type":"Bearer","expires_in":3600,"refresh_token":"r"}',
    ],
)
def test_a_relative_lifetime_is_served_as_recorded(body: str) -> None:
    assert body_from_now(body, ANSWERED_S) is None
