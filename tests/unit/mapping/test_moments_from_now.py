"""Which moments a stub serves from the replay's now (a credential's or token's expiry, a
rate limit's reset) and which it serves as recorded."""

from __future__ import annotations

import re
import time
from email.utils import formatdate

import pytest
from prometheus_client import REGISTRY

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.moment_forms import MAX_AHEAD_S, moment_from_now
from ext_proc_server.mapping.moments_from_now import TEMPLATE_TRANSFORMER, body_from_now
from ext_proc_server.mapping.stubs import response_definition

ANSWERED_S = 1_764_950_400  # a whole second, as Date gives it
NOW = re.compile(r"\{\{now offset='(\d+) seconds' timezone='UTC' format=(.+?)\}\}")


def _iso(at_s: float, tail: str = "Z") -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at_s)) + tail


def _sts(expiration: str) -> str:
    return (
        "<AssumeRoleResult><Credentials><AccessKeyId>ASIA</AccessKeyId>"
        f"<Expiration>{expiration}</Expiration></Credentials></AssumeRoleResult>"
    )


def test_an_sts_expiration_is_the_seconds_it_was_after_the_answer() -> None:
    templated = body_from_now(_sts(_iso(ANSWERED_S + 3_600)), ANSWERED_S)
    assert templated is not None
    found = NOW.search(templated)
    assert found and found.group(1) == "3600"
    assert found.group(2) == "\"yyyy-MM-dd'T'HH:mm:ss'Z'\""
    assert NOW.sub("X", templated) == _sts("X")


@pytest.mark.parametrize(
    ("value", "form"),
    [
        (_iso(ANSWERED_S + 60, ".123Z"), "\"yyyy-MM-dd'T'HH:mm:ss.SSS'Z'\""),
        (_iso(ANSWERED_S + 60, ".123456+00:00"), "\"yyyy-MM-dd'T'HH:mm:ss.SSS'000+00:00'\""),
        (str(ANSWERED_S + 60), "'unix'"),
    ],
)
def test_each_form_keeps_its_width(value: str, form: str) -> None:
    templated = moment_from_now(value, ANSWERED_S)
    assert templated is not None and NOW.fullmatch(templated).group(2) == form


@pytest.mark.parametrize(
    "value",
    [
        _iso(ANSWERED_S - 1),  # already expired when recorded: stays expired
        _iso(ANSWERED_S + MAX_AHEAD_S + 1),  # no credential lives so long
        _iso(ANSWERED_S + 60, ".12Z"),  # a width WireMock cannot write
        _iso(ANSWERED_S + 60, "+02:00"),  # not UTC
        str((ANSWERED_S + 60) * 1000),  # milliseconds
        "60",  # seconds from now already
        "tomorrow",
    ],
)
def test_other_values_are_served_as_recorded(value: str) -> None:
    assert moment_from_now(value, ANSWERED_S) is None


@pytest.mark.parametrize(
    "body",
    [
        # An expiry field in a body that is no credential or token answer.
        f'{{"Expiration":"{_iso(ANSWERED_S + 60)}","id":1}}',
        f'{{"order":{{"expires_at":{ANSWERED_S + 60}}}}}',
        f"<Offer><Expiration>{_iso(ANSWERED_S + 60)}</Expiration></Offer>",
    ],
)
def test_only_credential_and_token_answers_are_read(body: str) -> None:
    assert body_from_now(body, ANSWERED_S) is None


def test_token_answers_in_json() -> None:
    body = (
        f'{{"access_token":"t","expires_on":"{ANSWERED_S + 600}","expires_at": {ANSWERED_S + 900}}}'
    )
    templated = body_from_now(body, ANSWERED_S)
    assert templated is not None
    assert [m.group(1) for m in NOW.finditer(templated)] == ["600", "900"]


def _response(*headers: tuple[str, str], body: str) -> HttpResponse:
    date = ("Date", formatdate(ANSWERED_S, usegmt=True))
    return HttpResponse(status=200, headers=(date, *headers), body=body.encode())


def test_a_stub_with_a_moment_is_templated_and_keeps_its_length() -> None:
    body = _sts(_iso(ANSWERED_S + 3_600))
    served = response_definition(_response(("Content-Length", str(len(body))), body=body))
    assert served["transformers"] == [TEMPLATE_TRANSFORMER]
    assert served["headers"]["content-length"] == str(len(body))


def _as_recorded() -> float:
    labels = {"reason": "response_digest_required"}
    return REGISTRY.get_sample_value("collector_moments_as_recorded_total", labels) or 0.0


@pytest.mark.parametrize(
    "digests",
    [
        [("Content-MD5", "x")],
        [("x-ms-content-crc64", "x")],
        [("x-amz-crc32", "1"), ("Content-MD5", "x")],  # one of them checked by every client
    ],
)
def test_a_body_with_a_digest_clients_check_is_served_as_recorded_and_counted(
    digests: list[tuple[str, str]],
) -> None:
    body = _sts(_iso(ANSWERED_S + 3_600))
    before = _as_recorded()
    served = response_definition(_response(*digests, body=body))
    assert "transformers" not in served and served["body"] == body
    assert {name for name, _ in digests} <= set(served["headers"])
    assert _as_recorded() == before + 1


def test_a_body_with_dynamodbs_crc32_is_served_from_now_without_it() -> None:
    """botocore checks x-amz-crc32 only when the answer has it; a templated body would
    not match it on any call."""
    body = _sts(_iso(ANSWERED_S + 3_600))
    before = _as_recorded()
    served = response_definition(_response(("X-Amz-Crc32", "1"), body=body))
    assert served["transformers"] == [TEMPLATE_TRANSFORMER]
    assert NOW.search(served["body"]).group(1) == "3600"
    assert not any(name.lower() == "x-amz-crc32" for name in served["headers"])
    assert _as_recorded() == before


def test_a_digested_body_without_a_moment_keeps_its_digest_and_is_not_counted() -> None:
    before = _as_recorded()
    served = response_definition(_response(("x-amz-crc32", "1"), body='{"Items":[]}'))
    assert "transformers" not in served and "x-amz-crc32" in served["headers"]
    assert _as_recorded() == before


def test_a_rate_limit_reset_in_seconds_is_served_as_recorded() -> None:
    served = response_definition(_response(("X-RateLimit-Reset", "60"), body="{{x}}"))
    assert "transformers" not in served and served["body"] == "{{x}}"
    assert served["headers"]["X-RateLimit-Reset"] == "60"


def test_an_epoch_rate_limit_reset_templates_the_stub() -> None:
    reset = str(ANSWERED_S + 1_800)
    served = response_definition(
        _response(("X-RateLimit-Reset", reset), ("X-Note", "{{x}}"), body="{{x}}")
    )
    assert served["transformers"] == [TEMPLATE_TRANSFORMER]
    assert NOW.fullmatch(served["headers"]["X-RateLimit-Reset"]).group(1) == "1800"
    assert "{{x}}" not in served["body"] and "{{x}}" not in served["headers"]["X-Note"]


def test_without_a_date_or_capture_time_nothing_changes() -> None:
    body = _sts(_iso(ANSWERED_S + 3_600))
    undated = HttpResponse(status=200, headers=(), body=body.encode())
    assert response_definition(undated)["body"] == body
    captured = response_definition(undated, captured_at_s=ANSWERED_S)
    assert NOW.search(captured["body"]).group(1) == "3600"


def test_a_part_with_its_recorded_digest_is_served_as_recorded() -> None:
    """A 206 keeps its digests as recorded (``digests.keeps_recorded_digests``): a part
    served from now would no longer match its Content-Digest."""
    body = '{"access_token":"t","expires_on":"' + str(ANSWERED_S + 3_600) + '"}'
    part = HttpResponse(
        status=206,
        headers=(
            ("Date", formatdate(ANSWERED_S, usegmt=True)),
            ("Content-Range", f"bytes 0-{len(body) - 1}/{len(body) + 10}"),
            ("Content-Digest", "sha-256=:x:"),
        ),
        body=body.encode(),
    )
    before = _as_recorded()
    served = response_definition(part)
    assert "transformers" not in served and served["body"] == body
    assert served["headers"]["Content-Digest"] == "sha-256=:x:"
    assert _as_recorded() == before + 1
