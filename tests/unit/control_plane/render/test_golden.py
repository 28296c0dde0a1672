"""Golden files: every rendered file of golden/config.yaml, byte for byte.

A template change shows up as a unified diff. After an intended change, regenerate with
``UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/control_plane/render/test_golden.py``
and review the diff of tests/unit/control_plane/render/golden/ like code.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from control_plane.assets import TEMPLATES_DIR
from control_plane.render import render_all
from ext_proc_server.core.config import load_config

GOLDEN = Path(__file__).parent / "golden"
EXPECTED = GOLDEN / "expected"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
# What render writes: YAML manifests and the Grafana dashboard's JSON.
RENDERED_SUFFIXES = (".yaml", ".json")


def _golden_files() -> list[Path]:
    return [p for p in EXPECTED.rglob("*") if p.is_file() and p.suffix in RENDERED_SUFFIXES]


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    config = load_config(GOLDEN / "config.yaml", env={})
    return {f.path: f.text for f in render_all(config)}


def _diff(expected: str, actual: str, path: str) -> str:
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"golden/expected/{path}",
            tofile=f"rendered/{path}",
        )
    )


def test_golden_files_match(rendered: dict[str, str]) -> None:
    if UPDATE:
        for old in _golden_files():
            old.unlink()
        for path, text in rendered.items():
            target = EXPECTED / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    expected = {p.relative_to(EXPECTED).as_posix() for p in _golden_files()}
    assert expected, "no golden files: run with UPDATE_GOLDEN=1 once"
    missing = sorted(set(rendered) - expected)
    extra = sorted(expected - set(rendered))
    assert not missing, f"rendered but no golden file (UPDATE_GOLDEN=1 to add): {missing}"
    assert not extra, f"golden file no longer rendered (UPDATE_GOLDEN=1 to drop): {extra}"
    diffs = [
        _diff((EXPECTED / path).read_text(encoding="utf-8"), text, path)
        for path, text in sorted(rendered.items())
        if (EXPECTED / path).read_text(encoding="utf-8") != text
    ]
    assert not diffs, "rendered files differ from the golden files:\n" + "\n".join(diffs)


def test_golden_covers_every_template(rendered: dict[str, str]) -> None:
    # Each template (except shared macro files) produced at least one golden file.
    templates = TEMPLATES_DIR
    names = {
        p.relative_to(templates).as_posix()
        for p in templates.rglob("*.j2")
        if not p.name.startswith("_") and p.parent.name != "check"
    }
    used = {
        line.split("(", 1)[1].split(")", 1)[0]
        for text in rendered.values()
        for line in text.splitlines()[:1]
        if line.startswith("# Rendered by mockado (")
    }
    assert names <= used, f"templates without a golden file: {sorted(names - used)}"
