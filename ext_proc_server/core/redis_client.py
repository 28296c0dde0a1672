"""Building Redis clients from config, with TLS (``rediss://``) and bounded timeouts.

redis-py builds a connection's SSL context once and keeps it for that connection's
reconnects. A client made here follows its certificate files (``file_watch``: a rotated
Secret volume): when one changed, the pool closes its idle connections before it hands one
out, and a connection reads the files again as it (re)connects. So after a certificate or
CA rotation the collector, the loader and the keeper reconnect with the new files, with no
restart; a command running at that moment finishes on the connection it has.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from redis import asyncio as aioredis
from redis.asyncio.connection import ConnectionPool, RedisSSLContext, SSLConnection

from ext_proc_server.core.config import TLSClient
from ext_proc_server.core.file_watch import FileWatch

log = logging.getLogger(__name__)


class FollowingSSLContext(RedisSSLContext):
    """redis-py's SSL context holder, built again when one of its files changed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watch = FileWatch(p for p in (self.ca_certs, self.certfile, self.keyfile) if p)

    def get(self) -> ssl.SSLContext:
        state = self.watch.changed()
        if state is not None:
            # redis-py caches contexts by the files' signatures: a new one loads them again.
            self.context = None
            self.watch.seen(state)
        return super().get()


class FollowingSSLConnection(SSLConnection):
    """An SSL connection whose context follows its certificate files (see above)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        built = self.ssl_context
        self.ssl_context = FollowingSSLContext(
            keyfile=built.keyfile,
            certfile=built.certfile,
            cert_reqs=built.cert_reqs,
            include_verify_flags=built.include_verify_flags,
            exclude_verify_flags=built.exclude_verify_flags,
            ca_certs=built.ca_certs,
            ca_data=built.ca_data,
            ca_path=built.ca_path,
            check_hostname=built.check_hostname,
            min_version=built.min_version,
            ciphers=built.ciphers,
            password=built.password,
        )


class FollowingConnectionPool(ConnectionPool):
    """A pool that closes its idle connections when its TLS files changed, so the next
    command connects with the new ones (a Redis that cut the old connections after
    rotating is not an error for it)."""

    def __init__(self, *, watched: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watch = FileWatch(watched)

    async def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        state = self.watch.changed()
        if state is not None:
            self.watch.seen(state)
            log.info("redis tls files changed; idle connections closed, new ones use them")
            await self.disconnect(inuse_connections=False)
        return await super().get_connection(*args, **kwargs)


def make_redis(
    url: str,
    *,
    pool_size: int = 10,
    timeout_s: float = 2.0,
    tls: TLSClient | None = None,
) -> aioredis.Redis:
    """An asyncio Redis client. TLS settings apply to ``rediss://`` URLs."""
    kwargs: dict[str, object] = {
        "max_connections": pool_size,
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "health_check_interval": 15,
    }
    if not url.startswith("rediss://"):
        return aioredis.Redis.from_url(url, **kwargs)
    kwargs["connection_class"] = FollowingSSLConnection
    if tls is not None:
        kwargs["ssl_cert_reqs"] = ssl.CERT_REQUIRED if tls.verify else ssl.CERT_NONE
        if tls.ca_file:
            kwargs["ssl_ca_certs"] = tls.ca_file
        if tls.cert_file:
            kwargs["ssl_certfile"] = tls.cert_file
        if tls.key_file:
            kwargs["ssl_keyfile"] = tls.key_file
    # The files the connections read (the pool closes idle ones when one changed).
    watched = [
        str(kwargs[k]) for k in ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile") if k in kwargs
    ]
    pool = FollowingConnectionPool.from_url(url, watched=watched, **kwargs)
    return aioredis.Redis.from_pool(pool)
