"""The report directory's life: usable before anything connects, cleared and marked so that
nothing stale ever looks current."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from cwh.errors import ConfigError
from cwh.report.rundir import STATUS, RunDir, check_usable, read_status, stale_reason


def test_a_new_directory_is_created(tmp_path):
    check_usable(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []  # the write test leaves nothing


def _a_file(tmp_path: Path) -> Path:
    (tmp_path / "f").write_text("x")
    return tmp_path / "f"


@pytest.mark.parametrize("make, message", [
    (_a_file, "exists and is not a directory"),
    (lambda tmp_path: _a_file(tmp_path) / "sub", "cannot create it"),
    (lambda tmp_path: Path("/proc/cwh-x"), "cannot create it"),
    (lambda tmp_path: Path("/proc"), "cannot write there"),
])
def test_unusable_directories_are_one_line(tmp_path, make, message):
    where = make(tmp_path)
    with pytest.raises(ConfigError) as error:
        check_usable(where)
    assert message in str(error.value) and str(where) in str(error.value)
    assert "\n" not in str(error.value)


def test_a_directory_that_refuses_writes_is_one_line(tmp_path, monkeypatch):
    def refuse(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(ConfigError, match="cannot write there \\(Permission denied\\)"):
        check_usable(tmp_path)


def _finished_run(directory):
    run = RunDir.open(directory)
    for name in ("results.json", "h.ckl", "h.cklb", "report.html"):
        (directory / name).write_text(name)
    run.finish(0)
    (directory / "manifest.json").write_text(json.dumps({"run_id": run.run_id, "artifacts": [
        {"path": p} for p in ("results.json", "h.ckl", "h.cklb", "report.html", STATUS)]}))
    return run


def test_opening_clears_what_the_previous_run_listed_and_nothing_else(tmp_path):
    _finished_run(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    run = RunDir.open(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", STATUS]
    assert read_status(tmp_path) == {**read_status(tmp_path), "run_id": run.run_id,
                                     "state": "running"}


def test_after_a_killed_run_the_files_a_run_writes_are_cleared_too(tmp_path):
    RunDir.open(tmp_path)  # never finished: no manifest lists what it wrote
    for name in ("results.json", "sc01.ckl", "sc01.cklb", "junit.xml"):
        (tmp_path / name).write_text(name)
    (tmp_path / "notes.txt").write_text("mine")
    outside = tmp_path.parent / f"{tmp_path.name}-victim.ckl"
    outside.write_text("outside")
    (tmp_path / "link.ckl").symlink_to(outside)
    RunDir.open(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.ckl", "notes.txt", STATUS]
    assert outside.read_text() == "outside"


def test_the_states_a_run_leaves(tmp_path):
    run = RunDir.open(tmp_path)
    assert "did not finish" in stale_reason(tmp_path, {}, {})
    run.fail(4, "inventory x.yml: host h: cwh_typo unknown")
    assert "failed (exit 4: inventory x.yml: host h: cwh_typo unknown)" in \
        stale_reason(tmp_path, {}, {})
    run.finish(1)
    results, manifest = {"run": {"run_id": run.run_id}}, {"run_id": run.run_id}
    assert stale_reason(tmp_path, results, manifest) is None
    assert "different runs" in stale_reason(tmp_path, {"run": {"run_id": "other"}}, manifest)
    assert "different runs" in stale_reason(tmp_path, results, {})
    (tmp_path / STATUS).unlink()
    assert "no readable run-status.json" in stale_reason(tmp_path, results, manifest)
