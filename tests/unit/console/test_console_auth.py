"""Who the console answers: credentials when configured, loopback only where `mockado up`
opens it, and nobody by default."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ext_proc_server.console import Console
from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import ConfigError

REMOTE = ("10.1.2.3", 40000)
LOOPBACK = ("127.0.0.1", 40000)


async def no_stubs():
    return []


async def no_misses():
    return []


def get(config: MockadoConfig, client: tuple[str, int], auth=None) -> httpx.Response:
    from starlette.applications import Starlette

    app = Starlette(routes=Console(config, stubs=no_stubs, misses=no_misses).routes())

    async def scenario() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://loader") as http:
            return await http.get("/console/", auth=auth)

    return asyncio.run(scenario())


def config(**loader) -> MockadoConfig:
    return MockadoConfig.model_validate({"loader": loader})


def test_off_by_default_for_everyone():
    for client in (REMOTE, LOOPBACK):
        resp = get(config(), client)
        assert resp.status_code == 401 and "console is off" in resp.text
        assert "www-authenticate" not in resp.headers


def test_credentials_open_it():
    cfg = config(console_user="ops", console_password="correct horse")
    assert get(cfg, REMOTE).status_code == 401
    assert get(cfg, REMOTE).headers["www-authenticate"].startswith("Basic")
    assert get(cfg, REMOTE, auth=("ops", "wrong password")).status_code == 401
    assert get(cfg, REMOTE, auth=("other", "correct horse")).status_code == 401
    ok = get(cfg, REMOTE, auth=("ops", "correct horse"))
    assert ok.status_code == 200 and "Namespaces" in ok.text


def test_loopback_only_where_opened():
    cfg = config(console_open_on_loopback=True)
    assert get(cfg, LOOPBACK).status_code == 200
    assert get(cfg, REMOTE).status_code == 401


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"MOCKADO_LOADER__CONSOLE_USER": "ops"}, "console_password"),
        ({"MOCKADO_LOADER__CONSOLE_PASSWORD": "correct horse"}, "console_user"),
        ({"MOCKADO_LOADER__CONSOLE_USER": "ops", "MOCKADO_LOADER__CONSOLE_PASSWORD": "short"},
         "console_password"),
    ],
)  # fmt: skip
def test_credentials_are_checked_at_load(env: dict[str, str], key: str):
    with pytest.raises(ConfigError, match=key):
        load_config(None, env=env)
