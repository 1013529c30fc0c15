"""What the policy kinds add to a host's request (cwh/collect/needs_policy.py): exactly their
sections and items, in the one request the collector receives."""

from __future__ import annotations

import json

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.needs import add_rule
from cwh.collect.needs_policy import (
    W32TIME_LOCAL,
    W32TIME_POLICY,
    add_inventory_needs,
    host_requests,
)
from cwh.collect.request import BASE_SECTIONS, FactRequest
from tests.stig.policy_facts import rule


def request_for(*checks, kind="registry"):
    request = FactRequest()
    add_rule(request, rule(*checks, kind=kind))
    return json.loads(request.to_json())


def test_a_registry_check_asks_for_its_value_only():
    sent = request_for({"kind": "registry", "path": r"HKLM\SOFTWARE\X", "name": "Y",
                        "type": "DWord", "op": "equals", "value": 1, "absent": "finding"})
    assert sent["sections"] == [*BASE_SECTIONS, "registry"]
    assert sent["registry"] == [{"path": r"HKLM\SOFTWARE\X", "name": "Y"}]
    assert sent["service_names"] == [] and sent["account_names"] == []


def test_secedit_kinds_share_one_section():
    sent = request_for({"kind": "account_policy", "section": "System Access",
                        "key": "LockoutBadCount", "op": "range", "min": 1, "max": 3},
                       {"kind": "user_right", "right": "SeTcbPrivilege", "op": "none"},
                       {"kind": "user_rights_sids", "op": "all_resolve"}, kind="mixed")
    assert sent["sections"] == [*BASE_SECTIONS, "secedit"]


def test_audit_features_services_firewall_and_time():
    sent = request_for(
        {"kind": "audit_policy", "subcategory": "Logon",
         "guid": "{0CCE9215-69AE-11D9-BED3-505054503030}", "include": ["Success"]},
        {"kind": "feature", "name": "Fax", "installed": False},
        {"kind": "service", "names_input": "cwh_antivirus_services", "match": "any",
         "state": "Running"},
        {"kind": "firewall_profiles", "profiles": ["Domain"], "enabled": True},
        {"kind": "time_source", "type": "NT5DS"}, kind="mixed")
    assert sent["sections"] == [*BASE_SECTIONS, "registry", "features", "firewall_profiles",
                                "audit_policy", "service_states"]
    assert sent["features"] == ["Fax"]
    assert sent["service_names"] == ["WinDefend"]  # the input's default
    assert {(v["path"], v["name"]) for v in sent["registry"]} == {
        (W32TIME_LOCAL, "Type"), (W32TIME_LOCAL, "NtpServer"), (W32TIME_POLICY, "Type"),
        (W32TIME_POLICY, "NtpServer")}


def test_a_manual_rule_asks_only_for_the_identity():
    request = FactRequest()
    add_rule(request, rule(kind="manual"))
    assert request.sections == set(BASE_SECTIONS)


def test_the_inventory_adds_its_antivirus_and_its_accounts_by_name():
    request = FactRequest()
    rules = [r for r in committed_releases()["MS_Windows_Server_2022_STIG"].rules]
    add_inventory_needs(request, rules, {
        "cwh_antivirus_services": ["CSFalconService"],
        "cwh_auditors_group": ["CORP\\Auditors", "S-1-5-21-1-2-3-1200"],
        "cwh_user_right_exceptions": {"SeServiceLogonRight": ["svc-app"],
                                      "SeDebugPrivilege": ["CORP\\dbg", "S-1-5-21-1-2-3-9"]}})
    sent = json.loads(request.to_json())
    assert sent["service_names"] == ["CSFalconService"]
    assert sent["account_names"] == ["CORP\\Auditors", "CORP\\dbg"]  # SIDs need no lookup
    assert {"service_states", "account_sids"} <= set(sent["sections"])


def test_each_host_is_asked_for_its_own_inventory_names_and_only_those():
    rules = committed_releases()["Windows_Server_2019_STIG"].rules
    shared = FactRequest()
    for stig_rule in rules:
        add_rule(shared, stig_rule)
    before = shared.to_json()
    falcon = {"cwh_antivirus_services": ["CSFalconService"]}
    requests = host_requests(shared, rules, {
        "plain": {"cwh_time_sources": ["time.lab.example"]},
        "falcon-1": falcon, "falcon-2": dict(falcon),
        "tcb": {"cwh_user_right_exceptions": {"SeTcbPrivilege": ["svc-backup"]}}})
    assert shared.to_json() == before  # the shared request is never changed
    assert requests["plain"] is shared  # nothing added: no copy
    assert requests["falcon-1"] is requests["falcon-2"]  # the same additions: one copy
    sent = {host: json.loads(r.to_json()) for host, r in requests.items()}
    assert sent["falcon-1"]["service_names"] == ["CSFalconService", "WinDefend"]
    assert sent["tcb"]["service_names"] == ["WinDefend"]
    assert sent["tcb"]["account_names"] == ["svc-backup"]
    assert sent["falcon-1"]["account_names"] == sent["plain"]["account_names"] == []
    assert "account_sids" in sent["tcb"]["sections"]
    # a rule that is not selected adds nothing, whatever the inventory says
    unselected = [r for r in rules if r.stig_id != "WN19-00-000110"]
    assert host_requests(shared, unselected, {"falcon": falcon})["falcon"] is shared


def test_the_whole_catalog_is_still_one_request():
    request = FactRequest()
    for release in committed_releases().values():
        for stig_rule in release.rules:
            add_rule(request, stig_rule)
    sent = json.loads(request.to_json())
    assert {"registry", "secedit", "audit_policy", "features", "service_states",
            "firewall_profiles"} <= set(sent["sections"])
    assert len(sent["registry"]) > 100
