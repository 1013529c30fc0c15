"""Where the evidence goes: an unusable report directory stops the run before anything
connects (one line, exit 4), and the run does not depend on optional pytest plugins."""

from __future__ import annotations

import os

import pytest

from tests.e2e.audit_run import lab_host, run_audit, write_inventory


def _errors(run) -> list[str]:
    return [line for line in run.output.splitlines() if line.startswith("ERROR")]


def _unusable(tmp_path, kind: str) -> str:
    if kind == "a file":
        path = tmp_path / "reports.txt"
        path.write_text("not a directory\n")
        return str(path)
    if kind == "under a file":
        path = tmp_path / "notes.txt"
        path.write_text("not a directory\n")
        return str(path / "reports")
    if kind == "under /proc":
        return "/proc/cwh-reports"
    if kind == "/proc itself":
        return "/proc"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["a file", "under a file", "under /proc", "/proc itself"])
def test_an_unusable_report_dir_is_one_line_exit_4_before_anything_connects(tmp_path, kind):
    where = _unusable(tmp_path, kind)
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "guide", f"--cwh-report-dir={where}")
    assert run.exit_code == 4, run.output
    errors = _errors(run)
    assert len(errors) == 1 and "--cwh-report-dir" in errors[0] and where in errors[0], \
        run.output
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output
    assert not (tmp_path / "lab").exists(), "the lab was started"  # nothing was contacted


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_read_only_report_dir_is_one_line_exit_4(tmp_path):
    where = tmp_path / "ro"
    where.mkdir()
    where.chmod(0o500)
    try:
        inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
        run = run_audit(tmp_path, inventory, "-m", "guide", f"--cwh-report-dir={where}")
    finally:
        where.chmod(0o700)
    assert run.exit_code == 4, run.output
    assert len(_errors(run)) == 1 and "cannot write" in _errors(run)[0], run.output


def test_the_audit_runs_without_the_junitxml_plugin(tmp_path):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "gpo", "-p", "no:junitxml")
    assert run.exit_code == 0, run.output
    assert {r["status"] for r in run.results} == {"NotAFinding"}
    assert not (run.report_dir / "junit.xml").exists()
    assert (run.report_dir / "manifest.json").is_file()
