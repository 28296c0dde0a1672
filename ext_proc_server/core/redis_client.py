"""Building Redis clients from config, with TLS (``rediss://``) and bounded timeouts."""

from __future__ import annotations

import ssl

from redis import asyncio as aioredis

from ext_proc_server.core.config import TLSClient


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
    if url.startswith("rediss://") and tls is not None:
        kwargs["ssl_cert_reqs"] = ssl.CERT_REQUIRED if tls.verify else ssl.CERT_NONE
        if tls.ca_file:
            kwargs["ssl_ca_certs"] = tls.ca_file
        if tls.cert_file:
            kwargs["ssl_certfile"] = tls.cert_file
        if tls.key_file:
            kwargs["ssl_keyfile"] = tls.key_file
    return aioredis.Redis.from_url(url, **kwargs)
