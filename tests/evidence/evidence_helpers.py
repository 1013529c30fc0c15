"""Builders for the evidence exporter tests: result records made by hand (shaped like
cwh.report.record.build_record's), two hosts' worth of them covering every status, waivers, an
error and hostile text, plus readers that parse the rendered files back."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from cwh.catalog.model import BENCHMARK_OS, SEVERITIES, Catalog, load_catalog
from cwh.catalog.xccdf import Benchmark, load_benchmark
from cwh.report.asset import Asset, asset_from
from cwh.report.cci import CciList, load_cci_list
from cwh.report.checklist import IStig
from cwh.report.host_checklist import build_checklists

CATALOG: Catalog = load_catalog()
SHARED = Path(__file__).resolve().parents[3] / "shared"
XSD_PATH = SHARED / "schemas" / "U_Checklist_Schema_V2.xsd"
STIG_DIR = SHARED / "stig"
BENCHMARK_FILES = {
    "MS_Windows_Server_2022_STIG": "U_MS_Windows_Server_2022_STIG_V1R3_Manual-xccdf.xml",
    "Windows_Server_2019_STIG": "U_MS_Windows_Server_2019_STIG_V3R1_Manual-xccdf.xml",
    "IIS_10-0_Server_STIG": "U_MS_IIS_10-0_Server_STIG_V3R3_Manual-xccdf.xml",
}
SUITE_VERSION = "0.9.0 (test)"
CATALOG_VERSION = CATALOG.version

# The attributes STIG Viewer 2.17 writes per VULN, in its order (evidence-formats.md 1.2).
STIG_DATA_ORDER = [
    "Vuln_Num", "Severity", "Group_Title", "Rule_ID", "Rule_Ver", "Rule_Title", "Vuln_Discuss",
    "IA_Controls", "Check_Content", "Fix_Text", "False_Positives", "False_Negatives",
    "Documentable", "Mitigations", "Potential_Impact", "Third_Party_Tools", "Mitigation_Control",
    "Responsibility", "Security_Override_Guidance", "Check_Content_Ref", "Weight", "Class",
    "STIGRef", "TargetKey", "STIG_UUID",
]
SID_NAMES = {"classification", "customname", "description", "filename", "notice", "releaseinfo",
             "source", "stigid", "title", "uuid", "version"}

# Hostile text a host can return: markup, a CDATA terminator, C0 controls XML 1.0 forbids, a
# lone surrogate, non-characters, non-ASCII and characters outside the BMP.
HOSTILE = ("<script>alert('x')</script> ]]> & \"quoted\" \x00NUL \x1b[31mESC\x07 \x0b\x0c "
           "\ud800 \ufffe Zürich Ñandú 東京 \U0001f512 end")
HOSTILE_NAME = "Ådministratör-東京"
HUGE = "A" * 60_000 + "\U0001f512" * 10_000  # beyond 32767 UTF-16 units several times over

HOST_2022 = "sc-hardened"
HOST_2019 = "sc-legacy"
CHECKED_AT = "2026-11-27T10:15:00+00:00"


def skip_without_shared(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is read in place from ../shared and is not part of the "
                        "repository; it is absent here")


def evidence(location: str, observed: str, expected: str = "", raw: str = "",
             source: str = "registry (64-bit view), over WinRM") -> dict[str, str]:
    return {"source": source, "location": location, "observed": observed,
            "expected": expected, "raw": raw}


def make_record(host: str, control_id: str, status: str, os_version: str, **overrides: Any) \
        -> dict[str, Any]:
    """A result record as build_record makes it, from the catalog entry and what we say."""
    control = CATALOG[control_id]
    refs = control.refs_for(os_version)
    severity = control.severity_for(os_version)
    record = {
        "host": host,
        "record_type": "guide_control",
        "control_id": control.id,
        "title": control.title,
        "area": control.area,
        "status": status,
        "severity": severity,
        "cat": SEVERITIES[severity],
        "stig_ids": [r.stig_id for r in refs],
        "vuln_ids": [r.vuln_id for r in refs],
        "stig_refs": [{"benchmark": r.benchmark, "vuln_id": r.vuln_id, "stig_id": r.stig_id}
                      for r in refs],
        "os_version": os_version,
        "os": f"Microsoft Windows Server {os_version} Standard (build 1)",
        "expected": "1",
        "observed": "DWord 1" if status == "NotAFinding" else "DWord 0",
        "reason": f"{control_id} judged {status}",
        "requirement": "STIG and guide: 1",
        "evidence": [evidence(f"HKLM\\SOFTWARE\\Test\\{control_id}",
                              "DWord 1" if status == "NotAFinding" else "DWord 0", "1")],
        "error": False,
        "manual": control.manual,
        "source": control.source,
        "guide_section": control.guide_section,
        "fix": control.fix,
        "same_check": [r.stig_id for r in refs if r.benchmark in BENCHMARK_OS],
        "waiver": None,
        "nodeid": f"tests_controls/test_x.py::test_control[{host}-{control_id}]",
        "duration": 0.0123,
        "checked_at": CHECKED_AT,
    }
    unknown = set(overrides) - set(record)
    assert not unknown, f"not a record key: {unknown}"
    record.update(overrides)
    return record


def waiver(expired: bool = False) -> dict[str, Any]:
    return {"id": "W-2026-014", "justification": "Legacy backup agent needs it <until> Q3",
            "approver": "J. Smith (ISSO)", "ticket": "CHG-1234",
            "expires": "2026-01-31" if expired else "2027-03-31", "expired": expired}


def records_2022() -> list[dict[str, Any]]:
    """The 2022 host: every status, two waivers, an error, hostile text, four controls on IIS
    V-218821 (Open wins) and CWH-STIG-04 on two rules."""
    h, v = HOST_2022, "2022"
    return [
        make_record(h, "CWH-GPO-01", "NotAFinding", v),
        make_record(h, "CWH-GPO-02", "Open", v, waiver=waiver()),
        make_record(h, "CWH-GPO-03", "Open", v, waiver=waiver(expired=True)),
        make_record(h, "CWH-GPO-04", "Not_Reviewed", v, error=True, observed="",
                    reason=f"registry read failed: {HOSTILE}", evidence=[]),
        make_record(h, "CWH-GPO-05", "Open", v, observed=HOSTILE,
                    evidence=[evidence("secedit [Privilege Rights] SeTcbPrivilege",
                                       f"*S-1-5-32-544 ({HOSTILE_NAME})", "no one",
                                       raw=f"SeTcbPrivilege = {HOSTILE}\r\nline2")]),
        make_record(h, "CWH-PWD-01", "NotAFinding", v, observed="14"),
        make_record(h, "CWH-STIG-04", "NotAFinding", v),
        make_record(h, "CWH-STIG-05", "Not_Applicable", v,
                    reason="the SMB 1.0 feature (FS-SMB1) is not installed"),
        make_record(h, "CWH-ACCT-01", "Not_Reviewed", v, observed=f"Administrators: "
                    f"{HOSTILE_NAME}, Administrator", reason="no approved admins declared"),
        make_record(h, "CWH-ACCT-02", "NotAFinding", v, evidence=[evidence(
            "inventory", "NotAFinding attested by A. Assessor on 2026-11-01",
            source="assessor attestation (inventory cwh_attestations)",
            raw="no browsers on admin desktops")]),
        make_record(h, "CWH-TLS-01", "Open", v),
        make_record(h, "CWH-TLS-02", "NotAFinding", v),
        make_record(h, "CWH-STIG-07", "NotAFinding", v),
        make_record(h, "CWH-TLS-03", "Not_Reviewed", v, error=True,
                    reason="TLS probe: connection reset"),
        make_record(h, "CWH-STIG-08", "Not_Applicable", v, reason="HTTP.sys not used"),
        make_record(h, "CWH-NET-01", "NotAFinding", v),
        make_record(h, "CWH-WEB-01", "Not_Applicable", v, reason="IIS is not installed"),
        make_record(h, "CWH-SC-02", "Open", v, observed=HUGE,
                    evidence=[evidence("file version", "22.1", "23.9.8", raw=HUGE)]),
    ]


def records_2019() -> list[dict[str, Any]]:
    """The 2019 host: V-218821 from NotAFinding, Not_Applicable and a non-error Not_Reviewed
    (Not_Reviewed wins); V-241788 only Not_Applicable."""
    h, v = HOST_2019, "2019"
    return [
        make_record(h, "CWH-GPO-01", "Open", v),
        make_record(h, "CWH-PWD-02", "Not_Reviewed", v, error=True, reason="secedit failed"),
        make_record(h, "CWH-STIG-04", "Open", v),
        make_record(h, "CWH-STIG-05", "Not_Applicable", v),
        make_record(h, "CWH-ACCT-01", "NotAFinding", v),
        make_record(h, "CWH-TLS-01", "NotAFinding", v),
        make_record(h, "CWH-TLS-02", "NotAFinding", v),
        make_record(h, "CWH-STIG-07", "Not_Applicable", v),
        make_record(h, "CWH-TLS-03", "Not_Reviewed", v, reason="client cannot speak TLS 1.0"),
        make_record(h, "CWH-STIG-08", "Not_Applicable", v),
        make_record(h, "CWH-SC-01", "NotAFinding", v),
    ]


ASSET_FACTS = {
    HOST_2022: {"hostname": "SC-HARDENED", "fqdn": "sc-hardened", "domain_role": 2,
                "part_of_domain": False, "domain": "WORKGROUP",
                "ip_addresses": ["192.0.2.10", "fe80::1%12", "127.0.0.1", "2001:db8::10", "bogus"],
                "mac_addresses": ["00-15-5D-00-00-01", "not-a-mac"],
                "os": "Microsoft Windows Server 2022 Standard", "os_version": "2022"},
    HOST_2019: {"hostname": HOSTILE_NAME, "fqdn": "sc01.corp.example", "domain_role": 3,
                "part_of_domain": True, "domain": "corp.example",
                "ip_addresses": ["198.51.100.7"], "mac_addresses": ["00:15:5d:00:00:02"],
                "os": "Microsoft Windows Server 2019 Datacenter", "os_version": "2019"},
}


@cache
def benchmarks() -> dict[str, Benchmark]:
    """The DISA benchmarks the tests use, parsed once per process (skips without ../shared)."""
    skip_without_shared(*(STIG_DIR / name for name in BENCHMARK_FILES.values()))
    loaded = [load_benchmark(STIG_DIR / name) for name in BENCHMARK_FILES.values()]
    return {b.benchmark_id: b for b in loaded}


def checklists(host: str, records: list[dict], bench: dict[str, Benchmark]) \
        -> tuple[Asset, list[IStig]]:
    asset = asset_from(host, ASSET_FACTS.get(host))
    return asset, build_checklists(host, asset, records, CATALOG, bench,
                                   suite_version=SUITE_VERSION, catalog_version=CATALOG_VERSION)


# --- reading CKL back -------------------------------------------------------------------------

def parse_ckl(data: bytes) -> Any:
    from lxml import etree

    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))


def ckl_vulns(root: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """{stigid: {Vuln_Num: {"status", "details", "comments", "attributes": [(name, value)]}}}"""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for istig in root.iter("iSTIG"):
        info = {si.findtext("SID_NAME"): si.findtext("SID_DATA") or ""
                for si in istig.find("STIG_INFO")}
        vulns = found.setdefault(info["stigid"], {})
        for vuln in istig.iter("VULN"):
            attributes = [(sd.findtext("VULN_ATTRIBUTE"), sd.findtext("ATTRIBUTE_DATA") or "")
                          for sd in vuln.iter("STIG_DATA")]
            vuln_num = dict(attributes)["Vuln_Num"]
            assert vuln_num not in vulns, f"{vuln_num} twice in {info['stigid']}"
            vulns[vuln_num] = {"status": vuln.findtext("STATUS"),
                               "details": vuln.findtext("FINDING_DETAILS") or "",
                               "comments": vuln.findtext("COMMENTS") or "",
                               "attributes": attributes}
    return found


def cklb_rules(cklb: dict) -> dict[str, dict[str, dict[str, Any]]]:
    return {stig["stig_id"]: {rule["group_id"]: rule for rule in stig["rules"]}
            for stig in cklb["stigs"]}


def hdf_results(hdf: dict) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """{(profile name, control id, host): [results]} with each control's impact in the result."""
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for profile in hdf["profiles"]:
        for control in profile["controls"]:
            for result in control["results"]:
                key = (profile["name"], control["id"], result["resource_id"])
                found.setdefault(key, []).append({**result, "impact": control["impact"]})
    return found


def by_key(records: Iterable[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["host"], r["control_id"]): r for r in records}


# --- a CCI list in DISA's format (U_CCI_List.xml), made by the test -----------------------------

def cci_list_xml(items: dict[str, list[tuple[str, str, str]]], version: str = "2026-01-01") -> str:
    """{CCI: [(reference title, version, index)]} as DISA's CCI list lays it out."""
    from xml.sax.saxutils import quoteattr

    body = "".join(
        f'<cci_item id={quoteattr(cci)}><status>draft</status><definition>test</definition>'
        "<type>technical</type><references>"
        + "".join(f'<reference creator="NIST" title={quoteattr(t)} version={quoteattr(v)} '
                  f'location="test" index={quoteattr(i)} />' for t, v, i in refs)
        + "</references></cci_item>" for cci, refs in items.items())
    return ('<?xml version="1.0" encoding="utf-8"?>\n<cci_list xmlns="http://iase.disa.mil/cci">'
            f"<metadata><version>{version}</version><publishdate>{version}</publishdate>"
            f"</metadata><cci_items>{body}</cci_items></cci_list>\n")


def cci_list(tmp_path: Path, items: dict[str, list[tuple[str, str, str]]]) -> CciList:
    path = tmp_path / "U_CCI_List.xml"
    path.write_text(cci_list_xml(items), encoding="utf-8")
    return load_cci_list(path)
