from __future__ import annotations

import pytest

from control_plane.cli import build_parser, main

SUBCOMMANDS = ["up", "ext-proc", "loader", "restore", "sanitize", "render", "config", "demo-api"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([command, "--help"])
    assert info.value.code == 0
    assert "usage: mockado" in capsys.readouterr().out


def test_config_error_is_one_clear_line_and_exit_2(capsys, monkeypatch):
    monkeypatch.setenv("MOCKADO_LOADER__WIREMOCK_URL", "nope")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "mockado config: loader.wiremock_url: invalid URL (expected http:// or https://)"
    ]


def test_config_show_redacts(capsys, monkeypatch):
    monkeypatch.setenv("MOCKADO_COLLECTOR__PSEUDONYM_KEY", "super-secret-key")
    assert main(["config", "show", "--json"]) == 0
    out = capsys.readouterr().out
    assert "super-secret-key" not in out
    assert '"pseudonym_key": "**********"' in out
