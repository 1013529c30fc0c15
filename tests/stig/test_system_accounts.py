"""The `accounts` and `group_members` judges (cwh/judge/stig/system_accounts.py) on the
committed rules: never-logged-on accounts, password ages from the host's own clock, exclusions
by RID and by the inventory's lists, ADSI failures, unresolved SIDs."""

from __future__ import annotations

from typing import Any

import pytest

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.facts import HostFacts
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status

RELEASES = committed_releases()
WS2022, WS2019 = RELEASES["MS_Windows_Server_2022_STIG"], RELEASES["Windows_Server_2019_STIG"]
MACHINE = "S-1-5-21-3623811015-3361044348-30300820"
NOW = "2026-12-02T01:00:00.0000000Z"
INPUTS = {"cwh_application_accounts": ["svc-backup"], "cwh_backup_operators": [],
          "cwh_approved_admins": ["Administrator", "adm-jdoe"]}


def account(name: str, rid: int, last_logon: str | None = "2026-11-30T08:00:00.0000000Z",
            **changes: Any) -> dict[str, Any]:
    """An account as Get-CwhLocalAccounts writes it (last logon None: never logged on)."""
    return {"name": name, "domain": "SC-HARDENED", "sid": f"{MACHINE}-{rid}", "disabled": False,
            "password_required": True, "password_expires": True, "trust_account": False,
            "smartcard_required": False, "last_logon": last_logon,
            "never_logged_on": last_logon is None,
            "password_last_set": "2026-11-10T08:00:00.0000000Z", "password_must_change": False,
            "error": None, **changes}


BUILT_IN = [account("Administrator", 500), account("Guest", 501, None, disabled=True,
                                                   password_required=False),
            account("DefaultAccount", 503, None, disabled=True, password_required=False)]


def facts(accounts: list[dict[str, Any]], groups: list[dict[str, Any]] | None = None,
          **section: Any) -> HostFacts:
    data = {"source": "Win32_UserAccount and ADSI (WinNT)", "collected_at": NOW,
            "domain_role": 2, "truncated": False, "adsi_error": None, "accounts": accounts,
            **section}
    return HostFacts("h", {"schema": 1, "sections": {
        "identity": {"ok": True, "data": {"domain_role": 2, "computer_name": "SC-HARDENED"}},
        "local_accounts": {"ok": True, "data": data},
        "group_members": {"ok": True, "data": {"method": "ADSI (WinNT)", "groups": groups or []}},
    }})


def verdict(stig_id: str, listed: list[dict[str, Any]], inputs: dict | None = None,
            release=WS2022, **section: Any):
    data = facts(listed).document
    data["sections"]["local_accounts"]["data"].update(section)
    return judge_rule(release.by_stig_id(stig_id), HostFacts("h", data),
                      {**INPUTS, **(inputs or {})})


def test_inactive_accounts_never_logged_on_is_a_finding():
    active = [*BUILT_IN, account("jdoe", 1012)]
    assert verdict("WN22-00-000190", active).status is Status.NOT_A_FINDING
    never = verdict("WN22-00-000190", [*active, account("adm-jdoe", 1011, None)])
    assert never.status is Status.OPEN and "adm-jdoe" in never.reason and "never" in never.reason
    stale = verdict("WN22-00-000190", [*active, account("old", 1020,
                                                        "2026-10-01T00:00:00.0000000Z")])
    assert stale.status is Status.OPEN and "old" in stale.reason


def test_the_built_in_accounts_and_the_inventory_lists_are_excluded_from_inactivity():
    accounts = [account("Administrator", 500, None), account("svc-backup", 1017, None),
                account("kiosk", 1030, None), account("jdoe", 1012)]
    assert verdict("WN22-00-000190", accounts).status is Status.OPEN
    documented = {"cwh_documented_inactive_accounts": ["KIOSK"]}
    assert verdict("WN22-00-000190", accounts, documented).status is Status.NOT_A_FINDING


@pytest.mark.parametrize(("on_host", "documented"), [
    ("\u212aiosk", "kiosk"),    # KELVIN SIGN: casefold() makes it k, Windows never does
    ("\u017fcan", "scan"),      # LONG S: casefold() makes it s
    ("kiosk", "\u212aIOSK"),    # and the other way round
])
def test_inventory_names_match_accounts_as_windows_folds_them_ascii_only(on_host, documented):
    """An account Windows keeps apart from the documented one is not excluded by its name:
    the never-used look-alike stays a finding."""
    accounts = [*BUILT_IN, account(on_host, 1030, None)]
    result = verdict("WN22-00-000190", accounts,
                     {"cwh_documented_inactive_accounts": [documented]})
    assert result.status is Status.OPEN and on_host in result.reason
    # the application account list is matched the same way: the look-alike is not svc-backup
    svc = account("\u017fvc-backup", 1017, password_last_set="2024-06-15T00:00:00.0000000Z")
    listed = verdict("WN22-00-000060", [*BUILT_IN, svc])
    assert listed.status is Status.NOT_REVIEWED and "svc-backup (in cwh_application_accounts) " \
        "is not an account" in listed.reason
    # ... while ASCII case is folded, as Windows folds it
    assert verdict("WN22-00-000190", [*BUILT_IN, account("kiosk", 1030, None)],
                   {"cwh_documented_inactive_accounts": ["KIOSK"]}).status is \
        Status.NOT_A_FINDING
    assert verdict("WN22-00-000060", [*BUILT_IN, account("SVC-Backup", 1017)]).status is \
        Status.NOT_A_FINDING


def test_a_last_logon_that_could_not_be_read_is_unknown_and_never_a_pass():
    unreadable = account("jdoe", 1012, None, never_logged_on=None,
                         error="ADSI (WinNT) failed: Access is denied.")
    result = verdict("WN22-00-000190", [*BUILT_IN, unreadable])
    assert result.status is Status.NOT_REVIEWED and "Access is denied" in result.reason
    future = account("jdoe", 1012, "2027-06-01T00:00:00.0000000Z")
    assert verdict("WN22-00-000190", [*BUILT_IN, future]).status is Status.NOT_REVIEWED
    # ... while another account already failing keeps the rule Open
    both = [*BUILT_IN, unreadable, account("adm-jdoe", 1011, None)]
    assert verdict("WN22-00-000190", both).status is Status.OPEN


def test_password_required_and_password_expires():
    scan = account("scan", 1015, password_required=False)
    assert verdict("WN22-00-000200", BUILT_IN).status is Status.NOT_A_FINDING  # Guest disabled
    assert verdict("WN22-00-000200", [*BUILT_IN, scan]).status is Status.OPEN
    admin = account("Administrator", 500, password_expires=False)
    assert verdict("WN22-00-000210", [admin]).status is Status.OPEN
    svc = account("svc-backup", 1017, password_expires=False)
    assert verdict("WN22-00-000210", [*BUILT_IN, svc]).status is Status.NOT_A_FINDING
    garbled = account("jdoe", 1012, password_expires="True")
    assert verdict("WN22-00-000210", [*BUILT_IN, garbled]).status is Status.NOT_REVIEWED


def test_password_ages_from_the_hosts_own_clock():
    old = account("Administrator", 500, password_last_set="2026-09-01T00:00:00.0000000Z")
    assert verdict("WN22-00-000020", [old]).status is Status.OPEN
    assert verdict("WN22-00-000020", BUILT_IN).status is Status.NOT_A_FINDING
    missing = verdict("WN22-00-000020", [account("jdoe", 1012)])  # no RID 500: DISA's finding
    assert missing.status is Status.OPEN
    unknown = account("Administrator", 500, password_last_set=None)
    assert verdict("WN22-00-000020", [unknown]).status is Status.NOT_REVIEWED
    no_clock = verdict("WN22-00-000020", BUILT_IN, collected_at="yesterday")
    assert no_clock.status is Status.NOT_REVIEWED and "when it was read" in no_clock.reason


def test_application_accounts_need_a_yearly_password_or_none_exists():
    svc = account("svc-backup", 1017, password_last_set="2024-06-15T00:00:00.0000000Z")
    assert verdict("WN22-00-000060", [*BUILT_IN, svc]).status is Status.OPEN
    fresh = account("svc-backup", 1017)
    assert verdict("WN22-00-000060", [*BUILT_IN, fresh]).status is Status.NOT_A_FINDING
    none = verdict("WN22-00-000060", BUILT_IN, {"cwh_application_accounts": []})
    assert none.status is Status.NOT_APPLICABLE and "NA" in none.reason
    # a listed account this host does not have cannot be judged here (a domain account?)
    listed = verdict("WN22-00-000060", BUILT_IN)
    assert listed.status is Status.NOT_REVIEWED and "svc-backup" in listed.reason
    required = judge_rule(WS2022.by_stig_id("WN22-00-000060"), facts(BUILT_IN), {})
    assert required.status is Status.NOT_REVIEWED and "cwh_application_accounts" in \
        required.reason


@pytest.mark.parametrize(("section", "why"), [
    ({"truncated": True}, "incomplete"), ({"truncated": None}, "incomplete"),
    ({"accounts": []}, "no accounts"), ({"accounts": [{"name": "x"}]}, "without a name or SID"),
])
def test_an_account_list_that_cannot_be_trusted(section, why):
    result = verdict("WN22-00-000200", BUILT_IN, **section)
    assert result.status is Status.NOT_REVIEWED and why in result.reason


def test_a_failed_accounts_section_is_unknown():
    document = facts(BUILT_IN).document
    document["sections"]["local_accounts"] = {"ok": False, "error": 'Invalid class "Win32_UserA'
                                                                  'ccount"'}
    result = judge_rule(WS2022.by_stig_id("WN22-00-000200"), HostFacts("h", document), INPUTS)
    assert result.status is Status.NOT_REVIEWED and "Invalid class" in result.reason


def test_domain_controller_accounts_smartcards_and_krbtgt():
    dc = {"domain_role": 5, "computer_name": "DC1"}
    users = [account("Administrator", 500, smartcard_required=True),
             account("krbtgt", 502, None, disabled=True, smartcard_required=False,
                     password_last_set="2026-01-01T00:00:00.0000000Z")]
    document = facts(users).document
    document["sections"]["identity"]["data"] = dc
    rule = WS2022.by_stig_id("WN22-DC-000310")
    assert judge_rule(rule, HostFacts("h", document), INPUTS).status is Status.NOT_A_FINDING
    krbtgt = judge_rule(WS2022.by_stig_id("WN22-DC-000430"), HostFacts("h", document), INPUTS)
    assert krbtgt.status is Status.OPEN and "krbtgt" in krbtgt.reason


# --- group members ------------------------------------------------------------------------

def group(sid: str, members: list[dict[str, Any]], name: str = "BUILTIN\\Administrators",
          **changes: Any) -> dict[str, Any]:
    return {"sid": sid, "name": name, "error": None, "members": members, **changes}


def member(name: str | None, rid: int, object_class: str = "User") -> dict[str, Any]:
    return {"name": name and f"SC-HARDENED\\{name}", "sid": f"{MACHINE}-{rid}",
            "resolved": name is not None, "object_class": object_class,
            "principal_source": None}


def members_verdict(stig_id: str, groups: list[dict[str, Any]], inputs: dict | None = None,
                    identity: dict | None = None):
    document = facts(BUILT_IN, groups).document
    document["sections"]["identity"]["data"].update(identity or {})
    return judge_rule(WS2022.by_stig_id(stig_id), HostFacts("h", document),
                      {**INPUTS, **(inputs or {})})


ADMINS = "S-1-5-32-544"


def test_administrators_holds_only_the_built_in_administrator_and_the_approved():
    approved = [member("Administrator", 500), member("adm-jdoe", 1011)]
    assert members_verdict("WN22-MS-000010", [group(ADMINS, approved)]).status is \
        Status.NOT_A_FINDING
    extra = members_verdict("WN22-MS-000010", [group(ADMINS, [*approved,
                                                              member("jdoe", 1012)])])
    assert extra.status is Status.OPEN and "jdoe" in extra.reason


def test_the_built_in_administrator_is_allowed_by_sid_once_the_machine_sid_is_known():
    renamed = [member("root", 500)]  # renamed, as the STIG requires: allowed by its RID
    unknown = members_verdict("WN22-MS-000010", [group(ADMINS, renamed)],
                              {"cwh_approved_admins": []})
    assert unknown.status is Status.NOT_REVIEWED  # the machine SID was not collected
    known = members_verdict("WN22-MS-000010", [group(ADMINS, renamed)],
                            {"cwh_approved_admins": []}, {"machine_sid": MACHINE})
    assert known.status is Status.NOT_A_FINDING
    # a member of another RID cannot be the built-in Administrator, machine SID or not
    other = members_verdict("WN22-MS-000010", [group(ADMINS, [member("jdoe", 1012)])],
                            {"cwh_approved_admins": []})
    assert other.status is Status.OPEN


def test_an_orphaned_member_is_not_approved_by_any_name():
    orphan = {"name": None, "sid": "S-1-5-21-99-98-97-1104", "resolved": False,
              "object_class": "User", "principal_source": None}
    result = members_verdict("WN22-MS-000010", [group(ADMINS, [member("Administrator", 500),
                                                               orphan])])
    assert result.status is Status.OPEN and "(unresolved)" in result.reason


def test_a_bare_name_approves_only_the_local_account():
    foreign = {"name": "EVILCORP\\adm-jdoe", "sid": "S-1-5-21-5-6-7-1011", "resolved": True,
               "object_class": "User", "principal_source": None}
    result = members_verdict("WN22-MS-000010", [group(ADMINS, [member("Administrator", 500),
                                                               foreign])])
    assert result.status is Status.OPEN and "EVILCORP" in result.reason


def test_backup_operators_empty_is_na_and_unverified_members_are_open():
    operators = "S-1-5-32-551"
    empty = members_verdict("WN22-00-000040", [group(operators, [], "BUILTIN\\Backup Operators")])
    assert empty.status is Status.NOT_APPLICABLE and "no members" in empty.reason
    svc = [member("svc-backup", 1017)]
    unverified = members_verdict("WN22-00-000040", [group(operators, svc)])
    assert unverified.status is Status.OPEN
    verified = members_verdict("WN22-00-000040", [group(operators, svc)],
                               {"cwh_backup_operators": ["svc-backup"]})
    assert verified.status is Status.NOT_A_FINDING


@pytest.mark.parametrize(("groups", "why"), [
    ([], "was not in the collector's answer"),
    ([group(ADMINS, [], error="Some or all identity references could not be translated.")],
     "could not be read"),
    ([group(ADMINS, [{"name": "x"}])], "without a SID"),
    ([{"sid": ADMINS, "name": "BUILTIN\\Administrators", "error": None}], "no members field"),
])
def test_a_group_that_could_not_be_read_is_unknown(groups, why):
    result = members_verdict("WN22-MS-000010", groups)
    assert result.status is Status.NOT_REVIEWED and why in result.reason, result.reason


def test_domain_admins_on_a_member_server():
    domain = "S-1-5-21-7-8-9"
    admins = [member("Administrator", 500),
              {"name": "CORP\\Domain Admins", "sid": f"{domain}-512", "resolved": True,
               "object_class": "Group", "principal_source": None}]
    identity = {"domain_role": 3, "machine_sid": MACHINE, "domain_sid": domain}
    inputs = {"cwh_approved_admins": ["Administrator", "CORP\\Domain Admins"]}
    result = members_verdict("WN22-MS-000010", [group(ADMINS, admins)], inputs, identity)
    assert result.status is Status.OPEN and "Domain Admins" in result.reason
    no_domain_sid = {**identity, "domain_sid": None}
    unknown = members_verdict("WN22-MS-000010", [group(ADMINS, admins)], inputs, no_domain_sid)
    assert unknown.status is Status.NOT_REVIEWED
