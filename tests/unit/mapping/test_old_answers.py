"""Stubs the release before wrote, as the loader meets them: an SQS send answering any
message with the recorded one's MD5s, Azure's echoed client id served as the recorded
call's, expiries in forms served as recorded. Each is made faithful once, or retired.

``old_release_stubs.json`` holds stubs written by that release's ``build_mapping`` (its
tree at 4745aec) from the exchanges named by each key; its stubs carry
``priority_scale: 2`` and no ``stub_format``."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import re
from pathlib import Path

import pytest

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.loader.shards import Shard
from ext_proc_server.mapping import old_stubs, on_current_format
from ext_proc_server.mapping.stub_format import encoded_on_current_format, on_old_format
from tests.support.fake_wiremock import FakeWireMock
from tests.unit.mapping.mapping_helpers import build, make_exchange

OLD = json.loads((Path(__file__).parent / "old_release_stubs.json").read_text())
PINNED = ["sqs_json_send", "sqs_json_send_attrs", "sqs_json_batch", "sqs_form_send"]
UNKNOWN = ["sqs_json_send_sanitized", "sqs_json_send_uuid"]
CLIENT_ID = "x-ms-client-request-id"
# The loader's wiremock_loader_stubs_retired reason, and the metadata a stub written (or
# rewritten) on today's format carries: both outlive a release.
RETIRED_MESSAGE_UNKNOWN = "old_stub_message_unknown"
FORMAT_KEY, STUB_FORMAT = "stub_format", 3


def _old(name: str) -> dict:
    return copy.deepcopy(OLD[name])


def _json_paths(stub: dict) -> dict[str, dict]:
    return {
        p["matchesJsonPath"]["expression"]: p["matchesJsonPath"]
        for p in stub["request"].get("bodyPatterns", ())
        if isinstance(p.get("matchesJsonPath"), dict)
    }


def test_old_stubs_of_the_release_before_are_on_the_old_format() -> None:
    assert all(on_old_format(stub) for stub in OLD.values())


def test_an_old_json_send_holding_its_message_is_pinned_to_it() -> None:
    upgraded, reason = on_current_format(_old("sqs_json_send"))
    assert reason == ""
    paths = _json_paths(upgraded)
    assert paths["$.MessageBody"]["equalTo"] == '{"order": 7, "status": "paid"}'
    assert paths["$.MessageAttributes"] == {"expression": "$.MessageAttributes", "absent": True}
    with_attributes, _ = on_current_format(_old("sqs_json_send_attrs"))
    held = _json_paths(with_attributes)["$.MessageAttributes"]["equalToJson"]
    assert held == {"kind": {"DataType": "String", "StringValue": "paid"}}


def test_an_old_batch_send_is_pinned_entry_by_entry() -> None:
    paths = _json_paths(on_current_format(_old("sqs_json_batch"))[0])
    assert paths["$.Entries[0].Id"]["equalTo"] == "a"
    assert paths["$.Entries[1].MessageBody"]["equalTo"] == "second"


def test_an_old_form_send_refuses_attributes_it_did_not_send() -> None:
    upgraded, reason = on_current_format(_old("sqs_form_send"))
    assert reason == ""
    (refused,) = [p["doesNotMatch"] for p in upgraded["request"]["bodyPatterns"]]
    recorded = "Action=SendMessage&MessageBody=hello+world&Version=2012-11-05"
    assert re.fullmatch(refused, recorded) is None
    assert re.fullmatch(refused, recorded + "&MessageAttribute.1.Name=kind") is not None
    assert upgraded["request"]["formParameters"]["MessageBody"] == {
        "hasExactly": [{"equalTo": "hello world"}]
    }


@pytest.mark.parametrize("name", UNKNOWN)
def test_an_old_send_whose_message_is_not_held_exactly_is_retired(name: str) -> None:
    # A sanitized value matched by a regex, a UUID body matched as any string: the MD5s
    # answered are of one message the stub cannot name.
    assert on_current_format(_old(name)) == (None, RETIRED_MESSAGE_UNKNOWN)
    assert encoded_on_current_format(json.dumps(_old(name))) == (None, RETIRED_MESSAGE_UNKNOWN)


def test_an_old_form_send_with_a_message_field_matched_as_any_value_is_retired() -> None:
    stub = _old("sqs_form_send")
    stub["request"]["formParameters"]["MessageBody"] = {"hasExactly": [{"matches": ".+"}]}
    assert on_current_format(stub) == (None, RETIRED_MESSAGE_UNKNOWN)
    # Answered without MD5s (an error), the same matchers are kept: no MD5 to disagree.
    stub["response"]["body"] = "<ErrorResponse><Error><Code>QueueDoesNotExist</Code></Error>"
    upgraded, reason = on_current_format(stub)
    assert reason == ""
    assert upgraded["request"] == stub["request"]


def test_an_old_azure_answer_echoes_the_replayed_client_id() -> None:
    for name in ("azure_blob_get", "azure_arm_get"):
        response = on_current_format(_old(name))[0]["response"]
        assert response["headers"][CLIENT_ID] == "{{request.headers.x-ms-client-request-id}}"
        assert response["transformers"] == ["response-template"]
    arm = on_current_format(_old("azure_arm_get"))[0]["response"]["headers"]
    # A correlation id ARM may have made itself: nothing held says it was an echo.
    assert arm["x-ms-correlation-request-id"] == "aaaaaaaa-2222-4333-8444-555555555555"
    # Nor for an app's X-Correlation-ID: the stub does not hold the request's.
    stub = _old("echo_x_correlation")
    assert on_current_format(stub)[0]["response"] == stub["response"]


@pytest.mark.parametrize(
    "name", ["cognito_credentials", "app_service_token", "dynamodb_token_with_crc"]
)
def test_an_old_expiry_in_a_form_served_from_now_since_is_templated(name: str) -> None:
    response = on_current_format(_old(name))[0]["response"]
    assert response["transformers"] == ["response-template"]
    assert "now offset='" in response["body"]
    assert response["body"] != OLD[name]["response"]["body"]
    # A digest clients check only when present is left out: it named the recorded body.
    assert "x-amz-crc32" not in response["headers"]
    # Without the answer's time (no Date kept, no capture time), nothing says how long
    # it had to live: served as recorded.
    unknown = _old(name)
    del unknown["metadata"]["mockado"]["captured_at_s"]
    assert on_current_format(unknown)[0]["response"] == unknown["response"]


@pytest.mark.parametrize("name", sorted(set(OLD) - set(UNKNOWN)))
def test_a_stub_is_rewritten_once(name: str) -> None:
    upgraded, _ = on_current_format(_old(name))
    assert upgraded["metadata"]["mockado"][FORMAT_KEY] == STUB_FORMAT
    assert not on_old_format(upgraded)
    assert on_current_format(upgraded) == (upgraded, "")
    encoded = json.dumps(upgraded)
    assert encoded_on_current_format(encoded) == (encoded, "")


def test_a_send_stub_written_today_is_left_as_it_is_when_seen_unmarked() -> None:
    message = '{"order": 8, "event": "5b0f7c43-8d7e-4a2f-9c1e-2d6a0b9e4f11"}'
    body = json.dumps({"QueueUrl": "http://sqs/1/q", "MessageBody": message}).encode()
    md5 = hashlib.md5(message.encode(), usedforsecurity=False).hexdigest()
    answer = HttpResponse(status=200, headers=(("content-type", "application/x-amz-json-1.0"),),
                          body=json.dumps({"MD5OfMessageBody": md5}).encode())  # fmt: skip
    headers = (("x-amz-target", "AmazonSQS.SendMessage"),
               ("content-type", "application/x-amz-json-1.0"))  # fmt: skip
    today = build(make_exchange(method="POST", path="/", headers=headers, body=body,
                                response=answer))  # fmt: skip
    assert today is not None and not on_old_format(today)
    unmarked = copy.deepcopy(today)
    del unmarked["metadata"]["mockado"][FORMAT_KEY]
    upgraded, reason = on_current_format(unmarked)
    assert reason == ""
    assert upgraded == today


def test_the_seed_retires_old_sends_it_cannot_pin_and_pins_the_others() -> None:
    wiremock = FakeWireMock()
    for stub in OLD.values():
        wiremock.stubs[stub["id"]] = copy.deepcopy(stub)
    found = old_stubs(wiremock.stubs.values())
    assert sorted(found.retired) == sorted(
        (OLD[name]["id"], RETIRED_MESSAGE_UNKNOWN) for name in UNKNOWN
    )

    async def start() -> None:
        async with wiremock.client() as client:
            await Shard(name="default", client=client).seed()

    asyncio.run(start())
    assert sorted(wiremock.stubs) == sorted(OLD[n]["id"] for n in OLD if n not in UNKNOWN)
    for name in PINNED:
        held = wiremock.stubs[OLD[name]["id"]]
        assert held["metadata"]["mockado"][FORMAT_KEY] == STUB_FORMAT
        assert held["request"] != OLD[name]["request"]
