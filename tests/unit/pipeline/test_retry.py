"""Redis write failures: named by cause, retried until Redis accepts the write."""

import asyncio
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, ResponseError

from ext_proc_server.core import metrics
from ext_proc_server.core.errors import QueueError
from ext_proc_server.pipeline import RedisRetry, redis_error_kind


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (OutOfMemoryError("OOM command not allowed when used memory > 'maxmemory'."), "oom"),
        (ResponseError("OOM command not allowed when used memory > 'maxmemory'. script"), "oom"),
        (RedisConnectionError("Error 111 connecting"), "unavailable"),
        (ConnectionRefusedError(111, "refused"), "unavailable"),
        (ResponseError("WRONGTYPE Operation against a key"), "other"),
    ],
)
def test_redis_write_errors_are_named_by_cause(error, kind):
    assert redis_error_kind(error) == kind
    wrapped = QueueError("redis: enqueue of 3 mappings failed")
    wrapped.__cause__ = error
    assert redis_error_kind(wrapped) == kind


def test_a_write_is_retried_until_redis_accepts_it_and_each_failure_is_counted(caplog):
    retry = RedisRetry()
    failures = [RedisConnectionError("refused"), RedisConnectionError("refused")]
    seen_failing = []

    async def attempt():
        seen_failing.append(retry.failing)
        if failures:
            raise QueueError("redis: enqueue failed") from failures.pop()
        return "written"

    counter = metrics.COLLECTOR_REDIS_ERRORS.labels(error="unavailable")
    before = counter._value.get()
    with caplog.at_level(logging.INFO, logger="ext_proc_server.pipeline.retry"):
        assert asyncio.run(retry.run(attempt)) == "written"
    assert seen_failing == [False, True, True]
    assert not retry.failing
    assert counter._value.get() - before == 2
    # One warning per outage and cause (never the error text), then one line on recovery.
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "redis: write failed (unavailable, ConnectionError); retrying",
        "redis: writes resumed",
    ]
