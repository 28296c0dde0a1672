"""mockado sanitize: JSON Lines in, sanitized JSON Lines out, same order and ids."""

from __future__ import annotations

import io
import json
import subprocess

from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.sanitize import cli_main
from tests.support.paths import REPO

ROOT = REPO


def _record(rid: str, email: str) -> str:
    return json.dumps(
        {
            "id": rid,
            "trace": {"keep": "me"},
            "request": {
                "method": "POST",
                "path": "/x",
                "headers": {"content-type": ["application/json"]},
                "body": json.dumps({"email": email}),
            },
            "response": {"status": 200, "headers": {}, "body": ""},
        }
    )


def test_round_trip_keeps_order_ids_and_unknown_keys() -> None:
    stdin = io.StringIO(_record("a", "ana@x.com") + "\n" + _record("b", "bob@y.com") + "\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert cli_main(MockadoConfig(), stdin=stdin, stdout=stdout, stderr=stderr) == 0
    lines = [json.loads(x) for x in stdout.getvalue().splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    assert all(x["trace"] == {"keep": "me"} for x in lines)
    assert "ana@x.com" not in stdout.getvalue() and "SANITIZED_EMAIL" in lines[0]["request"]["body"]
    assert stderr.getvalue() == ""


def test_bad_line_is_named_by_number_without_content() -> None:
    stdin = io.StringIO(_record("a", "ana@x.com") + "\n{not json secret@x.com\n" + '{"id": "c"}\n')
    stdout, stderr = io.StringIO(), io.StringIO()
    assert cli_main(MockadoConfig(), stdin=stdin, stdout=stdout, stderr=stderr) == 1
    assert "line 2" in stderr.getvalue() and "line 3" in stderr.getvalue()
    assert "secret@x.com" not in stderr.getvalue()
    assert [json.loads(x)["id"] for x in stdout.getvalue().splitlines()] == ["a"]


def test_pseudonyms_without_key_is_a_config_error() -> None:
    config = load_config(env={}, overrides={"collector.sanitize_mode": "pseudonyms"})
    stderr = io.StringIO()
    code = cli_main(config, stdin=io.StringIO(""), stdout=io.StringIO(), stderr=stderr)
    assert code == 2 and "collector.pseudonym_key" in stderr.getvalue()


def test_console_command() -> None:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "mockado"), "sanitize"],
        input=_record("z", "zed@x.com") + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert json.loads(result.stdout)["id"] == "z" and "zed@x.com" not in result.stdout
