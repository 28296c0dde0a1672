"""build_mapping: ids, priority, scenarios, metadata and the response definition."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.core.hosts import port_of
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from ext_proc_server.mapping import (
    Deduplicator,
    NoiseNormalizer,
    ScenarioTracker,
    build_mapping,
    skip_reason,
)
from ext_proc_server.mapping.priority import LOWEST_PRIORITY
from ext_proc_server.mapping.stubs import (
    MAPPING_NAMESPACE,
    TRUNCATED_HEADER,
    mapping_id,
)
from tests.unit.mapping.mapping_helpers import (
    JSON,
    UUID,
    build,
    build_in_scenarios,
    json_post,
    make_exchange,
)


def test_refuses_unsanitized_exchange() -> None:
    with pytest.raises(ValueError, match="not sanitized"):
        build_mapping(
            make_exchange().replace(sanitized=False),
            dedup_hash="0" * 64,
            config=CollectorConfig(),
            normalizer=NoiseNormalizer(CollectorConfig()),
        )


def test_refuses_exchange_without_response() -> None:
    with pytest.raises(ValueError, match="no response"):
        build_mapping(
            make_exchange().replace(response=None),
            dedup_hash="0" * 64,
            config=CollectorConfig(),
            normalizer=NoiseNormalizer(CollectorConfig()),
        )


def test_id_is_a_uuid_derived_from_the_hash() -> None:
    cfg = CollectorConfig()
    normalizer = NoiseNormalizer(cfg)
    one = build_mapping(make_exchange(), dedup_hash="a" * 64, config=cfg, normalizer=normalizer)
    again = build_mapping(make_exchange(), dedup_hash="a" * 64, config=cfg, normalizer=normalizer)
    other = build_mapping(make_exchange(), dedup_hash="b" * 64, config=cfg, normalizer=normalizer)
    assert one and again and other
    assert one["id"] == one["uuid"] == again["id"]
    assert other["id"] != one["id"]
    assert str(uuid.UUID(one["id"])) == one["id"]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text().filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)),
        st.sampled_from(["", "a" * 64, "é:ü"]),
    )
)
def test_the_id_is_the_uuid5_of_the_hash_it_always_was(dedup_hash: str) -> None:
    # Stub ids must never change: the uuid5 of the hash in the mapping namespace.
    assert mapping_id(dedup_hash) == str(uuid.uuid5(MAPPING_NAMESPACE, dedup_hash))


def test_basic_request_and_metadata() -> None:
    mapping = build(
        make_exchange(query=(("b", "2"), ("a", "1")), authority="Payments.Example.com:8443")
    )
    assert mapping is not None
    request = mapping["request"]
    assert request["method"] == "GET"
    assert request["urlPath"] == "/items"
    # An external host matches exactly itself (any case).
    assert request["host"] == {"equalTo": "payments.example.com", "caseInsensitive": True}
    assert request["queryParameters"] == {
        "a": {"hasExactly": [{"equalTo": "1"}]},
        "b": {"hasExactly": [{"equalTo": "2"}]},
    }
    assert "headers" not in request
    # No body: a request that sends one is another request.
    assert request["bodyPatterns"] == [{"absent": True}]
    meta = mapping["metadata"]["mockado"]
    assert meta["namespace"] == "shop"
    assert meta["workload"] == "web"
    assert meta["captured_at_s"] == 1700000000.5
    assert meta["host"] == "payments.example.com"
    assert meta["truncated"] is False
    assert len(meta["hash"]) == 64
    assert 1 <= mapping["priority"] <= LOWEST_PRIORITY


@pytest.mark.parametrize(
    ("authority", "namespace", "fqdn"),
    [
        ("api", "payments", "api.payments.svc.cluster.local"),
        ("api:8080", "payments", "api.payments.svc.cluster.local"),
        ("api.payments", "orders", "api.payments.svc.cluster.local"),
        ("API.payments.svc:80", "", "api.payments.svc.cluster.local"),
        ("api.payments.svc.cluster.local.", "orders", "api.payments.svc.cluster.local"),
    ],
)
def test_every_name_of_a_service_gives_one_host_one_hash_and_one_matcher(
    authority: str, namespace: str, fqdn: str
) -> None:
    cfg = CollectorConfig(cluster_namespaces=["payments"])
    normalizer = NoiseNormalizer(cfg)
    exchange = make_exchange(authority=authority).replace(namespace=namespace)
    port = port_of(authority)  # each port has its own stub, under every name
    reference = make_exchange(authority=f"{fqdn}:{port}" if port else fqdn)
    reference = reference.replace(namespace="elsewhere")
    dedup = Deduplicator(cfg, normalizer=normalizer)
    assert dedup.hash(exchange) == dedup.hash(reference)
    mapping = build_mapping(
        exchange, dedup_hash=dedup.hash(exchange), config=cfg, normalizer=normalizer
    )
    assert mapping is not None
    assert mapping["metadata"]["mockado"]["host"] == fqdn
    pattern = mapping["request"]["host"]["matches"]
    assert "api\\.payments\\.svc\\.cluster\\.local" in pattern and pattern.startswith("(?i)")
    assert mapping["request"]["port"] == int(port or 80)


def test_an_unknown_namespace_leaves_name_dot_name_as_it_is() -> None:
    cfg = CollectorConfig()
    exchange = make_exchange(authority="api.example:80").replace(namespace="shop")
    mapping = build_mapping(
        exchange, dedup_hash="a" * 64, config=cfg, normalizer=NoiseNormalizer(cfg)
    )
    assert mapping is not None
    assert mapping["request"]["host"] == {"equalTo": "api.example", "caseInsensitive": True}


def test_truncated_response_marked_only_when_asked() -> None:
    response = HttpResponse(status=200, headers=JSON, body=b'{"a": [1, 2', body_truncated=True)
    mapping = build(make_exchange(response=response), truncated_responses="mark")
    assert mapping is not None
    assert mapping["response"]["headers"][TRUNCATED_HEADER] == "true"
    assert mapping["response"]["body"] == '{"a": [1, 2'
    assert mapping["metadata"]["mockado"]["truncated"] is True


@pytest.mark.parametrize(
    ("response", "request_flags", "reason"),
    [
        (HttpResponse(status=200, body=b"abc", body_truncated=True), {}, "response_truncated"),
        (
            HttpResponse(status=200, body_dropped=True, body_drop_reason="structured_binary"),
            {},
            "response_structured_binary",
        ),
        (HttpResponse(status=200, body_dropped=True), {}, "response_unknown"),
        (
            HttpResponse(
                status=200, body=b"\x00\x00\x00\x00\x00", trailers=(("grpc-status", "0"),)
            ),
            {},
            "response_trailers",
        ),
        (
            HttpResponse(status=401),
            {"headers": (("Authorization", "Bearer x"),)},
            "response_credentials_refused",
        ),
        (
            HttpResponse(status=401),
            {"headers": (("cookie", "sid=x"),)},
            "response_credentials_refused",
        ),
        (
            HttpResponse(status=407),
            {"headers": (("proxy-authorization", "Basic x"),)},
            "response_credentials_refused",
        ),
        (None, {"body_truncated": True}, "request_truncated"),
        (
            None,
            {"body_dropped": True, "body_drop_reason": "charset_undeclared"},
            "request_charset_undeclared",
        ),
    ],
)
def test_an_unfaithful_stub_is_refused(response, request_flags, reason) -> None:
    exchange = make_exchange(response=response, method="POST", body=b"", **request_flags)
    assert skip_reason(exchange) == reason
    assert reason in STUB_SKIP_REASONS
    with pytest.raises(ValueError, match=reason):
        build(exchange)
    # "mark" serves a cut response, never one built from a cut request.
    assert skip_reason(exchange, mark_truncated=True) == (
        "" if reason == "response_truncated" else reason
    )


@pytest.mark.parametrize(
    ("status", "coding", "kept"),
    [(200, None, True), (404, None, True), (200, "identity", True), (204, None, False),
     (200, "gzip", False)],
)  # fmt: skip
def test_a_head_answer_keeps_the_length_of_the_get_body(
    status: int, coding: str | None, kept: bool
) -> None:
    """Not of a compressed body: no stub matches Accept-Encoding, a GET gets it decoded."""
    pdf = ("content-type", "application/pdf")
    headers = (pdf, ("content-length", "5120"), ("content-length", "5120"))
    if coding:
        headers += (("content-encoding", coding),)
    response = HttpResponse(status=status, headers=headers)
    mapping = build(make_exchange(method="HEAD", response=response))
    assert mapping is not None
    expected = {"content-type": pdf[1]} | ({"content-length": "5120"} if kept else {})
    assert mapping["response"]["headers"] == expected
    get = build(make_exchange(response=response))
    assert get is not None and get["response"]["headers"] == {"content-type": pdf[1]}


@pytest.mark.parametrize(
    ("content_type", "kept"),
    [("application/pdf", True), ("application/zip", True), ("video/mp4", True),
     ("font/woff2", True), ("application/x-protobuf", True), ("application/grpc", True),
     ("text/csv", False), ("application/json; charset=utf-8", False), ("text/html", False),
     ("image/png", False), ("image/jpeg", False), ("application/octet-stream", False),
     ("application/x-unknown", False), (None, False)],
)  # fmt: skip
def test_a_head_answer_keeps_its_length_only_when_the_get_serves_the_body_unchanged(
    content_type: str | None, kept: bool
) -> None:
    """The length is the upstream body's; a GET's stub serves text with sanitized values
    and images without their metadata, another length: a client sizing a download or
    its ranges from the HEAD would then be wrong."""
    headers = (("content-length", "5120"),)
    if content_type:
        headers = (("content-type", content_type), *headers)
    response = HttpResponse(status=200, headers=headers)
    mapping = build(make_exchange(method="HEAD", response=response))
    assert mapping is not None
    served = mapping["response"].get("headers", {})
    assert ("content-length" in served) is kept
    if kept:
        assert served["content-length"] == "5120"


@pytest.mark.parametrize(
    ("content_type", "coding", "kept"),
    [("application/pdf", None, True), ("text/csv", None, False),
     ("application/json", None, False), ("application/pdf", "gzip", False)],
)  # fmt: skip
def test_a_head_answer_keeps_its_digests_only_with_its_length(
    content_type: str, coding: str | None, kept: bool
) -> None:
    """They describe the upstream's bytes; the GET's stub serves text sanitized (and its
    digests computed again), a compressed body decoded."""
    digests = (("content-md5", "stale=="), ("x-amz-checksum-crc32", "AAAAAA=="))
    headers = (("content-type", content_type), ("content-length", "9"), *digests)
    if coding:
        headers += (("content-encoding", coding),)
    response = HttpResponse(status=200, headers=headers)
    mapping = build(make_exchange(method="HEAD", response=response))
    assert mapping is not None
    served = mapping["response"]["headers"]
    assert {k: served[k] for k, _ in digests if k in served} == (dict(digests) if kept else {})


def test_a_header_value_outside_ascii_is_given_as_its_utf8_bytes() -> None:
    """WireMock writes each character as one ISO-8859-1 byte: its UTF-8 bytes, each as a
    character, come out as the bytes the upstream sent."""
    value = 'attachment; filename="relatório €.csv"'
    response = HttpResponse(status=200, headers=(("content-disposition", value),))
    mapping = build(make_exchange(response=response))
    assert mapping is not None
    served = mapping["response"]["headers"]["content-disposition"]
    assert served.encode("latin-1") == value.encode("utf-8")


def test_a_grpc_answer_in_headers_alone_is_sent_with_a_zero_length() -> None:
    headers = (("content-type", "application/grpc"), ("grpc-status", "5"))
    mapping = build(
        make_exchange(method="POST", response=HttpResponse(status=200, headers=headers))
    )
    assert mapping is not None
    assert mapping["response"]["headers"] == {
        "content-type": "application/grpc",
        "grpc-status": "5",
        "content-length": "0",
    }


def test_response_headers_filtered_and_multi_valued() -> None:
    response = HttpResponse(
        status=201,
        headers=(
            (":status", "201"),
            ("Content-Type", "application/json"),
            ("Content-Length", "11"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "keep-alive"),
            ("Date", "Mon"),
            ("x-envoy-upstream-service-time", "3"),
            ("Set-Cookie", "sid=SANITIZED_COOKIE"),
            ("set-cookie", "theme=dark"),
            ("X-Custom", "v"),
        ),
        body=b'{"id": 1}',
    )
    mapping = build(make_exchange(response=response))
    assert mapping is not None
    assert mapping["response"] == {
        "status": 201,
        "headers": {
            "Content-Type": "application/json",
            "Set-Cookie": ["sid=SANITIZED_COOKIE", "theme=dark"],
            "X-Custom": "v",
            # The served (decoded) body's own length: WireMock would answer chunked.
            "content-length": "9",
        },
        "body": '{"id": 1}',
    }


def test_response_body_kinds() -> None:
    text = build(make_exchange(response=HttpResponse(status=200, body=b"hello")))
    binary = build(make_exchange(response=HttpResponse(status=200, body=b"\x89PNG\xff")))
    scalar = build(make_exchange(response=HttpResponse(status=200, headers=JSON, body=b'"s"')))
    assert text and binary and scalar
    assert text["response"]["body"] == "hello"
    assert base64.b64decode(binary["response"]["base64Body"]) == b"\x89PNG\xff"
    assert scalar["response"]["body"] == '"s"'


@pytest.mark.parametrize(
    ("content_type", "body", "field"),
    [
        # JSON is served as recorded: jsonBody would be re-serialized by WireMock.
        ("application/json", b'{ "b": 1.0,  "a": "\\u00e9" }', "body"),
        ("application/json", '{"nome": "José"}'.encode(), "body"),
        ("text/plain; charset=utf-8", "ação".encode(), "body"),
        # Text in its own charset: the bytes as the sanitizer wrote them back.
        ("text/plain; charset=iso-8859-1", "ação".encode("latin-1"), "base64Body"),
        # Bytes that happen to be valid UTF-8 but declared windows-1252.
        ("text/html; charset=windows-1252", "Ã©".encode("cp1252"), "base64Body"),
        ("text/plain; charset=iso-8859-15", "só 10€".encode("iso8859-15"), "base64Body"),
        ("text/plain; charset=iso-8859-1", b"plain ascii", "body"),
        (
            "text/xml",
            '<?xml version="1.0" encoding="ISO-8859-1"?><a>Ã©</a>'.encode("latin-1"),
            "base64Body",
        ),
    ],
)
def test_response_bodies_are_served_byte_for_byte(content_type, body, field) -> None:
    headers = (("content-type", content_type),)
    mapping = build(make_exchange(response=HttpResponse(status=200, headers=headers, body=body)))
    assert mapping is not None
    served = mapping["response"]
    assert field in served and not {"body", "jsonBody", "base64Body"} - {field} & served.keys()
    raw = base64.b64decode(served[field]) if field == "base64Body" else served[field].encode()
    assert raw == body


def test_more_specific_stubs_get_a_lower_priority_number() -> None:
    page1 = build(make_exchange(path="/search", query=(("q", "x"),)))
    page2 = build(make_exchange(path="/search", query=(("q", "x"), ("page", "2"))))
    small = build(json_post({"a": 1}))
    bigger = build(json_post({"a": 1, "b": 2}))
    only_noise = build(json_post({"a": 1, "nonce": "z"}))
    assert page1 and page2 and small and bigger and only_noise
    assert page2["priority"] < page1["priority"]
    assert bigger["priority"] < small["priority"]
    # A noise field takes any value but must be sent: a request with it gets the stub
    # recorded with it, before the one recorded without.
    assert bigger["priority"] < only_noise["priority"] < small["priority"]


def test_stateful_scenarios_replay_in_order() -> None:
    bodies = (b'{"n":1}', b'{"n":2}', b'{"n":1}', b'{"n":3}')
    mappings = build_in_scenarios(
        [make_exchange(response=HttpResponse(status=200, headers=JSON, body=b)) for b in bodies]
    )
    first, second, first_again, third = mappings
    assert first and second and first_again and third
    assert first["id"] == first_again["id"]
    assert len({first["id"], second["id"], third["id"]}) == 3
    assert first["scenarioName"] == second["scenarioName"] == third["scenarioName"]
    assert "requiredScenarioState" not in first
    assert first["newScenarioState"] == "state-2"
    assert second["requiredScenarioState"] == "state-2"
    assert second["newScenarioState"] == "state-3"
    assert third["requiredScenarioState"] == "state-3"
    assert second["priority"] < first["priority"]


def test_scenario_tracker_limit() -> None:
    tracker = ScenarioTracker(max_states=2)
    assert tracker.position("k", "a") == 1
    assert tracker.position("k", "b") == 2
    assert tracker.position("k", "c") is None
    assert tracker.position("k", "a") == 1
    assert tracker.position("other", "c") == 1


def test_mapping_is_json_serializable() -> None:
    mapping = build(json_post({"a": [1, {"b": UUID}]}, query=(("x", "1"),)))
    assert json.loads(json.dumps(mapping)) == mapping


def test_mapping_from_a_shared_normalization_is_the_same() -> None:
    config = CollectorConfig()
    normalizer = NoiseNormalizer(config)
    body = json.dumps({"id": UUID, "name": "n", "items": [1, 2]}).encode()
    exchange = make_exchange(
        method="POST", path=f"/orders/{UUID}", query=(("q", "1"),), headers=JSON, body=body
    )
    dedup = Deduplicator(config, normalizer=normalizer)
    key, normalized = dedup.hash_normalized(exchange)
    assert key == dedup.hash(exchange)
    shared = build_mapping(
        exchange, dedup_hash=key, config=config, normalizer=normalizer, normalized=normalized
    )
    alone = build_mapping(exchange, dedup_hash=key, config=config, normalizer=normalizer)
    assert shared == alone
