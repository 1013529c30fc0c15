"""No stale evidence: whatever way a run ends, its report directory never shows an earlier run's
results as if they were current, and the fleet merge refuses a directory that does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.audit_run import REPO, AuditRun, lab_host, run_audit, write_inventory

MERGE = [sys.executable, "-m", "cwh.report.merge"]


def merge(out: Path, *inputs: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*MERGE, str(out), *map(str, inputs), "--fail-on", "cat3"], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


def good_run(tmp_path: Path) -> AuditRun:
    run = run_audit(tmp_path, write_inventory(tmp_path, {"h": lab_host("hardened")}), "-m", "gpo")
    assert run.exit_code == 0, run.output
    status = json.loads((run.report_dir / "run-status.json").read_text())
    manifest = json.loads((run.report_dir / "manifest.json").read_text())
    assert status["state"] == "finished" and status["exit_status"] == 0
    assert status["run_id"] == run.document["run"]["run_id"] == manifest["run_id"]
    assert "run-status.json" in {entry["path"] for entry in manifest["artifacts"]}
    return run


def _bad_inventory(tmp_path: Path) -> list[str]:
    path = tmp_path / "typo.yml"
    path.write_text("all:\n  hosts:\n    h: {ansible_host: 127.0.0.1, cwh_aproved_admins: [x]}\n")
    return [f"--inventory={path}"]


def _bad_waivers(tmp_path: Path) -> list[str]:
    path = tmp_path / "waivers.yml"
    path.write_text("waivers:\n  - {id: W-1, control: CWH-GPO-99}\n")
    return [f"--waivers={path}"]


def _missing_inventory(tmp_path: Path) -> list[str]:
    return [f"--inventory={tmp_path / 'nowhere.yml'}"]


@pytest.mark.parametrize("bad", [_bad_inventory, _bad_waivers, _missing_inventory],
                         ids=["inventory-typo", "bad-waiver", "missing-inventory"])
def test_a_usage_error_after_a_good_run_leaves_nothing_current_and_the_merge_refuses(
        tmp_path, bad):
    first = good_run(tmp_path)
    first_id = first.document["run"]["run_id"]
    assert merge(tmp_path / "ok", first.report_dir).returncode == 0
    # the same report directory, a mistake in the input: exit 4 before anything connects
    args = bad(tmp_path)
    inventory = None if args[0].startswith("--inventory") else \
        write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "gpo", *args)
    assert run.exit_code == 4, run.output
    left = sorted(p.name for p in run.report_dir.iterdir())
    assert left == ["run-status.json"], left  # the earlier run's evidence is gone
    status = json.loads((run.report_dir / "run-status.json").read_text())
    assert status["state"] == "failed" and status["exit_status"] == 4
    assert status["run_id"] != first_id
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and errors[0].removeprefix("ERROR: ") in status["error"]
    refused = merge(tmp_path / "fleet", run.report_dir)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "the last run into it failed (exit 4" in refused.stderr
    assert not (tmp_path / "fleet").exists()


def test_a_killed_run_is_never_merged(tmp_path):
    first = good_run(tmp_path)
    first_id = first.document["run"]["run_id"]
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened", cwh_lab_latency_ms=500)})
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "tests_controls", "-p", "no:cacheprovider",
         f"--cwh-report-dir={first.report_dir}", f"--cwh-lab-dir={tmp_path / 'lab'}",
         f"--inventory={inventory}", "-m", "gpo"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    log, status = first.report_dir / "lab-requests.jsonl", first.report_dir / "run-status.json"

    def under_way() -> bool:  # the new run's lab has answered (the old log was cleared)
        current = json.loads(status.read_text()) if status.exists() else {}
        return current.get("run_id") not in (None, first_id) and log.exists() and \
            bool(log.read_text().strip())

    deadline = time.monotonic() + 60
    while not under_way() and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the lab server with it
    process.wait(timeout=30)
    assert not (first.report_dir / "results.json").exists()
    status = json.loads((first.report_dir / "run-status.json").read_text())
    assert status["state"] == "running"
    refused = merge(tmp_path / "fleet", first.report_dir)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "did not finish" in refused.stderr


def test_a_failed_run_is_cleared_by_the_next_good_one(tmp_path):
    run = run_audit(tmp_path, None, "-m", "gpo", *_bad_inventory(tmp_path))
    assert run.exit_code == 4
    again = good_run(tmp_path)
    assert merge(tmp_path / "fleet", again.report_dir).returncode == 0


def test_collect_only_leaves_the_last_runs_evidence_untouched(tmp_path):
    first = good_run(tmp_path)
    def contents() -> dict[str, bytes]:
        return {str(p.relative_to(first.report_dir)): p.read_bytes()
                for p in first.report_dir.rglob("*") if p.is_file()}

    before = contents()
    listed = run_audit(tmp_path, write_inventory(tmp_path, {"h": lab_host("hardened")}),
                       "-m", "gpo", "--collect-only")
    assert listed.exit_code == 0, listed.output
    assert contents() == before
    assert merge(tmp_path / "fleet", first.report_dir).returncode == 0


# --- the review of issue 10, finding 9: options pytest itself refuses -------------------------

@pytest.mark.parametrize("args", [
    ["--fail-on=cat4"],                       # not one of the choices
    ["--no-such-option"],                     # pytest does not know it
    ["-p", "no:terminal"],                    # and with it the -ra of addopts
    ["--fail-on", "cat4"],                    # the report directory given apart from its value
], ids=["bad-choice", "unknown-option", "no-terminal", "separate-value"])
def test_a_command_line_pytest_refuses_leaves_nothing_current(tmp_path, args):
    """pytest's own parsing refused the command line (exit 4) before the plugin configured
    anything: the earlier finished run stayed 'finished' and the merge took it with exit 0, so
    a CI job whose audit step failed published the previous run's evidence as today's."""
    first = good_run(tmp_path)
    assert merge(tmp_path / "ok", first.report_dir).returncode == 0
    run = run_audit(tmp_path, write_inventory(tmp_path, {"h": lab_host("hardened")}),
                    "-m", "gpo", *args)
    assert run.exit_code == 4, run.output[-3000:]
    status = json.loads((first.report_dir / "run-status.json").read_text())
    assert status["state"] == "failed" and status["exit_status"] == 4, status
    assert "pytest refused the command line" in status["error"]
    refused = merge(tmp_path / "fleet", first.report_dir)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "pytest refused the command line" in refused.stderr
    assert not (tmp_path / "fleet").exists()
    # the next good run clears the earlier run's files as usual, and is current again
    again = good_run(tmp_path)
    assert merge(tmp_path / "fleet", again.report_dir).returncode == 0


@pytest.mark.parametrize("paths, marked", [
    (["tests/unit/test_exitcodes.py"], False), (["tests_controls"], True), ([], True),
    (["--inventory", "inventory/lab.yml"], True),  # a value pytest first takes for a path
    (["tests/unit", "--fail-on", "cat4"], False),
])
def test_only_an_audit_marks_its_default_report_dir(tmp_path, paths, marked):
    """The report directory from pytest.ini (here overridden with -o) is an audit's: a refused
    command line of the project's own tests leaves it alone; an audit's marks it."""
    first = good_run(tmp_path)
    before = (first.report_dir / "run-status.json").read_text()
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *paths, "-p", "no:cacheprovider",
         "-o", f"cwh_report_dir={first.report_dir}", "--no-such-option"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 4, completed.stdout + completed.stderr
    after = (first.report_dir / "run-status.json").read_text()
    assert (after != before) == marked, after
