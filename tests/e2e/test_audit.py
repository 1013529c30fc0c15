"""The audit through its public interface: `pytest tests_controls` against lab hosts over real
WinRM (pywinrm, NTLM over HTTP with encryption and Basic over HTTPS)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from cwh.catalog.model import load_catalog
from tests.e2e.audit_run import (
    AUTOMATED_A,
    REPO,
    bundled_lab_inventory,
    lab_host,
    lab_machine,
    loopback,
    run_audit,
    write_inventory,
)

REQUIRED_FIELDS = ("host", "control_id", "status", "severity", "stig_ids", "expected", "observed")
CATALOG = load_catalog()
# `-m stig` on WinRM hosts: every control but the exposure audit (CWH-EXT-*, `-m external`).
ALL_CONTROLS = {c.id for c in CATALOG.controls if c.handler != "external"}
# The bundled lab's hosts are ScreenConnect servers: Automate's own controls do not apply.
FOR_SCREENCONNECT = {c.id for c in CATALOG.controls
                     if "screenconnect" in c.products and c.id in ALL_CONTROLS}
AUTOMATED = FOR_SCREENCONNECT - {"CWH-ACCT-02"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The bundled lab inventory, moved to addresses of its own so it can't collide."""
    tmp_path = tmp_path_factory.mktemp("demo")
    inventory = bundled_lab_inventory(tmp_path)
    return run_audit(tmp_path, inventory, "-m", "guide")


def test_demo_hardened_passes_and_drifted_fails(demo):
    assert demo.exit_code == 1, demo.output  # findings
    hardened, drifted = demo.by_control("lab-hardened"), demo.by_control("lab-drifted")
    assert set(AUTOMATED_A) <= AUTOMATED
    for control in AUTOMATED:
        assert hardened[control]["status"] == "NotAFinding", hardened[control]
        assert drifted[control]["status"] == "Open", drifted[control]
    for results in (hardened, drifted):
        assert results["CWH-ACCT-02"]["status"] == "Not_Reviewed"
        assert results["CWH-ACCT-02"]["error"] is False
        for control in ALL_CONTROLS - FOR_SCREENCONNECT:
            assert results[control]["status"] == "Not_Applicable", results[control]
            assert "applies to ConnectWise Automate servers" in results[control]["reason"]


def test_every_record_carries_its_evidence(demo):
    assert len(demo.results) == 2 * len(ALL_CONTROLS)
    for record in demo.results:
        for field in REQUIRED_FIELDS:
            assert field in record, field
        if CATALOG[record["control_id"]].stig:
            assert record["stig_ids"], record["control_id"]
        assert record["evidence"], record
        if record["status"] == "NotAFinding":
            assert record["observed"] and record["expected"]


def test_stig_ids_follow_the_detected_os(demo):
    hardened, drifted = demo.by_control("lab-hardened"), demo.by_control("lab-drifted")
    assert hardened["CWH-GPO-01"]["stig_ids"] == ["WN22-SO-000230"]  # Server 2022
    assert drifted["CWH-GPO-01"]["stig_ids"] == ["WN19-SO-000230"]  # Server 2019
    assert hardened["CWH-ACCT-01"]["severity"] == "medium"  # CAT II on 2022 only
    assert drifted["CWH-ACCT-01"]["severity"] == "high"


def test_html_report_has_the_audit_columns(demo):
    html = (demo.report_dir / "report.html").read_text()
    for column in ("Host", "Control", "STIG ID", "Severity", "Status"):
        assert f">{column}</th>" in html
    assert "WN19-SO-000230" in html


def test_one_winrm_command_per_host(demo):
    requests = demo.lab_requests()
    for host in ("lab-hardened", "lab-drifted"):
        mine = [r for r in requests if r["endpoint"] == host]
        actions = [r["action"] for r in mine]
        assert actions.count("Command") == 1, actions
        assert actions.count("Send") == 1, actions
        assert len(mine) <= 8, actions


def test_wrong_password_is_one_line_and_the_other_host_survives(tmp_path):
    inventory = write_inventory(tmp_path, {
        "good": lab_host("hardened"),
        "locked": lab_host("drifted", transport="basic", cwh_lab_password="Zq-real-pw-17"),
    }, {"ansible_password": "Wr0ng-Pa55-7781"})
    run = run_audit(tmp_path, inventory, "-m", "guide")
    assert run.exit_code == 6, run.output
    assert "Traceback" not in run.output
    lines = [line for line in run.stdout.splitlines() if line.startswith("ERROR locked:")]
    assert len(lines) == 1 and "authentication failed" in lines[0], run.stdout
    # The summary names the controls that could not be evaluated, for the CI log.
    assert any(line.strip().startswith("not evaluated: CWH-") and "CWH-GPO-01" in line
               for line in run.stdout.splitlines()), run.stdout
    good, locked = run.by_control("good"), run.by_control("locked")
    assert len(good) == len(locked) == len(ALL_CONTROLS)
    assert all(r["status"] != "Not_Reviewed" or not r["error"] for r in good.values())
    # Without the host's facts only what the runner itself sees can be judged (the web URL is
    # given in the inventory); everything read over WinRM is Not_Reviewed with the error.
    runner_only = {"CWH-TLS-03", "CWH-WEB-02", "CWH-WEB-04", "CWH-WEB-05"}
    for control, record in locked.items():
        if control in runner_only:
            assert record["status"] in ("Open", "Not_Reviewed"), record
        else:
            assert record["status"] == "Not_Reviewed" and record["error"], record
            assert "authentication failed" in record["reason"], record
    for secret in ("Wr0ng-Pa55-7781", "Zq-real-pw-17"):
        assert secret not in run.artifacts_text()


def test_unreachable_host_is_one_line(tmp_path):
    closed = loopback()  # nothing listens there
    inventory = write_inventory(tmp_path, {
        "good": lab_host("drifted"),
        "gone": {"ansible_host": closed, "ansible_port": 5985},
    })
    started = time.monotonic()
    run = run_audit(tmp_path, inventory, "-m", "guide")
    assert time.monotonic() - started < 60
    assert run.exit_code == 6, run.output
    assert f"ERROR gone: connection refused at {closed}:5985" in run.stdout
    assert "Traceback" not in run.output
    assert {r["status"] for r in run.by_control("good").values()} >= {"Open"}
    assert all(r["error"] for r in run.by_control("gone").values())


@pytest.mark.parametrize("fault", ["empty_output", "truncated_output", "invalid_json"])
def test_damaged_output_is_never_a_pass(tmp_path, fault):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened", cwh_lab_fault=fault)})
    run = run_audit(tmp_path, inventory, "-m", "guide")
    assert run.exit_code == 6, run.output
    statuses = {r["status"] for r in run.results}
    assert statuses == {"Not_Reviewed"}, statuses


@pytest.mark.parametrize("content, message", [
    ("all:\n  hosts:\n    web01:\n      ansible_port: abc\n", "host web01: ansible_port"),
    ("all:\n  hosts:\n    web01:\n      cwh_min_pasword_length: 14\n",
     "did you mean cwh_min_password_length"),
    ("all:\n  hosts: [web01\n", "not valid YAML"),
    ("all:\n  hosts:\n    web01:\n      ansible_password: \"{{ lookup('env', 'CWH_NOPE') }}\"\n",
     "CWH_NOPE, which is not set"),
])
def test_broken_inventory_stops_before_connecting(tmp_path, content, message):
    inventory = tmp_path / "broken.yml"
    inventory.write_text(content)
    run = run_audit(tmp_path, inventory, "-m", "guide", env={"CWH_WINRM_PASSWORD": "x"})
    assert run.exit_code == 4, run.output
    assert "Traceback" not in run.output
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0] and str(inventory) in errors[0], run.output
    assert not (run.report_dir / "lab-requests.jsonl").exists()


def test_markers_select_controls(tmp_path):
    inventory = write_inventory(tmp_path, {"h": lab_host("drifted")})
    run = run_audit(tmp_path, inventory, "-m", "guide and cat3")
    cat3 = {c for c in ALL_CONTROLS if CATALOG[c].marker_severity == "low"}
    assert {r["control_id"] for r in run.results} == cat3 and "CWH-STIG-08" in cat3
    run = run_audit(tmp_path, inventory, "-m", "password")
    assert {r["control_id"] for r in run.results} == {"CWH-PWD-01", "CWH-PWD-02"}


def test_nothing_selected_is_not_success(tmp_path):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "stig and not stig")
    assert run.exit_code == 5, run.output


def test_adhoc_hosts_url_without_inventory(tmp_path):
    address = loopback()
    inventory = write_inventory(tmp_path, {"adhoc": lab_host("hardened", ansible_host=address)})
    lab = subprocess.Popen(
        [sys.executable, "-m", "cwh.lab", "serve", "--inventory", str(inventory),
         "--state-dir", str(tmp_path / "lab")],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True)
    try:
        assert lab.stdout.readline().startswith("READY")
        run = run_audit(tmp_path, None, "-m", "gpo", "--hosts",
                        f"winrm://auditor@{address}:5985?no_ssl=true"
                        "&expected_hostname=SC-HARDENED",
                        env={"CWH_WINRM_PASSWORD": "lab-only-not-a-secret"})
    finally:
        lab.stdin.close()
        lab.wait(timeout=10)
    assert run.exit_code == 0, run.output
    assert {r["host"] for r in run.results} == {address}
    assert {r["status"] for r in run.results} == {"NotAFinding"}


@pytest.mark.parametrize("workers", [None, "2"])
def test_each_host_is_one_winrm_command_with_and_without_xdist(tmp_path, workers):
    # two of each image, each its own machine
    hosts = {f"h{i}": lab_machine(tmp_path, "hardened" if i % 2 else "drifted", i)
             for i in range(4)}
    inventory = write_inventory(tmp_path, hosts)
    args = ["-m", "guide"] + (["-n", workers] if workers else [])
    run = run_audit(tmp_path, inventory, *args)
    assert run.exit_code == 1, run.output
    assert len(run.results) == 4 * len(ALL_CONTROLS)
    requests = run.lab_requests()
    for host in hosts:
        actions = [r["action"] for r in requests if r["endpoint"] == host]
        assert actions.count("Command") == 1, (host, actions)
        assert len(actions) <= 8, (host, actions)
        # Each host's shell is deleted once its command is done, workers or not: a run must
        # not leave shells behind on the servers it audits.
        assert actions.count("Create") == actions.count("Delete") == 1, (host, actions)
