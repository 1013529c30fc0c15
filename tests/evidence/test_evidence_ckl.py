"""CKL export: valid against the DISA XSD, in STIG Viewer 2.17's order, readable back with every
status, finding detail and comment where an assessor expects it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cwh.report.asset import Asset
from cwh.report.checklist import GUIDE_BENCHMARK_ID, SEPARATOR, IStig
from cwh.report.ckl import render_ckl
from cwh.report.xml_text import clean, utf16_len
from tests.evidence.evidence_helpers import (
    HOST_2019,
    HOST_2022,
    HOSTILE_NAME,
    SID_NAMES,
    STIG_DATA_ORDER,
    XSD_PATH,
    benchmarks,
    by_key,
    checklists,
    ckl_vulns,
    make_record,
    parse_ckl,
    records_2019,
    records_2022,
    skip_without_shared,
)

ASSET_ORDER = ["ROLE", "ASSET_TYPE", "MARKING", "HOST_NAME", "HOST_IP", "HOST_MAC", "HOST_GUID",
               "HOST_FQDN", "TARGET_COMMENT", "TECH_AREA", "TARGET_KEY", "STIG_GUID",
               "WEB_OR_DATABASE", "WEB_DB_SITE", "WEB_DB_INSTANCE"]
VULN_TAIL = ["STATUS", "FINDING_DETAILS", "COMMENTS", "SEVERITY_OVERRIDE", "SEVERITY_JUSTIFICATION"]
RELEASE_INFO = re.compile(r"^Release: \d+ Benchmark Date: \d{2} [A-Z][a-z]{2} \d{4}$")


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[Asset, list[IStig], bytes]]:
    """Each host's CKL with the real benchmarks, and the 2022 host's guide-only CKL."""
    out = {}
    for name, host, records, bench in (
            ("2022", HOST_2022, records_2022(), benchmarks()),
            ("2019", HOST_2019, records_2019(), benchmarks()),
            ("guide-only", HOST_2022, records_2022(), {})):
        asset, istigs = checklists(host, records, bench)
        out[name] = (asset, istigs, render_ckl(asset, istigs))
    return out


@pytest.fixture(scope="module")
def schema() -> Any:
    from lxml import etree

    skip_without_shared(XSD_PATH)
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


@pytest.fixture(scope="module")
def vulns(rendered: dict) -> dict[str, dict[str, dict[str, dict[str, Any]]]]:
    return {name: ckl_vulns(parse_ckl(data)) for name, (_, _, data) in rendered.items()}


@pytest.mark.parametrize("name", ["2022", "2019", "guide-only"])
def test_ckl_is_valid_against_the_xsd(rendered: dict, schema: Any, name: str) -> None:
    root = parse_ckl(rendered[name][2])
    assert schema.validate(root), str(schema.error_log)


def test_the_xsd_check_can_fail(schema: Any) -> None:
    bad = b"<CHECKLIST><ASSET><ASSET_TYPE>Computing</ASSET_TYPE><ROLE>None</ROLE></ASSET>" \
          b"<STIGS/></CHECKLIST>"
    assert not schema.validate(parse_ckl(bad))


@pytest.mark.parametrize("name", ["2022", "2019", "guide-only"])
def test_declaration_encoding_and_asset(rendered: dict, name: str) -> None:
    asset, _, data = rendered[name]
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    data.decode("utf-8")
    root = parse_ckl(data)
    assert [c.tag for c in root] == ["ASSET", "STIGS"]
    tags = [c.tag for c in root.find("ASSET")]
    assert tags == [t for t in ASSET_ORDER if t in tags]
    assert {"ROLE", "ASSET_TYPE", "HOST_NAME", "HOST_IP", "HOST_MAC", "HOST_FQDN", "TECH_AREA",
            "TARGET_KEY", "WEB_OR_DATABASE", "WEB_DB_SITE", "WEB_DB_INSTANCE"} <= set(tags)
    host_name = root.findtext("ASSET/HOST_NAME")
    assert host_name and host_name == asset.host_name and len(host_name) <= 255
    assert root.findtext("ASSET/ROLE") == "Member Server"


def test_asset_carries_only_valid_addresses(rendered: dict) -> None:
    root = parse_ckl(rendered["2022"][2])
    assert root.findtext("ASSET/HOST_IP") == "192.0.2.10"  # one: Heimdall 2.11 takes no list
    assert "other addresses 2001:db8::10" in root.findtext("ASSET/TARGET_COMMENT")
    assert root.findtext("ASSET/HOST_MAC") == "00:15:5D:00:00:01"
    assert root.findtext("ASSET/HOST_FQDN") == ""  # "sc-hardened" is no FQDN
    legacy = parse_ckl(rendered["2019"][2])
    assert legacy.findtext("ASSET/HOST_NAME") == HOSTILE_NAME  # non-ASCII survives
    assert legacy.findtext("ASSET/HOST_FQDN") == "sc01.corp.example"


@pytest.mark.parametrize("name", ["2022", "2019", "guide-only"])
def test_stig_info_has_all_eleven_names_and_a_parsable_release(rendered: dict, name: str) -> None:
    root = parse_ckl(rendered[name][2])
    for istig in root.iter("iSTIG"):
        names = [si.findtext("SID_NAME") for si in istig.find("STIG_INFO")]
        assert sorted(names) == sorted(SID_NAMES)
        info = {si.findtext("SID_NAME"): si.find("SID_DATA") for si in istig.find("STIG_INFO")}
        assert RELEASE_INFO.match(info["releaseinfo"].text), info["releaseinfo"].text
        assert info["stigid"].text and info["version"].text and info["uuid"].text
        for element in info.values():  # an empty SID has no SID_DATA, as STIG Viewer writes it
            assert element is None or element.text


@pytest.mark.parametrize("name", ["2022", "2019", "guide-only"])
def test_every_vuln_has_stig_viewers_attribute_order(rendered: dict, name: str) -> None:
    root = parse_ckl(rendered[name][2])
    count = 0
    for vuln in root.iter("VULN"):
        names = [sd.findtext("VULN_ATTRIBUTE") for sd in vuln.iter("STIG_DATA")]
        legacy = names.count("LEGACY_ID")
        cci = names.count("CCI_REF")
        assert names == STIG_DATA_ORDER + ["LEGACY_ID"] * legacy + ["CCI_REF"] * cci
        assert legacy >= 1
        assert [c.tag for c in vuln][len(names):] == VULN_TAIL
        data = {sd.findtext("VULN_ATTRIBUTE"): sd.findtext("ATTRIBUTE_DATA") for sd in
                vuln.iter("STIG_DATA")}
        assert data["Vuln_Num"] and data["Rule_ID"] and data["Rule_Ver"] and data["Rule_Title"]
        assert data["Rule_ID"].endswith("_rule") and len(data["Rule_ID"]) <= 45
        assert data["Severity"] in ("high", "medium", "low")
        assert vuln.findtext("STATUS") in ("NotAFinding", "Open", "Not_Applicable",
                                           "Not_Reviewed")
        count += 1
    assert count


def test_one_stig_data_per_cci_and_legacy_id(vulns: dict) -> None:
    rule = benchmarks()["MS_Windows_Server_2022_STIG"].rules
    many = next(v for v in rule.values() if len(v.ccis) > 1)
    attributes = vulns["2022"]["MS_Windows_Server_2022_STIG"][many.vuln_id]["attributes"]
    assert [v for n, v in attributes if n == "CCI_REF"] == list(many.ccis)
    legacy = next(v for v in benchmarks()["IIS_10-0_Server_STIG"].rules.values()
                  if len(v.legacy_ids) > 1)
    attributes = vulns["2022"]["IIS_10-0_Server_STIG"][legacy.vuln_id]["attributes"]
    assert [v for n, v in attributes if n == "LEGACY_ID"] == list(legacy.legacy_ids)


# --- content with the real 2022 benchmark ------------------------------------------------------

def test_windows_istig_has_every_rule_with_its_text(vulns: dict) -> None:
    windows = vulns["2022"]["MS_Windows_Server_2022_STIG"]
    bench = benchmarks()["MS_Windows_Server_2022_STIG"]
    assert len(windows) == len(bench.rules) == 273
    assert list(windows) == list(bench.rules)
    data = dict(windows["V-254467"]["attributes"])
    rule = bench.rules["V-254467"]
    assert data["Rule_ID"] == rule.rule_id and data["Rule_Ver"] == "WN22-SO-000230"
    assert data["Check_Content"] == rule.check_content and data["Fix_Text"] == rule.fix_text
    assert data["Group_Title"] == rule.group_title and data["TargetKey"] == rule.target_key
    assert data["STIGRef"] == ("Microsoft Windows Server 2022 Security Technical Implementation "
                               "Guide :: Version 1, Release: 3 Benchmark Date: 07 Jun 2023")


def test_evaluated_rules_carry_our_status_the_rest_not_reviewed(vulns: dict) -> None:
    windows = vulns["2022"]["MS_Windows_Server_2022_STIG"]
    expected = {}
    for record in records_2022():
        for ref in record["stig_refs"]:
            if ref["benchmark"] == "MS_Windows_Server_2022_STIG":
                expected[ref["vuln_id"]] = record["status"]
    assert expected["V-254467"] == "NotAFinding" and expected["V-254277"] == "Not_Applicable"
    for vuln_id, vuln in windows.items():
        if vuln_id in expected:
            assert vuln["status"] == expected[vuln_id], vuln_id
            assert vuln["details"].startswith(f"Result: {expected[vuln_id]}")
        else:
            assert vuln["status"] == "Not_Reviewed", vuln_id
            assert vuln["details"] == "" and vuln["comments"] == ""
    assert len(expected) == sum(bool(v["details"]) for v in windows.values()) == 11


def test_iis_rule_combines_four_controls_open_wins(vulns: dict) -> None:
    vuln = vulns["2022"]["IIS_10-0_Server_STIG"]["V-218821"]
    assert vuln["status"] == "Open"
    details = vuln["details"]
    for control in ("CWH-TLS-01", "CWH-TLS-02", "CWH-STIG-07", "CWH-TLS-03"):
        assert f"\n  {control}: " in details, control
        assert f"\n{control}: " in details  # each control's own evidence block
    assert "Open > Not_Reviewed > NotAFinding > Not_Applicable" in details
    assert "CWH-TLS-03: Not_Reviewed (the check could not be completed)" in details


def test_iis_rule_not_reviewed_beats_not_a_finding(vulns: dict) -> None:
    iis = vulns["2019"]["IIS_10-0_Server_STIG"]
    assert iis["V-218821"]["status"] == "Not_Reviewed"  # NotAFinding x2, N/A, Not_Reviewed
    assert iis["V-241788"]["status"] == "Not_Applicable"  # its only control is N/A
    assert len(iis) == 44


def test_2019_host_uses_the_2019_rules(vulns: dict) -> None:
    windows = vulns["2019"]["Windows_Server_2019_STIG"]
    assert windows["V-205682"]["status"] == windows["V-205683"]["status"] == "Open"
    assert windows["V-205652"]["status"] == "Not_Reviewed"
    assert "the check could not be completed" in windows["V-205652"]["details"]
    assert "MS_Windows_Server_2022_STIG" not in vulns["2019"]


# --- the guide's checklist ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["2022", "guide-only"])
def test_guide_vulns_carry_each_controls_status_and_evidence(vulns: dict, name: str) -> None:
    guide = vulns[name][GUIDE_BENCHMARK_ID]
    records = by_key(records_2022())
    assert set(guide) == {cid for _, cid in records}
    for (host, cid), record in records.items():
        vuln = guide[cid]
        assert vuln["status"] == record["status"], cid
        data = dict(vuln["attributes"])
        assert data["Rule_ID"] == f"{cid}_rule" and data["Rule_Ver"] == cid
        assert data["Rule_Title"] == record["title"] and data["Severity"] == record["severity"]
        assert data["Fix_Text"] == record["fix"]
        assert data["Check_Content"].startswith("Automated check (cwh handler ")
        assert "Source: " in data["Vuln_Discuss"]
        details = vuln["details"]
        assert f"Status: {record['status']}" in details
        assert f"Checked: {record['checked_at']} on {host}" in details
        assert "Host OS: Microsoft Windows Server 2022 Standard" in details
        if record["evidence"] and record["control_id"] != "CWH-SC-02":
            assert f"Reason: {record['reason'][:20]}" in details
            assert f"  1. {record['evidence'][0]['source']}" in details


def test_guide_names_the_stig_rules_and_guide_section(vulns: dict) -> None:
    data = dict(vulns["2022"][GUIDE_BENCHMARK_ID]["CWH-GPO-01"]["attributes"])
    assert "Restrict Network Access" in data["Vuln_Discuss"]
    assert "V-254467 WN22-SO-000230" in data["Vuln_Discuss"]
    assert "RestrictAnonymous equals 1" in data["Check_Content"]
    assert dict(vulns["2022"][GUIDE_BENCHMARK_ID]["CWH-GPO-01"]["attributes"])["CCI_REF"]
    stig_only = dict(vulns["2022"][GUIDE_BENCHMARK_ID]["CWH-STIG-04"]["attributes"])
    assert stig_only["Vuln_Discuss"].startswith("Source: DISA STIG: V-254275")


def test_waivers_and_attestations_go_to_comments(vulns: dict) -> None:
    guide = vulns["2022"][GUIDE_BENCHMARK_ID]
    active = guide["CWH-GPO-02"]
    assert active["status"] == "Open"
    for text in ("W-2026-014", "Legacy backup agent needs it <until> Q3", "J. Smith (ISSO)",
                 "CHG-1234", "2027-03-31 (active)", "status stays Open"):
        assert text in active["comments"], text
    expired = guide["CWH-GPO-03"]
    assert expired["status"] == "Open" and "EXPIRED" in expired["comments"]
    assert "NotAFinding attested by A. Assessor" in guide["CWH-ACCT-02"]["comments"]
    assert "manual control" in guide["CWH-ACCT-01"]["comments"]
    windows = vulns["2022"]["MS_Windows_Server_2022_STIG"]
    assert "W-2026-014" in windows["V-254352"]["comments"]  # the waiver follows to the STIG rule


def test_error_is_not_reviewed_with_the_reason(vulns: dict) -> None:
    vuln = vulns["2022"][GUIDE_BENCHMARK_ID]["CWH-GPO-04"]
    assert vuln["status"] == "Not_Reviewed"
    assert "the check could not be completed" in vuln["details"]
    assert "registry read failed" in vuln["details"]


# --- hostile text ------------------------------------------------------------------------------

def test_hostile_text_is_escaped_and_readable(rendered: dict, vulns: dict) -> None:
    data = rendered["2022"][2]
    assert b"<script>" not in data and b"&lt;script&gt;" in data
    assert b"\x1b" not in data and b"\x00" not in data
    details = vulns["2022"][GUIDE_BENCHMARK_ID]["CWH-GPO-05"]["details"]
    assert "<script>alert('x')</script> ]]> & \"quoted\"" in details
    assert "\\x00NUL \\x1b[31mESC\\x07 \\x0b\\x0c \\ud800 \\ufffe" in details
    assert "Zürich Ñandú 東京 \U0001f512 end" in details
    assert f"*S-1-5-32-544 ({HOSTILE_NAME})" in details
    assert "\r" not in details and "raw: SeTcbPrivilege = " in details
    assert "CWH-GPO-04" in vulns["2022"][GUIDE_BENCHMARK_ID]


def test_huge_evidence_is_truncated_below_the_limit(vulns: dict) -> None:
    for name in ("2022", "guide-only"):
        for istig in vulns[name].values():
            for vuln in istig.values():
                assert utf16_len(vuln["details"]) <= 32767
                assert utf16_len(vuln["comments"]) <= 32767
    details = vulns["2022"][GUIDE_BENCHMARK_ID]["CWH-SC-02"]["details"]
    assert "truncated" in details and "results.json has everything" in details
    assert "Host OS: " in details  # the tail of the evidence survives the cut of one field


def test_a_checklist_without_rules_is_refused() -> None:
    asset, istigs = checklists(HOST_2022, [], {})
    assert istigs[0].vulns == ()
    with pytest.raises(ValueError, match="no results"):
        render_ckl(asset, istigs)


def test_many_large_evidence_items_stay_below_the_limit_and_keep_every_control() -> None:
    """Each part of a shared rule keeps its place; the whole stays below STIG Manager's cut."""
    items = [{"source": "registry", "location": f"HKLM\\X\\{n}", "observed": "\u00e9" * 3000,
              "expected": "1", "raw": "\U0001f512" * 3000} for n in range(20)]
    records = [make_record(HOST_2022, cid, "Open", "2022", evidence=items)
               for cid in ("CWH-TLS-01", "CWH-TLS-02", "CWH-STIG-07", "CWH-TLS-03")]
    asset, istigs = checklists(HOST_2022, records, {"IIS_10-0_Server_STIG":
                                                    benchmarks()["IIS_10-0_Server_STIG"]})
    found = ckl_vulns(parse_ckl(render_ckl(asset, istigs)))
    details = found["IIS_10-0_Server_STIG"]["V-218821"]["details"]
    assert 20_000 < utf16_len(details) <= 32767
    for cid in ("CWH-TLS-01", "CWH-TLS-02", "CWH-STIG-07", "CWH-TLS-03"):
        block = details.split(f"\n{cid}: ", 1)[1]
        assert "\nHost OS: " in block.split(SEPARATOR)[0], cid  # before the evidence list
        assert utf16_len(found[GUIDE_BENCHMARK_ID][cid]["details"]) <= 32767
    assert "truncated" in details


@pytest.mark.parametrize("os_version", ["2022", "2019"])
def test_every_assessed_rule_has_comments_stating_the_verdict(vulns: dict,
                                                              os_version: str) -> None:
    """STIG Manager (default: a finding needs a comment) imports a review without a comment as
    saved, not submitted: every rule cwh assessed says who assessed it and what was found."""
    records = records_2022() if os_version == "2022" else records_2019()
    host = HOST_2022 if os_version == "2022" else HOST_2019
    guide = vulns[os_version][GUIDE_BENCHMARK_ID]
    for record in records:
        comments = guide[record["control_id"]]["comments"]
        assert comments.startswith("Assessed automatically by cwh "), record["control_id"]
        assert f"on {host}" in comments and f": {record['status']}." in comments
        assert f"{record['control_id']}: {record['status']}" in comments
        if record["status"] == "Open":
            assert f"expected {record['expected']}" in comments
            assert f"observed {clean(record['observed'])[:20]}" in comments
    assessed = [v for stig in vulns[os_version].values() for v in stig.values() if v["details"]]
    assert assessed and all(v["comments"] for v in assessed)
    iis = vulns[os_version]["IIS_10-0_Server_STIG"]["V-218821"]["comments"]
    for control in ("CWH-TLS-01", "CWH-TLS-02", "CWH-STIG-07", "CWH-TLS-03"):
        assert f"\n{control}: " in iis, control  # one verdict line per contributing control
