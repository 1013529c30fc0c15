"""ConnectWise Automate servers through the public interface: the bundled Automate lab
(inventory/lab-automate.yml) audited over real WinRM, every Automate control NotAFinding on the
hardened server and Open on the drifted one, each product's controls Not_Applicable on a host
of the other, and both on the combined host."""

from __future__ import annotations

import pytest
import yaml

from cwh.catalog.model import load_catalog
from cwh.lab.expectations import exempted
from tests.e2e.audit_run import REPO, lab_host, loopback, run_audit, write_inventory

CATALOG = load_catalog()
# `-m stig` on WinRM hosts: every control but the exposure audit (CWH-EXT-*).
ALL_CONTROLS = {c.id for c in CATALOG.controls if c.handler != "external"}
FOR_AUTOMATE = {c.id for c in CATALOG.controls if "automate" in c.products} & ALL_CONTROLS
AUTOMATE_ONLY = {c.id for c in CATALOG.controls if c.products == ("automate",)}
SCREENCONNECT_ONLY = {c.id for c in CATALOG.controls
                      if c.products == ("screenconnect",)} & ALL_CONTROLS
MANUAL = {"CWH-ACCT-02"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The bundled Automate lab inventory, moved to addresses of its own."""
    tmp_path = tmp_path_factory.mktemp("automate")
    data = yaml.safe_load((REPO / "inventory" / "lab-automate.yml").read_text())
    data["all"]["vars"]["cwh_ca_bundle"] = "lab/ca.pem"
    for host in data["all"]["children"]["lab_automate"]["hosts"].values():
        host["ansible_host"] = loopback()
        if "ansible_winrm_ca_trust_path" in host:
            host["ansible_winrm_ca_trust_path"] = "lab/ca.pem"
    inventory = tmp_path / "lab-automate.yml"
    inventory.write_text(yaml.safe_dump(data))
    return run_audit(tmp_path, inventory, "-m", "stig")


def _guide(lab, host: str) -> dict[str, dict]:
    """The host's guide-control records (-m stig judges its STIG rules beside them)."""
    return {k: r for k, r in lab.by_control(host).items() if r["record_type"] == "guide_control"}


def test_every_automate_control_passes_on_hardened_and_fails_on_drifted(lab):
    assert lab.exit_code == 1, lab.output[-3000:]
    hardened, drifted = _guide(lab, "lab-cwa-hardened"), _guide(lab, "lab-cwa-drifted")
    assert set(hardened) == set(drifted) == ALL_CONTROLS
    for control in FOR_AUTOMATE - MANUAL:
        assert hardened[control]["status"] == "NotAFinding", hardened[control]
        assert drifted[control]["status"] == "Open", drifted[control]


def test_screenconnect_controls_do_not_apply_to_an_automate_server(lab):
    for host in ("lab-cwa-hardened", "lab-cwa-drifted"):
        results = lab.by_control(host)
        for control in SCREENCONNECT_ONLY:
            record = results[control]
            assert record["status"] == "Not_Applicable", record
            assert "applies to ConnectWise ScreenConnect servers, and the host runs none" in \
                record["reason"]
            assert record["evidence"] and not record["error"]


def test_the_combined_host_passes_both_products(lab):
    combined = lab.by_control("lab-combined")
    for control in ALL_CONTROLS - MANUAL:
        assert combined[control]["status"] == "NotAFinding", combined[control]
    # The declared role agrees with the detected one: no disagreement is reported.
    assert not any("cwh_products declares" in r["reason"] for r in combined.values())
    mysql = combined["CWH-CWA-04"]
    assert "remote addresses 10.20.40.0/255.255.255.0 within 10.20.40.0/24" in mysql["reason"]


def test_udp_is_judged_from_the_host_view_only(lab):
    for host in ("lab-cwa-hardened", "lab-cwa-drifted"):
        for control in ("CWH-CWA-03", "CWH-CWA-06"):
            record = lab.by_control(host)[control]
            assert "a UDP port cannot be proven open by connecting to it" in record["reason"]
            sources = [e["source"] for e in record["evidence"]]
            assert not any("TCP connect from the runner" in s for s in sources), sources


def test_the_drifted_findings_name_what_is_wrong(lab):
    drifted = lab.by_control("lab-cwa-drifted")
    assert "TCP 3306 allowed by MySQL Server (TCP-In)" in drifted["CWH-CWA-04"]["reason"]
    assert "0.0.0.0:3306 (every interface) by mysqld" in drifted["CWH-CWA-04"]["reason"]
    assert "UDP 70-74 allowed by LabTech Legacy (UDP-In)" in drifted["CWH-CWA-06"]["reason"]
    assert "accepted on 70, 8002, 40000" in drifted["CWH-CWA-05"]["reason"]
    assert "Server: Microsoft-IIS/10.0" in drifted["CWH-CWA-09"]["reason"]
    # The lab's IIS leaks its address only in the redirect for /aspnet_client, as IIS does:
    # only the guide's own probe path finds it.
    assert "internal address in Location/Content-Location: 10.20.31.22" in \
        drifted["CWH-CWA-09"]["reason"]
    probes = [e for e in drifted["CWH-CWA-09"]["evidence"] if "aspnet_client" in e["source"]]
    assert probes and "10.20.31.22" in probes[0]["observed"], drifted["CWH-CWA-09"]["evidence"]
    assert "TLSv1: accepted" in drifted["CWH-CWA-11"]["reason"]
    assert "reachable only because a profile in force lets every port in" in \
        drifted["CWH-CWA-01"]["reason"]


def test_one_winrm_command_per_automate_host(lab):
    for host in ("lab-cwa-hardened", "lab-cwa-drifted", "lab-combined"):
        actions = [r["action"] for r in lab.lab_requests() if r["endpoint"] == host]
        assert actions.count("Command") == 1 and actions.count("Send") == 1, actions


def test_markers_select_each_product(tmp_path):
    inventory = write_inventory(tmp_path, {"h": lab_host("automate-hardened",
                                                         cwh_remote_access_via_control=True)})
    run = run_audit(tmp_path, inventory, "-m", "automate and not screenconnect")
    assert {r["control_id"] for r in run.results} == AUTOMATE_ONLY
    assert {r["status"] for r in run.results} == {"NotAFinding"}, run.output[-2000:]


def test_a_declaration_adds_a_product_and_never_hides_a_detected_one(tmp_path):
    """A ScreenConnect server declared as an Automate server: ScreenConnect's controls are still
    judged (the host shows it; a declaration adds products, never removes one) and say the
    declaration disagrees; Automate's are judged and say the product was not found."""
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened",
                                                         cwh_products=["automate"])})
    run = run_audit(tmp_path, inventory, "-m", "stig")
    results = run.by_control("h")
    for control in SCREENCONNECT_ONLY:
        assert results[control]["status"] == "NotAFinding", results[control]
        assert "cwh_products declares [automate], but ConnectWise ScreenConnect detected" in \
            results[control]["reason"], results[control]
    assert results["CWH-SC-02"]["status"] == "NotAFinding"  # the CVE check is judged
    for control in AUTOMATE_ONLY:  # judged (no MySQL there is no exposed MySQL), and noted
        assert "cwh_products declares automate, but ConnectWise Automate not detected" in \
            results[control]["reason"], results[control]
    assert results["CWH-CWA-02"]["status"] == "Open"  # no Solution Center on 8484
    assert results["CWH-GPO-01"]["status"] == "NotAFinding"


def test_the_automate_images_answer_the_stig_as_the_images_they_extend(lab):
    """automate-hardened and combined extend hardened, automate-drifted extends drifted: the
    Windows Server STIG is the same on an Automate server, so the same verdicts hold (the
    exemptions of cwh/lab/expectations.py included)."""
    for host, base in (("lab-cwa-hardened", "hardened"), ("lab-combined", "hardened"),
                       ("lab-cwa-drifted", "drifted")):
        rules = [r for r in lab.by_control(host).values() if r["record_type"] == "stig_rule"]
        assert len(rules) > 250, host
        assert not [r for r in rules if r["error"]], host
        exempt = exempted(base)
        wrong = "Open" if base == "hardened" else "NotAFinding"
        unexpected = sorted(r["control_id"] for r in rules
                            if r["status"] == wrong and r["control_id"] not in exempt)
        assert unexpected == [], (host, unexpected)
