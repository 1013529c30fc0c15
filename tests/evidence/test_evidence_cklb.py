"""CKLB export: STIG Viewer 3's JSON layout, the keys STIG Manager needs, the same statuses and
text as the CKL, and ids that do not change between runs."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from typing import Any

import pytest

from cwh.report.checklist import GUIDE_BENCHMARK_ID
from cwh.report.ckl import render_ckl
from cwh.report.cklb import render_cklb, render_cklb_text
from tests.evidence.evidence_helpers import (
    HOST_2019,
    HOST_2022,
    benchmarks,
    checklists,
    ckl_vulns,
    cklb_rules,
    parse_ckl,
    records_2019,
    records_2022,
)

CKLB_STATUS = {"NotAFinding": "not_a_finding", "Open": "open", "Not_Applicable": "not_applicable",
               "Not_Reviewed": "not_reviewed"}
TOP_KEYS = {"title", "id", "stigs", "active", "mode", "has_path", "target_data", "cklb_version"}
TARGET_KEYS = {"target_type", "host_name", "ip_address", "mac_address", "fqdn", "comments", "role",
               "is_web_database", "technology_area", "web_db_site", "web_db_instance",
               "classification"}
STIG_KEYS = {"stig_name", "display_name", "stig_id", "release_info", "version", "uuid",
             "reference_identifier", "size", "rules"}
RULE_KEYS = {"uuid", "stig_uuid", "target_key", "stig_ref", "group_id", "group_id_src", "rule_id",
             "rule_id_src", "weight", "classification", "severity", "rule_version", "group_title",
             "rule_title", "fix_text", "false_positives", "false_negatives", "discussion",
             "check_content", "documentable", "mitigations", "potential_impacts",
             "third_party_tools", "mitigation_control", "responsibility",
             "security_override_guidance", "ia_controls", "check_content_ref", "legacy_ids",
             "ccis", "group_tree", "reference_identifier", "createdAt", "updatedAt", "STIGUuid",
             "status", "overrides", "comments", "finding_details"}
STIG_MANAGER_RELEASE = re.compile(r"Release:\s*(.+?)\s")


@pytest.fixture(scope="module")
def both() -> dict[str, tuple[dict, dict]]:
    """{host: (cklb, ckl vulns)} for the two hosts with the real benchmarks."""
    out = {}
    for host, records in ((HOST_2022, records_2022()), (HOST_2019, records_2019())):
        asset, istigs = checklists(host, records, benchmarks())
        out[host] = (render_cklb(asset, istigs), ckl_vulns(parse_ckl(render_ckl(asset, istigs))))
    return out


@pytest.mark.parametrize("host", [HOST_2022, HOST_2019])
def test_cklb_layout_and_keys(both: dict, host: str) -> None:
    cklb, _ = both[host]
    assert set(cklb) == TOP_KEYS
    assert cklb["cklb_version"] == "1.0"
    assert set(cklb["target_data"]) == TARGET_KEYS
    assert cklb["target_data"]["host_name"].strip()
    assert isinstance(cklb["target_data"]["ip_address"], str)
    assert cklb["target_data"]["is_web_database"] is False
    assert cklb["target_data"]["role"] == "Member Server"
    uuid.UUID(cklb["id"])
    for stig in cklb["stigs"]:
        assert set(stig) == STIG_KEYS
        assert STIG_MANAGER_RELEASE.search(stig["release_info"]).group(1).isdigit()
        assert stig["release_info"].startswith("Release: ") and " Benchmark Date: " in \
            stig["release_info"]
        assert stig["version"].isdigit()  # STIG Manager: CKL and CKLB give one revision
        assert stig["size"] == len(stig["rules"]) > 0
        for rule in stig["rules"]:
            assert set(rule) == RULE_KEYS
            assert rule["rule_id_src"].endswith("_rule")
            assert rule["rule_id"] == rule["rule_id_src"].removesuffix("_rule")
            assert rule["group_id"] == rule["group_id_src"] and rule["group_id"]
            assert rule["stig_uuid"] == rule["STIGUuid"] == stig["uuid"]
            assert rule["status"] in CKLB_STATUS.values()
            assert rule["createdAt"].endswith("Z")
            assert isinstance(rule["ccis"], list) and isinstance(rule["legacy_ids"], list)
            assert rule["check_content_ref"]["name"] == "M"


def test_cklb_is_json_with_hostile_text_intact(both: dict) -> None:
    cklb, _ = both[HOST_2022]
    text = json.dumps(cklb, ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")  # no lone surrogate
    assert json.loads(text) == cklb
    details = cklb_rules(cklb)[GUIDE_BENCHMARK_ID]["CWH-GPO-05"]["finding_details"]
    assert "<script>alert('x')</script> ]]> &" in details
    assert "\\x1b[31mESC" in details and "\x1b" not in details


@pytest.mark.parametrize("host", [HOST_2022, HOST_2019])
def test_cklb_says_what_the_ckl_says(both: dict, host: str) -> None:
    cklb, ckl = both[host]
    rules = cklb_rules(cklb)
    assert set(rules) == set(ckl)
    for stig_id, vulns in ckl.items():
        assert list(rules[stig_id]) == list(vulns)
        for vuln_num, vuln in vulns.items():
            rule = rules[stig_id][vuln_num]
            assert rule["status"] == CKLB_STATUS[vuln["status"]], (stig_id, vuln_num)
            assert rule["finding_details"] == vuln["details"]
            assert rule["comments"] == vuln["comments"]
            attributes = dict(vuln["attributes"])
            assert rule["rule_id_src"] == attributes["Rule_ID"]
            assert rule["ccis"] == [v for n, v in vuln["attributes"] if n == "CCI_REF"]


def test_cklb_has_every_benchmark_rule(both: dict) -> None:
    rules = cklb_rules(both[HOST_2022][0])
    assert len(rules["MS_Windows_Server_2022_STIG"]) == 273
    assert rules["IIS_10-0_Server_STIG"]["V-218821"]["status"] == "open"
    assert rules["MS_Windows_Server_2022_STIG"]["V-254277"]["status"] == "not_applicable"
    assert rules[GUIDE_BENCHMARK_ID]["CWH-GPO-04"]["status"] == "not_reviewed"


def test_ids_are_stable_across_renders_and_unique() -> None:
    def render() -> dict[str, Any]:
        asset, istigs = checklists(HOST_2022, records_2022(), benchmarks())
        return render_cklb(asset, istigs)

    first, second = render(), render()
    assert first == second
    ids = [first["id"]] + [s["uuid"] for s in first["stigs"]] + \
        [r["uuid"] for s in first["stigs"] for r in s["rules"]]
    assert len(ids) == len(set(ids))
    other_asset, other_istigs = checklists(HOST_2019, records_2019(), benchmarks())
    other = render_cklb(other_asset, other_istigs)
    iis = next(s for s in first["stigs"] if s["stig_id"] == "IIS_10-0_Server_STIG")
    other_iis = next(s for s in other["stigs"] if s["stig_id"] == "IIS_10-0_Server_STIG")
    assert iis["uuid"] != other_iis["uuid"]
    assert iis["rules"][0]["uuid"] != other_iis["rules"][0]["uuid"]


@pytest.mark.parametrize("host", [HOST_2022, HOST_2019])
def test_cklb_target_key_and_stig_ref_as_the_ckl_has_them(both: dict, host: str) -> None:
    cklb, ckl = both[host]
    rules = cklb_rules(cklb)
    filled = 0
    for stig_id, vulns in ckl.items():
        for vuln_num, vuln in vulns.items():
            attributes = dict(vuln["attributes"])
            rule = rules[stig_id][vuln_num]
            assert rule["stig_ref"] == (attributes["STIGRef"] or None), (stig_id, vuln_num)
            assert rule["target_key"] == (attributes["TargetKey"] or None), (stig_id, vuln_num)
            filled += bool(rule["target_key"])
    assert filled > 200  # every DISA rule has its reference identifier
    v254467 = rules.get("MS_Windows_Server_2022_STIG", {}).get("V-254467")
    if v254467:
        assert v254467["stig_ref"].startswith("Microsoft Windows Server 2022 Security Technical "
                                              "Implementation Guide :: Version 1, Release: 3")


@pytest.mark.parametrize("host", [HOST_2022, HOST_2019])
def test_the_text_with_each_rules_part_encoded_once_is_what_json_dumps_writes(host: str) -> None:
    records = records_2022() if host == HOST_2022 else records_2019()
    for given in (benchmarks(), {}):
        asset, istigs = checklists(host, records, given)
        compact = json.dumps(render_cklb(asset, istigs), ensure_ascii=False,
                             separators=(",", ":"))
        assert render_cklb_text(asset, istigs) == compact
        assert render_cklb_text(asset, istigs) == compact  # from the per-rule texts kept


def test_a_rule_differing_in_any_field_gets_its_own_text() -> None:
    asset, istigs = checklists(HOST_2022, records_2022(), benchmarks())
    istig = istigs[0]
    vuln = istig.vulns[0]
    render_cklb_text(asset, [istig])  # keep the first rule's text
    for field in dataclasses.fields(vuln):
        value = getattr(vuln, field.name)
        other = ("x", "y") if isinstance(value, tuple) else "V-changed"
        changed = dataclasses.replace(istig, vulns=(dataclasses.replace(
            vuln, **{field.name: other}), *istig.vulns[1:]))
        assert render_cklb_text(asset, [changed]) == json.dumps(
            render_cklb(asset, [changed]), ensure_ascii=False, separators=(",", ":")), field.name
