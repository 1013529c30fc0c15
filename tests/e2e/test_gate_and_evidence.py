"""The CI gate and the audit evidence, through real runs against the lab: exit codes, waivers,
attestations, and every output format agreeing with results.json."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
import yaml
from defusedxml import ElementTree

from cwh.catalog.model import load_catalog
from tests.e2e.audit_run import lab_host, run_audit, write_inventory

# -m stig on WinRM hosts: every control but the exposure audit (CWH-EXT-*)
CONTROLS = sum(c.handler != "external" for c in load_catalog().controls)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
XSD = SHARED / "schemas" / "U_Checklist_Schema_V2.xsd"
STIG_DIR = SHARED / "stig"
CKL_STATUS = {"NotAFinding", "Open", "Not_Applicable", "Not_Reviewed"}
CKLB_STATUS = {"not_a_finding": "NotAFinding", "open": "Open", "not_applicable": "Not_Applicable",
               "not_reviewed": "Not_Reviewed"}

# One finding only: hardened, but AutoPlay for all drives back at the Windows default (CAT I).
ONE_FINDING = ("extends: hardened\nregistry:\n"
               "  HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Policies\\Explorer:\n"
               "    NoDriveTypeAutoRun: {type: DWord, value: 145}\n")
# A CAT III finding only: HTTP.sys Server header not disabled.
LOW_FINDING = ("extends: hardened\nregistry:\n"
               "  HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters:\n"
               "    DisableServerHeader: null\n")


def image(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / f"{name}.yml"
    path.write_text(text)
    return str(path)


def waivers(tmp_path: Path, *entries: dict) -> Path:
    path = tmp_path / "waivers.yml"
    path.write_text(yaml.safe_dump({"waivers": list(entries)}))
    return path


# A year from now, whatever today is: a waiver runs 3 years at most.
WAIVER = {"id": "W-7", "control": "CWH-GPO-04", "hosts": ["sc-*"],
          "justification": "kiosk media player needs AutoRun until the rebuild",
          "approver": "J. Smith (ISSO)", "ticket": "CHG-1234",
          "expires": (dt.date.today() + dt.timedelta(days=365)).isoformat()}


# --- exit codes -------------------------------------------------------------------------------

def test_all_pass_exits_zero_with_manual_controls_awaiting_review(tmp_path):
    run = run_audit(tmp_path, write_inventory(tmp_path, {"h": lab_host("hardened")}),
                    "-m", "guide")
    assert run.exit_code == 0, run.output
    assert "awaiting review (manual): CWH-ACCT-02 on h" in run.stdout


def test_findings_exit_one_and_below_fail_on_threshold_exit_zero(tmp_path):
    inventory = write_inventory(tmp_path, {
        "h": lab_host(image(tmp_path, "low", LOW_FINDING))})
    run = run_audit(tmp_path, inventory, "-m", "guide")
    assert run.exit_code == 1, run.output
    assert [r["control_id"] for r in run.results if r["status"] == "Open"] == ["CWH-STIG-08"]
    for threshold, expected in (("cat3", 1), ("cat2", 0), ("cat1", 0)):
        assert run_audit(tmp_path, inventory, "-m", "guide", f"--fail-on={threshold}") \
            .exit_code == expected, threshold


# --- waivers ----------------------------------------------------------------------------------

def test_valid_waiver_keeps_status_open_and_passes_the_gate(tmp_path):
    inventory = write_inventory(tmp_path, {
        "sc-01": lab_host(image(tmp_path, "one", ONE_FINDING))})
    run = run_audit(tmp_path, inventory, "-m", "guide",
                    f"--waivers={waivers(tmp_path, WAIVER)}")
    assert run.exit_code == 0, run.output
    record = run.by_control("sc-01")["CWH-GPO-04"]
    assert record["status"] == "Open"
    assert record["waiver"]["id"] == "W-7" and record["waiver"]["expired"] is False
    ckl = (run.report_dir / "sc-01.ckl").read_text()
    assert "J. Smith (ISSO)" in ckl and "CHG-1234" in ckl
    junit = ElementTree.parse(run.report_dir / "junit.xml").getroot()
    [case] = [c for c in junit.iter("testcase") if c.get("name").startswith("CWH-GPO-04 ")]
    assert case.get("classname") == "sc-01"
    assert case.find("skipped").get("message").startswith("Open (waived by W-7, active); ")


def test_expired_waiver_counts_again_and_says_so(tmp_path):
    inventory = write_inventory(tmp_path, {
        "sc-01": lab_host(image(tmp_path, "one", ONE_FINDING))})
    expired = {**WAIVER, "expires": (dt.date.today() - dt.timedelta(days=1)).isoformat()}
    run = run_audit(tmp_path, inventory, "-m", "guide", f"--waivers={waivers(tmp_path, expired)}")
    assert run.exit_code == 1, run.output
    record = run.by_control("sc-01")["CWH-GPO-04"]
    assert record["waiver"]["expired"] is True
    assert "waiver W-7 expired on" in run.stdout
    assert any(line.strip() == "open: CWH-GPO-04" for line in run.stdout.splitlines()), \
        run.stdout


@pytest.mark.parametrize("change, message", [
    ({"control": "CWH-GPO-99"}, "unknown control ID CWH-GPO-99"),
    ({"approver": ""}, "'approver' is required"),
    ({"justification": None}, "'justification' is required"),
    ({"expires": "next tuesday"}, "expires must be a date"),
    ({"expires": "2026-13-45"}, "expires must be a date"),
    ({"expires": "9999-12-31"}, "expires 9999-12-31 is more than 3 years away"),  # M1
    ({"expires": 0}, "expires must be a date"),
])
def test_bad_waiver_file_stops_before_connecting(tmp_path, change, message):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    path = waivers(tmp_path, {**WAIVER, **change})
    run = run_audit(tmp_path, inventory, "-m", "guide", f"--waivers={path}")
    assert run.exit_code == 4, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and message in errors[0] and str(path) in errors[0], run.output
    assert not (run.report_dir / "lab-requests.jsonl").exists()


def test_attestation_answers_a_manual_control(tmp_path):
    assessed = (dt.date.today() - dt.timedelta(days=30)).isoformat()  # within its year
    attested = {"CWH-ACCT-02": {"status": "NotAFinding", "by": "A. Assessor",
                                "date": assessed, "note": "AppLocker denies browsers"}}
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened",
                                                         cwh_attestations=attested)})
    run = run_audit(tmp_path, inventory, "-m", "accounts")
    assert run.exit_code == 0, run.output
    record = run.by_control("h")["CWH-ACCT-02"]
    assert record["status"] == "NotAFinding"
    assert any("A. Assessor" in e["observed"] for e in record["evidence"])


# --- every output agrees with results.json ----------------------------------------------------

@pytest.fixture(scope="module")
def evidence_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("evidence")
    inventory = write_inventory(tmp_path, {
        "lab-hardened": lab_host("hardened"),
        "lab-drifted": lab_host("drifted", transport="basic"),
    })
    args = ["-m", "guide"]
    if STIG_DIR.is_dir():
        args.append(f"--stig-xccdf={STIG_DIR}")
    return run_audit(tmp_path, inventory, *args)


def _ckl_guide_statuses(path: Path) -> dict[str, tuple[str, str]]:
    root = ElementTree.parse(path).getroot()
    found = {}
    for istig in root.iter("iSTIG"):
        stig_id = next(si.findtext("SID_DATA") for si in istig.iter("SI_DATA")
                       if si.findtext("SID_NAME") == "stigid")
        if stig_id != "ConnectWise_ScreenConnect_Hardening":
            continue
        for vuln in istig.iter("VULN"):
            data = {sd.findtext("VULN_ATTRIBUTE"): sd.findtext("ATTRIBUTE_DATA")
                    for sd in vuln.iter("STIG_DATA")}
            found[data["Vuln_Num"]] = (vuln.findtext("STATUS"), vuln.findtext("FINDING_DETAILS"))
    return found


def test_every_ckl_validates_against_the_official_schema(evidence_run):
    if not XSD.exists():
        pytest.skip("the STIG Viewer checklist XSD is read in place from ../shared/schemas, "
                    "which is not part of the repository")
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(XSD)))
    for host in ("lab-hardened", "lab-drifted"):
        document = etree.parse(str(evidence_run.report_dir / f"{host}.ckl"))
        assert schema.validate(document), schema.error_log


def test_ckl_reads_back_with_each_controls_status_and_details(evidence_run):
    for host in ("lab-hardened", "lab-drifted"):
        guide = _ckl_guide_statuses(evidence_run.report_dir / f"{host}.ckl")
        for control, record in evidence_run.by_control(host).items():
            status, details = guide[control]
            assert status == record["status"], (host, control)
            assert record["observed"][:40] in details or status == "Not_Reviewed", control


def test_all_formats_agree_with_results_json(evidence_run):
    expected = {(r["host"], r["control_id"]): r["status"] for r in evidence_run.results}
    assert len(expected) == 2 * CONTROLS
    for host in ("lab-hardened", "lab-drifted"):
        guide = _ckl_guide_statuses(evidence_run.report_dir / f"{host}.ckl")
        assert {c: s for c, (s, _) in guide.items()} == \
            {c: s for (h, c), s in expected.items() if h == host}
        cklb = json.loads((evidence_run.report_dir / f"{host}.cklb").read_text())
        rules = next(s for s in cklb["stigs"]
                     if s["stig_id"] == "ConnectWise_ScreenConnect_Hardening")["rules"]
        assert {r["group_id"]: CKLB_STATUS[r["status"]] for r in rules} == \
            {c: s for (h, c), s in expected.items() if h == host}
    hdf_status = {"passed": "NotAFinding", "failed": "Open"}
    for host in ("lab-hardened", "lab-drifted"):
        hdf = json.loads((evidence_run.report_dir / "hdf" / f"{host}.json").read_text())
        guide_profile = hdf["profiles"][0]
        assert guide_profile["name"] == "ConnectWise_ScreenConnect_Hardening"
        assert len(guide_profile["controls"]) == CONTROLS
        for control in guide_profile["controls"]:
            [result] = control["results"]
            assert result["resource_id"] == host
            status = expected[(host, control["id"])]
            if result["status"] in hdf_status:
                assert hdf_status[result["status"]] == status, (host, control["id"])
            else:
                assert status in ("Not_Applicable", "Not_Reviewed"), (host, control["id"])
            assert (control["impact"] == 0) == (status == "Not_Applicable"), control["id"]
    junit = ElementTree.parse(evidence_run.report_dir / "junit.xml").getroot()
    seen = {}
    for case in junit.iter("testcase"):
        control = case.get("name").split(" ", 1)[0]
        outcome = next((c for c in case if c.tag in ("failure", "skipped", "error")), None)
        seen[(case.get("classname"), control)] = \
            "NotAFinding" if outcome is None else outcome.get("message").split(";")[0].split()[0]
    assert seen == expected


def test_manifest_hashes_every_artifact(evidence_run):
    manifest = json.loads((evidence_run.report_dir / "manifest.json").read_text())
    listed = {entry["path"]: entry["sha256"] for entry in manifest["artifacts"]}
    for name in ("report.html", "results.json", "results.hdf.json", "junit.xml",
                 "hdf/lab-hardened.json", "hdf/lab-drifted.json", "lab-hardened.ckl",
                 "lab-hardened.cklb", "lab-drifted.ckl", "lab-drifted.cklb"):
        data = (evidence_run.report_dir / name).read_bytes()
        assert listed[name] == hashlib.sha256(data).hexdigest(), name
