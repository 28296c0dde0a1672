"""``wait_for`` (tests.support.loader_rig) against a real redis-server: what may pass by
itself (a server still starting) is waited out; what will not (a command or a password
Redis refuses) fails the wait at once with Redis's own error, not a timeout."""

from __future__ import annotations

import pytest
import redis

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD
from tests.support.loader_rig import wait_for
from tests.support.processes import promised_port

pytestmark = pytest.mark.integration


def test_a_command_the_user_may_not_run_fails_the_wait_with_noperm(acl_redis_factory):
    acl = acl_redis_factory()
    keys = RedisKeys(queue=acl.queue)
    with acl.client("mockado-keeper") as keeper:
        # The keeper may not read the removed log: the check can never become true.
        with pytest.raises(redis.exceptions.NoPermissionError):
            wait_for(lambda: keeper.xlen(keys.removed_stubs) == 1, timeout_s=30,
                     what="the removed log")  # fmt: skip
        with pytest.raises(redis.exceptions.NoPermissionError):
            wait_for(lambda: keeper.hget(keys.shard_record(DEFAULT_SHARD), "s") is not None,
                     timeout_s=30, what="a recorded stub")  # fmt: skip


def test_a_wrong_password_fails_the_wait_with_redis_refusal(acl_redis_factory):
    acl = acl_redis_factory()
    url = f"redis://mockado-loader:not-its-password@127.0.0.1:{acl.port}/0"
    with redis.Redis.from_url(url) as client, pytest.raises(redis.AuthenticationError):
        wait_for(lambda: client.ping(), timeout_s=30, what="a ping")


def test_a_server_still_starting_is_waited_for(redis_factory):
    port = promised_port()
    attempts: list[Exception | None] = []

    def check() -> bool:
        # The first ping finds nothing listening; the server starts before the second.
        if len(attempts) == 1:
            redis_factory(port=port)
        try:
            return bool(client.ping())
        except redis.ConnectionError as exc:
            attempts.append(exc)
            raise

    with redis.Redis(port=port, socket_connect_timeout=2) as client:
        wait_for(check, timeout_s=30, what="the server")
    assert len(attempts) == 1 and not isinstance(attempts[0], redis.AuthenticationError)
