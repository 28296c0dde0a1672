"""Child-process helpers that need no network: WireMock's root-dir hygiene."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from control_plane import procs


def _root(tmp_path: Path) -> Path:
    (tmp_path / "mappings" / "nested").mkdir(parents=True)
    good = {"request": {"method": "GET", "url": "/a"}, "response": {"status": 200}}
    (tmp_path / "mappings" / "good.json").write_text(json.dumps(good))
    (tmp_path / "mappings" / "many.json").write_text(json.dumps({"mappings": [good]}))
    (tmp_path / "mappings" / "empty.json").write_bytes(b"")
    (tmp_path / "mappings" / "nested" / "cut.json").write_text('{"request": {"meth')
    (tmp_path / "mappings" / "list.json").write_text("[1, 2]")
    return tmp_path


def test_unparsable_mapping_files_are_moved_aside_and_named_in_the_log(tmp_path, caplog):
    root = _root(tmp_path)
    with caplog.at_level(logging.WARNING, logger="control_plane.procs"):
        moved = procs.quarantine_broken_mappings(root)
    broken = root / procs.BROKEN_MAPPINGS_DIR
    assert sorted(p.relative_to(broken).as_posix() for p in moved) == [
        "empty.json",
        "list.json",
        "nested/cut.json",
    ]
    assert all(p.exists() for p in moved)
    left = sorted(p.name for p in (root / "mappings").rglob("*.json"))
    assert left == ["good.json", "many.json"]
    assert "3 mapping file(s)" in caplog.text


def test_a_clean_root_is_left_alone_and_logs_nothing(tmp_path, caplog):
    root = _root(tmp_path)
    procs.quarantine_broken_mappings(root)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="control_plane.procs"):
        assert procs.quarantine_broken_mappings(root) == []
    assert caplog.text == ""
    assert (root / "mappings" / "good.json").exists()


def test_the_wiremock_command_sweeps_the_root_before_it_starts(tmp_path, monkeypatch):
    root = _root(tmp_path)
    monkeypatch.setattr(procs, "find_java", lambda: "java")
    monkeypatch.setattr(procs, "find_wiremock_jar", lambda: Path("wiremock.jar"))
    process = procs.wiremock_process(port=1, root_dir=root, log_path=tmp_path / "wm.log")
    assert str(root) in process.argv
    assert not (root / "mappings" / "empty.json").exists()
    assert (root / procs.BROKEN_MAPPINGS_DIR / "empty.json").exists()
