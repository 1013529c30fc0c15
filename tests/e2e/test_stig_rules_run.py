"""Every rule of the host's Windows Server STIG is a test of the audit run, through the public
interface (`pytest tests_controls` against lab hosts): named host::STIG_ID, selected by markers,
judged in the same one round trip per host, recorded, and carried by every checklist.

These tests assert the plumbing: the frame judge_rule decides (manual rules,
organization-defined values, roles), structure (ids, markers, records, checklists), and exit
codes; the verdicts of each check kind are the kind families' own tests (tests/stig).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from defusedxml import ElementTree

from cwh.catalog.stig_rules import committed_releases
from tests.e2e.audit_run import AuditRun, lab_host, run_audit, write_inventory
from tests.stig.harness import LAB_INPUTS

RELEASES = committed_releases()
HARDENED = RELEASES["MS_Windows_Server_2022_STIG"]  # the hardened image is Server 2022
DRIFTED = RELEASES["Windows_Server_2019_STIG"]  # drifted is Server 2019
STIG_DIR = Path(__file__).resolve().parents[3] / "shared" / "stig"
XCCDF_2019 = STIG_DIR / "U_MS_Windows_Server_2019_STIG_V3R1_Manual-xccdf.xml"
# The organization-defined values the lab's organization declares, but the Backup Operators
# list, left out so that a rule waits for it.
INPUTS = {**LAB_INPUTS, "cwh_backup_operators": None}
RULE_KEYS = ("control_id", "vuln_id", "rule_id", "kind", "severity", "benchmark", "release",
             "expected", "observed", "evidence", "reason", "same_check", "record_type")


def _hosts() -> dict[str, dict]:
    return {"lab-hardened": lab_host("hardened"),
            "lab-drifted": lab_host("drifted", transport="basic"),
            "lab-broken": lab_host("hardened", cwh_lab_fault="invalid_json")}


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> AuditRun:
    tmp = tmp_path_factory.mktemp("stig-run")
    return run_audit(tmp, write_inventory(tmp, _hosts(), INPUTS), "-m", "stig")


def _param(nodeid: str) -> str:
    return nodeid[nodeid.index("[") + 1:-1]


def _rules(run: AuditRun, host: str) -> dict[str, dict]:
    return {r["control_id"]: r for r in run.results
            if r["host"] == host and r["record_type"] == "stig_rule"}


def test_every_rule_of_the_hosts_own_release_is_a_test_named_host_and_stig_id(full):
    assert full.exit_code == 6, full.output[-3000:]  # unjudged kinds and the broken host
    for host, release in (("lab-hardened", HARDENED), ("lab-drifted", DRIFTED)):
        rules = _rules(full, host)
        assert set(rules) == {r.stig_id for r in release.rules}, host
        for stig_id, record in rules.items():
            assert _param(record["nodeid"]) == f"{host}::{stig_id}"
            assert record["nodeid"].startswith("tests_controls/test_stig_rules.py::")
    assert full.document["run"]["selected"] == len(full.results)
    assert full.document["run"]["not_evaluated"] == 0


def test_a_host_without_facts_has_one_stig_test_not_reviewed_with_its_error(full):
    broken = _rules(full, "lab-broken")
    assert list(broken) == ["WINDOWS-SERVER-STIG"]
    record = broken["WINDOWS-SERVER-STIG"]
    assert record["status"] == "Not_Reviewed" and record["error"] is True
    assert "lab-broken" in record["reason"] and "no benchmark" in record["reason"]
    assert f"ERROR {full.document['host_errors']['lab-broken']}"[:60] in full.stdout


def test_one_winrm_command_per_host_for_the_whole_profile(full):
    actions = Counter((r["endpoint"], r["action"]) for r in full.lab_requests())
    for host in ("lab-hardened", "lab-drifted"):
        assert actions[(host, "Command")] == 1
        assert sum(n for (h, _), n in actions.items() if h == host) <= 8


def test_rule_records_carry_identifiers_kind_and_evidence(full):
    rules = _rules(full, "lab-drifted")
    by_stig = {r.stig_id: r for r in DRIFTED.rules}
    for stig_id, record in rules.items():
        rule = by_stig[stig_id]
        for key in RULE_KEYS:
            assert key in record, (stig_id, key)
        assert (record["vuln_id"], record["rule_id"], record["kind"], record["severity"]) == \
            (rule.vuln_id, rule.rule_id, rule.kind, rule.severity)
        assert (record["benchmark"], record["release"]) == ("Windows_Server_2019_STIG", "V3R1")
        assert record["stig_refs"] == [{"benchmark": rule.benchmark_id, "vuln_id": rule.vuln_id,
                                        "stig_id": stig_id}]
        assert record["status"] != "NotAFinding" or (record["observed"] and record["evidence"])


def test_the_judged_frame_manual_roles_and_inputs(full):
    """What judge_rule decides without a kind's judge: manual rules await review, rules of
    another role are Not_Applicable by the host's detected role, a rule needing an
    organization-defined value the inventory does not give is Not_Reviewed naming it."""
    for host, release in (("lab-hardened", HARDENED), ("lab-drifted", DRIFTED)):
        rules = _rules(full, host)
        for rule in release.rules:
            record = rules[rule.stig_id]
            if "standalone" not in rule.roles:  # the lab images are workgroup servers
                assert record["status"] == "Not_Applicable", record
                assert "standalone" in record["reason"]
            elif rule.manual and not rule.not_applicable_if:
                assert record["status"] == "Not_Reviewed" and not record["error"], record
                assert record["reason"].startswith("manual:")
            elif "cwh_backup_operators" in rule.inputs:  # required, left out of INPUTS
                assert record["status"] in ("Not_Reviewed", "Not_Applicable"), record
            if record["status"] == "Not_Reviewed" and record["error"]:
                assert record["reason"], record  # never a silent error


def test_guide_control_and_stig_rule_are_cross_referenced_and_counted_once(full):
    records = {r["control_id"]: r for r in full.results if r["host"] == "lab-drifted"}
    assert records["CWH-GPO-01"]["same_check"] == ["WN19-SO-000230"]
    assert records["WN19-SO-000230"]["same_check"] == ["CWH-GPO-01"]
    line = next(ln for ln in full.stdout.splitlines() if ln.startswith("lab-drifted "))
    counts = dict((s, int(n)) for n, s in re.findall(r"(\d+) (NotAFinding|Open|Not_Applicable|"
                                                    r"Not_Reviewed)", line))
    through = [r for r in records.values() if r["record_type"] == "guide_control"
               and r["same_check"] and all(s in records for s in r["same_check"])]
    assert through, "no guide control is the same check as a rule of this run"
    assert sum(counts.values()) == len(records) - len(through), line
    assert f"{len(through)} of the guide's counted with the STIG rule" in line


def _vulns(path: Path, benchmark_id: str) -> dict[str, dict]:
    root = ElementTree.parse(path).getroot()
    for istig in root.iter("iSTIG"):
        info = {si.findtext("SID_NAME"): si.findtext("SID_DATA") for si in istig.iter("SI_DATA")}
        if info.get("stigid") != benchmark_id:
            continue
        found = {}
        for vuln in istig.iter("VULN"):
            data = {d.findtext("VULN_ATTRIBUTE"): d.findtext("ATTRIBUTE_DATA")
                    for d in vuln.iter("STIG_DATA")}
            found[data["Rule_Ver"]] = {"status": vuln.findtext("STATUS"), **data,
                                       "details": vuln.findtext("FINDING_DETAILS") or ""}
        return found
    raise AssertionError(f"{path.name} has no iSTIG {benchmark_id}")


def test_checklists_carry_every_rule_with_the_suites_verdict_without_the_xccdf(full):
    precedence = ("Open", "Not_Reviewed", "NotAFinding", "Not_Applicable")
    for host, release in (("lab-hardened", HARDENED), ("lab-drifted", DRIFTED)):
        vulns = _vulns(full.report_dir / f"{host}.ckl", release.benchmark_id)
        assert set(vulns) == {r.stig_id for r in release.rules}
        mine = [r for r in full.results if r["host"] == host]
        for rule in release.rules:
            records = [r for r in mine if {"vuln_id": rule.vuln_id, "stig_id": rule.stig_id,
                                           "benchmark": rule.benchmark_id} in r["stig_refs"]]
            worst = next(s for s in precedence if s in {r["status"] for r in records})
            vuln = vulns[rule.stig_id]
            assert vuln["status"] == worst, (host, rule.stig_id)
            assert (vuln["Vuln_Num"], vuln["Rule_ID"], vuln["Severity"]) == \
                (rule.vuln_id, rule.rule_id, rule.severity)
            assert "not part of cwh" in vuln["Vuln_Discuss"]  # DISA's prose is never made up
        cklb = json.loads((full.report_dir / f"{host}.cklb").read_text())
        [stig] = [s for s in cklb["stigs"] if s["stig_id"] == release.benchmark_id]
        assert stig["size"] == len(release.rules) and stig["version"] == release.version
        hdf = json.loads((full.report_dir / "hdf" / f"{host}.json").read_text())
        [profile] = [p for p in hdf["profiles"] if p["name"] == release.benchmark_id]
        assert {c["tags"]["stig_id"] for c in profile["controls"]} == \
            {r.stig_id for r in release.rules}
        assert profile["version"] == f"{release.version}.{release.release}.0"
    details = _vulns(full.report_dir / "lab-drifted.ckl", DRIFTED.benchmark_id)
    assert "CWH-GPO-01" in details["WN19-SO-000230"]["details"]  # the guide's finding is there


def test_markers_select_kinds_and_k_selects_ids_without_writing_reports(tmp_path):
    inventory = write_inventory(tmp_path, _hosts(), INPUTS)
    run = run_audit(tmp_path, inventory, "-m", "stig_rule and audit_policy", "--collect-only",
                    "-q")
    assert run.exit_code == 0, run.output[-3000:]
    listed = {_param(line) for line in run.stdout.splitlines() if "::test_" in line}
    want = {f"{h}::{r.stig_id}" for h, rel in (("lab-hardened", HARDENED),
                                              ("lab-drifted", DRIFTED))
            for r in rel.rules if r.kind == "audit_policy"}
    assert listed == want | {"lab-broken::WINDOWS-SERVER-STIG"}
    assert not run.report_dir.exists() or not any(run.report_dir.iterdir())
    # -k narrows the tests, --limit the hosts (a host -k leaves without a test is not audited)
    run = run_audit(tmp_path, inventory, "--limit", "lab-drifted", "-k",
                    "lab-drifted::WN19-SO-000230 or lab-drifted and CWH-GPO-01", "-q")
    assert {r["control_id"]: r["status"] for r in run.results} == {
        "WN19-SO-000230": "Open", "CWH-GPO-01": "Open"}  # the same check, the same verdict
    assert run.exit_code == 1, run.output[-3000:]


def test_under_xdist_every_rule_is_judged_and_each_host_gathered_once(tmp_path):
    hosts = {k: v for k, v in _hosts().items() if k != "lab-broken"}
    run = run_audit(tmp_path, write_inventory(tmp_path, hosts, INPUTS), "-m", "stig", "-n", "2")
    assert run.exit_code == 1, run.output[-3000:]  # drifted's findings, every rule evaluated
    assert not [r for r in run.results if r["error"]]
    assert len(_rules(run, "lab-hardened")) == len(HARDENED.rules)
    assert len(_rules(run, "lab-drifted")) == len(DRIFTED.rules)
    assert run.document["run"]["selected"] == len(run.results)
    commands = Counter(r["endpoint"] for r in run.lab_requests() if r["action"] == "Command")
    assert commands == {"lab-hardened": 1, "lab-drifted": 1}


def _derived_xccdf(tmp_path: Path, release: str) -> Path:
    """The 2019 benchmark with only its release number changed (never committed)."""
    if not XCCDF_2019.exists():
        pytest.skip(f"{XCCDF_2019} is absent (../shared/stig)")
    text = XCCDF_2019.read_text(encoding="utf-8")
    changed = re.sub(r"Release: 1 Benchmark Date", f"Release: {release} Benchmark Date", text)
    assert changed != text
    path = tmp_path / f"U_MS_Windows_Server_2019_STIG_V3R{release}_Manual-xccdf.xml"
    path.write_text(changed, encoding="utf-8")
    return path


def test_a_newer_release_given_as_xccdf_is_converted_at_run_time_and_used(tmp_path):
    derived = _derived_xccdf(tmp_path, "9")
    hosts = {"lab-drifted": lab_host("drifted", transport="basic")}
    run = run_audit(tmp_path, write_inventory(tmp_path, hosts, INPUTS), "-m", "stig_rule",
                    f"--stig-xccdf={derived}")
    assert run.exit_code == 1, run.output[-3000:]  # drifted's findings, judged by V3R9
    line = next(ln for ln in run.stdout.splitlines() if "converted at run time" in ln)
    assert line.startswith("Windows_Server_2019_STIG V3R9 converted at run time from ")
    assert re.search(r"member servers: \d+ of \d+ rules automated \(\d+\.\d%\)", line)
    assert re.search(r", \d+ manual$", line)
    rules = _rules(run, "lab-drifted")
    assert {r["release"] for r in rules.values()} == {"V3R9"}
    assert set(rules) == {r.stig_id for r in DRIFTED.rules}
    # With the XCCDF given, the checklist has DISA's own titles.
    vulns = _vulns(run.report_dir / "lab-drifted.ckl", "Windows_Server_2019_STIG")
    assert "not part of cwh" not in vulns["WN19-SO-000230"]["Vuln_Discuss"]


def test_a_windows_server_xccdf_that_cannot_be_converted_is_one_line_exit_4(tmp_path):
    derived = _derived_xccdf(tmp_path, "8")
    text = derived.read_text(encoding="utf-8")
    emptied = re.sub(r"<Group .*</Group>", "", text, flags=re.S)  # no rules left
    derived.write_text(emptied, encoding="utf-8")
    hosts = {"lab-drifted": lab_host("drifted", transport="basic")}
    run = run_audit(tmp_path, write_inventory(tmp_path, hosts, INPUTS), "-m", "stig_rule",
                    f"--stig-xccdf={derived}")
    assert run.exit_code == 4, run.output[-3000:]
    errors = [ln for ln in run.output.splitlines() if ln.startswith("ERROR")]
    assert len(errors) == 1 and str(derived) in errors[0] and "no rules" in errors[0]
    assert "Traceback" not in run.output
    assert not (run.report_dir / "lab-requests.jsonl").exists()  # nothing contacted
