"""Stream entries -> QueueItems: bad entries are marked, never raised, never quoted."""

from __future__ import annotations

import uuid

from ext_proc_server.core.queue_entries import encode_entry
from ext_proc_server.loader import parse_entry
from tests.support.fake_wiremock import mapping


def test_parse_entry_keeps_the_mapping_and_host():
    entry = encode_entry(mapping(1), host="api.svc")
    # As Redis gives them back: every name and value in bytes.
    fields = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in entry.items()}
    parsed = parse_entry("1-0", fields, deliveries=3)
    assert parsed.mapping == mapping(1)
    assert (parsed.host, parsed.deliveries, parsed.invalid_reason) == ("api.svc", 3, None)


def test_parse_entry_marks_undecodable_entries_invalid():
    parsed = parse_entry("1-0", {b"mapping": b"{not json", b"host": b"h"}, deliveries=1)
    assert parsed.mapping is None
    assert parsed.invalid_reason
    assert "{not json" not in parsed.invalid_reason  # never the raw content


def test_parse_entry_rejects_a_non_string_id_and_non_object_parts():
    bad_id = encode_entry({"id": 7, "request": {}, "response": {}})
    assert parse_entry("1-0", bad_id, deliveries=1).invalid_reason
    bad_part = encode_entry({"id": "x", "request": "GET /", "response": {}})
    assert parse_entry("1-0", bad_part, deliveries=1).invalid_reason


def test_a_mapping_without_id_gets_a_deterministic_one():
    bare = {"request": {"urlPath": "/a"}, "response": {"status": 200}}
    first = parse_entry("1-0", encode_entry(bare), deliveries=1).mapping
    again = parse_entry("2-0", encode_entry(dict(reversed(bare.items()))), deliveries=1).mapping
    other = parse_entry("3-0", encode_entry({**bare, "response": {"status": 201}}), deliveries=1)
    assert first["id"] == again["id"]
    assert uuid.UUID(first["id"])
    assert other.mapping["id"] != first["id"]
