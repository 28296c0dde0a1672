from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from control_plane.cli import COMMANDS, build_parser, main
from tests.support.paths import sidecar_envoy

SUBCOMMANDS = [
    "up",
    "ext-proc",
    "loader",
    "keep-shard",
    "misses",
    "drift",
    "restore",
    "sanitize",
    "render",
    "config",
    "demo-api",
]


def write_config(tmp_path: Path, namespaces: dict) -> str:
    path = tmp_path / "mockado.yaml"
    path.write_text(yaml.safe_dump({"control_plane": {"namespaces": namespaces}}))
    return str(path)


def test_help_lists_every_command_once_in_order(capsys):
    assert len(COMMANDS) == len(SUBCOMMANDS)
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    listed = re.findall(r"^    ([a-z-]+)\s", out, flags=re.MULTILINE)
    assert listed == SUBCOMMANDS


def help_of(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([*argv, "--help"])
    assert info.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [c.COMMAND for c in COMMANDS], ids=lambda c: c.name)
def test_every_subcommand_documents_every_option_and_shows_an_example(command, capsys):
    argv = [command.name] + ([command.action] if command.action else [])
    out = help_of(argv, capsys)
    assert out.startswith(f"usage: mockado {' '.join(argv)}")
    example = out.split("example:\n", 1)[1].strip()
    # The example is a valid invocation of this command (environment and redirections aside).
    words = example.split()
    words = words[words.index("mockado") + 1 :]
    words = [w for w in words if w not in ("<", ">") and not w.endswith(".jsonl")]
    assert words[: len(argv)] == argv
    assert build_parser().parse_args(words).run is not None
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command.name]
    if command.action:
        sub = sub._subparsers._group_actions[0].choices[command.action]
    undocumented = [a.dest for a in sub._actions if not a.help and a.dest != "help"]
    assert undocumented == []


def test_version_names_the_installed_package(capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["--version"])
    assert info.value.code == 0
    assert re.fullmatch(r"mockado \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


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


def test_render_lists_without_writing_then_writes(tmp_path, capsys, keep_logging):
    config = write_config(tmp_path, {"shop": {"sample_percent": 10}, "legacy": {"enabled": False}})
    out = tmp_path / "out"
    out.mkdir()
    assert main(["render", "--config", config, "--out", str(out), "--list"]) == 0
    listing = capsys.readouterr().out
    assert re.search(r"namespace\s+shop\s+inbound\s+10%\s+all\s+istio/shop/", listing)
    assert re.search(r"namespace\s+legacy\s+disabled", listing)
    assert not any(out.iterdir())  # --list writes nothing

    assert main(["render", "--config", config, "--out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "wrote istio/shop/envoyfilter-capture.yaml" in report
    assert (out / "envoy_configs/local.yaml").is_file()
    assert (out / "deploy/collector.yaml").is_file()
    assert re.search(rf"\d+ written, 0 unchanged, 0 removed under {re.escape(str(out))}", report)

    disabled = write_config(tmp_path, {"shop": {"enabled": False}})
    assert main(["render", "--config", disabled, "--out", str(out)]) == 0
    assert "removed istio/shop/envoyfilter-capture.yaml" in capsys.readouterr().out


def test_render_check_reports_invalid_and_out_of_date_files(tmp_path, capsys, keep_logging):
    config = write_config(tmp_path, {})
    out = tmp_path / "out"
    assert main(["render", "--config", config, "--out", str(out)]) == 0
    (out / "deploy/redis.yaml").write_text("# Rendered by mockado (x)\nedited: true\n")
    capsys.readouterr()
    missing = tmp_path / "no-schemas"
    args = ["render", "--config", config, "--out", str(out), "--schemas-dir", str(missing)]
    assert main([*args, "--check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert (
        f"invalid: {missing}: CRD schemas not found (`make install` writes them; "
        "or --schemas-dir)" in lines
    )
    assert "out of date: deploy/redis.yaml (run `mockado render`)" in lines
    assert re.fullmatch(r"\d+ files checked: FAILED", lines[-1])
    # --check wrote nothing.
    assert "edited: true" in (out / "deploy/redis.yaml").read_text()


def test_render_check_with_the_sidecars_envoy_passes_and_says_so(tmp_path, capsys, keep_logging):
    # What the mesh's own Envoy (control_plane.envoy_version) accepts, not only the bundled one.
    config = write_config(tmp_path, {"shop": {"enabled": True}})
    out = tmp_path / "out"
    assert main(["render", "--config", config, "--out", str(out)]) == 0
    capsys.readouterr()
    argv = ["render", "--config", config, "--out", str(out), "--check"]
    assert main([*argv, "--envoy", sidecar_envoy()]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "EnvoyFilter patches validated with Envoy 1.37 (control_plane.envoy_version)" in lines
    assert re.fullmatch(r"\d+ files checked: OK", lines[-1])


def _tls_config(tmp_path: Path, tls: dict) -> str:
    path = tmp_path / "tls.yaml"
    data = {
        "control_plane": {
            "namespaces": {"shop": {"enabled": True}},
            "collector": {"tls": {"enabled": True, **tls}},
        }
    }
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_render_check_validates_without_the_tls_files_it_names(tmp_path, capsys, keep_logging):
    # Where the sidecars mount them, not on the machine that checks the manifests.
    absent = {
        "ca_file": "/etc/mockado/tls/ca.pem",
        "cert_file": "/etc/mockado/tls/tls.crt",
        "key_file": "/etc/mockado/tls/tls.key",
    }
    config = _tls_config(tmp_path, absent)
    out = tmp_path / "out"
    assert main(["render", "--config", config, "--out", str(out)]) == 0
    assert absent["ca_file"] in (out / "envoy_configs/sidecar-example.yaml").read_text()
    capsys.readouterr()
    assert main(["render", "--config", config, "--out", str(out), "--check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\d+ files checked: OK", lines[-1])
    notes = [line for line in lines if line.startswith("note: envoy_configs/sidecar-example")]
    assert len(notes) == 2
    assert "CA /etc/mockado/tls/ca.pem not on this machine: the system bundle" in notes[1]
    assert notes[0].endswith(
        "client certificate /etc/mockado/tls/tls.crt, /etc/mockado/tls/tls.key not on this "
        "machine: left out"
    )


def test_render_check_still_has_envoy_read_the_tls_files_that_are_there(
    tmp_path, capsys, keep_logging
):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("not a certificate\n")
    config = _tls_config(tmp_path, {"ca_file": str(ca_file)})
    out = tmp_path / "out"
    assert main(["render", "--config", config, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["render", "--config", config, "--out", str(out), "--check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(
        line.startswith("invalid: envoy_configs/sidecar-example.yaml: envoy rejected it")
        for line in lines
    )
    assert not [line for line in lines if line.startswith("note:")]


def test_render_lists_the_objects_a_file_it_rewrites_no_longer_declares(
    tmp_path, capsys, keep_logging
):
    # kubectl apply never deletes: a host taken out of a canary keeps its VirtualService
    # (the canary pods still reach the mocks), and a shard group taken out keeps its WireMock
    # running, until someone deletes what render no longer writes.
    hosts = ["api.shop.svc.cluster.local", "pay.example.com"]
    canary = {"workload_labels": {"track": "canary"}, "hosts": hosts}

    def config(canary_hosts: list[str], groups: dict[str, list[str]]) -> str:
        path = tmp_path / "mockado.yaml"
        data = {
            "serving": {"shard_groups": groups},
            "control_plane": {
                "namespaces": {"shop": {"canary": {**canary, "hosts": canary_hosts}}}
            },
        }
        path.write_text(yaml.safe_dump(data))
        return str(path)

    out = tmp_path / "out"
    assert main(["render", "--config", config(hosts, {"pay": ["pay.*"]}), "--out", str(out)]) == 0
    capsys.readouterr()
    smaller = config(hosts[:1], {})
    assert main(["render", "--config", smaller, "--out", str(out), "--check"]) == 1
    checked = capsys.readouterr().out
    assert main(["render", "--config", smaller, "--out", str(out)]) == 0
    written = capsys.readouterr().out
    commands = [
        "kubectl delete -n shop virtualservice/mockado-canary-pay-example-com --ignore-not-found",
        "kubectl delete -n mockado deployment/mockado-wiremock-pay --ignore-not-found",
        "kubectl delete -n mockado service/mockado-wiremock-pay --ignore-not-found",
    ]
    for report in (checked, written):
        assert "objects of the files" in report, report
        for command in commands:
            assert f"  {command}\n" in report, report
    # The objects still rendered are not listed.
    assert "mockado-canary-api-shop" not in written
    assert "deployment/mockado-wiremock " not in written
    assert main(["render", "--config", smaller, "--out", str(out)]) == 0
    assert "objects of the files" not in capsys.readouterr().out
