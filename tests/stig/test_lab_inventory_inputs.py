"""The bundled lab inventory (inventory/lab.yml) declares the organization-defined STIG values
its images can answer, so `pytest -m stig` on the bundled lab judges those rules instead of
leaving them Not_Reviewed for the inventory: through the public interface, with the bundled
inventory itself (moved to addresses of its own)."""

from __future__ import annotations

import pytest
import yaml

from cwh.catalog.stig_inputs import INPUTS, required
from cwh.catalog.stig_rules import committed_releases
from tests.e2e.audit_run import REPO, AuditRun, bundled_lab_inventory, run_audit

RELEASES = committed_releases()
BENCHMARK = {"lab-hardened": "MS_Windows_Server_2022_STIG",
             "lab-drifted": "Windows_Server_2019_STIG"}
# The rules of each host that read a declared value, with the verdict the image gives them.
WANTED = {
    "lab-hardened": {"WN22-SO-000130": "NotAFinding",   # the banner text
                     "WN22-00-000060": "NotAFinding",   # application account passwords
                     "WN22-00-000110": "NotAFinding",   # an antivirus runs
                     "WN22-00-000040": "Not_Applicable",  # Backup Operators: no members
                     "WN22-00-000440": "NotAFinding"},  # an approved time source
    "lab-drifted": {"WN19-SO-000130": "Open", "WN19-00-000060": "Open",
                    "WN19-00-000110": "Open", "WN19-00-000040": "Open",
                    "WN19-00-000440": "Open"},
}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> AuditRun:
    tmp_path = tmp_path_factory.mktemp("bundled-inputs")
    inventory = bundled_lab_inventory(tmp_path)
    return run_audit(tmp_path, inventory, "-m", "stig_rule")


def test_no_rule_of_the_bundled_lab_waits_for_an_organization_value(bundled):
    assert bundled.exit_code == 1, bundled.output[-3000:]  # drifted's findings, all evaluated
    waiting = [f"{r['host']} {r['control_id']}: {r['reason']}" for r in bundled.results
               if "needs the organization-defined value" in str(r.get("reason"))]
    assert not waiting, "\n".join(waiting)


def test_the_rules_reading_a_declared_value_have_the_images_verdict(bundled):
    for host, wanted in WANTED.items():
        records = bundled.by_control(host)
        release = RELEASES[BENCHMARK[host]]
        for stig_id, status in wanted.items():
            assert records[stig_id]["status"] == status, records[stig_id]
            assert release.by_stig_id(stig_id).inputs, stig_id  # it does read a value


def test_every_required_input_the_rules_read_is_declared():
    data = yaml.safe_load((REPO / "inventory" / "lab.yml").read_text())
    declared = set(data["all"]["vars"]) | set(data["all"]["children"]["lab"]["vars"])
    read = {name for release in RELEASES.values() for rule in release.rules
            for name in rule.inputs if name in INPUTS and required(name)}
    assert read <= declared, read - declared
