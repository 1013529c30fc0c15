"""The preflight (`pytest --cwh-doctor`) against lab hosts: one line per host, the right fix."""

from __future__ import annotations

import subprocess
import sys

from cwh import certs
from tests.e2e.audit_run import REPO, lab_host, loopback, write_inventory


def doctor(tmp_path, inventory):
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--cwh-doctor", "-p", "no:cacheprovider",
         f"--inventory={inventory}", f"--cwh-lab-dir={tmp_path / 'lab'}"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    lines = {line.split(":", 1)[0].split()[-1]: line for line in completed.stdout.splitlines()
             if line.startswith(("OK ", "FAIL "))}
    return completed, lines


def test_doctor_names_each_problem_and_its_fix(tmp_path):
    other_ca, _ = certs.make_ca("Somebody Else's CA").write(tmp_path, "other-ca")
    (tmp_path / "non-admin.yml").write_text(
        "extends: hardened\nuser: {name: SC-HARDENED\\\\helpdesk, sid: S-1-5-21-1-2-3-1020, "
        "is_admin: false}\n")
    inventory = write_inventory(tmp_path, {
        "good": lab_host("hardened"),
        "locked": lab_host("hardened", cwh_lab_password="the-real-one"),
        "closed": {"ansible_host": loopback(), "ansible_port": 5985},
        "untrusted": lab_host("drifted", transport="basic",
                              ansible_winrm_ca_trust_path=str(other_ca)),
        "helpdesk": lab_host(str(tmp_path / "non-admin.yml")),
    })
    completed, lines = doctor(tmp_path, inventory)
    assert completed.returncode == 6, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr
    assert lines["good"].startswith("OK") and "local administrator" in lines["good"]
    assert "authentication failed" in lines["locked"] and "ansible_password" in lines["locked"]
    assert "refused" in lines["closed"] and "winrm quickconfig" in lines["closed"]
    assert "not trusted" in lines["untrusted"] and "ansible_winrm_ca_trust_path" in \
        lines["untrusted"]
    assert "not a local administrator" in lines["helpdesk"]
    assert "1 of 5 hosts ready to audit" in completed.stdout
    assert "the-real-one" not in completed.stdout + completed.stderr


def test_doctor_all_good_exits_zero(tmp_path):
    inventory = write_inventory(tmp_path, {"a": lab_host("hardened"),
                                           "b": lab_host("drifted", transport="basic")})
    completed, lines = doctor(tmp_path, inventory)
    assert completed.returncode == 0, completed.stdout
    assert set(lines) == {"a", "b"} and all(line.startswith("OK") for line in lines.values())


def test_doctor_checks_whose_facts_arrive(tmp_path):
    """The doctor said OK for a host whose address answers as another machine, and the audit
    then made every control Not_Reviewed (review of issue 10, M2)."""
    from tests.faults.corpus import IMAGES

    inventory = write_inventory(tmp_path, {
        "other": lab_host(str(IMAGES / "identity-other-machine.yml"),
                          cwh_expected_hostname="SC-HARDENED"),
        "good": lab_host("hardened"),
    })
    completed, lines = doctor(tmp_path, inventory)
    assert completed.returncode == 6, completed.stdout + completed.stderr
    assert lines["good"].startswith("OK")
    line = lines["other"]
    assert line.startswith("FAIL") and "the facts that arrived are those of SC-OTHER" in line
    assert "cwh_expected_hostname SC-HARDENED is neither" in line
    assert "set cwh_expected_hostname: SC-OTHER" in line
    assert "1 of 2 hosts ready to audit" in completed.stdout
