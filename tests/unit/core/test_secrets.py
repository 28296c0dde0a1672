"""The secrets mockado holds (the pseudonym HMAC key, Redis/WireMock passwords in URLs)
come from the environment or files and never show in repr, `mockado config show`,
error messages, log lines or the `mockado up` state file. No network.
"""

from __future__ import annotations

import json
import logging
import os
import sys

import pytest
import yaml

from control_plane.cli import main
from control_plane.local.stack import move_url_secrets
from ext_proc_server.core.config import (
    REDACTED,
    CollectorConfig,
    LoaderConfig,
    load_config,
    pseudonym_key,
    redact_url,
    redacted_dump,
)
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.logs import JsonFormatter, TextFormatter

KEY = "hmac-Key-5c2e9a"
REDIS_PW = "rpw-81d0f3"
WM_PW = "wm-Pw-0b7e44"
QUERY_PW = "query-Pw-3a9c10"
SECRETS = (KEY, REDIS_PW, WM_PW, QUERY_PW)

SECRET_ENV = {
    "MOCKADO_COLLECTOR__PSEUDONYM_KEY": KEY,
    "MOCKADO_COLLECTOR__SANITIZE_MODE": "pseudonyms",
    "MOCKADO_COLLECTOR__REDIS_URL": f"redis://:{REDIS_PW}@cache.internal:6379/0",
    "MOCKADO_LOADER__REDIS_URL": f"rediss://mockado:{REDIS_PW}@cache.internal:6380/1",
    "MOCKADO_LOADER__WIREMOCK_URL": f"https://admin:{WM_PW}@wiremock.internal:8443",
}


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture
def config():
    return load_config(None, env=SECRET_ENV)


# -- where secrets come from ---------------------------------------------------------


def test_secrets_come_from_the_environment(config):
    assert pseudonym_key(config.collector) == KEY.encode()
    assert REDIS_PW in config.collector.redis_url  # usable by the Redis client...
    assert REDIS_PW in config.loader.redis_url


@pytest.mark.parametrize("raw", ["0x1f2e3d4c5b6a", "12345678", "k3y #with-hash", "null", "yes"])
def test_a_key_from_the_environment_is_taken_verbatim(raw):
    # Other MOCKADO_* values are YAML scalars; a key must never become a number or be cut.
    config = load_config(None, env={"MOCKADO_COLLECTOR__PSEUDONYM_KEY": raw})
    assert pseudonym_key(config.collector) == raw.encode()


def test_pseudonym_key_comes_from_a_file_and_its_path_is_not_secret(tmp_path):
    key_file = tmp_path / "pseudonym.key"
    key_file.write_text(KEY + "\n")
    config = load_config(None, env={"MOCKADO_COLLECTOR__PSEUDONYM_KEY_FILE": str(key_file)})
    assert pseudonym_key(config.collector) == KEY.encode()
    assert leaked(repr(config)) == []
    assert str(key_file) in repr(config.collector)


def test_an_unreadable_key_file_error_names_the_key_not_the_content(tmp_path):
    config = load_config(
        None, env={"MOCKADO_COLLECTOR__PSEUDONYM_KEY_FILE": str(tmp_path / "missing")}
    )
    with pytest.raises(ConfigError, match=r"^collector\.pseudonym_key_file: cannot read"):
        pseudonym_key(config.collector)


# -- repr / str ----------------------------------------------------------------------


def test_repr_and_str_of_every_config_object_hide_secrets(config):
    for obj in (config, config.collector, config.loader):
        for text in (repr(obj), str(obj)):
            assert leaked(text) == [], type(obj).__name__
    # ...while still saying where things are.
    assert "cache.internal:6379" in repr(config.collector)
    assert "wiremock.internal:8443" in repr(config.loader)
    assert REDACTED in repr(config.loader)


def test_repr_hides_a_password_in_a_query_or_in_a_shard_route():
    loader = LoaderConfig(
        redis_url=f"redis://cache:6379/0?password={QUERY_PW}&db=2",
        shards=[{"host": "pay.*", "wiremock_url": f"http://ops:{WM_PW}@wm-pay:8080"}],
    )
    assert leaked(repr(loader)) == []
    assert "db=2" in repr(loader) and "wm-pay:8080" in repr(loader)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (f"redis://:{REDIS_PW}@h:1/0", f"redis://{REDACTED}@h:1/0"),
        (f"redis://user:{REDIS_PW}@h/0", f"redis://{REDACTED}@h/0"),
        # An unencoded "@" in the password: all of it is hidden, not just a prefix.
        ("redis://:pa@ss-81d0f3@h/0", f"redis://{REDACTED}@h/0"),
        (f"redis://h/0?db=1&password={QUERY_PW}", f"redis://h/0?db=1&password={REDACTED}"),
        (f"https://h/?access_token={QUERY_PW}#x", f"https://h/?access_token={REDACTED}#x"),
        ("no url at all", "no url at all"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


# -- mockado config show ----------------------------------------------------------------


@pytest.fixture
def secret_environ(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MOCKADO_"):
            monkeypatch.delenv(name)
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)


def test_config_show_text_redacts(secret_environ, capsys):
    assert main(["config", "show"]) == 0
    out, err = capsys.readouterr()
    assert leaked(out + err) == []
    shown = yaml.safe_load(out)
    assert shown["collector"]["pseudonym_key"] == REDACTED
    assert shown["collector"]["redis_url"] == f"redis://{REDACTED}@cache.internal:6379/0"
    assert shown["loader"]["wiremock_url"] == f"https://{REDACTED}@wiremock.internal:8443"


def test_config_show_json_redacts(secret_environ, capsys):
    assert main(["config", "show", "--json"]) == 0
    out, err = capsys.readouterr()
    assert leaked(out + err) == []
    shown = json.loads(out)
    assert shown["collector"]["pseudonym_key"] == REDACTED
    assert shown["loader"]["redis_url"] == f"rediss://{REDACTED}@cache.internal:6380/1"


def test_redacted_dump_leaves_an_unset_key_alone():
    data = redacted_dump(load_config(None, env={}))
    assert data["collector"]["pseudonym_key"] is None
    assert data["collector"]["redis_url"] == "redis://127.0.0.1:6379/0"


# -- errors never echo a password ----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"http://:{REDIS_PW}@cache:6379/0",  # wrong scheme
        f"redis://:{REDIS_PW}@cache:99999/0",  # port out of range
        f"redis://:{REDIS_PW}@cache:port/0",  # port not a number
        f"redis://:{REDIS_PW}@[::1/0",  # broken IPv6 literal
        f"redis://:{REDIS_PW[:5]}/{REDIS_PW[5:]}@cache/0",  # unencoded "/" in the password
        f"redis://:{REDIS_PW}@/0",  # no host
    ],
)
def test_a_bad_redis_url_error_names_the_key_not_the_password(url):
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"MOCKADO_LOADER__REDIS_URL": url})
    message = str(info.value)
    assert message.startswith("loader.redis_url: invalid URL")
    assert REDIS_PW not in message and REDIS_PW[:5] not in message and REDIS_PW[5:] not in message
    # Nothing chained either: a traceback would print the cause.
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_a_bad_wiremock_url_error_does_not_echo_the_password():
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"MOCKADO_LOADER__WIREMOCK_URL": f"ftp://a:{WM_PW}@wm:21"})
    assert str(info.value) == "loader.wiremock_url: invalid URL (expected http:// or https://)"


def test_config_show_error_does_not_echo_the_password(monkeypatch, capsys):
    monkeypatch.setenv("MOCKADO_COLLECTOR__REDIS_URL", f"redis://:{REDIS_PW}@cache:port/0")
    assert main(["config", "show"]) == 2
    out, err = capsys.readouterr()
    assert "collector.redis_url: invalid URL" in err
    assert leaked(out + err) == []


# -- TLS switched on with a plaintext URL fails closed -----------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MOCKADO_COLLECTOR__REDIS_TLS__ENABLED": "true"}, "collector: redis_tls.enabled"),
        ({"MOCKADO_LOADER__REDIS_TLS__ENABLED": "true"}, "loader: redis_tls.enabled"),
        (
            {"MOCKADO_LOADER__WIREMOCK_TLS__ENABLED": "true"},
            "loader: wiremock_tls.enabled needs a https:// URL",
        ),
    ],
)
def test_tls_enabled_with_a_plaintext_url_is_a_config_error(env, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, env=env)


def test_tls_enabled_with_tls_urls_loads():
    config = load_config(
        None,
        env={
            "MOCKADO_COLLECTOR__REDIS_URL": "rediss://cache:6380/0",
            "MOCKADO_COLLECTOR__REDIS_TLS__ENABLED": "true",
            "MOCKADO_LOADER__REDIS_URL": "rediss://cache:6380/0",
            "MOCKADO_LOADER__REDIS_TLS__ENABLED": "true",
            "MOCKADO_LOADER__WIREMOCK_URL": "https://wm:8443",
            "MOCKADO_LOADER__WIREMOCK_TLS__ENABLED": "true",
        },
    )
    assert config.loader.wiremock_tls.enabled and config.collector.redis_tls.enabled


def test_collector_tls_without_a_certificate_is_a_config_error():
    from ext_proc_server.capture import server_credentials

    collector = CollectorConfig(tls={"enabled": True})
    with pytest.raises(ConfigError, match=r"collector\.tls: cert_file and key_file are required"):
        server_credentials(collector)


# -- logs ------------------------------------------------------------------------------------


def test_loader_start_line_names_no_password(config):
    from ext_proc_server.loader import Loader

    loader = Loader(config, consumer="unit")
    described = loader.describe()
    assert "wiremock.internal:8443" in described
    assert leaked(described) == []


@pytest.mark.parametrize("formatter", [TextFormatter, JsonFormatter])
def test_a_logged_exception_quoting_a_url_shows_only_its_type(formatter):
    try:
        raise ConnectionError(f"cannot reach redis://:{REDIS_PW}@cache:6379/0")
    except ConnectionError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.WARNING, __file__, 1, "redis unavailable", (), sys.exc_info()
        )
    text = formatter(component="loader").format(record)
    assert "ConnectionError" in text
    assert leaked(text) == []


# -- the `mockado up` state file --------------------------------------------------------------


def test_the_stack_state_file_gets_no_redis_password(config):
    data = config.model_dump(mode="json", by_alias=True, exclude={"collector": {"pseudonym_key"}})
    env = move_url_secrets(data)
    # (`mockado up` points the loader at its own local WireMock: only Redis URLs remain.)
    assert KEY not in yaml.safe_dump(data) and REDIS_PW not in yaml.safe_dump(data)
    assert data["collector"]["redis_url"] == "redis://cache.internal:6379/0"
    # The children still get the full URLs, through the environment.
    assert env == {
        "MOCKADO_COLLECTOR__REDIS_URL": SECRET_ENV["MOCKADO_COLLECTOR__REDIS_URL"],
        "MOCKADO_LOADER__REDIS_URL": SECRET_ENV["MOCKADO_LOADER__REDIS_URL"],
    }
    plain = load_config(None, env={}).model_dump(mode="json", by_alias=True)
    assert move_url_secrets(plain) == {}


def test_rendered_pod_config_gets_no_password_from_a_url_query():
    from control_plane.render import pod_config

    config = load_config(
        None,
        env={
            "MOCKADO_COLLECTOR__REDIS_URL": f"redis://cache:6379/0?password={QUERY_PW}",
            "MOCKADO_LOADER__REDIS_URL": f"rediss://u:{REDIS_PW}@cache:6380/0",
        },
    )
    data, notes = pod_config(config)
    text = yaml.safe_dump(data) + "\n".join(notes)
    assert leaked(text) == []
    assert data["collector"]["redis_url"] == "redis://cache:6379/0"
    assert data["loader"]["redis_url"] == "rediss://cache:6380/0"
    assert any("MOCKADO_COLLECTOR__REDIS_URL" in n for n in notes)
