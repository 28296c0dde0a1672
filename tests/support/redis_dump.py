"""Every key and value a Redis holds, as text, for scans that look for what must not be there."""

from __future__ import annotations

from typing import Any

import redis


def _as_text(value: Any) -> str:
    """Bytes read as UTF-8 (an accented name is found as written), nested values joined
    one per line; a bad byte becomes U+FFFD, and the repr beside it keeps every byte."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return "\n".join(_as_text(k) + "\n" + _as_text(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return "\n".join(map(_as_text, value))
    return str(value)


def dump_redis(url: str, *, match: str | None = None) -> dict[str, str]:
    """``{"redis:<key>": "<key><value>"}`` for every key (or every key matching ``match``),
    the value both as UTF-8 text and as its repr.
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
            if kind == "none":
                continue  # expired or deleted since the scan listed it: it holds nothing
            if kind not in readers:
                raise AssertionError(f"redis key of type {kind} is not scanned: add it here")
            value = readers[kind](key)
            out[f"redis:{key!r}"] = "\n".join((_as_text(key), _as_text(value), repr(value)))
    finally:
        client.close()
    return out
