"""A query WireMock refuses (``?q=50%``) reads decoded as one it reads (``?q=50%25``): it is
never taken for a repeat of that one's stub on the repeat fast path, but skipped and counted
(``request_query_undecodable``), whichever way its repeat key is computed."""

from __future__ import annotations

import asyncio
import dataclasses

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.faithful import REFUSED_QUERY
from ext_proc_server.mapping.repeats import RepeatIndex, response_facts
from ext_proc_server.pipeline import CapturePipeline, default_stages
from tests.unit.pipeline.pipeline_helpers import FakeRedis, skipped, wait_for

ANSWER = HttpResponse(
    status=200, headers=(("content-type", "application/json"),), body=b'{"results":3}'
)


def _exchange(*, refused: bool) -> Exchange:
    """``GET /search?q=50%25`` as captured, or ``?q=50%`` (marked by the capture): the same
    decoded query."""
    return Exchange(
        id="refused" if refused else "escaped",
        request=HttpRequest(
            method="GET",
            path="/search",
            query=(("q", "50%"),),
            authority="api:8080",
            headers=(REFUSED_QUERY,) if refused else (),
        ),
        response=ANSWER,
    )


def _key(index: RepeatIndex, query: str):
    """The key the capture computes from the query as sent."""
    return index.key(
        method="GET",
        host=index.destination("api:8080", namespace=""),
        path="/search",
        query=query,
        body=b"",
        body_state="",
        response=response_facts(ANSWER),
    )


def test_a_refused_query_has_its_own_repeat_key_from_the_capture_and_the_pipeline():
    index = RepeatIndex(CollectorConfig())
    bare, escaped = _key(index, "q=50%"), _key(index, "q=50%25")
    assert bare.local != escaped.local and bare.request != escaped.request
    # The pipeline's key of the captured exchange (its query decoded, the mark kept) is the
    # capture's: either may be the one recorded or looked up.
    assert index.key_of(_exchange(refused=True)).request == bare.request
    assert index.key_of(_exchange(refused=False)).request == escaped.request


def test_a_refused_query_is_skipped_not_taken_for_a_repeat_of_its_decoded_twin():
    config = CollectorConfig(flush_interval=0.01, async_workers=1)

    async def go():
        redis = FakeRedis()
        wired = default_stages(config, redis=None, keys=RedisKeys(queue="unit"))
        wired = dataclasses.replace(wired, claim=redis.claim, enqueue=redis.enqueue)
        pipe = CapturePipeline(config, stages=wired)
        pipe.start()
        assert pipe.submit(_exchange(refused=False))
        await wait_for(lambda: len(redis.entries) == 1 and pipe.held == 0)
        before = skipped("request_query_undecodable")
        assert pipe.submit(_exchange(refused=True))
        await wait_for(lambda: pipe.held == 0 and skipped("request_query_undecodable") > before)
        assert skipped("request_query_undecodable") == before + 1
        assert len(redis.entries) == 1
        assert pipe.repeats is not None and pipe.repeats.drain_counts() == {}
        await pipe.stop()

    asyncio.run(go())
