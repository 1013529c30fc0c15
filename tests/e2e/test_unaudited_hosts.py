"""A run never exits 0 or 1 for an inventory host it did not audit (review of issue 10,
findings 6 and 7), and it says so as the fleet merge of its own directory does: a host that
-k left without any selected control, and two inventory hosts judged on one machine's facts."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.audit_run import REPO, lab_host, run_audit, write_inventory


def merge(out, *inputs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cwh.report.merge", str(out),
                           *map(str, inputs), "--fail-on", "cat3"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def test_a_host_that_k_leaves_out_is_not_audited_and_the_run_and_merge_agree(tmp_path):
    """`-k hard`: the run exited 0 and named only `hard`; the merge of that very directory
    said INCOMPLETE (no result for drift) and 6."""
    inventory = write_inventory(tmp_path, {"hard": lab_host("hardened"),
                                           "drift": lab_host("drifted")})
    run = run_audit(tmp_path, inventory, "-m", "stig", "-k", "hard")
    assert run.exit_code == 6, run.output[-3000:]
    assert {r["host"] for r in run.results} == {"hard"}
    lines = [line for line in run.stdout.splitlines() if line.startswith("ERROR drift:")]
    assert len(lines) == 1, run.stdout[-3000:]
    assert "not audited" in lines[0] and "--limit" in lines[0]
    assert run.document["run"]["exit_status"] == 6
    assert "not audited" in run.document["host_errors"]["drift"]
    merged = merge(tmp_path / "fleet", run.report_dir)
    assert merged.returncode == 6, merged.stdout + merged.stderr
    assert "INCOMPLETE 01-reports: no result for drift" in merged.stdout


def test_limit_is_the_way_to_leave_hosts_out(tmp_path):
    inventory = write_inventory(tmp_path, {"hard": lab_host("hardened"),
                                           "drift": lab_host("drifted")})
    run = run_audit(tmp_path, inventory, "-m", "stig", "--limit", "hard")
    assert run.exit_code == 0, run.output[-3000:]
    assert merge(tmp_path / "fleet", run.report_dir).returncode == 0


def test_a_k_that_keeps_every_host_still_passes(tmp_path):
    inventory = write_inventory(tmp_path, {"hard": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "stig", "-k", "GPO")
    assert run.exit_code == 0, run.output[-3000:]
    assert run.document["host_errors"] == {}


def test_two_inventory_hosts_judged_on_one_machine_never_pass(tmp_path):
    """sc-b is a copy of sc-a (same image, cwh_expected_hostname SC-HARDENED on both): both
    got 33 NotAFinding and the run exited 0, though at most one of them was audited."""
    inventory = write_inventory(tmp_path, {"sc-a": lab_host("hardened"),
                                           "sc-b": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "stig")
    assert run.exit_code == 6, run.output[-3000:]
    lines = [line for line in run.stdout.splitlines() if line.startswith("same machine:")]
    assert len(lines) == 1, run.stdout[-3000:]
    assert lines[0].startswith("same machine: sc-a, sc-b all reached SC-HARDENED")
    assert "at most one was audited, exit code 6" in lines[0]
    assert run.document["same_machine"][0]["confirmed"] == ["sc-a", "sc-b"]
    assert run.document["run"]["exit_status"] == 6
    merged = merge(tmp_path / "fleet", run.report_dir)
    assert merged.returncode == 6, merged.stdout + merged.stderr
    assert "at most one was audited" in merged.stdout

