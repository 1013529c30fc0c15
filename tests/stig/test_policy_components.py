"""The feature, service, firewall_profiles and time_source judges on the states Windows reports:
Get-WindowsFeature's InstallState, Win32_Service's State and StartMode, ActiveStore's Enabled,
and the W32Time values (Group Policy over the service's own)."""

from __future__ import annotations

import pytest

from tests.stig.policy_facts import facts, failed, judge, reg, registry

FAX = {"kind": "feature", "name": "Fax", "installed": False}


def features(**states):
    return {"features": {name: {"install_state": state, "source": "Get-WindowsFeature",
                                "error": None} for name, state in states.items()}}


@pytest.mark.parametrize(("state", "passed"), [
    ("Available", True), ("Removed", True), ("Installed", False), ("InstallPending", False),
    ("UninstallPending", False), ("Unknown", None), ("installed", None)])
def test_feature_install_states(state, passed):
    assert judge(FAX, facts(features=features(Fax=state))).passed is passed


def test_a_feature_get_windowsfeature_does_not_know_is_unknown():
    unknown = {"features": {"Fax": {"install_state": None, "source": "Get-WindowsFeature",
                                    "error": "no feature named Fax on this system"}}}
    assert judge(FAX, facts(features=unknown)).passed is None


ANTIVIRUS = {"kind": "service", "names_input": "cwh_antivirus_services", "match": "any",
             "state": "Running"}


def services(*found, listed=212):
    return {"query": "Get-CimInstance Win32_Service", "listed": listed,
            "services": [{"name": name, "found": matches} for name, matches in found]}


def svc(name, state="Running", mode="Auto"):
    return {"name": name, "display_name": name, "state": state, "start_mode": mode}


def test_the_default_antivirus_is_defender_running():
    running = facts(service_states=services(("WinDefend", [svc("WinDefend")])))
    assert judge(ANTIVIRUS, running).passed is True
    stopped = facts(service_states=services(("WinDefend", [svc("WinDefend", "Stopped",
                                                                "Disabled")])))
    result = judge(ANTIVIRUS, stopped)
    assert result.passed is False and "WinDefend: Stopped" in result.observed


def test_one_of_the_organizations_antivirus_services_running_is_enough():
    host = facts(service_states=services(("CSFalconService", [svc("CSFalconService")]),
                                         ("WinDefend", [])))
    inputs = {"cwh_antivirus_services": ["WinDefend", "CSFalconService"]}
    assert judge(ANTIVIRUS, host, inputs).passed is True


def test_a_service_that_does_not_exist_does_not_run():
    host = facts(service_states=services(("WinDefend", [])))
    result = judge(ANTIVIRUS, host)
    assert result.passed is False and "not installed" in result.observed


def test_a_service_not_asked_for_is_unknown_not_absent():
    host = facts(service_states=services(("WinDefend", [])))
    assert judge(ANTIVIRUS, host, {"cwh_antivirus_services": ["Sophos"]}).passed is None


def test_an_empty_service_list_from_the_inventory_is_a_finding():
    host = facts(service_states=services(("WinDefend", [svc("WinDefend")])))
    assert judge(ANTIVIRUS, host, {"cwh_antivirus_services": []}).passed is False


@pytest.mark.parametrize("answer", [
    services(("WinDefend", [svc("WinDefend")]), listed=0),  # Win32_Service listed nothing
    services(("WinDefend", [svc("WinDefend"), svc("windefend", "Stopped")])),  # two answers
    services(("WinDefend", [svc("WinDefend", "")])),  # a state Windows does not report
    failed("Get-CimInstance : Invalid class \"Win32_Service\""),
])
def test_a_service_answer_that_cannot_be_trusted_is_unknown(answer):
    assert judge(ANTIVIRUS, facts(service_states=answer)).passed is None


def test_a_service_that_must_be_absent():
    check = {"kind": "service", "name": "FTPSVC", "present": False}
    assert judge(check, facts(service_states=services(("FTPSVC", [])))).passed is True
    assert judge(check, facts(service_states=services(("FTPSVC", [svc("FTPSVC")])))).passed \
        is False


FIREWALL = {"kind": "firewall_profiles", "profiles": ["Domain", "Private", "Public"],
            "enabled": True}


def profiles(**enabled):
    return {"store": "ActiveStore", "active_profile": "Private", "active_profile_error": None,
            "profiles": [{"name": name, "enabled": state, "default_inbound_action": "Block"}
                         for name, state in enabled.items()]}


@pytest.mark.parametrize(("states", "passed"), [
    ({"Domain": "True", "Private": "True", "Public": "True"}, True),
    ({"Domain": "True", "Private": "False", "Public": "True"}, False),
    ({"Domain": "True", "Private": "NotConfigured", "Public": "True"}, None),
    ({"Domain": "True", "Public": "True"}, None),
    ({"Domain": "False", "Private": "NotConfigured", "Public": "True"}, False),
])
def test_firewall_profiles(states, passed):
    assert judge(FIREWALL, facts(firewall_profiles=profiles(**states))).passed is passed


LOCAL = r"HKLM\SYSTEM\CurrentControlSet\Services\W32Time\Parameters"
POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\W32Time\Parameters"
NTP = {"kind": "time_source", "type": "NTP", "servers_input": "cwh_time_sources",
       "roles": ["dc_pdc", "standalone"]}
NT5DS = {"kind": "time_source", "type": "NT5DS", "roles": ["dc_other", "member"]}
APPROVED = {"cwh_time_sources": ["tick.usno.navy.mil", "tock.usno.navy.mil"]}


def w32time(local_type="NTP", local_server="time.windows.com,0x9", policy_type=None,
            policy_server=None):
    def value(path, name, data):
        return reg(path, name, "String", data) if data is not None else reg(path, name)
    return facts(registry=registry(value(LOCAL, "Type", local_type),
                                   value(LOCAL, "NtpServer", local_server),
                                   value(POLICY, "Type", policy_type),
                                   value(POLICY, "NtpServer", policy_server)))


def test_a_fresh_standalone_server_uses_time_windows_com_which_is_not_approved():
    result = judge(NTP, w32time(), APPROVED)
    assert result.passed is False and "time.windows.com,0x9" in result.observed


def test_the_group_policy_values_take_the_services_place():
    host = w32time(policy_type="NTP", policy_server="tick.usno.navy.mil,0x8 other.example,0x1")
    result = judge(NTP, host, APPROVED)
    assert result.passed is True and "(Group Policy)" in result.observed


def test_the_type_must_match_before_servers_count():
    assert judge(NTP, w32time(local_type="NT5DS", local_server="tick.usno.navy.mil"),
                 APPROVED).passed is False
    assert judge(NT5DS, w32time(local_type="NT5DS"), role="member").passed is True
    assert judge(NT5DS, w32time(local_type="AllSync"), role="member").passed is False


def test_a_time_client_without_a_type_is_a_finding_and_a_wrong_type_unknown():
    assert judge(NT5DS, w32time(local_type=None), role="member").passed is False
    host = facts(registry=registry(reg(LOCAL, "Type", "DWord", 1), reg(LOCAL, "NtpServer"),
                                   reg(POLICY, "Type"), reg(POLICY, "NtpServer")))
    assert judge(NT5DS, host, role="member").passed is None
    assert judge(NT5DS, facts(), role="member").passed is None
