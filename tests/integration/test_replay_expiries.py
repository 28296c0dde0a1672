"""Expiry moments in a recorded body (STS credentials, Cognito's float epoch, an OAuth token's
``expires_on``, App Service's managed identity date) and a rate limit's ``X-RateLimit-Reset``, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` a day before the replay (the upstream answers with a ``Date`` a day old) and
replayed by a real WireMock 3.13.2.

A stub answers for days: the mock's credentials must be valid for as long after its answer
as the upstream's were after its own (botocore refuses credentials that come expired), and
the rest of each answer must be served byte for byte, Handlebars-looking text included.
"""

from __future__ import annotations

import calendar
import datetime
import json
import re
import time
import zlib
from email.utils import formatdate, parsedate_to_datetime

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    ContainerProvider,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.retryhandler import CRC32Checker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.mapping.moment_forms import MAX_AHEAD_S, moment_from_now
from ext_proc_server.mapping.moments_from_now import TEMPLATE_TRANSFORMER, literal
from tests.support.ext_proc_rig import collector_settings, wait_for_stubs
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

RECORDED_AGO_S = 86_400
# How long after each answer the credentials, the token and the rate-limit window lasted.
ROLE_S = 3_600
TOKEN_S = 5_400
WINDOW_S = 1_800
ROLE = "arn:aws:iam::123456789012:role/canary"
REGION = "us-east-1"
CONTAINER_PATH = "/v2/credentials/canary"
# A JSON service at its own path (botocore posts to the endpoint as given); App Service's token.
COGNITO_PATH = "/cognito"
APP_SERVICE_PATH = "/msi/token"
IDENTITY_ID = "us-east-1:7d5b1a3c-8e2f-4b6a-9c1d-0e3f5a7b9c2d"
# Text a template engine would read, served as it is.
HANDLEBARS_TEXT = (
    "{{request.path}} {{{raw}}} \\{{now}} {{#each x}}{{/each}} {{! note}} {{=<% %>=}} "
    "{\\{{ {{{{raw}}}}{{/raw}}{{{{/raw}}}} }}}"
)


def _iso(at_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at_s))


def _sts_body(answered_s: int) -> bytes:
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleResult><Credentials>"
        "<AccessKeyId>ASIAQWERTYUIOPASDFGH</AccessKeyId>"
        "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>"
        "<SessionToken>FwoGZXIvYXdzEBYaDOPwq4Fk</SessionToken>"
        f"<Expiration>{_iso(answered_s + ROLE_S)}</Expiration>"
        "</Credentials><AssumedRoleUser>"
        "<AssumedRoleId>AROA3XFRBF535PLBIFPI4:canary</AssumedRoleId>"
        f"<Arn>{ROLE}/canary</Arn></AssumedRoleUser></AssumeRoleResult>"
        "<ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>"
        "</ResponseMetadata></AssumeRoleResponse>"
    ).encode()


def _token_body(answered_s: int) -> bytes:
    return (
        '{"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2ln",'
        f'"expires_in":"{TOKEN_S}","expires_on":"{answered_s + TOKEN_S}",'
        '"resource":"https://management.azure.com/","token_type":"Bearer",'
        f'"note":"{HANDLEBARS_TEXT}"}}'
    ).encode()


def _container_body(answered_s: int) -> bytes:
    return (
        '{"RoleArn":"' + ROLE + '","AccessKeyId":"ASIAZXCVBNMASDFGHJKL",'
        '"SecretAccessKey":"je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",'
        '"Token":"IQoJb3JpZ2luX2VjEJr","Expiration" : "' + _iso(answered_s + ROLE_S) + '"}'
    ).encode()


def _cognito_body(answered_s: int) -> bytes:
    """``GetCredentialsForIdentity``: the expiry as a JVM writes a double."""
    return (
        '{"Credentials":{"AccessKeyId":"ASIAPOIUYTREWQLKJHGF",'
        f'"Expiration":{(answered_s + ROLE_S) / 1e9!r}E9,'
        '"SecretKey":"q8Hf2kLm9Xz4Vb7Nc1Rt5Yw3Ep6Ua0SdEXAMPLEKEY",'
        '"SessionToken":"IQoJb3JpZ2luX2VjEKz"},'
        f'"IdentityId":"{IDENTITY_ID}"}}'
    ).encode()


def _app_service_body(answered_s: int) -> bytes:
    """App Service's managed identity, ``api-version=2017-09-01`` on Linux."""
    expires_on = time.strftime("%m/%d/%Y %H:%M:%S +00:00", time.gmtime(answered_s + TOKEN_S))
    return (
        '{"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2ln",'
        f'"expires_on":"{expires_on}","resource":"https://vault.azure.net",'
        '"token_type":"Bearer"}'
    ).encode()


def _answers(answered_s: int) -> dict[str, RawAnswer]:
    date = ("Date", formatdate(answered_s, usegmt=True))
    json_type = ("Content-Type", "application/json")
    return {
        CONTAINER_PATH: RawAnswer(200, (json_type, date), _container_body(answered_s)),
        COGNITO_PATH: RawAnswer(
            200,
            (
                ("Content-Type", "application/x-amz-json-1.1"),
                date,
                # DynamoDB-style: a digest of the body that clients check only when present.
                ("x-amz-crc32", str(zlib.crc32(_cognito_body(answered_s)))),
            ),
            _cognito_body(answered_s),
        ),
        APP_SERVICE_PATH: RawAnswer(200, (json_type, date), _app_service_body(answered_s)),
        "/": RawAnswer(200, (("Content-Type", "text/xml"), date), _sts_body(answered_s)),
        "/metadata/identity/oauth2/token": RawAnswer(
            200,
            (
                ("Content-Type", "application/json"),
                date,
                ("X-RateLimit-Reset", str(answered_s + WINDOW_S)),
                ("X-Template", "{{request.path}}"),
            ),
            _token_body(answered_s),
        ),
    }


def _sts(endpoint: str, *, access_key: str, token: str | None = None):
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key=f"{access_key}-secret",
        aws_session_token=token,
        region_name=REGION,
    )
    config = Config(retries={"mode": "legacy", "max_attempts": 0})
    return session.client("sts", endpoint_url=endpoint, config=config)


def _cognito(endpoint: str):
    session = boto3.session.Session(region_name=REGION)
    config = Config(retries={"mode": "legacy", "max_attempts": 0}, signature_version=UNSIGNED)
    return session.client(
        "cognito-identity", endpoint_url=f"{endpoint}{COGNITO_PATH}", config=config
    )


@pytest.fixture(scope="module")
def recorded(redis_server, envoy_factory, ext_proc_factory, wiremock):
    """What the clients got through Envoy from the upstream, a day ago on its clock:
    (the STS client's credentials, the STS answer's bytes, the token answer, when the
    upstream answered); the stubs are then in WireMock."""
    # Odd: Cognito's expiry then ends in a digit other than 0 (a JVM drops trailing zeros).
    answered_s = (int(time.time()) - RECORDED_AGO_S) | 1
    answers = _answers(answered_s)
    collector = collector_settings(redis_server.url)
    with raw_upstream(answers) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        sts = _sts(envoy.url, access_key="AKIARECORDED00000001")
        role = sts.assume_role(RoleArn=ROLE, RoleSessionName="canary")
        token = raw_request(envoy.port, "GET", "/metadata/identity/oauth2/token")
        raw_request(envoy.port, "GET", CONTAINER_PATH)
        _cognito(envoy.url).get_credentials_for_identity(IdentityId=IDENTITY_ID)
        raw_request(envoy.port, "GET", APP_SERVICE_PATH)
        stubs = wait_for_stubs(ext, len(answers), skipped={}, what="the expiry stubs")
    import_into(wiremock, stubs)
    return role["Credentials"], answers["/"].body, token, answered_s


def _fetcher(endpoint: str) -> AssumeRoleCredentialFetcher:
    """What botocore fetches role credentials with for a profile with ``role_arn``."""

    def client(service: str, **kwargs):
        return _sts(endpoint, access_key=kwargs["aws_access_key_id"])

    return AssumeRoleCredentialFetcher(
        client,
        Credentials("AKIAREPLAYED00000002", "replayed-secret"),
        ROLE,
        extra_args={"RoleSessionName": "canary"},
    )


def test_role_credentials_recorded_yesterday_are_not_expired_from_the_mock(
    recorded, wiremock
) -> None:
    upstream, _, _, _ = recorded
    assert upstream["Expiration"] < datetime.datetime.now(datetime.UTC)  # the stale case
    # botocore refuses credentials that come expired ("still expired" after a refresh).
    credentials = DeferredRefreshableCredentials(
        _fetcher(wiremock.url).fetch_credentials, "assume-role"
    )
    frozen = credentials.get_frozen_credentials()
    assert frozen.access_key and frozen.secret_key and frozen.token
    assert not credentials.refresh_needed()
    before = datetime.datetime.now(datetime.UTC)
    fetched = _fetcher(wiremock.url).fetch_credentials()
    after = datetime.datetime.now(datetime.UTC)
    expiry = datetime.datetime.fromisoformat(fetched["expiry_time"])
    lifetime = datetime.timedelta(seconds=ROLE_S)
    assert before + lifetime - datetime.timedelta(seconds=2) <= expiry <= after + lifetime


def test_container_credentials_recorded_yesterday_are_not_expired_from_the_mock(
    recorded, wiremock
) -> None:
    """As botocore reads them in ECS or EKS Pod Identity: refused when they come expired."""
    uri = f"{wiremock.url}{CONTAINER_PATH}"
    credentials = ContainerProvider(environ={"AWS_CONTAINER_CREDENTIALS_FULL_URI": uri}).load()
    frozen = credentials.get_frozen_credentials()
    assert frozen.access_key and frozen.secret_key and frozen.token
    assert not credentials.refresh_needed()
    served = httpx.get(uri).json()
    expiry = datetime.datetime.fromisoformat(served["Expiration"])
    now = datetime.datetime.now(datetime.UTC)
    assert abs((expiry - now).total_seconds() - ROLE_S) <= 2


def test_cognitos_credentials_recorded_yesterday_are_not_expired_from_the_mock(
    recorded, wiremock
) -> None:
    """Served without the recorded x-amz-crc32 (no longer the body's): botocore checks it
    only when the answer has it (its DynamoDB checker, run here on the answer)."""
    client = _cognito(wiremock.url)
    answers: list[tuple[object, bytes]] = []

    def check(http_response, parsed, **_) -> None:
        CRC32Checker(header="x-amz-crc32")(1, (http_response, parsed), None)
        answers.append((http_response.headers, http_response.content))

    client.meta.events.register("after-call.cognito-identity.GetCredentialsForIdentity", check)
    before = datetime.datetime.now(datetime.UTC)
    served = client.get_credentials_for_identity(IdentityId=IDENTITY_ID)
    after = datetime.datetime.now(datetime.UTC)
    lifetime = datetime.timedelta(seconds=ROLE_S)
    expiry = served["Credentials"]["Expiration"]
    assert before + lifetime - datetime.timedelta(seconds=2) <= expiry <= after + lifetime
    ((headers, got),) = answers
    assert "x-amz-crc32" not in headers
    assert int(headers["content-length"]) == len(got)
    upstream = _cognito_body(int(recorded[3]))
    varying = (r'(?<=":")[^"]*', r"(?<=\"Expiration\":)[^,]*")
    assert _masked(got, *varying) == _masked(upstream, *varying)
    written = re.search(rb'"Expiration":([^,]*)', got).group(1)
    assert re.fullmatch(rb"1\.\d{9}E9", written)


def _as_azure_identity_reads(expires_on: str) -> int:
    """App Service's 2017-09-01 ``expires_on`` as azure-identity reads it
    (``_credentials/azure_ml.py``: the zone cut, then ``%m/%d/%Y %H:%M:%S`` in UTC)."""
    assert expires_on.endswith(" +00:00")
    return calendar.timegm(time.strptime(expires_on[: -len(" +00:00")], "%m/%d/%Y %H:%M:%S"))


def test_an_app_service_token_recorded_yesterday_is_not_expired_from_the_mock(
    recorded, wiremock
) -> None:
    answered_s = recorded[3]
    upstream = _app_service_body(answered_s)
    recorded_on = json.loads(upstream)["expires_on"]
    assert _as_azure_identity_reads(recorded_on) == answered_s + TOKEN_S  # the stale case
    now_s = time.time()
    served = raw_request(httpx.URL(wiremock.url).port, "GET", APP_SERVICE_PATH)
    assert served.status == 200
    expires_on = _as_azure_identity_reads(json.loads(served.body)["expires_on"])
    assert int(now_s) + TOKEN_S - 2 <= expires_on <= time.time() + TOKEN_S
    varying = (r'(?<="access_token":")[^"]*', r'(?<="expires_on":")[^"]*')
    assert _masked(served.body, *varying) == _masked(upstream, *varying)
    assert int(served.headers["content-length"]) == len(served.body)


def _masked(body: bytes, *patterns: str) -> bytes:
    for pattern in patterns:
        body = re.sub(pattern.encode(), b"<masked>", body)
    return body


# The credentials are served sanitized, as tokens (docs/mappings.md); the moment from now.
_STS_VARYING = (
    r"(?<=<AccessKeyId>)[^<]*",
    r"(?<=<SecretAccessKey>)[^<]*",
    r"(?<=<SessionToken>)[^<]*",
    r"(?<=<Expiration>)[^<]*",
)


def test_the_sts_answer_is_otherwise_served_byte_for_byte(recorded, wiremock) -> None:
    _, upstream_body, _, _ = recorded
    now = datetime.datetime.now(datetime.UTC)
    got, served = _raw_sts(wiremock.url)
    expiry = served["Credentials"]["Expiration"]
    assert abs((expiry - now).total_seconds() - ROLE_S) <= 2
    assert _masked(got, *_STS_VARYING) == _masked(upstream_body, *_STS_VARYING)
    written = re.search(rb"<Expiration>(.*?)</Expiration>", got).group(1)
    assert written == expiry.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    assert int(served["ResponseMetadata"]["HTTPHeaders"]["content-length"]) == len(got)


def _raw_sts(endpoint: str) -> tuple[bytes, dict]:
    """One AssumeRole from ``endpoint``: (the answer's bytes, as botocore read them;
    what it parsed)."""
    captured: list[bytes] = []
    client = _sts(endpoint, access_key="AKIAREPLAYED00000004")
    client.meta.events.register(
        "after-call.sts.AssumeRole",
        lambda http_response, **_: captured.append(http_response.content),
    )
    served = client.assume_role(RoleArn=ROLE, RoleSessionName="canary")
    return captured[0], served


def test_a_token_answer_with_template_text_is_served_as_recorded_but_its_expiry(
    recorded, wiremock
) -> None:
    _, _, upstream, _ = recorded
    assert upstream.status == 200 and HANDLEBARS_TEXT.encode() in upstream.body
    now_s = time.time()
    port = httpx.URL(wiremock.url).port
    served = raw_request(port, "GET", "/metadata/identity/oauth2/token")
    assert served.status == 200
    varying = (r'(?<="access_token":")[^"]*', r'(?<="expires_on":")[^"]*')
    assert _masked(served.body, *varying) == _masked(upstream.body, *varying)
    expires_on = int(re.search(rb'"expires_on":"(\d+)"', served.body).group(1))
    assert now_s + TOKEN_S - 2 <= expires_on <= time.time() + TOKEN_S
    assert served.headers["x-template"] == b"{{request.path}}"
    assert int(served.headers["content-length"]) == len(served.body)


def test_a_rate_limit_resets_as_long_after_the_mock_answers(recorded, wiremock) -> None:
    _, _, upstream, _ = recorded
    answered = parsedate_to_datetime(upstream.headers["date"].decode()).timestamp()
    recorded_wait = int(upstream.headers["x-ratelimit-reset"]) - answered
    assert recorded_wait == WINDOW_S
    now_s = time.time()
    served = httpx.get(f"{wiremock.url}/metadata/identity/oauth2/token")
    reset = int(served.headers["x-ratelimit-reset"])
    assert now_s + WINDOW_S - 2 <= reset <= time.time() + WINDOW_S


# What Handlebars reads, among other text.
TEMPLATE_LIKE = st.text(st.sampled_from("{{}}\\'\"#/>=!&< aé"), max_size=24)
EPOCH_NOW = "{{now format='unix'}}"


@settings(max_examples=8, deadline=None, derandomize=True)
@given(texts=st.lists(TEMPLATE_LIKE, min_size=40, max_size=40))
def test_the_text_around_a_moment_is_served_byte_for_byte(wiremock, texts) -> None:
    """Any text, first in the body or right after a moment, renders back as it is."""
    paths = {}
    for n, text in enumerate(texts):
        after = n % 2 == 1
        path = f"/literal/{n}"
        body = EPOCH_NOW + literal(text, after_mustache=True) if after else literal(text)
        mapping = {
            "request": {"method": "GET", "url": path},
            "response": {"status": 200, "body": body, "transformers": [TEMPLATE_TRANSFORMER]},
        }
        httpx.post(f"{wiremock.url}/__admin/mappings", json=mapping).raise_for_status()
        paths[path] = (text, after)
    for path, (text, after) in paths.items():
        served = httpx.get(f"{wiremock.url}{path}")
        assert served.status_code == 200, (text, served.text[:300])
        got = served.text[10:] if after else served.text
        assert got == text


def _written(form: str, at_s: int) -> str:
    """``at_s`` as each supported form writes it."""
    utc = time.gmtime(at_s)
    return {
        "iso": time.strftime("%Y-%m-%dT%H:%M:%SZ", utc),
        "iso_ms": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", utc),
        "iso_us": time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", utc),
        "epoch": str(at_s),
        "jvm_double": f"{at_s / 1e9!r}E9",  # Double.toString: trailing zeros dropped
        "c_double": f"{at_s:.9e}",
        "python_float": repr(float(at_s)),
        "app_service": time.strftime("%m/%d/%Y %H:%M:%S +00:00", utc),
    }[form]


def _read(form: str, text: str) -> float:
    """The moment ``text`` names, as a client of that form reads it."""
    if form.startswith("iso"):
        return datetime.datetime.fromisoformat(text).timestamp()
    if form == "app_service":
        return _as_azure_identity_reads(text)
    return float(text)


FORMS = ("iso", "iso_ms", "iso_us", "epoch", "jvm_double", "c_double", "python_float")
LIFETIMES_S = st.one_of(
    st.integers(1, MAX_AHEAD_S),
    st.integers(1, MAX_AHEAD_S // 1_000).map(lambda k: k * 1_000),  # a round moment
)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    cases=st.lists(
        st.tuples(st.sampled_from((*FORMS, "app_service")), LIFETIMES_S), min_size=24, max_size=24
    )
)
def test_generated_expiries_are_served_as_long_after_the_replay(wiremock, cases) -> None:
    """Each supported form, written a day ago for any lifetime, is served by WireMock in
    the same form and width, as long after its answer; a float whose last digit counts
    more than the lifetime is not served from now."""
    answered_s = (int(time.time()) - RECORDED_AGO_S) // 1_000 * 1_000
    stubs = {}
    for n, (form, lifetime_s) in enumerate(cases):
        value = _written(form, answered_s + lifetime_s)
        template = moment_from_now(value, answered_s)
        # The seconds its last digit counts (a JVM double may write fewer than ten).
        unit_s = 10 ** max(0, 10 - sum(c.isdigit() for c in value.partition("E")[0]))
        if form == "jvm_double" and unit_s > lifetime_s:
            assert template is None, value
            continue
        assert template is not None, value
        path = f"/moment/{n}"
        mapping = {
            "request": {"method": "GET", "url": path},
            "response": {"status": 200, "body": template, "transformers": [TEMPLATE_TRANSFORMER]},
        }
        httpx.post(f"{wiremock.url}/__admin/mappings", json=mapping).raise_for_status()
        stubs[path] = (form, value, lifetime_s, unit_s)
    for path, (form, value, lifetime_s, unit_s) in stubs.items():
        before_s = time.time()
        served = httpx.get(f"{wiremock.url}{path}")
        after_s = time.time()
        assert served.status_code == 200 and len(served.text) == len(value), (value, served.text)
        moment_s = _read(form, served.text)
        assert before_s + lifetime_s - 1 <= moment_s <= after_s + lifetime_s + unit_s, (
            value,
            served.text,
        )
