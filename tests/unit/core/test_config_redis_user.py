"""``redis_username`` (a Redis ACL user) beside ``redis_password``, and the loader's open
console refused in a Kubernetes pod, however it is set."""

from __future__ import annotations

import pytest
import redis

from ext_proc_server.core.config import in_kubernetes_pod, load_config, redacted_dump
from ext_proc_server.core.errors import ConfigError

POD = {"KUBERNETES_SERVICE_HOST": "10.96.0.1"}


def test_the_user_and_password_from_the_environment_reach_the_connection():
    config = load_config(None, env={
        "MOCKADO_COLLECTOR__REDIS_USERNAME": "mockado-collector",
        "MOCKADO_COLLECTOR__REDIS_PASSWORD": "c0ll:pw@/x",
        "MOCKADO_LOADER__REDIS_USERNAME": "mockado-loader",
        "MOCKADO_LOADER__REDIS_PASSWORD": "l0ader",
    })  # fmt: skip
    for section, user, password in ((config.collector, "mockado-collector", "c0ll:pw@/x"),
                                    (config.loader, "mockado-loader", "l0ader")):  # fmt: skip
        kwargs = redis.Redis.from_url(section.redis_url).connection_pool.connection_kwargs
        assert (kwargs["username"], kwargs["password"]) == (user, password)
    dumped = str(redacted_dump(config)) + repr(config)
    assert "c0ll" not in dumped and "l0ader" not in dumped
    assert redacted_dump(config)["collector"]["redis_username"] == "mockado-collector"


def test_without_a_user_the_password_is_the_default_users():
    config = load_config(None, env={"MOCKADO_LOADER__REDIS_PASSWORD": "pw"})
    kwargs = redis.Redis.from_url(config.loader.redis_url).connection_pool.connection_kwargs
    assert kwargs.get("username") in (None, "") and kwargs["password"] == "pw"


@pytest.mark.parametrize("name", ["has space", "a@b", "x:y", "", "-lead", "u" * 65])
def test_a_user_name_redis_would_not_take_is_refused_naming_the_key(name):
    with pytest.raises(ConfigError, match=r"^loader\.redis_username: not a Redis user name"):
        load_config(None, env={}, overrides={
            "loader.redis_username": name, "loader.redis_password": "pw"})  # fmt: skip


def test_a_user_without_a_password_is_refused_naming_the_key():
    with pytest.raises(ConfigError, match=r"^collector\.redis_username: set redis_password too"):
        load_config(None, env={"MOCKADO_COLLECTOR__REDIS_USERNAME": "mockado-collector"})


def test_the_open_console_is_refused_in_a_pod_from_the_environment():
    env = {**POD, "MOCKADO_LOADER__CONSOLE_OPEN_ON_LOOPBACK": "true"}
    with pytest.raises(ConfigError, match=r"^loader\.console_open_on_loopback: refused in a "
                                          r"Kubernetes pod"):  # fmt: skip
        load_config(None, env=env)
    # Outside a pod (mockado up's loader) it stands.
    assert load_config(None, env={"MOCKADO_LOADER__CONSOLE_OPEN_ON_LOOPBACK": "true"}).loader \
        .console_open_on_loopback is True  # fmt: skip


def test_the_open_console_is_refused_in_a_pod_from_the_file_too(tmp_path):
    path = tmp_path / "mockado.yaml"
    path.write_text("loader:\n  console_open_on_loopback: true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"loader\.console_open_on_loopback"):
        load_config(path, env=POD)
    assert in_kubernetes_pod(POD) and not in_kubernetes_pod({})
