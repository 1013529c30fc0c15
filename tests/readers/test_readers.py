"""The reports, read by the real readers, say per host what results.json says.

One audit of four lab hosts (hardened; drifted with a waiver; drifted without SMB1, so a control
is Not_Applicable; and one whose collector output is damaged, so every control is an error) is
read by:

- MITRE Heimdall Lite (its static build served on loopback, in headless Chromium via Playwright):
  the status cards and the compliance score of each host's HDF, and of the fleet file;
- MITRE SAF CLI: `view summary`, `validate threshold`, `convert hdf2ckl` and `convert ckl2hdf`;
- STIG Manager's own parser (stig-manager-client-modules) on every .ckl and .cklb, under STIG
  Manager's default field settings and the strictest ones;
- pytest's xunit2 schema (junit-10.xsd, from pytest's source distribution) on junit.xml.

The expected counts are computed here from results.json alone, with the checklist rules (a
STIG rule's status is the worst of its controls': Open > Not_Reviewed > NotAFinding >
Not_Applicable) written out again rather than imported from the code under test.

Install the readers with `bash scripts/setup-readers.sh` (CI's .ci/run does). Without them the
tests skip and say what is missing; with CWH_READERS_REQUIRED=1 (set by .ci/run) they fail
instead, so CI can never pass without having run them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml

from cwh.catalog.stig_rules import committed_releases
from cwh.catalog.xccdf import load_benchmark
from tests.e2e.audit_run import REPO, lab_host, run_audit, write_inventory
from tests.evidence.evidence_helpers import cci_list_xml

NODE_MODULES = REPO / "node_modules"
READERS_JS = Path(__file__).with_name("readers.mjs")
HEIMDALL_DIST = NODE_MODULES / "@mitre" / "heimdall-lite" / "dist"
SAF = NODE_MODULES / ".bin" / "saf"
STIG_MANAGER = NODE_MODULES / "@nuwcdivnpt" / "stig-manager-client-modules"
PLAYWRIGHT = NODE_MODULES / "playwright-core"
CHROMIUM = Path(os.environ.get("CWH_CHROMIUM", "/usr/bin/chromium"))
JUNIT_XSD = Path(os.environ.get("CWH_JUNIT_XSD", REPO / ".readers" / "junit-10.xsd"))
STIG_DIR = REPO.parent / "shared" / "stig"
GUIDE = "ConnectWise_ScreenConnect_Hardening"
INSTALL = "install the readers with `bash scripts/setup-readers.sh`"

PRECEDENCE = ("Open", "Not_Reviewed", "NotAFinding", "Not_Applicable")  # worst first
HEIMDALL = {"Open": "Failed", "NotAFinding": "Passed", "Not_Applicable": "Not Applicable",
            "Not_Reviewed": "Not Reviewed"}
SAF_KEYS = {"Passed": "passed", "Failed": "failed", "Not Reviewed": "skipped",
            "Not Applicable": "no_impact", "Profile Error": "error"}
STIG_MANAGER_RESULT = {"NotAFinding": "pass", "Open": "fail", "Not_Applicable": "notapplicable"}
SUBMITTABLE = ("pass", "fail", "notapplicable")
# STIG Manager's collection defaults (detail always required, a comment for findings) and the
# strictest settings; import options that replace or invent nothing.
FIELD_SETTINGS = {
    "default": {"detail": {"enabled": "always", "required": "always"},
                "comment": {"enabled": "findings", "required": "findings"}},
    "strict": {"detail": {"enabled": "always", "required": "always"},
               "comment": {"enabled": "always", "required": "always"}},
}
IMPORT_OPTIONS = {"autoStatus": "submitted", "unreviewed": "commented",
                  "unreviewedCommented": "informational", "emptyDetail": "ignore",
                  "emptyComment": "ignore", "allowCustom": True}

NO_SMB1 = "extends: drifted\nfeatures:\n  FS-SMB1: Available\n"
WAIVER = {"id": "W-42", "control": "CWH-GPO-04", "hosts": ["lab-drifted"],
          "justification": "kiosk media player needs AutoRun until the rebuild",
          "approver": "J. Smith (ISSO)", "ticket": "CHG-42",  # a waiver runs 3 years at most
          "expires": (dt.date.today() + dt.timedelta(days=365)).isoformat()}
# A CCI list in DISA's format made here (not DISA's), so the readers also see tags.nist.
CCI_LIST = {"CCI-000366": [("NIST SP 800-53 Revision 4", "4", "CM-6 b")],
            "CCI-001774": [("NIST SP 800-53 Revision 5", "5", "CM-7 (5) (b)")]}


# --- what is installed ----------------------------------------------------------------------------

def _missing(what: str) -> None:
    message = f"{what}; {INSTALL}"
    if os.environ.get("CWH_READERS_REQUIRED") == "1":
        pytest.fail(f"CWH_READERS_REQUIRED=1 but {message}", pytrace=False)
    pytest.skip(message)


def need_node(*packages: Path) -> None:
    if shutil.which("node") is None:
        _missing("node (Node.js) is not installed")
    for package in packages:
        if not package.exists():
            _missing(f"{package.relative_to(REPO)} is absent (npm ci installs it)")


def need_chromium() -> None:
    need_node(PLAYWRIGHT, HEIMDALL_DIST)
    if not CHROMIUM.exists():
        _missing(f"Chromium is not installed at {CHROMIUM} (Debian package chromium)")


# Module-scoped, and named before `audit` in each test, so a missing reader skips the test before
# the audit runs.
@pytest.fixture(scope="module")
def heimdall() -> None:
    need_chromium()


@pytest.fixture(scope="module")
def saf_cli() -> None:
    need_node(SAF)


@pytest.fixture(scope="module")
def stig_manager() -> None:
    need_node(STIG_MANAGER)


@pytest.fixture(scope="module")
def junit_schema() -> Any:
    from lxml import etree

    if not JUNIT_XSD.exists():
        _missing(f"{JUNIT_XSD} is absent (pytest ships junit-10.xsd in its sdist only)")
    return etree.XMLSchema(etree.parse(str(JUNIT_XSD)))


# --- the audit and what results.json says -------------------------------------------------------

@dataclass
class Audit:
    report_dir: Path
    work: Path
    document: dict[str, Any]
    exit_code: int
    output: str

    @property
    def results(self) -> list[dict[str, Any]]:
        return self.document["results"]

    @property
    def hosts(self) -> list[str]:
        return sorted({r["host"] for r in self.results})

    def records(self, host: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r["host"] == host]

    def hdf(self, host: str) -> Path:
        return self.report_dir / "hdf" / f"{host}.json"

    def host_name(self, host: str) -> str:
        """The name a checklist gives the host: its own computer name, else the inventory's."""
        return (self.document["hosts"].get(host) or {}).get("hostname") or host

    @cached_property
    def benchmarks(self) -> dict[str, Any]:
        """The benchmark files the run was given, by benchmark id."""
        if not STIG_DIR.is_dir():
            return {}
        return {b.benchmark_id: b for b in map(load_benchmark, sorted(STIG_DIR.glob("*.xml")))}


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Audit:
    tmp = tmp_path_factory.mktemp("readers")
    (tmp / "no-smb1.yml").write_text(NO_SMB1)
    (tmp / "waivers.yml").write_text(yaml.safe_dump({"waivers": [WAIVER]}))
    (tmp / "U_CCI_List.xml").write_text(cci_list_xml(CCI_LIST), encoding="utf-8")
    inventory = write_inventory(tmp, {
        "lab-hardened": lab_host("hardened"),
        "lab-drifted": lab_host("drifted", transport="basic"),
        "sc-no-smb1": lab_host(str(tmp / "no-smb1.yml")),
        "sc-damaged": lab_host("hardened", cwh_lab_fault="invalid_json"),
    })
    args = ["-n", "2", f"--waivers={tmp / 'waivers.yml'}", f"--cci-list={tmp / 'U_CCI_List.xml'}"]
    if STIG_DIR.is_dir():
        args.append(f"--stig-xccdf={STIG_DIR}")
    run = run_audit(tmp, inventory, *args)
    assert run.exit_code == 6, run.output  # findings and a host whose facts were unusable
    work = tmp / "work"
    work.mkdir()
    result = Audit(run.report_dir, work, run.document, run.exit_code, run.output)
    assert result.hosts == ["lab-drifted", "lab-hardened", "sc-damaged", "sc-no-smb1"]
    statuses = Counter(r["status"] for r in result.results)
    assert statuses["Not_Applicable"] and statuses["Open"] and statuses["NotAFinding"]
    assert all(r["error"] for r in result.records("sc-damaged"))
    return result


def heimdall_status(records: list[dict[str, Any]]) -> str:
    """How Heimdall shows one host's control (several records: a STIG rule several controls
    check), from results.json: the worst status; an error when that is an unfinished check."""
    worst = next(s for s in PRECEDENCE if s in {r["status"] for r in records})
    if worst == "Not_Reviewed" and any(r["status"] == "Not_Reviewed" and r["error"]
                                       for r in records):
        return "Profile Error"
    return HEIMDALL[worst]


def rules(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """{(benchmark, vuln_id): the records checking that STIG rule}."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        for ref in {(r["benchmark"], r["vuln_id"]) for r in record["stig_refs"]}:
            found.setdefault(ref, []).append(record)
    return found


def counted_through(records: list[dict[str, Any]]) -> set[str]:
    """Guide controls every same-check STIG rule of which was judged on the host: the reports
    count them through those rules (each check once), so the HDF shows them inside them."""
    judged = {r["control_id"] for r in records if r["record_type"] == "stig_rule"}
    return {r["control_id"] for r in records if r["record_type"] == "guide_control"
            and r["same_check"] and set(r["same_check"]) <= judged}


def guide_records(audit: Audit, host: str, in_hdf: bool = True) -> list[dict[str, Any]]:
    """The host's guide controls: all of them (a checklist shows each), or those the HDF's guide
    profile holds."""
    records = audit.records(host)
    through = counted_through(records) if in_hdf else set()
    return [r for r in records if r["record_type"] == "guide_control"
            and r["control_id"] not in through]


def guide_counts(audit: Audit, host: str, in_hdf: bool = True) -> Counter:
    return Counter(heimdall_status([r]) for r in guide_records(audit, host, in_hdf))


def rule_counts(audit: Audit, host: str, benchmark: str | None = None) -> Counter:
    return Counter(heimdall_status(recs) for (bid, _), recs in rules(audit.records(host)).items()
                   if benchmark in (None, bid))


def rule_total(audit: Audit, benchmark_id: str) -> int:
    """How many rules a benchmark's iSTIG holds: the file's, else the committed rule data's."""
    if benchmark_id in audit.benchmarks:
        return len(audit.benchmarks[benchmark_id].rules)
    return len(committed_releases()[benchmark_id].rules)


def compliance(counts: Counter) -> float:
    """Heimdall's and the SAF CLI's score: passed / (passed + failed + not reviewed + errors)."""
    scored = sum(counts[s] for s in ("Passed", "Failed", "Not Reviewed", "Profile Error"))
    return 100 * counts["Passed"] / scored if scored else 0.0


def guide_revision(audit: Audit) -> str:
    """The guide's STIG Manager revision from the catalog version YYYY.MM.N: VYYYYMMRN."""
    year, month, number = audit.document["run"]["catalog_version"].split(".")
    return f"V{year}{int(month):02d}R{number}"


# --- running the readers --------------------------------------------------------------------------

def node(audit: Audit, *args: str, timeout: float = 300) -> Any:
    completed = subprocess.run(["node", str(READERS_JS), *args], cwd=audit.work,
                               capture_output=True, text=True, timeout=timeout)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout)


def saf(audit: Audit, *args: str) -> subprocess.CompletedProcess:
    # cwd: the SAF CLI writes saf-cli.log into the current directory
    return subprocess.run([str(SAF), *args], cwd=audit.work, capture_output=True, text=True,
                          timeout=180)


def saf_summary(audit: Audit, hdf: Path) -> dict[str, Any]:
    out = audit.work / f"{hdf.name}.summary.json"
    done = saf(audit, "view", "summary", "-i", str(hdf), "-f", "json", "--no-stdout",
               "-o", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    [summary] = json.loads(out.read_text())
    return summary


def parallel(function: Any, items: list[Any]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(function, items))


# --- Heimdall Lite ------------------------------------------------------------------------------

def test_heimdall_shows_each_hosts_own_counts(heimdall: None, audit: Audit) -> None:
    shots = audit.work / "heimdall"
    shots.mkdir()
    files = [audit.hdf(host) for host in audit.hosts] + [audit.report_dir / "results.hdf.json"]
    shown = node(audit, "heimdall", str(HEIMDALL_DIST), str(shots), *map(str, files))
    assert shown["blocked"] == [] or all("127.0.0.1" not in u for u in shown["blocked"])
    fleet: Counter = Counter()
    for host in audit.hosts:
        expected = guide_counts(audit, host) + rule_counts(audit, host)
        fleet += expected
        seen = shown["files"][str(audit.hdf(host))]
        assert seen["counts"] == {s: expected[s] for s in seen["counts"]}, host
        assert seen["total"] == sum(expected.values()), host
        assert seen["compliance"] == pytest.approx(compliance(expected), abs=0.01), host
    seen = shown["files"][str(files[-1])]
    assert seen["counts"] == {s: fleet[s] for s in seen["counts"]}
    assert seen["total"] == sum(fleet.values())


# --- SAF CLI ------------------------------------------------------------------------------------

def test_saf_view_summary_per_host(saf_cli: None, audit: Audit) -> None:
    """saf reads a file's first profile: the guide, every result of the host once."""
    for host, summary in zip(audit.hosts, parallel(lambda h: saf_summary(audit, audit.hdf(h)),
                                                   audit.hosts), strict=True):
        expected = guide_counts(audit, host)
        assert summary["profileName"] == GUIDE
        assert {key: summary[key]["total"] for key in SAF_KEYS.values()} == \
            {key: expected[status] for status, key in SAF_KEYS.items()}, host
        assert summary["compliance"] == round(compliance(expected)), host


def test_saf_validate_threshold_gates_each_host(saf_cli: None, audit: Audit) -> None:

    def gate(case: tuple[str, int]) -> subprocess.CompletedProcess:
        """Exact totals from results.json (each status equal), `more` passes than there are."""
        host, more = case
        counts = guide_counts(audit, host)
        threshold = {key: {"total": counts[status]} for status, key in SAF_KEYS.items()}
        threshold["passed"]["total"] += more
        path = audit.work / f"{host}.{more}.threshold.yml"
        path.write_text(yaml.safe_dump(threshold))
        return saf(audit, "validate", "threshold", "-i", str(audit.hdf(host)), "-T", str(path))

    cases = [(host, 0) for host in audit.hosts] + [("lab-hardened", 1)]
    *exact, off = parallel(gate, cases)
    for (host, _), done in zip(cases, exact, strict=False):
        assert done.returncode == 0, (host, done.stdout + done.stderr)
        assert "All validation tests passed" in done.stdout
    assert off.returncode != 0 and "Threshold not met" in off.stdout + off.stderr


def _stig_manager(audit: Audit, files: list[Path], settings: str) -> dict[str, Any]:
    path = audit.work / f"stig-manager-{settings}.json"
    path.write_text(json.dumps({"fieldSettings": FIELD_SETTINGS[settings], "allowAccept": False,
                                "importOptions": IMPORT_OPTIONS}))
    return node(audit, "stigman", str(path), *map(str, files))


def test_saf_hdf2ckl_makes_checklists_stig_manager_reads_as_results_json(
        saf_cli: None, stig_manager: None, audit: Audit) -> None:

    def convert(host: str) -> Path:
        out = audit.work / f"{host}.hdf2ckl.ckl"
        done = saf(audit, "convert", "hdf2ckl", "-i", str(audit.hdf(host)), "-o", str(out))
        assert done.returncode == 0 and out.exists(), done.stdout + done.stderr
        return out

    made = dict(zip(audit.hosts, parallel(convert, audit.hosts), strict=True))
    parsed = _stig_manager(audit, list(made.values()), "default")
    for host, path in made.items():
        checklist = parsed[str(path)]
        assert checklist["target"]["name"] == audit.host_name(host)
        hdf = json.loads(audit.hdf(host).read_text())
        by_id = {c["benchmarkId"]: c for c in checklist["checklists"]}
        assert list(by_id) == [p["name"] for p in hdf["profiles"]]
        assert by_id[GUIDE]["revisionStr"] == guide_revision(audit)
        for bid, found in by_id.items():
            if bid in audit.benchmarks:
                assert found["revisionStr"] == audit.benchmarks[bid].short_version, bid
        reviews = {r["ruleId"]: r["result"] for r in by_id[GUIDE]["reviews"]}
        for record in guide_records(audit, host):
            expected = STIG_MANAGER_RESULT.get(record["status"])
            if expected:
                assert reviews[f"{record['control_id']}_rule"] == expected, record["control_id"]
            else:  # Heimdall's CKL export leaves unfinished and unreviewed checks Not_Reviewed
                assert reviews.get(f"{record['control_id']}_rule") not in SUBMITTABLE


def test_saf_ckl2hdf_reads_our_checklists_as_results_json(saf_cli: None, audit: Audit) -> None:

    def convert(host: str) -> tuple[dict[str, Any], dict[str, Any]]:
        out = audit.work / f"{host}.ckl2hdf.json"
        done = saf(audit, "convert", "ckl2hdf", "-i", str(audit.report_dir / f"{host}.ckl"),
                   "-o", str(out))
        assert done.returncode == 0 and out.exists(), done.stdout + done.stderr
        return json.loads(out.read_text()), saf_summary(audit, out)

    for host, (hdf, summary) in zip(audit.hosts, parallel(convert, audit.hosts), strict=True):
        profiles = {p["name"]: p for p in hdf["profiles"]}
        guide = {c["id"]: c for c in profiles[GUIDE]["controls"]}
        for record in guide_records(audit, host, in_hdf=False):
            control = guide[record["control_id"]]
            [result] = control["results"]
            want = {"NotAFinding": "passed", "Open": "failed"}.get(record["status"], "skipped")
            assert result["status"] == want, (host, record["control_id"])
            assert (control["impact"] == 0) == (record["status"] == "Not_Applicable")
        # The SAF CLI summarises the first profile: with several iSTIGs, ckl2hdf's "Parent
        # Profile" holding them all. Each benchmark iSTIG has every rule of its file: ours with
        # the status results.json gives, the others Not_Reviewed; a CKL knows no errors.
        assert summary["profileName"] == hdf["profiles"][0]["name"]
        expected = Counter()
        for name in profiles.keys() - {"Parent Profile"}:
            counts = guide_counts(audit, host, in_hdf=False) if name == GUIDE else \
                rule_counts(audit, host, name)
            counts["Not Reviewed"] += counts.pop("Profile Error", 0)
            if name != GUIDE:
                counts["Not Reviewed"] += rule_total(audit, name) - sum(counts.values())
            expected += counts
        assert {key: summary[key]["total"] for key in SAF_KEYS.values()} == \
            {key: expected[status] for status, key in SAF_KEYS.items()}, host


# --- STIG Manager -------------------------------------------------------------------------------

@pytest.mark.parametrize("settings", sorted(FIELD_SETTINGS))
def test_stig_manager_imports_every_checklist_as_results_json(stig_manager: None, audit: Audit,
                                                             settings: str) -> None:
    files = sorted(audit.report_dir.glob("*.ckl")) + sorted(audit.report_dir.glob("*.cklb"))
    parsed = _stig_manager(audit, files, settings)
    seen = Counter()
    for path in files:
        checklist = parsed[str(path)]
        assert checklist["errors"] == [], path.name
        host = path.stem  # two hosts of one image share a computer name: the file tells them apart
        assert checklist["target"]["name"] == audit.host_name(host), path.name
        seen[host] += 1
        records = audit.records(host)
        referenced = {bid for bid, _ in rules(records)}
        judged = {r["benchmark"] for r in records if r["record_type"] == "stig_rule"
                  and r["benchmark"]}
        by_id = {c["benchmarkId"]: c for c in checklist["checklists"]}
        assert set(by_id) == {GUIDE} | (referenced & set(audit.benchmarks)) | judged, path.name
        assert by_id[GUIDE]["revisionStr"] == guide_revision(audit)
        reviews = {r["ruleId"]: r for r in by_id[GUIDE]["reviews"]}
        for record in guide_records(audit, host, in_hdf=False):
            review = reviews[f"{record['control_id']}_rule"]
            expected = STIG_MANAGER_RESULT.get(record["status"])
            if expected is None:  # assessed, not reviewed: kept as a commented review
                assert review["result"] == "informational", (path.name, record["control_id"])
                continue
            assert review["result"] == expected, (path.name, record["control_id"])
        for bid in set(by_id) - {GUIDE}:
            assert by_id[bid]["revisionStr"] == audit.benchmarks[bid].short_version
            results = Counter(r["result"] for r in by_id[bid]["reviews"])
            expected = rule_counts(audit, host, bid)
            assert {k: results[k] for k in SUBMITTABLE} == {
                "pass": expected["Passed"], "fail": expected["Failed"],
                "notapplicable": expected["Not Applicable"]}, (path.name, bid)
        for found in by_id.values():
            for review in found["reviews"]:
                if review["result"] in SUBMITTABLE:
                    assert review["detail"] and review["comment"], (path.name, review)
                    assert review["status"] == "submitted", (path.name, settings, review)
    assert seen == {host: 2 for host in audit.hosts}  # a .ckl and a .cklb each


# --- JUnit: pytest's own xunit2 schema -----------------------------------------------------------

def test_junit_is_valid_xunit2_and_names_host_and_control(junit_schema: Any,
                                                          audit: Audit) -> None:
    from lxml import etree

    schema = junit_schema
    junit = etree.parse(str(audit.report_dir / "junit.xml"))
    assert schema.validate(junit), str(schema.error_log)
    cases = {(c.get("classname"), c.get("name").split(" ", 1)[0]): c
             for c in junit.iter("testcase")}
    assert set(cases) == {(r["host"], r["control_id"]) for r in audit.results}
    suite = junit.getroot().find("testsuite")
    assert int(suite.get("tests")) == len(audit.results)
    for record in audit.results:
        case = cases[(record["host"], record["control_id"])]
        assert case.get("name") == f"{record['control_id']} {record['title']}"
        outcome = [c for c in case if c.tag in ("failure", "skipped", "error")]
        if record["status"] == "NotAFinding":
            assert not outcome
            continue
        message = outcome[0].get("message")
        assert message.startswith(record["status"]), message
        assert not re.search(r"\.py:\d+", message + (outcome[0].text or ""))
        if record["waiver"] and not record["waiver"]["expired"]:
            assert outcome[0].get("type") == "pytest.xfail" and "waived by W-42" in message
