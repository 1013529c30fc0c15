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


def test_after_a_killed_run_what_it_recorded_is_cleared_and_nothing_else(tmp_path):
    run = RunDir.open(tmp_path)  # never finished: no manifest lists what it wrote
    run.will_write([tmp_path / n for n in ("results.json", "sc01.ckl", "hosts/sc01.html")])
    (tmp_path / "hosts").mkdir()
    for name in ("results.json", "sc01.ckl", "hosts/sc01.html"):
        (tmp_path / name).write_text(name)
    for name in ("junit.xml", "sc99-manual-review.ckl", "notes.txt"):  # not the suite's
        (tmp_path / name).write_text("mine")
    RunDir.open(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "junit.xml", "notes.txt", STATUS, "sc99-manual-review.ckl"]  # hosts/ went, empty


def test_hand_made_files_survive_runs_that_fail_before_writing_anything(tmp_path):
    """The review's case: checklists, an HDF file and junit.xml someone keeps in the report
    directory were deleted by the second of two failed runs (a glob of *.ckl and the run's
    file names), though the suite wrote none of them."""
    (tmp_path / "hdf").mkdir()
    mine = {"sc99-manual-review.ckl": "<CHECKLIST>hand-reviewed by ISSO</CHECKLIST>",
            "sc99-manual.cklb": "{}", "hdf/other-system.json": '{"mine": 1}',
            "junit.xml": "notes", "results.json": "a results.json of some other tool"}
    for name, text in mine.items():
        (tmp_path / name).write_text(text)
    for _ in range(2):
        RunDir.open(tmp_path).fail(4, "inventory bad.yml: ansible_port: '0x1761'")
    for name, text in mine.items():
        assert (tmp_path / name).read_text() == text, name


def test_what_a_run_records_is_inside_its_directory(tmp_path):
    run = RunDir.open(tmp_path / "r")
    run.will_write([tmp_path / "elsewhere.xml", tmp_path / "r" / "junit.xml",
                    tmp_path / "r" / "junit.xml", "results.json"])
    assert read_status(tmp_path / "r")["writes"] == ["junit.xml", "results.json"]


def test_a_tampered_record_never_reaches_outside(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "link").symlink_to(tmp_path)
    (tmp_path / "r" / STATUS).write_text(json.dumps({
        "run_id": "x", "state": "running",
        "writes": ["../victim.txt", str(victim), "link/victim.txt", 5, None]}))
    RunDir.open(tmp_path / "r")
    assert victim.read_text() == "keep"


def _symlinked(tmp_path: Path, name: str) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    where = tmp_path / "r"
    (where / name).parent.mkdir(parents=True, exist_ok=True)
    (where / name).symlink_to(victim)
    return where


@pytest.mark.parametrize("name", ["h1.ckl", "h1.cklb", "report.html", "junit.xml",
                                  "results.json", "hosts/h1.html", "hdf/h1.json",
                                  "lab-requests.jsonl", "manifest.json"])
def test_a_link_where_the_run_writes_stops_it_before_anything(tmp_path, name):
    where = _symlinked(tmp_path, name)
    with pytest.raises(ConfigError) as error:
        RunDir.open(where)
    message = str(error.value)
    assert f"{name} is a symbolic link (to {tmp_path / 'victim.txt'})" in message, message
    assert "\n" not in message and (tmp_path / "victim.txt").read_text() == "keep"
    assert not (where / STATUS).exists()


@pytest.mark.parametrize("name, kind", [("hdf", "a file"), ("hosts", "a file"),
                                        ("hdf", "a symbolic link")])
def test_something_that_is_no_folder_where_a_report_folder_goes_is_one_line(tmp_path, name,
                                                                            kind):
    (tmp_path / "elsewhere").mkdir()
    if kind == "a file":
        (tmp_path / name).write_text("my notes")
    else:
        (tmp_path / name).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match=f"{name} is {kind}, where the run writes its folder"):
        check_usable(tmp_path)


def test_a_folder_at_a_file_name_is_in_the_way(tmp_path):
    (tmp_path / "results.json").mkdir()
    with pytest.raises(ConfigError, match=r"results\.json is not a file"):
        check_usable(tmp_path)


def test_a_link_that_is_no_artifact_is_left_alone(tmp_path):
    (tmp_path / "latest").symlink_to(tmp_path)
    check_usable(tmp_path)


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
