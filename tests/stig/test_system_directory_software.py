"""The directory and software judges (cwh/judge/stig/system_directory.py, system_software.py):
the LDAP query policy, shares on the AD database's volume, AppLocker's effective policy, and the
certificate file search."""

from __future__ import annotations

from typing import Any

import pytest

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.facts import HostFacts
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status
from cwh.lab.platform_sections import _robocopy_matches

WS2022 = committed_releases()["MS_Windows_Server_2022_STIG"]
NTDS = r"HKLM\SYSTEM\CurrentControlSet\Services\NTDS\Parameters"


def facts(domain_role: int = 5, registry: list | None = None, **sections: Any) -> HostFacts:
    built = {"identity": {"ok": True, "data": {"domain_role": domain_role}},
             "registry": {"ok": True, "data": {"view": "Registry64", "values": registry or []}}}
    built.update({name: data if isinstance(data, dict) and "ok" in data else
                  {"ok": True, "data": data} for name, data in sections.items()})
    return HostFacts("h", {"schema": 1, "sections": built})


def verdict(stig_id: str, domain_role: int = 5, inputs: dict | None = None, **sections: Any):
    return judge_rule(WS2022.by_stig_id(stig_id), facts(domain_role, **sections), inputs or {})


# --- LDAP query policy --------------------------------------------------------------------

def policy(limits: list[str], **changes: Any) -> dict[str, Any]:
    return {"domain_controller": True, "domain_role": 5, "limits": limits,
            "policy_dn": "CN=Default Query Policy,CN=Query-Policies,...",
            "dc_query_policy": [], "site_query_policy": [], "error": None, **changes}


DEFAULT_LIMITS = ["MaxPoolThreads=4", "MaxPercentDirSyncRequests=0", "MaxDatagramRecv=4096",
                  "MaxReceiveBuffer=10485760", "InitRecvTimeout=120", "MaxConnections=5000",
                  "MaxConnIdleTime=900", "MaxPageSize=1000", "MaxBatchReturnMessages=0",
                  "MaxQueryDuration=120", "MaxDirSyncDuration=0", "MaxTempTableSize=10000"]


@pytest.mark.parametrize(("limits", "status"), [
    (DEFAULT_LIMITS, Status.OPEN),  # Windows' default is 900 seconds
    ([*DEFAULT_LIMITS[:6], "MaxConnIdleTime=300", *DEFAULT_LIMITS[7:]], Status.NOT_A_FINDING),
    (["maxconnidletime=120"], Status.NOT_A_FINDING),
    (DEFAULT_LIMITS[:6], Status.OPEN),  # not specified: a finding
    (["MaxConnIdleTime=300", "MaxConnIdleTime=900"], Status.NOT_REVIEWED),
    (["MaxConnIdleTime=5 minutes"], Status.NOT_REVIEWED),
    (["MaxConnIdleTime"], Status.NOT_REVIEWED),
])
def test_max_conn_idle_time(limits, status):
    assert verdict("WN22-DC-000160", ldap_policy=policy(limits)).status is status


def test_another_query_policy_in_force_is_unknown():
    assigned = policy(["MaxConnIdleTime=300"], dc_query_policy=["CN=Strict,CN=Query-Policies"])
    result = verdict("WN22-DC-000160", ldap_policy=assigned)
    assert result.status is Status.NOT_REVIEWED and "in force" in result.reason
    not_dc = {"domain_controller": False, "domain_role": 3}
    assert verdict("WN22-DC-000160", ldap_policy=not_dc).status is Status.NOT_REVIEWED


# --- shares -------------------------------------------------------------------------------

VOLUMES = [{"name": "C:\\", "device_id": "\\\\?\\Volume{c}\\", "drive_type": 3},
           {"name": "D:\\", "device_id": "\\\\?\\Volume{d}\\", "drive_type": 3},
           {"name": "C:\\Data\\Mount\\", "device_id": "\\\\?\\Volume{m}\\", "drive_type": 3},
           {"name": "\\\\?\\Volume{r}\\", "device_id": "\\\\?\\Volume{r}\\", "drive_type": 3}]
DC_SHARES = [{"name": "ADMIN$", "path": "C:\\Windows", "type": 2147483648},
             {"name": "C$", "path": "C:\\", "type": 2147483648},
             {"name": "IPC$", "path": "", "type": 2147483651},
             {"name": "NETLOGON", "path": "C:\\Windows\\SYSVOL\\sysvol\\corp\\SCRIPTS", "type": 0},
             {"name": "SYSVOL", "path": "C:\\Windows\\SYSVOL\\sysvol", "type": 0}]


def database(path: str | None = "C:\\Windows\\NTDS\\ntds.dit") -> list[dict[str, Any]]:
    return [{"path": NTDS, "name": "DSA Database file", "key_exists": True,
             "value_exists": path is not None, "kind": "String" if path else None,
             "value": path, "error": None}]


def shares_verdict(shares: list[dict[str, Any]], path: str | None = "C:\\Windows\\NTDS\\ntds.dit"):
    built = facts(5, database(path), shares={"shares": shares, "volumes": VOLUMES})
    return judge_rule(WS2022.by_stig_id("WN22-DC-000120"), built, {})


def test_no_user_share_on_the_database_volume():
    assert shares_verdict(DC_SHARES).status is Status.NOT_A_FINDING
    data = {"name": "Data", "path": "C:\\Data", "type": 0}
    assert shares_verdict([*DC_SHARES, data]).status is Status.OPEN
    hidden = {"name": "Backup$", "path": "C:\\Backup", "type": 0}  # hidden, not special
    assert shares_verdict([*DC_SHARES, hidden]).status is Status.OPEN
    elsewhere = [{"name": "Data", "path": "D:\\Data", "type": 0},
                 {"name": "Mounted", "path": "C:\\Data\\Mount\\x", "type": 0},
                 {"name": "Printer", "path": "", "type": 1}]
    assert shares_verdict([*DC_SHARES, *elsewhere]).status is Status.NOT_A_FINDING
    moved = shares_verdict([*DC_SHARES, {"name": "Data", "path": "C:\\Data", "type": 0}],
                           "D:\\NTDS\\ntds.dit")
    assert moved.status is Status.NOT_A_FINDING


def test_shares_unknown_when_the_database_or_a_volume_cannot_be_told():
    assert shares_verdict(DC_SHARES, None).status is Status.NOT_REVIEWED
    unknown_drive = {"name": "Z", "path": "Z:\\x", "type": 0}
    assert shares_verdict([*DC_SHARES, unknown_drive]).status is Status.NOT_REVIEWED
    garbled = {"name": "X", "path": "C:\\x", "type": "0"}
    assert shares_verdict([*DC_SHARES, garbled]).status is Status.NOT_REVIEWED


# --- AppLocker ----------------------------------------------------------------------------

def policy_xml(*collections: tuple[str, str, int]) -> str:
    rule = ('<FilePathRule Id="921cc481-6e17-4653-8f75-050b80acca20" Name="x" Description="" '
            'UserOrGroupSid="S-1-1-0" Action="Allow"><Conditions><FilePathCondition '
            'Path="%PROGRAMFILES%\\*" /></Conditions></FilePathRule>')
    body = "".join(f'<RuleCollection Type="{t}" EnforcementMode="{m}">{rule * n}</RuleCollection>'
                   for t, m, n in collections)
    return f'<AppLockerPolicy Version="1">{body}</AppLockerPolicy>'


def applocker(xml: Any, state: Any = "Running") -> dict[str, Any]:
    return {"policy_xml": xml, "policy_error": None,
            "appidsvc": None if state is None else {"state": state, "start_mode": "Auto"}}


@pytest.mark.parametrize(("section", "status"), [
    (applocker(policy_xml(("Exe", "Enabled", 3))), Status.NOT_A_FINDING),
    (applocker(policy_xml(("Exe", "AuditOnly", 3))), Status.OPEN),
    (applocker(policy_xml(("Exe", "Enabled", 0), ("Script", "NotConfigured", 2))), Status.OPEN),
    (applocker(policy_xml(("Exe", "Enabled", 3)), "Stopped"), Status.OPEN),
    (applocker(policy_xml(("Exe", "Enabled", 3)), None), Status.OPEN),  # no AppIDSvc at all
    (applocker('<AppLockerPolicy Version="1" />'), Status.OPEN),
    (applocker("<AppLockerPolicy"), Status.NOT_REVIEWED),
    (applocker('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///c:/x">]><AppLockerPolicy>&e;'
               '</AppLockerPolicy>'), Status.NOT_REVIEWED),
    (applocker("<Policy />"), Status.NOT_REVIEWED),
    (applocker(None), Status.NOT_REVIEWED),
    (applocker(policy_xml(("Exe", "Enabled", 3)), 4), Status.NOT_REVIEWED),
])
def test_applocker_enforced(section, status):
    assert verdict("WN22-00-000080", 2, applocker=section).status is status


def test_another_allowlisting_product_is_declared():
    result = verdict("WN22-00-000080", 2, {"cwh_allowlisting_product": True},
                     applocker=applocker('<AppLockerPolicy Version="1" />'))
    assert result.status is Status.NOT_A_FINDING


# --- certificate files ----------------------------------------------------------------------

def search(matches: list[str], **changes: Any) -> dict[str, Any]:
    return {"method": "robocopy /L /B /XJ", "patterns": ["*.p12", "*.pfx"], "roots": ["C:\\"],
            "limit_seconds": 47, "seconds": 12.5, "complete": True, "stopped": None, "runs": [],
            "errors": [], "matches": matches, "matches_truncated": False, **changes}


def files_verdict(section: dict[str, Any], inputs: dict | None = None):
    return verdict("WN22-00-000240", 2, inputs, file_search=section)


def test_no_certificate_file_on_a_complete_search():
    assert files_verdict(search([])).status is Status.NOT_A_FINDING
    found = files_verdict(search(["C:\\Users\\Administrator\\Downloads\\web.PFX"]))
    assert found.status is Status.OPEN and "Downloads" in found.reason


def test_robocopys_short_name_matches_and_documented_files_are_not_findings():
    near = ["C:\\Tools\\notes.pfxbak", "C:\\Data\\report.p123"]
    assert files_verdict(search(near)).status is Status.NOT_A_FINDING
    documented = "C:\\Program Files\\Vendor\\agent.p12"
    inputs = {"cwh_certificate_files": [documented.upper()]}
    assert files_verdict(search([documented]), inputs).status is Status.NOT_A_FINDING
    assert files_verdict(search([documented])).status is Status.OPEN


@pytest.mark.parametrize("changes", [
    {"complete": False, "stopped": "stopped at the search's limit of 47 s while searching C:\\"},
    {"complete": False, "errors": ["ERROR 5 (0x00000005) Scanning Source Directory D:\\X\\"]},
    {"complete": None},
    {"roots": []},
    {"patterns": ["*.pfx"]},
])
def test_an_incomplete_search_proves_nothing_unless_it_found_something(changes):
    result = files_verdict(search([], **changes))
    assert result.status is Status.NOT_REVIEWED
    if changes.get("patterns") is None and changes.get("roots") is None:
        found = files_verdict(search(["E:\\old.p12"], **changes))
        assert found.status is Status.OPEN


def test_the_lab_plays_robocopys_short_name_matching():
    assert _robocopy_matches("web.pfx", "*.pfx") and _robocopy_matches("x.PFXold", "*.pfx")
    assert not _robocopy_matches("x.pf", "*.pfx") and not _robocopy_matches("pfx.txt", "*.pfx")
