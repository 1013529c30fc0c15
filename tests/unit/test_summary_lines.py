"""The end of the terminal summary: where the reports went, in one line, and host warnings."""

from __future__ import annotations

from pathlib import Path

from cwh.report.terminal import host_warning_lines, written_lines


def test_a_fleet_run_names_its_report_directory_once_with_counts_by_kind(tmp_path) -> None:
    root = tmp_path / "reports"
    hosts = [f"h{n}" for n in range(200)]
    written = [root / "results.json", root / "report.html",
               *(root / "hosts" / f"{h}.html" for h in hosts),
               *(root / f"{h}{s}" for h in hosts for s in (".ckl", ".cklb")),
               *(root / "hdf" / f"{h}.json" for h in hosts), root / "results.hdf.json",
               root / "run-status.json", root / "manifest.json", root / "manifest.json"]
    assert written_lines(root, written) == [
        f"reports: 805 files in {root}: manifest.json, report.html, results.hdf.json, "
        "results.json, run-status.json, 200 host pages, 200 host HDF files (hdf/), "
        "200 checklists (.ckl), 200 checklists (.cklb)"]


def test_a_file_written_elsewhere_is_named(tmp_path) -> None:
    root = tmp_path / "reports"
    elsewhere = tmp_path / "ci" / "junit.xml"
    assert written_lines(root, [root / "results.json", elsewhere]) == [
        f"reports: 1 file in {root}: results.json", f"wrote {elsewhere}"]
    assert written_lines(root, []) == []


def test_a_relative_report_dir_counts_the_same_files(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = written_lines(Path("reports"), [tmp_path / "reports" / "hosts" / "a.html"])
    assert line == [f"reports: 1 file in {tmp_path / 'reports'}: 1 host page"]


def test_warning_lines_one_per_host_and_nothing_for_malformed_data() -> None:
    assets = {"b": {"warnings": ["exit 1", "stderr: x\x1b[31m"]}, "a": {"warnings": []},
              "c": {"warnings": "not a list"}, "d": {}}
    assert host_warning_lines(assets) == ["warning: b: exit 1; stderr: x\\x1b[31m"]
