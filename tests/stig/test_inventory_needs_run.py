"""What a host's own inventory values add to its fact request reaches the collector, through
the public interface (`pytest tests_controls -m stig` against the lab): an antivirus service the
inventory names is queried, and an account an inventory exception names is translated to its
SID on the host. Without them those rules could only wait, Not_Reviewed, for facts nobody
asked for."""

from __future__ import annotations

from pathlib import Path

import yaml

from cwh.lab.image import load_image
from tests.e2e.audit_run import distinct_machine, lab_host, run_audit, write_inventory
from tests.stig.harness import LAB_INPUTS

AV_RULE, TCB_RULE = "WN19-00-000110", "WN19-UR-000020"  # antivirus running; Act as part of OS


def _drifted_with_a_third_party_antivirus(tmp_path: Path) -> str:
    """drifted (Defender stopped and disabled) with CrowdStrike's sensor running instead."""
    services = [*load_image("drifted").get("services"),
                {"name": "CSFalconService", "display_name": "CrowdStrike Falcon Sensor Service",
                 "state": "Running", "start_mode": "Auto",
                 "path": r'"C:\Program Files\CrowdStrike\CSFalconService.exe"'}]
    path = tmp_path / "drifted-falcon.yml"
    path.write_text(yaml.safe_dump({"extends": "drifted", "services": services}))
    return str(path)


def test_each_hosts_inventory_names_are_collected_for_that_host(tmp_path):
    image = _drifted_with_a_third_party_antivirus(tmp_path)
    declared = {"cwh_antivirus_services": ["CSFalconService"],
                # the backup agent's account holds SeTcbPrivilege (by SID) on drifted
                "cwh_user_right_exceptions": {"SeTcbPrivilege": ["svc-backup"]}}
    # two machines of the one image (two inventory hosts that are one machine never pass)
    hosts = {"lab-declared": lab_host(distinct_machine(tmp_path, image, 1), transport="basic",
                                      cwh_expected_hostname="SC-DRIFTED", **declared),
             "lab-plain": lab_host(distinct_machine(tmp_path, image, 2), transport="basic",
                                   cwh_expected_hostname="SC-DRIFTED")}
    run = run_audit(tmp_path, write_inventory(tmp_path, hosts, LAB_INPUTS), "-m", "stig_rule",
                    "-k", f"{AV_RULE} or {TCB_RULE}")
    assert run.exit_code == 1, run.output[-3000:]  # lab-plain's findings
    declared_host, plain = run.by_control("lab-declared"), run.by_control("lab-plain")
    assert declared_host[AV_RULE]["status"] == "NotAFinding", declared_host[AV_RULE]
    assert "CSFalconService: Running" in declared_host[AV_RULE]["observed"]
    assert declared_host[TCB_RULE]["status"] == "NotAFinding", declared_host[TCB_RULE]
    assert "svc-backup (S-1-5-21-1004336348-1177238915-682003330-1017) (cwh_user_right_" \
        "exceptions)" in declared_host[TCB_RULE]["expected"]
    # the other host declares neither: Defender is its antivirus, and no one may act as the OS
    assert plain[AV_RULE]["status"] == "Open" and "WinDefend: Stopped" in \
        plain[AV_RULE]["observed"]
    assert plain[TCB_RULE]["status"] == "Open", plain[TCB_RULE]
    # still one round trip per host (what each host is asked: tests/stig/test_policy_needs.py)
    commands = [r for r in run.lab_requests() if r["action"] == "Command"]
    assert sorted(r["endpoint"] for r in commands) == ["lab-declared", "lab-plain"]

