"""The per-exchange stages: fail closed, drops counted by reason, default wiring."""

import asyncio
import base64
import dataclasses
import hashlib
import json

import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import SanitizeError
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, build_mapping
from ext_proc_server.pipeline import CapturePipeline, Prepared, Skipped, default_stages, prepare
from tests.unit.pipeline.pipeline_helpers import (
    FakeRedis,
    cfg,
    dropped,
    exchange,
    skipped,
    stages,
    wait_for,
)


def test_sanitizer_failure_drops_fail_closed():
    def boom(ex):
        if ex.request.path == "/bad":
            raise SanitizeError("body: cannot be sanitized")
        if ex.request.path == "/bug":
            raise RuntimeError("bug")
        if ex.request.path == "/unsure":
            return ex  # returned without sanitized=True: never queued
        return ex.replace(sanitized=True)

    async def go():
        redis = FakeRedis()
        pipe = CapturePipeline(cfg(), stages=stages(redis, sanitize=boom))
        pipe.start()
        before = (dropped("sanitize_error"), dropped("unsanitizable"))
        for path in ("/bad", "/bug", "/unsure", "/good"):
            pipe.submit(exchange(path))
        await wait_for(lambda: pipe.held == 0 and len(redis.entries) == 1)
        await pipe.stop()
        assert dropped("sanitize_error") - before[0] == 2
        assert dropped("unsanitizable") - before[1] == 1
        return redis

    redis = asyncio.run(go())
    assert b'"/good"' in redis.entries[0]["mapping"]


def test_truncated_response_skipped_by_default_and_unencodable_values():
    async def go():
        redis = FakeRedis()
        recorded = []

        async def record(items):
            recorded.extend(items)

        wired = dataclasses.replace(stages(redis), record_skips=record)
        pipe = CapturePipeline(cfg(), stages=wired)
        pipe.start()
        before = (skipped("response_truncated"), dropped("malformed"))
        pipe.submit(exchange("/t", truncated=True))
        pipe.submit(exchange("/bad\udce9"))  # a lone surrogate cannot be sent to Redis
        pipe.submit(exchange("/ok"))
        await wait_for(lambda: pipe.held == 0 and len(redis.entries) == 1 and recorded)
        await pipe.stop()
        assert skipped("response_truncated") - before[0] == 1
        assert dropped("malformed") - before[1] == 1
        assert recorded == [Skipped("api.example", "response_truncated", "GET", "/t")]

    asyncio.run(go())


def test_skip_reasons_come_before_dedup_and_the_mapping():
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    cut_request = _json_exchange()
    cut_request = cut_request.replace(
        request=dataclasses.replace(cut_request.request, body_truncated=True)
    )
    before = skipped("request_truncated")
    item = prepare(cut_request, wired, dedup_enabled=True)
    assert isinstance(item, Skipped) and item.reason == "request_truncated"
    assert item.host == "api.example" and item.path.startswith("/orders/")
    assert skipped("request_truncated") == before + 1
    # A body the sanitizer drops (a PDF): skipped after sanitizing, with its reason.
    pdf = _json_exchange()
    pdf = pdf.replace(
        response=HttpResponse(
            status=200, headers=(("content-type", "application/pdf"),), body=b"%PDF-1.7 x"
        )
    )
    item = prepare(pdf, wired, dedup_enabled=True)
    assert isinstance(item, Skipped) and item.reason == "response_structured_binary"
    # "mark" keeps a cut response (served with x-mockado-truncated), never a cut request.
    marked = default_stages(
        CollectorConfig(truncated_responses="mark"), redis=None, keys=RedisKeys(queue="unit")
    )
    cut_response = _json_exchange().replace(
        response=HttpResponse(status=200, body=b'{"a": 1', body_truncated=True)
    )
    assert isinstance(
        prepare(cut_response, marked, dedup_enabled=True, mark_truncated=True), Prepared
    )
    assert isinstance(
        prepare(cut_request, marked, dedup_enabled=True, mark_truncated=True), Skipped
    )


def _json_exchange(authority: str = "api.example:8080") -> Exchange:
    return Exchange(
        id="j",
        request=HttpRequest(
            method="POST",
            path="/orders/3f2b8c1e-1111-4222-8333-444455556666",
            authority=authority,
            headers=(("content-type", "application/json"),),
            body=b'{"name":"n","items":[1,2]}',
        ),
        response=HttpResponse(
            status=200, headers=(("content-type", "application/json"),), body=b'{"ok":1}'
        ),
    )


def test_default_dedup_hands_its_normalized_request_to_the_mapping():
    config = CollectorConfig()
    wired = default_stages(config, redis=None, keys=RedisKeys(queue="unit"))
    clean = wired.sanitize(_json_exchange())
    keyed = wired.dedup(clean)
    assert keyed.exchange is clean and keyed.normalized is not None
    assert keyed.dedup_hash == Deduplicator(config).hash(clean)
    # The stub is named by the request alone, so a drifted response replaces it.
    assert keyed.stub_hash == Deduplicator(config).key_parts(clean)[1] != keyed.dedup_hash
    alone = build_mapping(
        clean, dedup_hash=keyed.stub_hash, config=config, normalizer=NoiseNormalizer(config)
    )
    assert wired.build_mapping(keyed) == alone
    # Without Redis the one-round-trip script is left out.
    assert wired.claim_and_enqueue is None


def test_prepare_queues_the_host_without_port_or_brackets():
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    for authority, host in (("api.example:8080", "api.example"), ("[::1]:9000", "::1")):
        prepared = prepare(
            _json_exchange(authority), wired, dedup_enabled=True, mark_truncated=False
        )
        assert prepared is not None
        assert decode_entry(prepared.entry)[1] == host
        # The second time, the local LRU calls it a duplicate: nothing to queue.
        again = prepare(_json_exchange(authority), wired, dedup_enabled=True, mark_truncated=False)
        assert again is not None and again.entry is None
        assert again.dedup_hash == prepared.dedup_hash


def test_a_number_past_a_double_is_its_own_stub_matching_its_exact_text():
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    queued = {}
    for body in (b'{"a":1e400}', b'{"a":null}'):
        exchange = _json_exchange()
        exchange = exchange.replace(request=dataclasses.replace(exchange.request, body=body))
        prepared = prepare(exchange, wired, dedup_enabled=True)
        assert isinstance(prepared, Prepared) and prepared.entry is not None
        queued[body] = (prepared.mapping_id, decode_entry(prepared.entry)[0])
    (inf_id, inf_stub), (null_id, null_stub) = queued.values()
    assert inf_id != null_id
    # Never an equalToJson WireMock would read as {"a":null}: only this text matches.
    assert inf_stub["request"]["bodyPatterns"] == [{"equalTo": '{"a":1e400}'}]
    assert null_stub["request"]["bodyPatterns"][0]["equalToJson"] == {"a": None}


def test_undeclared_legacy_text_is_not_guessed_at_but_skipped_and_counted():
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    latin = "Descrição: depósito".encode("latin-1")
    undeclared = _json_exchange().replace(
        response=HttpResponse(status=200, headers=(("content-type", "text/plain"),), body=latin)
    )
    before = skipped("response_charset_undeclared")
    item = prepare(undeclared, wired, dedup_enabled=True)
    assert isinstance(item, Skipped) and item.reason == "response_charset_undeclared"
    assert skipped("response_charset_undeclared") == before + 1
    # Declared, it is read, kept and served in its charset.
    declared = undeclared.replace(
        response=HttpResponse(
            status=200, headers=(("content-type", "text/plain; charset=iso-8859-1"),), body=latin
        )
    )
    item = prepare(declared, wired, dedup_enabled=True)
    assert isinstance(item, Prepared) and item.entry is not None
    served = decode_entry(item.entry)[0]["response"]
    assert base64.b64decode(served["base64Body"]) == latin
    assert served["headers"]["content-type"] == "text/plain; charset=iso-8859-1"


def _count_parses(monkeypatch, *modules) -> list:
    """The bodies ``load_json`` parses from now on, through any of ``modules``."""
    from ext_proc_server.mapping import shapes

    parsed = []
    real = shapes.load_json

    def counting(body):
        parsed.append(body)
        return real(body)

    for module in modules:
        monkeypatch.setattr(module, "load_json", counting)
    return parsed


def test_each_response_body_is_parsed_once_for_dedup_and_the_stub(monkeypatch):
    from ext_proc_server.mapping import shapes

    parsed = _count_parses(monkeypatch, shapes)
    config = CollectorConfig()
    wired = default_stages(config, redis=None, keys=RedisKeys(queue="unit"))
    clean = wired.sanitize(_json_exchange())
    keyed = wired.dedup(clean)
    mapping = wired.build_mapping(keyed)
    assert parsed == [b'{"ok":1}']
    # The stub holds the shape the dedup key covers, as if computed on its own.
    shape = Deduplicator(config).shape_digest(clean.response, path=clean.request.path)
    assert keyed.shape == shape == mapping["metadata"]["mockado"]["shape"]
    alone = build_mapping(
        clean, dedup_hash=keyed.stub_hash, config=config, normalizer=NoiseNormalizer(config)
    )
    assert alone["metadata"]["mockado"]["shape"] == shape


def test_stateful_dedup_leaves_the_shape_to_the_mapping():
    config = CollectorConfig(stateful_scenarios=True)
    wired = default_stages(config, redis=None, keys=RedisKeys(queue="unit"))
    clean = wired.sanitize(_json_exchange())
    keyed = wired.dedup(clean)
    assert keyed.shape == ""
    shape = Deduplicator(config).shape_digest(clean.response, path=clean.request.path)
    assert wired.build_mapping(keyed)["metadata"]["mockado"]["shape"] == shape


def test_a_response_the_sanitizer_left_as_it_was_is_parsed_once_with_its_fingerprint(
    monkeypatch,
):
    from ext_proc_server.mapping import repeats, shapes

    parsed = _count_parses(monkeypatch, shapes, repeats)
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    assert wired.repeats is not None
    raw = _json_exchange()
    key = wired.repeats.key_of(raw)
    item = prepare(raw, wired, dedup_enabled=True, repeat_key=key)
    assert isinstance(item, Prepared) and item.entry is not None
    fingerprint = wired.repeats.fingerprint_of(key)
    assert parsed == [b'{"ok":1}']
    assert fingerprint == wired.repeats.fingerprint(raw.response)


def test_a_request_no_matcher_tells_apart_is_skipped_with_its_reason_for_the_record():
    """A value repeated in the query (WireMock's hasExactly does not count repeats) gets no
    stub, and the pipeline gets a Skipped naming why, counted once, for the host's record."""
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    recorded = _json_exchange()
    repeated = recorded.replace(
        request=dataclasses.replace(recorded.request, query=(("t", "a"), ("t", "a"), ("t", "b")))
    )
    before = skipped("request_query_repeats")
    item = prepare(repeated, wired, dedup_enabled=True)
    assert item == Skipped("api.example", "request_query_repeats", "POST", recorded.request.path)
    assert skipped("request_query_repeats") == before + 1
    # Each value once: a stub.
    distinct = recorded.replace(
        request=dataclasses.replace(recorded.request, query=(("t", "a"), ("t", "b")))
    )
    assert isinstance(prepare(distinct, wired, dedup_enabled=True), Prepared)


def _sqs_send(event: str) -> Exchange:
    message = f'{{"order": 8, "event": "{event}"}}'
    md5 = hashlib.md5(message.encode(), usedforsecurity=False).hexdigest()
    return Exchange(
        id=event,
        request=HttpRequest(
            method="POST", path="/", authority="sqs.example",
            headers=(("x-amz-target", "AmazonSQS.SendMessage"),
                     ("content-type", "application/x-amz-json-1.0")),
            body=json.dumps({"QueueUrl": "http://sqs/1/q", "MessageBody": message}).encode(),
        ),
        response=HttpResponse(
            status=200, headers=(("content-type", "application/x-amz-json-1.0"),),
            body=json.dumps({"MD5OfMessageBody": md5, "MessageId": "m-1"}).encode(),
        ),
    )  # fmt: skip


def test_a_send_computing_its_md5s_is_queued_with_the_stub_of_its_exact_repeats():
    async def go():
        redis = FakeRedis()
        wired = dataclasses.replace(
            default_stages(cfg(), redis=None, keys=RedisKeys(queue="unit")),
            claim=redis.claim,
            enqueue=redis.enqueue,
        )
        pipe = CapturePipeline(cfg(), stages=wired)
        pipe.start()
        first = _sqs_send("5b0f7c43-8d7e-4a2f-9c1e-2d6a0b9e4f11")
        pipe.submit(first)
        await wait_for(lambda: len(redis.entries) == 2)
        # The same send with another event id: its key is the first's, a duplicate.
        pipe.submit(_sqs_send("a4c1e2f3-0b9d-4c8e-8f7a-6b5d4c3b2a19"))
        await wait_for(lambda: pipe.held == 0)
        await pipe.stop()
        return redis, wired, first

    redis, wired, first = asyncio.run(go())
    twin, stub = (decode_entry(entry)[0] for entry in redis.entries)
    assert len(redis.entries) == 2 and len(redis.claimed) == 2
    assert stub["request"]["customMatcher"]["name"] == "mockado-sqs-send"
    assert "customMatcher" not in twin["request"] and twin["priority"] == stub["priority"] + 1
    # Its repeats are the first stub's: they keep that one seen (and recorded) first.
    assert wired.repeats is not None
    assert wired.repeats.recorded(wired.repeats.key_of(first)) == stub["id"]


def _count_rule(monkeypatch):
    """Each (sanitized, mark_truncated) the faithful-stub rule is asked with."""
    from ext_proc_server.mapping import faithful, stubs

    asked = []
    real = faithful.skip_reason

    def counting(exchange, *, mark_truncated=False):
        asked.append((exchange.sanitized, mark_truncated))
        return real(exchange, mark_truncated=mark_truncated)

    monkeypatch.setattr(faithful, "skip_reason", counting)
    monkeypatch.setattr(stubs, "skip_reason", counting)
    return asked


def test_the_faithful_rule_is_asked_once_of_the_sanitized_exchange(monkeypatch):
    asked = _count_rule(monkeypatch)
    wired = default_stages(CollectorConfig(), redis=None, keys=RedisKeys(queue="unit"))
    item = prepare(_json_exchange(), wired, dedup_enabled=True)
    assert isinstance(item, Prepared) and item.entry is not None
    assert asked == [(False, False), (True, False)]
    # Asked under another setting than the mapping stage's own: the stage asks again.
    asked.clear()
    item = prepare(_json_exchange(), wired, dedup_enabled=False, mark_truncated=True)
    assert isinstance(item, Prepared) and item.entry is not None
    assert asked == [(False, True), (True, True), (True, False)]


def test_a_mapping_told_of_another_setting_still_refuses_a_truncated_response():
    config = CollectorConfig()  # truncated_responses: skip
    clean = exchange(truncated=True).replace(sanitized=True)
    normalizer = NoiseNormalizer(config)
    with pytest.raises(ValueError, match="response_truncated"):
        build_mapping(
            clean, dedup_hash="h", config=config, normalizer=normalizer, faithful_under=True
        )
    marked = CollectorConfig(truncated_responses="mark")
    mapping = build_mapping(
        clean, dedup_hash="h", config=marked, normalizer=normalizer, faithful_under=True
    )
    assert mapping is not None and mapping["metadata"]["mockado"]["truncated"] is True
