"""A run that did not evaluate every control it selected never passes the gate: -x, --maxfail,
a crashed worker and Ctrl-C each exit 6 and say how many selected controls were not evaluated,
in the terminal and in results.json (which the fleet merge reads the same way)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cwh.catalog.model import load_catalog
from cwh.report.merge import main as merge
from tests.e2e.audit_run import REPO, AuditRun, lab_host, run_audit, write_inventory

# every control -m stig runs on one WinRM host (the exposure audit is not among them)
SELECTED = sum(c.handler != "external" for c in load_catalog().controls)
# Hardened but for two findings: an inbound SMB rule (CWH-NET-05, CAT II), which runs early,
# and AutoPlay back on for all drives (CWH-GPO-04, CAT I), which runs later.
CAT2_FIRST = """\
extends: hardened
registry:
  HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer:
    NoDriveTypeAutoRun: {type: DWord, value: 145}
firewall:
  rules:
    - {display_name: ScreenConnect Web Server (TCP-In), local_ports: ["8040"]}
    - {display_name: ScreenConnect Relay (TCP-In), local_ports: ["8041"]}
    - {display_name: File and Printer Sharing (SMB-In), local_ports: ["445"], program: System}
"""
# Loaded into the audit run with -p: the worker running the third control dies on the spot.
CRASHER = """\
import os


def pytest_runtest_call(item):
    if item.nodeid.endswith("::CWH-NET-03]"):
        os._exit(17)
"""


def _inventory(tmp_path: Path, **extra) -> Path:
    image = tmp_path / "cat2-first.yml"
    image.write_text(CAT2_FIRST)
    return write_inventory(tmp_path, {"h": lab_host(str(image), **extra)})


def _assert_incomplete(run: AuditRun) -> int:
    """Exit 6, and both the summary and results.json count what was not evaluated."""
    assert run.exit_code == 6, run.output[-3000:]
    document = run.document
    missing = SELECTED - len(run.results)
    assert missing > 0
    assert document["run"]["selected"] == SELECTED
    assert document["run"]["exit_status"] == 6
    assert document["run"]["not_evaluated"] == missing
    evaluated = {r["nodeid"] for r in run.results}
    listed = document["run"]["not_evaluated_tests"]
    assert len(listed) == missing and not evaluated & set(listed)
    lines = [line for line in run.stdout.splitlines() if "not evaluated" in line
             and f"{missing} of {SELECTED} selected" in line]
    assert len(lines) == 1, run.stdout[-3000:]
    return missing


@pytest.mark.parametrize("args", [
    ["-x"], ["--maxfail=1"], ["-x", "-n", "2"], ["--maxfail=2", "-n", "2"],
], ids=["x", "maxfail", "x-xdist", "maxfail-xdist"])
def test_stopping_at_a_cat2_finding_with_fail_on_cat1_exits_6(tmp_path, args):
    """The first finding is CAT II, below --fail-on=cat1: without the rule the run exited 0
    (or 2 under xdist) with the Open CAT I never judged."""
    inventory = _inventory(tmp_path)
    run = run_audit(tmp_path, inventory, "-m", "guide", "--fail-on=cat1", *args)
    _assert_incomplete(run)
    if "-n" not in args:  # workers run side by side: one may have judged it before the stop
        assert "CWH-GPO-04" not in {r["control_id"] for r in run.results}
    # the fleet merge reads the same results.json the same way
    out = tmp_path / "merged"
    assert merge([str(out), str(run.report_dir), "--fail-on", "cat1"]) == 6


def test_the_whole_run_with_fail_on_cat1_still_finds_the_cat1(tmp_path):
    run = run_audit(tmp_path, _inventory(tmp_path), "-m", "guide", "--fail-on=cat1")
    assert run.exit_code == 1, run.output[-3000:]
    assert len(run.results) == SELECTED and run.document["run"]["not_evaluated"] == 0


def test_a_crashed_worker_exits_6(tmp_path):
    (tmp_path / "cwh_crasher.py").write_text(CRASHER)
    run = run_audit(tmp_path, _inventory(tmp_path), "-m", "guide", "-n", "2",
                    "-p", "cwh_crasher", env={"PYTHONPATH": str(tmp_path)})
    assert "crashed" in run.output
    missing = _assert_incomplete(run)
    assert missing >= 1
    assert any("CWH-NET-03" in test for test in run.document["run"]["not_evaluated_tests"])


def test_ctrl_c_exits_6(tmp_path):
    """Interrupted while the host's facts are still on their way: nothing was evaluated."""
    inventory = _inventory(tmp_path, cwh_lab_latency_ms=400)
    report_dir = tmp_path / "reports"
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "tests_controls", "-p", "no:cacheprovider",
         f"--cwh-report-dir={report_dir}", f"--cwh-lab-dir={tmp_path / 'lab'}",
         f"--inventory={inventory}", "-m", "guide"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ})
    log = report_dir / "lab-requests.jsonl"
    deadline = time.monotonic() + 60
    while not (log.exists() and log.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    run = AuditRun(process.returncode, stdout, stderr, report_dir)
    assert "KeyboardInterrupt" in run.output
    assert run.results == []
    _assert_incomplete(run)
    assert json.loads((report_dir / "manifest.json").read_text())["artifacts"]
