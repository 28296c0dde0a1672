"""The capture queue's wire format: a mapping encodes to JSON that decodes back to it."""

import json

import pytest

from ext_proc_server.core.queue_entries import (
    FIELD_HOST,
    FIELD_MAPPING,
    decode_entry,
    encode_entry,
    encode_mapping,
)

MAPPING = {
    "id": "7",
    "request": {"method": "POST", "bodyPatterns": [{"equalToJson": {"p": 1e-7, "q": 1e16}}]},
    "response": {"status": 200, "body": 'olá \u2028 "x"\n'},
    "metadata": {"mockado": {"captured_at_s": 1700000000.25, "truncated": False, "n": None}},
}


def test_an_entry_decodes_to_the_same_mapping_and_host():
    entry = encode_entry(MAPPING, host="api.example")
    assert entry[FIELD_HOST] == "api.example"
    assert decode_entry(entry) == (MAPPING, "api.example")
    # Compact UTF-8, non-ASCII kept as is.
    assert isinstance(entry[FIELD_MAPPING], bytes)
    assert b", " not in entry[FIELD_MAPPING] and "olá".encode() in entry[FIELD_MAPPING]


def test_values_past_orjson_are_written_as_json_writes_them():
    huge = {"n": 2**70, "nested": [{"k": -(2**65)}]}
    assert encode_mapping(huge) == json.dumps(huge, separators=(",", ":")).encode()
    # A lone surrogate is not UTF-8: Redis could not hold it (the pipeline counts it as
    # malformed).
    with pytest.raises(UnicodeEncodeError):
        encode_mapping({"v": "\ud800"})
