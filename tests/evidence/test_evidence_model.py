"""The format-neutral checklist model: asset data, status precedence, text hygiene, ids, and which
iSTIGs a host gets."""

from __future__ import annotations

import re

import pytest

from cwh.catalog.model import BENCHMARK_OS
from cwh.judge.verdict import Evidence, Status, Verdict
from cwh.report.asset import Asset, asset_from, valid_fqdn
from cwh.report.checklist import (
    GUIDE_BENCHMARK_ID,
    STATUS_PRECEDENCE,
    combine_statuses,
    guide_release,
)
from cwh.report.host_checklist import build_checklists
from cwh.report.record import build_record
from cwh.report.xml_text import clean, truncate, utf16_len
from tests.evidence.evidence_helpers import (
    CATALOG,
    CATALOG_VERSION,
    HOST_2019,
    HOST_2022,
    HOSTILE,
    SUITE_VERSION,
    benchmarks,
    checklists,
    make_record,
    records_2019,
    records_2022,
)

STIG_MANAGER_RELEASE = re.compile(r"Release:\s*(.+?)\s")  # ReviewParser.js


def test_the_factory_makes_records_shaped_like_build_record() -> None:
    verdict = Verdict(Status.NOT_A_FINDING, "ok", "1", "DWord 1",
                      (Evidence("registry", "HKLM\\X", "DWord 1"),))
    real = build_record(host="h", control=CATALOG["CWH-GPO-01"], verdict=verdict,
                        os_version="2022", os_summary="WS2022", nodeid="n", duration=0.1)
    made = make_record("h", "CWH-GPO-01", "NotAFinding", "2022")
    assert set(made) == set(real)
    for key in ("stig_refs", "vuln_ids", "stig_ids", "severity", "cat", "fix", "source"):
        assert made[key] == real[key], key


# --- status precedence ------------------------------------------------------------------------

@pytest.mark.parametrize(("statuses", "combined"), [
    (["Open", "NotAFinding", "Not_Reviewed", "Not_Applicable"], "Open"),
    (["NotAFinding", "Open"], "Open"),
    (["Not_Applicable", "Open"], "Open"),
    (["NotAFinding", "Not_Reviewed"], "Not_Reviewed"),
    (["Not_Applicable", "Not_Reviewed"], "Not_Reviewed"),
    (["NotAFinding", "Not_Applicable"], "NotAFinding"),
    (["NotAFinding", "NotAFinding"], "NotAFinding"),
    (["Not_Applicable", "Not_Applicable"], "Not_Applicable"),
    (["Not_Applicable"], "Not_Applicable"),
    ([], "Not_Reviewed"),
    (["Passed?"], "Not_Reviewed"),
    (["NotAFinding", "bogus"], "Not_Reviewed"),
])
def test_combined_status_follows_the_documented_precedence(statuses: list[str],
                                                             combined: str) -> None:
    assert combine_statuses(statuses) == combined


def test_precedence_constant_is_the_documented_order() -> None:
    assert STATUS_PRECEDENCE == ("Open", "Not_Reviewed", "NotAFinding", "Not_Applicable")


# --- asset ------------------------------------------------------------------------------------

def test_asset_from_full_facts() -> None:
    asset = asset_from("sc01", {
        "hostname": "SC01", "fqdn": "sc01.corp.example.", "domain_role": 3,
        "part_of_domain": True, "domain": "corp.example",
        "ip_addresses": ["10.0.0.5", "fe80::1%3", "127.0.0.1", "0.0.0.0", "010.1.1.1",
                         "2001:db8::5", "10.0.0.5", "::1", "garbage"],
        "mac_addresses": ["00-15-5d-0A-0b-0C", "00:00:00:00:00:00", "zz:15:5d:00:00:01",
                          "00:15:5D:0A:0B:0C"],
        "os": "Microsoft Windows Server 2022 Standard", "os_version": "2022"}, marking="CUI")
    assert asset.host_name == "SC01"
    assert asset.host_fqdn == "sc01.corp.example"
    assert asset.ip_addresses == ("10.0.0.5", "2001:db8::5")
    assert asset.mac_addresses == ("00:15:5D:0A:0B:0C",)
    assert (asset.host_ip, asset.host_mac) == ("10.0.0.5", "00:15:5D:0A:0B:0C")
    assert asset.role == "Member Server"
    assert asset.marking == "CUI"
    assert "Windows Server 2022" in asset.target_comment
    assert "other addresses 2001:db8::5" in asset.target_comment


def test_one_address_each_ipv4_first() -> None:
    """hdf-converters 2.11.1 checks HOST_IP and HOST_MAC with a single isIP / isMACAddress."""
    asset = asset_from("h", {"ip_addresses": ["2001:db8::7", "203.0.113.9", "198.51.100.1"],
                             "mac_addresses": "00:15:5d:00:00:09,00:15:5d:00:00:0a"})
    assert asset.host_ip == "203.0.113.9" and asset.host_mac == "00:15:5D:00:00:09"
    assert "other addresses 2001:db8::7, 198.51.100.1, 00:15:5D:00:00:0A" in asset.target_comment
    assert asset_from("h", {"ip_addresses": "2001:db8::7"}).host_ip == "2001:db8::7"


@pytest.mark.parametrize("facts", [None, {}, {"hostname": ""}, {"hostname": " \t\n "},
                                   {"hostname": None, "ip_addresses": None}])
def test_host_name_falls_back_to_the_inventory_name(facts: dict | None) -> None:
    asset = asset_from("sc-unreachable", facts)
    assert asset.host_name == "sc-unreachable"
    assert asset.role == "None"
    assert asset.ip_addresses == () and asset.mac_addresses == ()
    assert asset.host_ip == asset.host_mac == ""


def test_host_name_is_never_empty_and_never_too_long() -> None:
    assert asset_from("", None).host_name
    assert asset_from("h", {"hostname": "\x00\x01"}).host_name == "\\x00\\x01"
    assert len(asset_from("h", {"hostname": "x" * 400}).host_name) == 255


@pytest.mark.parametrize(("domain_role", "role"), [
    (0, "Workstation"), (1, "Workstation"), (2, "Member Server"), (3, "Member Server"),
    (4, "Domain Controller"), ("5", "Domain Controller"), (None, "None"), (9, "None"),
    ("x", "None")])
def test_role_from_domain_role(domain_role: object, role: str) -> None:
    assert asset_from("h", {"domain_role": domain_role}).role == role


def test_inventory_role_wins_and_is_normalised() -> None:
    assert asset_from("h", {"domain_role": 2}, role="domain controller").role == \
        "Domain Controller"
    assert asset_from("h", {"domain_role": 2}, role="Web Server").role == "Member Server"


@pytest.mark.parametrize(("fqdn", "hostname", "inventory", "expected"), [
    ("sc01.corp.example", "SC01", "sc01", "sc01.corp.example"),
    ("sc-hardened", "SC-HARDENED", "sc-hardened", ""),  # a bare name: Heimdall rejects it
    ("", "SC01", "sc01.corp.example", "sc01.corp.example"),
    ("bad_label.corp.example", "SC01", "192.0.2.4", "192.0.2.4"),
    ("sc01.corp.123", "SC01", "sc01", ""),
    ("<script>.example", "SC01", "sc01", ""),
])
def test_fqdn_only_when_valid(fqdn: str, hostname: str, inventory: str, expected: str) -> None:
    asset = asset_from(inventory, {"hostname": hostname, "fqdn": fqdn})
    assert asset.host_fqdn == expected
    assert not asset.host_fqdn or valid_fqdn(asset.host_fqdn) or \
        re.fullmatch(r"[\d.]+", asset.host_fqdn)


# --- text -------------------------------------------------------------------------------------

def test_clean_keeps_xml_1_0_characters_only() -> None:
    text = clean(HOSTILE + "\r\nnext\rlast")
    allowed = re.compile("^[\t\n\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")
    assert allowed.match(text)
    assert "\\x00NUL" in text and "\\x1b[31m" in text and "\\ud800" in text and "\\ufffe" in text
    assert "<script>alert('x')</script> ]]> &" in text  # markup is the renderers' business
    assert "Zürich Ñandú 東京 \U0001f512" in text
    assert text.endswith("\nnext\nlast")
    text.encode("utf-8")  # no lone surrogate left


def test_truncate_counts_utf16_units_and_says_so() -> None:
    text = "\U0001f512" * 20_000  # 40 000 UTF-16 units
    cut = truncate(text, 32_000, "finding details")
    assert utf16_len(cut) <= 32_000
    assert "finding details truncated" in cut
    assert truncate("short", 32_000) == "short"


# --- guide version ----------------------------------------------------------------------------

@pytest.mark.parametrize(("catalog_version", "version", "release_info"), [
    ("2026.11.1", "202611", "Release: 1 Benchmark Date: 01 Nov 2026"),
    ("2027.02.13", "202702", "Release: 13 Benchmark Date: 01 Feb 2027"),
    ("3.2", "3", "Release: 2 Benchmark Date: 27 Nov 2026"),
    ("test", "0", "Release: 1 Benchmark Date: 27 Nov 2026"),
])
def test_guide_release_info_parses_like_stig_manager(catalog_version: str, version: str,
                                                      release_info: str) -> None:
    assert guide_release(catalog_version, "2026-11-27T10:00:00+00:00") == (version, release_info)
    assert STIG_MANAGER_RELEASE.search(release_info).group(1).isdigit()
    # STIG Manager: first digits of a CKL's version, the whole version of a CKLB: same revision
    assert re.search(r"\d+", version).group() == version


# --- which checklists -------------------------------------------------------------------------

def test_guide_only_without_benchmarks() -> None:
    _, istigs = checklists(HOST_2022, records_2022(), {})
    assert [i.benchmark_id for i in istigs] == [GUIDE_BENCHMARK_ID]
    guide = istigs[0]
    order = [c.id for c in CATALOG.controls]
    assert [v.vuln_num for v in guide.vulns] == sorted(
        (r["control_id"] for r in records_2022()), key=order.index)  # catalog order
    assert guide.title == "ConnectWise ScreenConnect Hardening"
    assert all(v.rule_id == f"{v.vuln_num}_rule" and v.rule_ver == v.vuln_num
               for v in guide.vulns)


def test_one_istig_per_referenced_benchmark_that_is_given() -> None:
    bench = benchmarks()
    _, istigs = checklists(HOST_2022, records_2022(), bench)
    assert [i.benchmark_id for i in istigs] == [
        "MS_Windows_Server_2022_STIG", "IIS_10-0_Server_STIG", GUIDE_BENCHMARK_ID]
    only_iis = {"IIS_10-0_Server_STIG": bench["IIS_10-0_Server_STIG"]}
    _, istigs = checklists(HOST_2019, records_2019(), only_iis)
    assert [i.benchmark_id for i in istigs] == ["IIS_10-0_Server_STIG", GUIDE_BENCHMARK_ID]
    assert set(BENCHMARK_OS) >= {"MS_Windows_Server_2022_STIG", "Windows_Server_2019_STIG"}


def test_records_of_other_hosts_are_left_out() -> None:
    _, istigs = checklists(HOST_2022, records_2022() + records_2019(), {})
    assert len(istigs[-1].vulns) == len(records_2022())
    assert all(HOST_2019 not in v.finding_details for v in istigs[-1].vulns)


def test_one_control_fills_every_rule_it_maps_to() -> None:
    _, istigs = checklists(HOST_2022, records_2022(), benchmarks())
    windows = {v.vuln_num: v for v in istigs[0].vulns}
    for vuln_id in ("V-254275", "V-254276"):
        assert windows[vuln_id].status == "NotAFinding"
        assert windows[vuln_id].controls == ("CWH-STIG-04",)


def test_a_reference_missing_from_the_benchmark_is_reported() -> None:
    record = make_record(HOST_2022, "CWH-GPO-01", "Open", "2022", stig_refs=[
        {"benchmark": "MS_Windows_Server_2022_STIG", "vuln_id": "V-000001", "stig_id": "X"}])
    _, istigs = checklists(HOST_2022, [record], benchmarks())
    assert istigs[0].unmatched == ("CWH-GPO-01 -> V-000001",)
    assert all(v.status == "Not_Reviewed" for v in istigs[0].vulns)


def test_ids_are_stable_and_per_host() -> None:
    bench = benchmarks()
    _, first = checklists(HOST_2022, records_2022(), bench)
    _, again = checklists(HOST_2022, records_2022(), bench)
    assert first == again
    other = build_checklists("another-host", Asset(host_name="X", inventory_name="another-host"),
                             [dict(r, host="another-host") for r in records_2022()], CATALOG,
                             bench, suite_version=SUITE_VERSION, catalog_version=CATALOG_VERSION)
    assert first[0].uuid != other[0].uuid
    assert first[0].vulns[0].uuid != other[0].vulns[0].uuid
    ids = [v.uuid for istig in first for v in istig.vulns]
    assert len(ids) == len(set(ids))


def test_partial_records_from_an_unreachable_host_still_export() -> None:
    """A host that never answered: minimal records, an unknown control, odd values."""
    from lxml import etree

    from cwh.report.ckl import render_ckl
    from cwh.report.cklb import render_cklb
    from cwh.report.hdf import render_host_hdf
    from tests.evidence.evidence_helpers import XSD_PATH, parse_ckl

    records = [
        {"host": "sc-down", "control_id": "CWH-GPO-01", "status": "Not_Reviewed", "error": True,
         "reason": "WinRM: connection refused", "evidence": None, "stig_refs": None},
        {"host": "sc-down", "control_id": "CWH-NOT-IN-CATALOG", "status": "Passed",
         "observed": {"nested": ["x", 1]}, "duration": "n/a", "severity": "critical"},
    ]
    asset = asset_from("sc-down", None, marking="CUI")
    istigs = build_checklists("sc-down", asset, records, CATALOG, benchmarks(),
                              suite_version=SUITE_VERSION, catalog_version=CATALOG_VERSION)
    assert [i.benchmark_id for i in istigs] == [GUIDE_BENCHMARK_ID]
    assert [(v.vuln_num, v.status, v.severity) for v in istigs[0].vulns] == [
        ("CWH-GPO-01", "Not_Reviewed", "high"),
        ("CWH-NOT-IN-CATALOG", "Not_Reviewed", "medium")]
    assert "which is no status" in istigs[0].vulns[1].finding_details
    data = render_ckl(asset, istigs)
    root = parse_ckl(data)
    assert root.findtext("ASSET/HOST_NAME") == "sc-down"
    assert root.findtext("ASSET/MARKING") == "CUI"
    if XSD_PATH.exists():
        schema = etree.XMLSchema(etree.parse(str(XSD_PATH)))
        assert schema.validate(root), str(schema.error_log)
    assert render_cklb(asset, istigs)["target_data"]["host_name"] == "sc-down"
    hdf = render_host_hdf("sc-down", records, CATALOG, {}, suite_version=SUITE_VERSION,
                          started="", duration=None, asset=asset)
    statuses = [r["status"] for c in hdf["profiles"][0]["controls"] for r in c["results"]]
    assert statuses == ["error", "skipped"]
