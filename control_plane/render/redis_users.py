"""Redis ACL users: one per component, each allowed only the commands and the keys it
uses, from ``core.redis_keys`` (the module that names every key).

- ``mockado-collector`` queues captures: it writes the stream, its claims and the
  repeat reports, and reads the log of removed stubs. It never reads the queue it
  writes (a collector taken over must not read every sanitized capture), a shard's
  record, the miss report or the loader's other keys.
- ``mockado-loader`` consumes the queue and owns the keys it uses under the queue name:
  every one but the collector's dedup and repeat claims, which it never touches.
- ``mockado-keeper`` (each WireMock pod) reloads its shard from the records and lets go of
  the stubs WireMock refused or that are no longer faithful; it never consumes the queue.
- ``mockado-probe``: Redis's own readiness probe, ``PING`` only.
- ``default`` (every connection before ``AUTH``) is off, with no password.

On Redis 7 each user is a set of selectors: each allows a few commands on a few keys,
read-only (``%R~``) or write-only (``%W~``) where the component only reads or only writes
(``XADD`` needs only write access, ``XRANGE`` only read). Redis 6 knows neither: there
each user gets the union of its commands on the union of its keys, read and write. The
rendered rules follow the major version in the tag of ``control_plane.redis_image``; an
image whose tag names no version is taken as Redis 7 or later (the default image is).

No user gets ``FLUSHALL``, ``CONFIG``, ``DEBUG``, ``MODULE``, ``KEYS``, ``ACL`` or any
other command outside its list.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.redis_keys import RedisKeys

# The oldest Redis with key permissions (%R~, %W~) and selectors.
SELECTORS_SINCE = 7
# Every client: the connection's own upkeep (redis-py's health checks are PINGs, a URL's
# /N database a SELECT). redis-py runs a Lua script by its digest and loads it once
# (SCRIPT LOAD) when Redis does not know it; each command a script runs is checked
# against the caller's rules, keys included.
_CONNECTION = ("ping", "select", "script|load")
_TRANSACTIONS = ("multi", "exec", "discard")
# redis-py's Lock (a shard's reload lock): SET NX PX, then scripts that release or renew it.
_LOCK = ("set", "get", "del", "pexpire", "pttl", "evalsha")

READ_WRITE, READ_ONLY, WRITE_ONLY = "", "R", "W"
_SPLIT_IN_SELECTOR = re.compile(r"[\s\"']")


@dataclass(frozen=True)
class Grant:
    """``commands`` on the keys ``keys`` names, with ``access``: read and write, or
    (Redis 7) only read or only write. One selector on Redis 7."""

    commands: tuple[str, ...]
    keys: Callable[[RedisKeys], tuple[str, ...]]
    access: str = READ_WRITE

    def selector(self, keys: RedisKeys) -> str:
        """``(%W~key +command ...)``: one argument, its words split at spaces."""
        prefix = f"%{self.access}" if self.access else ""
        words = [f"{prefix}~{key}" for key in self.keys(keys)]
        return "(" + " ".join([*words, *(f"+{c}" for c in self.commands)]) + ")"


# The keys each script of the collector names (``EVALSHA`` itself needs read and write
# access to them: Redis cannot tell what a script does with a key). What a script then
# does with each key is checked command by command against the grants below, so the
# queue stays write-only inside a script too.
_COLLECTOR_SCRIPTS = Grant(("evalsha",), lambda k: (
    k.stream, k.dedup_claim("*"), k.stub_state("*"), k.repeat_claim("*"), k.last_seen,
    k.seen_counts))  # fmt: skip

_COLLECTOR_GRANTS = (
    _COLLECTOR_SCRIPTS,
    # The queue: appended to, never read.
    Grant(("xadd",), lambda k: (k.stream,), WRITE_ONLY),
    # Dedup claims: whether one exists (EXISTS reads no value), then set.
    Grant(("exists", "set"), lambda k: (k.dedup_claim("*"),), WRITE_ONLY),
    # Stub states and repeat claims: read back to decide.
    Grant(("exists", "get", "set"), lambda k: (k.stub_state("*"), k.repeat_claim("*"))),
    # Repeat reports: when (HSET, write-only) and how many (HINCRBY answers the sum).
    Grant(("hset",), lambda k: (k.last_seen,), WRITE_ONLY),
    Grant(("hincrby",), lambda k: (k.seen_counts,)),
    # The log of removed stubs: read only.
    Grant(("xrange",), lambda k: (k.removed_stubs,), READ_ONLY),
    # The per-host skip records (the loader's console reads them): counts by reason,
    # and the latest skips and hosts, written only.
    Grant(("hincrby", "expire"), lambda k: (k.skip_counts("*"),)),
    Grant(("zadd", "zremrangebyrank", "expire"),
          lambda k: (k.skip_recent("*"), k.skipped_hosts), WRITE_ONLY),
)  # fmt: skip

LOADER_COMMANDS = (
    *_LOCK,
    # the queue and its consumer group, the dead letters, the log of removed stubs
    "xreadgroup", "xack", "xautoclaim", "xclaim", "xdel", "xlen", "xrange", "xadd",
    "xgroup|create", "xgroup|createconsumer", "xgroup|delconsumer", "xinfo|consumers",
    "xpending",
    # records, misses, repeat reports, claims, locks, drift
    "hset", "hget", "hgetall", "hdel", "hmget", "hkeys", "hlen", "hscan", "hincrby",
    "zadd", "zrem", "zrange", "zrangebyscore", "zrevrange", "zcard", "zmscore",
    "zremrangebyrank", "exists", "expire", "lpush", "ltrim", "lrange",
)  # fmt: skip


# Every key the loader uses (its console, ``mockado misses`` and ``mockado drift`` run as
# it too): the queue and its dead letters; the shards' records, reload locks, seen indexes
# and held stubs; the log of removed stubs and the stub states it deletes with them; the
# repeat reports it takes; the miss report, the drift log and the skip records. Never the
# collector's dedup and repeat claims.
def _loader_keys(k: RedisKeys) -> tuple[str, ...]:
    return (k.stream, k.dead_letter, k.shard_record("*"), k.resync_lock("*"), k.seen_index("*"),
            k.refused_stubs("*"), k.dead_lettered_stubs, k.removed_stubs, k.stub_state("*"),
            k.last_seen, k.seen_counts, k.misses, k.miss_counts, k.miss_last_seen, k.drift_log,
            k.skip_counts("*"), k.skip_recent("*"), k.skipped_hosts)  # fmt: skip


_LOADER_GRANTS = (Grant(LOADER_COMMANDS, _loader_keys),)

_KEEPER_GRANTS = (
    # The shards' records: read to reload a WireMock, entries dropped for good.
    Grant(("hlen", "hscan", "hdel"), lambda k: (k.shard_record("*"),)),
    Grant(_LOCK, lambda k: (k.resync_lock("*"),)),
    # A dropped stub lets go of its claims: its state deleted, its id logged (never read).
    Grant(("del",), lambda k: (k.stub_state("*"),), WRITE_ONLY),
    Grant(("xadd",), lambda k: (k.removed_stubs,), WRITE_ONLY),
)

# Commands on no key: the connection's upkeep, transactions, and (the loader's and the
# keeper's) which shards have a record (SCAN: names only).
_COLLECTOR_ROOT = _CONNECTION
_LOADER_ROOT = (*_CONNECTION, *_TRANSACTIONS, "scan")
_KEEPER_ROOT = (*_CONNECTION, *_TRANSACTIONS, "scan")


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a Redis key pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


@dataclass(frozen=True)
class RedisUser:
    """One ACL user; ``password_env``: the Redis container's variable holding its password
    (from ``secret``, key ``key``); ``section``: the config section whose queue it uses;
    ``root``: its commands on no key; ``grants``: its commands on its keys."""

    name: str
    secret: str
    key: str
    password_env: str
    root: tuple[str, ...]
    grants: tuple[Grant, ...] = ()
    section: str = "loader"

    @property
    def commands(self) -> tuple[str, ...]:
        """Every command the user may run, on some key or none."""
        return tuple(dict.fromkeys([*self.root, *(c for g in self.grants for c in g.commands)]))

    def key_patterns(self, queue: str) -> tuple[str, ...]:
        """Every key pattern of its grants, whatever the access."""
        keys = RedisKeys(queue=_glob_escape(queue))
        return tuple(dict.fromkeys(p for g in self.grants for p in g.keys(keys)))

    def rules(self, password: str, queue: str, *, selectors: bool = True) -> list[str]:
        """The user's ACL rules, each one argument (``--user NAME rule rule ...``):
        ``selectors`` for Redis 7 and later, else what Redis 6 knows."""
        head = ["reset", "on", f">{password}", "resetchannels"]
        if not selectors:
            return [*head, *(f"~{key}" for key in self.key_patterns(queue)), "-@all",
                    *(f"+{c}" for c in self.commands)]  # fmt: skip
        if _SPLIT_IN_SELECTOR.search(queue):
            # Redis splits a selector at spaces, and quotes do not hold a pattern together.
            raise RenderError(
                f"{self.section}.redis_queue: {queue!r} has a space or a quote, which a Redis 7 "
                "ACL selector cannot hold (choose another name)"
            )
        keys = RedisKeys(queue=_glob_escape(queue))
        return [*head, "-@all", *(f"+{c}" for c in self.root),
                *(grant.selector(keys) for grant in self.grants)]  # fmt: skip


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
              _COLLECTOR_ROOT, _COLLECTOR_GRANTS, section="collector"),
    RedisUser(LOADER_USER, "mockado-redis-loader", PASSWORD_KEY, "REDIS_LOADER_PASSWORD",
              _LOADER_ROOT, _LOADER_GRANTS),
    RedisUser(KEEPER_USER, "mockado-redis-keeper", PASSWORD_KEY, "REDIS_KEEPER_PASSWORD",
              _KEEPER_ROOT, _KEEPER_GRANTS),
    RedisUser(PROBE_USER, PROBE_SECRET, PROBE_KEY, "REDIS_PASSWORD", ("ping",)),
)  # fmt: skip


def redis_users() -> list[RedisUser]:
    """Every ACL user of mockado's Redis."""
    return list(_USERS)


def user_of(component: str) -> RedisUser:
    """The user of ``component``: collector, loader, keeper or probe."""
    return next(u for u in _USERS if u.name == f"mockado-{component}")


def redis_major_version(image: str) -> int | None:
    """The major version an image's tag names (``redis:7.4-alpine`` -> 7, ``redis:6`` ->
    6), or None (no tag, ``latest``, a digest only, a tag of another scheme)."""
    name = image.split("@", 1)[0]
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
    found = re.match(r"(\d+)(?:[.-]|$)", tag)
    return int(found.group(1)) if found else None


def has_selectors(image: str) -> bool:
    """Whether the rules for ``image`` use Redis 7's selectors and key permissions: yes
    unless its tag names an older major version."""
    major = redis_major_version(image)
    return major is None or major >= SELECTORS_SINCE


def server_args(
    queues: Mapping[str, str], passwords: Mapping[str, str], *, selectors: bool = True
) -> list[str]:
    """redis-server arguments that define every user and turn ``default`` off.
    ``queues``: config section -> its ``redis_queue``; ``passwords``: user -> password (or
    the ``$(VAR)`` a kubelet expands); ``selectors``: the server is Redis 7 or later."""
    args = ["--user", "default", *DEFAULT_USER_RULES]
    for user in _USERS:
        rules = user.rules(passwords[user.name], queues.get(user.section, ""), selectors=selectors)
        args += ["--user", user.name, *rules]
    return args
