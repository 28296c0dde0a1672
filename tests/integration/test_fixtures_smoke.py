"""The fixtures start real processes that answer."""

from __future__ import annotations

import httpx
import redis


def test_redis_answers(redis_server):
    client = redis.Redis.from_url(redis_server.url)
    assert client.ping() is True
    client.set("mockado:smoke", "1")
    assert client.get("mockado:smoke") == b"1"


def test_wiremock_serves_an_imported_stub(wiremock):
    stub = {
        "request": {"method": "GET", "urlPath": "/smoke"},
        "response": {"status": 200, "body": "hello"},
    }
    httpx.post(f"{wiremock.url}/__admin/mappings", json=stub, timeout=10).raise_for_status()
    resp = httpx.get(f"{wiremock.url}/smoke", timeout=10)
    assert resp.status_code == 200
    assert resp.text == "hello"


def test_redis_factory_instance_can_be_killed(redis_factory):
    handle = redis_factory()
    assert handle.process.alive
    handle.process.kill()
    assert not handle.process.alive


def test_the_redis_dump_finds_a_value_as_written_in_every_kind_of_key(redis_factory):
    """Leak scans look for planted values in the dump: an accented name must be found in
    each kind of key as the collector writes it (UTF-8), not only as its escaped bytes."""
    from tests.support.redis_dump import dump_redis

    handle = redis_factory()
    client = redis.Redis.from_url(handle.url)
    name = "João Ávila Müller"
    client.set("k:string", '{"nome": "João Ávila Müller"}'.encode())
    client.xadd("k:stream", {"mapping": f'{{"nome": "{name}"}}'.encode()})
    client.hset("k:hash", "nome", name.encode())
    client.rpush("k:list", name.encode())
    client.sadd("k:set", name.encode())
    client.zadd("k:zset", {name.encode(): 1.0})
    client.set("k:binary", b"\xff\xfe" + name.encode())
    dump = dump_redis(handle.url)
    assert sorted(dump) == sorted(f"redis:{k!r}" for k in client.keys("k:*"))
    assert [key for key, text in dump.items() if name not in text] == []
    assert "\\xff\\xfe" in dump["redis:b'k:binary'"]  # every byte is kept beside the text
