"""WireMock admin credentials: configured in pairs, kept secret, sent on every admin call;
a refusal of them is waited out like an outage, never blamed on a mapping."""

from __future__ import annotations

import asyncio

import pytest

from ext_proc_server.core.config import load_config, redacted_dump
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.loader import WireMockAuthError, restore_mappings
from tests.support.fake_wiremock import FakeWireMock, mapping
from tests.support.loader_rig import FakeRedis, fake_loader, metric, queued

# YAML would cut this at " #" and read "0x1f" as a number: the secret must stay verbatim.
PASSWORD = "s3cr3t #0x1f"
CREDENTIALS = ("mockado", PASSWORD)
UNAUTHORIZED = (
    "wiremock_loader_mappings_errors_total",
    {"error_type": "wiremock_unauthorized", "shard": "default"},
)


def test_the_password_comes_from_the_environment_verbatim_and_is_never_shown():
    env = {
        "MOCKADO_LOADER__WIREMOCK_ADMIN_USER": "mockado",
        "MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD": PASSWORD,
    }
    config = load_config(env=env)
    assert config.loader.wiremock_admin_auth() == CREDENTIALS
    shown = redacted_dump(config)["loader"]
    assert shown["wiremock_admin_user"] == "mockado"
    assert PASSWORD not in str(shown) and PASSWORD not in repr(config)
    assert load_config(env={}).loader.wiremock_admin_auth() is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"MOCKADO_LOADER__WIREMOCK_ADMIN_USER": "mockado"},
            "loader: wiremock_admin_user is set without wiremock_admin_password",
        ),
        (
            {"MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD": "hunter2"},
            "loader: wiremock_admin_password is set without wiremock_admin_user",
        ),
        (
            {
                "MOCKADO_LOADER__WIREMOCK_ADMIN_USER": "a:b",
                "MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD": "hunter2",
            },
            "loader: wiremock_admin_user must not contain ':'",
        ),
        ({"MOCKADO_LOADER__RESYNC_CHECK_INTERVAL_S": "0"}, "loader.resync_check_interval_s:"),
    ],
)
def test_credentials_go_in_pairs_and_the_check_interval_is_validated(env, message):
    with pytest.raises(ConfigError) as info:
        load_config(env=env)
    assert str(info.value).startswith(message)
    assert "hunter2" not in str(info.value)


def test_every_admin_call_carries_the_credentials():
    wiremock = FakeWireMock(credentials=CREDENTIALS)

    async def scenario() -> tuple[bool, int, bool]:
        async with wiremock.client(auth=CREDENTIALS) as client:
            await client.import_mappings([mapping(1)])
            await client.list_mappings()
            return (
                await client.health(),
                await client.count_stubs(),
                await client.has_mapping(mapping(1)["id"]),
            )

    assert asyncio.run(scenario()) == (True, 1, True)
    assert wiremock.unauthorized == 0 and len(wiremock.calls) == 5


def test_a_refusal_of_the_credentials_is_clear_and_not_terminal():
    wiremock = FakeWireMock(credentials=CREDENTIALS)

    async def scenario() -> WireMockAuthError:
        async with wiremock.client(auth=("mockado", "wrong")) as client:
            with pytest.raises(WireMockAuthError) as info:
                await client.import_mappings([mapping(1)])
            return info.value

    refused = asyncio.run(scenario())
    assert refused.status_code == 401 and not refused.is_terminal
    assert "loader.wiremock_admin_user" in str(refused) and "wrong" not in str(refused)


def test_a_loader_without_credentials_holds_its_items_and_loses_none():
    wiremock, redis = FakeWireMock(credentials=CREDENTIALS), FakeRedis()
    loader = fake_loader(redis, wiremock, retry_attempts=1, claim_timeout_s=7)
    before = metric(UNAUTHORIZED[0], **UNAUTHORIZED[1])

    async def scenario() -> None:
        task = asyncio.create_task(loader.batches.load_batch([queued(1), queued(2)]))
        while wiremock.unauthorized < 3:
            await asyncio.sleep(0.005)
        loader.stop()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())
    assert metric(UNAUTHORIZED[0], **UNAUTHORIZED[1]) >= before + 3
    # Not blamed on the mappings: nothing dead-lettered, nothing acked, all handed back.
    assert redis.added == [] and redis.acked == [] and redis.hashes == {}
    assert redis.released == {"1-0": 7000, "2-0": 7000}
    assert wiremock.stubs == {}


def test_restore_stops_at_a_refusal_of_the_credentials_instead_of_skipping_stubs():
    wiremock = FakeWireMock(credentials=CREDENTIALS)

    async def scenario() -> None:
        async with wiremock.client() as client:
            await restore_mappings([mapping(n) for n in range(8)], client=client, batch_size=4)

    with pytest.raises(WireMockAuthError, match="HTTP 401"):
        asyncio.run(scenario())
    assert wiremock.unauthorized == 1  # neither retried nor bisected
