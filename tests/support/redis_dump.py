"""Every key and value a Redis holds, as text, for scans that look for what must not be there."""

from __future__ import annotations

import redis


def dump_redis(url: str, *, match: str | None = None) -> dict[str, str]:
    """``{"redis:<key>": "<key><value>"}`` for every key (or every key matching ``match``).
    A key of a type this does not know fails loudly, so a scan never skips data."""
    client = redis.Redis.from_url(url)
    readers = {
        "string": client.get,
        "stream": lambda key: (client.xrange(key), client.xinfo_groups(key)),
        "list": lambda key: client.lrange(key, 0, -1),
        "set": client.smembers,
        "hash": client.hgetall,
        "zset": lambda key: client.zrange(key, 0, -1, withscores=True),
    }
    out: dict[str, str] = {}
    try:
        for key in client.scan_iter(match=match, count=1000):
            kind = client.type(key).decode()
            if kind not in readers:
                raise AssertionError(f"redis key of type {kind} is not scanned: add it here")
            out[f"redis:{key!r}"] = repr(key) + repr(readers[kind](key))
    finally:
        client.close()
    return out
