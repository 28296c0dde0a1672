"""The dedup key holds a request body's Content-Type as its stub matches it."""

from __future__ import annotations

import json

import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping import build_mapping
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.noise import NoiseNormalizer
from tests.unit.mapping.mapping_helpers import make_exchange

_BODIES_BY_TYPE = {
    b'{"a":1}': ["application/json", "application/json; charset=utf-8", "Application/JSON",
                 "application/vnd.api+json", "APPLICATION/JSON; CHARSET=UTF-8", None],
    b"a=1&b=2": ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=UTF-8",
                 "Application/X-WWW-Form-Urlencoded", "text/plain"],
    b"hello": ["text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN", "application/json", None],
    b"\xff\x00": ["application/octet-stream", "image/png", "Image/PNG", None],
    b"--b1\r\nx\r\n--b1--": ["multipart/form-data; boundary=b1", "Multipart/Form-Data; boundary=b1",
                              "multipart/mixed; boundary=b1"],
}  # fmt: skip


@pytest.mark.parametrize("body", list(_BODIES_BY_TYPE))
def test_one_dedup_key_is_one_content_type_matcher(body: bytes) -> None:
    """Requests of one dedup key are answered by one stub: each Content-Type its matcher
    tells apart (exact, ignoring case; a multipart boundary any) is a key of its own, and
    one that differs only in case shares its key."""
    cfg = CollectorConfig()
    dedup = Deduplicator(cfg, normalizer=NoiseNormalizer(cfg))
    matchers: dict[str, set[str]] = {}
    for content_type in _BODIES_BY_TYPE[body]:
        headers = (("Content-Type", content_type),) if content_type is not None else ()
        exchange = make_exchange(method="POST", headers=headers, body=body)
        key, normalized = dedup.hash_normalized(exchange)
        mapping = build_mapping(
            exchange, dedup_hash=key, config=cfg, normalizer=dedup.normalizer,
            normalized=normalized,
        )  # fmt: skip
        assert mapping is not None
        matcher = mapping["request"]["headers"]["Content-Type"]
        folded = json.dumps(matcher, sort_keys=True).lower()
        matchers.setdefault(key, set()).add(folded)
    assert all(len(found) == 1 for found in matchers.values()), matchers
    assert len(matchers) == len({next(iter(m)) for m in matchers.values()})


def test_a_boundary_drawn_per_call_keeps_a_multipart_key() -> None:
    cfg = CollectorConfig()
    dedup = Deduplicator(cfg, normalizer=NoiseNormalizer(cfg))
    keys = {
        dedup.hash(
            make_exchange(
                method="POST",
                headers=(("Content-Type", f"multipart/form-data; boundary={boundary}"),),
                body=f"--{boundary}\r\nx\r\n--{boundary}--".encode(),
            )
        )
        for boundary in ("b1", "----WebKitFormBoundary7MA4YWxk")
    }
    assert len(keys) == 1
