"""cwh.judge.accounts and attestation: the manual account controls, automated where they can be,
with the evidence attached and never a pass on an unreliable answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cwh.collect.facts import HostFacts
from cwh.errors import ConfigError
from cwh.judge.accounts import (
    Match,
    is_approved,
    judge_internet_use,
    judge_member,
    judge_separate_admin_accounts,
)
from cwh.judge.attestation import attestation_for, check_attestations, parse_attestation
from cwh.judge.verdict import Status
from cwh.lab.image import load_image
from tests.unit.helpers import control, facts, failed, image, image_facts, ok

ACCT01 = control("CWH-ACCT-01")
ACCT02 = control("CWH-ACCT-02")
TODAY = dt.date(2026, 11, 27)
DOM = "S-1-5-21-3623811015-3361044348-30300820"

ADMINISTRATOR = {"name": "SC01\\Administrator", "sid": f"{DOM}-500", "object_class": "User",
                 "principal_source": "Local", "resolved": True}
ADM_JDOE = {"name": "CORP\\adm-jdoe", "sid": "S-1-5-21-111-222-333-4101",
            "object_class": "User", "principal_source": "ActiveDirectory", "resolved": True}
JDOE = {"name": "CORP\\jdoe", "sid": "S-1-5-21-111-222-333-4102", "object_class": "User",
        "principal_source": "ActiveDirectory", "resolved": True}
ORPHAN = {"name": None, "sid": "S-1-5-21-111-222-333-1105", "object_class": "User",
          "principal_source": None, "resolved": False}


def admins(*members: dict[str, Any], method: str = "Get-LocalGroupMember",
           members_value: Any = ...) -> dict[str, Any]:
    return ok({"group_sid": "S-1-5-32-544", "group_name": "BUILTIN\\Administrators",
               "method": method, "note": None,
               "members": list(members) if members_value is ... else members_value})


def identity(computer_name: Any = "SC01") -> dict[str, Any]:
    return ok({"computer_name": computer_name, "dns_host_name": "sc01", "domain": "corp.example",
               "part_of_domain": True, "domain_role": 3})


def acct01(*members: dict[str, Any], inputs: dict[str, Any] | None = None,
           computer_name: Any = "SC01", **kwargs: Any):
    sections = {"local_admins": admins(*members, **kwargs)}
    if computer_name is not ...:
        sections["identity"] = identity(computer_name)
    return judge_separate_admin_accounts(ACCT01, facts(**sections), inputs or {}, today=TODAY)


# --- CWH-ACCT-01 ----------------------------------------------------------------------------

@pytest.mark.parametrize("approved", [
    ["Administrator", "CORP\\adm-jdoe"],  # a bare name: the local account
    ["SC01\\Administrator", "CORP\\adm-jdoe"],
    ["sc01\\ADMINISTRATOR", "corp\\ADM-JDOE"],
    [f"{DOM}-500", "S-1-5-21-111-222-333-4101"],
])
def test_every_member_approved_passes(approved: list[str]) -> None:
    verdict = acct01(ADMINISTRATOR, ADM_JDOE, inputs={"cwh_approved_admins": approved})
    assert verdict.status is Status.NOT_A_FINDING
    assert verdict.observed.startswith("2 members, all approved")
    assert "CORP\\adm-jdoe [S-1-5-21-111-222-333-4101]" in verdict.evidence[0].observed
    assert "local Administrators (S-1-5-32-544)" in verdict.evidence[0].source


def test_approved_by_pattern() -> None:
    verdict = acct01(ADM_JDOE, {**ADM_JDOE, "name": "CORP\\ADM-asmith", "sid": "S-1-5-21-9"},
                     inputs={"cwh_admin_name_pattern": "adm-[a-z]+"})
    assert verdict.status is Status.NOT_A_FINDING
    assert verdict.expected == "every account name matches adm-[a-z]+"


def test_pattern_must_match_the_whole_account_name() -> None:
    verdict = acct01({**JDOE, "name": "CORP\\jdoe-adm-old"},
                     inputs={"cwh_admin_name_pattern": "adm-.*"})
    assert verdict.status is Status.OPEN


def test_unapproved_member_is_open_and_named() -> None:
    verdict = acct01(ADMINISTRATOR, ADM_JDOE, JDOE,
                     inputs={"cwh_approved_admins": ["Administrator"],
                             "cwh_admin_name_pattern": "adm-.*"})
    assert verdict.status is Status.OPEN
    assert verdict.observed == "not approved: CORP\\jdoe [S-1-5-21-111-222-333-4102]"
    assert verdict.expected == ("every member is in cwh_approved_admins or every account name "
                                "matches adm-.*")
    assert "Administrator" in verdict.evidence[0].observed  # the whole list is evidence
    assert "jdoe" in verdict.evidence[0].raw


def test_domain_qualified_approval_does_not_approve_another_domain() -> None:
    verdict = acct01({**ADM_JDOE, "name": "OTHER\\adm-jdoe", "sid": "S-1-5-21-5-5-5-1"},
                     inputs={"cwh_approved_admins": ["CORP\\adm-jdoe"]})
    assert verdict.status is Status.OPEN


def test_nothing_declared_is_not_reviewed_with_the_member_list() -> None:
    verdict = acct01(ADMINISTRATOR, ADM_JDOE, JDOE)
    assert verdict.status is Status.NOT_REVIEWED
    assert verdict.error is False
    assert "no approved administrators declared" in verdict.reason
    [evidence] = verdict.evidence
    for member in (ADMINISTRATOR, ADM_JDOE, JDOE):
        assert f"{member['name']} [{member['sid']}]" in evidence.observed
    assert verdict.observed == evidence.observed


@pytest.mark.parametrize("members_value", [[], None])
def test_empty_member_list_is_unreliable(members_value: Any) -> None:
    """The group always has a member; PowerShell 5.1 sends an empty array as null."""
    verdict = acct01(members_value=members_value,
                     inputs={"cwh_approved_admins": ["Administrator"]})
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "no members" in verdict.reason


def test_single_member_as_scalar_is_read() -> None:
    verdict = acct01(members_value=ADMINISTRATOR, inputs={"cwh_approved_admins": ["Administrator"]})
    assert verdict.status is Status.NOT_A_FINDING
    assert verdict.observed.startswith("1 members, all approved")


def test_orphaned_sid_is_unapproved() -> None:
    verdict = acct01(ADMINISTRATOR, ORPHAN, method="ADSI",
                     inputs={"cwh_approved_admins": ["Administrator"],
                             "cwh_admin_name_pattern": ".*"})
    assert verdict.status is Status.OPEN
    assert verdict.observed == "not approved: (unresolved) [S-1-5-21-111-222-333-1105]"


def test_orphaned_sid_approved_by_its_sid() -> None:
    verdict = acct01(ADMINISTRATOR, ORPHAN, method="ADSI",
                     inputs={"cwh_approved_admins": ["Administrator", ORPHAN["sid"]]})
    assert verdict.status is Status.NOT_A_FINDING
    assert '"method": "ADSI"' in verdict.evidence[0].raw


def test_is_approved_never_matches_empty_names() -> None:
    assert not is_approved({"name": None, "sid": None}, ["Administrator"], None)
    assert not is_approved({"name": "", "sid": ""}, ["Administrator"], ".*")
    assert not is_approved(ORPHAN, [""], None)  # an empty entry approves nobody


# --- whose account is it: bare names, full names, SIDs, groups --------------------------------

EVIL_AUDITOR = {"name": "EVILCORP\\auditor", "sid": "S-1-5-21-7-7-7-1013", "object_class": "User",
                "principal_source": "ActiveDirectory", "resolved": True}
LOCAL_AUDITOR = {"name": "SC01\\auditor", "sid": f"{DOM}-1013", "object_class": "User",
                 "principal_source": "Local", "resolved": True}
GROUP_ADMINISTRATOR = {"name": "TRUSTED\\Administrator", "sid": "S-1-5-21-8-8-8-1150",
                       "object_class": "Group", "principal_source": "ActiveDirectory",
                       "resolved": True}


def test_a_bare_name_does_not_approve_another_domains_account() -> None:
    verdict = acct01(LOCAL_AUDITOR, EVIL_AUDITOR, inputs={"cwh_approved_admins": ["auditor"]})
    assert verdict.status is Status.OPEN
    assert verdict.observed == (
        "not approved: EVILCORP\\auditor [S-1-5-21-7-7-7-1013] (from ActiveDirectory, not local: "
        "the bare name auditor approves only the local account)")


@pytest.mark.parametrize("source", [None, "", "Local"])
def test_a_bare_name_needs_the_computers_own_domain_part(source: Any) -> None:
    """The ADSI fallback gives no principal_source; a contradictory "Local" changes nothing:
    the domain part must be the computer name."""
    member = {**EVIL_AUDITOR, "principal_source": source}
    judged = judge_member(member, ["auditor"], None, "SC01")
    assert judged.match is Match.UNAPPROVED
    assert judged.how == ("an account of EVILCORP, not of SC01: the bare name auditor approves "
                          "only the local account")


def test_a_bare_name_is_the_local_account_in_any_case() -> None:
    member = {**LOCAL_AUDITOR, "name": "sc01\\AUDITOR", "principal_source": None}
    judged = judge_member(member, ["Auditor"], None, "SC01")
    assert judged.match is Match.APPROVED and judged.how == "local account, by name Auditor"


def test_a_member_without_a_domain_part_needs_its_sid() -> None:
    member = {**LOCAL_AUDITOR, "name": "auditor"}
    assert judge_member(member, ["auditor"], None, "SC01").match is Match.UNAPPROVED
    assert judge_member(member, [LOCAL_AUDITOR["sid"].lower()], None, "SC01").match is \
        Match.APPROVED


@pytest.mark.parametrize("approved", [["Administrator"], ["SC01\\Administrator"],
                                      [ADMINISTRATOR["sid"]]])
def test_a_group_is_not_the_account_whose_name_it_carries(approved: list[str]) -> None:
    verdict = acct01(ADMINISTRATOR, GROUP_ADMINISTRATOR, inputs={"cwh_approved_admins": approved})
    assert verdict.status is Status.OPEN
    assert verdict.observed.startswith("not approved: TRUSTED\\Administrator [S-1-5-21-8-8-8-1150]")
    assert "SC01\\Administrator" not in verdict.observed


def test_a_group_says_why_a_bare_name_did_not_approve_it() -> None:
    judged = judge_member(GROUP_ADMINISTRATOR, ["Administrator"], None, "SC01")
    assert judged.how == "a group: the bare name Administrator approves only a local account"


@pytest.mark.parametrize("object_class", ["Group", "group"])  # ADSI spells it its own way
@pytest.mark.parametrize("entry", ["trusted\\administrator", GROUP_ADMINISTRATOR["sid"]])
def test_a_group_is_approved_by_its_own_sid_or_full_name(object_class: str, entry: str) -> None:
    group = {**GROUP_ADMINISTRATOR, "object_class": object_class}
    assert judge_member(group, [entry], None, "SC01").match is Match.APPROVED


def test_the_naming_pattern_never_approves_a_group() -> None:
    group = {**GROUP_ADMINISTRATOR, "name": "CORP\\adm-admins"}
    verdict = acct01(ADM_JDOE, group, inputs={"cwh_admin_name_pattern": "adm-.*"})
    assert verdict.status is Status.OPEN
    assert verdict.observed.startswith("not approved: CORP\\adm-admins")


def test_a_pattern_with_a_domain_matches_the_whole_name() -> None:
    other = {**ADM_JDOE, "name": "OTHER\\adm-jdoe", "sid": "S-1-5-21-5-5-5-1"}
    inputs = {"cwh_admin_name_pattern": r"CORP\\adm-[a-z]+"}
    assert acct01(ADM_JDOE, inputs=inputs).status is Status.NOT_A_FINDING
    assert acct01(ADM_JDOE, other, inputs=inputs).status is Status.OPEN
    # without a domain part the pattern is about the account name, in any domain
    assert acct01(ADM_JDOE, other, inputs={"cwh_admin_name_pattern": "adm-.*"}).status is \
        Status.NOT_A_FINDING


@pytest.mark.parametrize("entry", ["SYSTEM", "NT AUTHORITY\\SYSTEM", "S-1-5-18"])
def test_built_in_principals_need_their_sid_or_full_name(entry: str) -> None:
    system = {"name": "NT AUTHORITY\\SYSTEM", "sid": "S-1-5-18", "object_class": "User",
              "principal_source": "Local", "resolved": True}
    expected = Match.UNAPPROVED if entry == "SYSTEM" else Match.APPROVED
    assert judge_member(system, [entry], None, "SC01").match is expected


@pytest.mark.parametrize("computer_name", [..., None, "", "  ", 7])
def test_without_the_computer_name_a_bare_name_cannot_approve(computer_name: Any) -> None:
    verdict = acct01(ADMINISTRATOR, inputs={"cwh_approved_admins": ["Administrator"]},
                     computer_name=computer_name)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert verdict.reason.startswith("cannot tell local from domain accounts: "
                                     f"SC01\\Administrator [{DOM}-500]")
    assert "gave no computer name" in verdict.reason
    assert verdict.evidence and verdict.expected == "every member is in cwh_approved_admins"


def test_without_the_computer_name_sids_and_full_names_still_decide() -> None:
    inputs = {"cwh_approved_admins": ["SC01\\Administrator", ADM_JDOE["sid"]]}
    assert acct01(ADMINISTRATOR, ADM_JDOE, inputs=inputs, computer_name=...).status is \
        Status.NOT_A_FINDING
    inputs = {"cwh_approved_admins": ["Administrator"]}
    verdict = acct01(ADMINISTRATOR, JDOE, inputs=inputs, computer_name=...)
    assert verdict.status is Status.OPEN  # jdoe is unapproved whatever the computer's name
    assert verdict.observed == "not approved: CORP\\jdoe [S-1-5-21-111-222-333-4102]"


def test_a_pass_says_how_each_member_was_approved() -> None:
    verdict = acct01(ADMINISTRATOR, ADM_JDOE, LOCAL_AUDITOR,
                     inputs={"cwh_approved_admins": ["Administrator", "CORP\\adm-jdoe",
                                                     LOCAL_AUDITOR["sid"]]})
    assert verdict.status is Status.NOT_A_FINDING
    assert verdict.observed == (
        f"3 members, all approved: SC01\\Administrator [{DOM}-500] (local account, by name "
        "Administrator); CORP\\adm-jdoe [S-1-5-21-111-222-333-4101] (by name CORP\\adm-jdoe); "
        f"SC01\\auditor [{DOM}-1013] (by SID {DOM}-1013)")


# --- an empty list approves nobody; no list means nothing declared ----------------------------

def test_an_empty_approved_list_approves_nobody() -> None:
    verdict = acct01(ADMINISTRATOR, ADM_JDOE, inputs={"cwh_approved_admins": []})
    assert verdict.status is Status.OPEN
    assert verdict.expected == "no member (cwh_approved_admins is empty: nobody is approved)"
    assert verdict.observed == (f"not approved: SC01\\Administrator [{DOM}-500]; "
                                "CORP\\adm-jdoe [S-1-5-21-111-222-333-4101]")


def test_an_empty_list_beside_a_pattern_leaves_the_pattern_to_approve() -> None:
    inputs = {"cwh_approved_admins": [], "cwh_admin_name_pattern": "adm-.*"}
    assert acct01(ADM_JDOE, inputs=inputs).status is Status.NOT_A_FINDING
    verdict = acct01(ADMINISTRATOR, ADM_JDOE, inputs=inputs)
    assert verdict.status is Status.OPEN
    assert verdict.expected == ("no member (cwh_approved_admins is empty: nobody is approved) or "
                                "every account name matches adm-.*")


def test_an_empty_list_is_not_answered_by_an_attestation() -> None:
    """Declared is declared: the assessor's answer is for lists nobody declared."""
    inputs = {"cwh_approved_admins": [], "cwh_attestations": {"CWH-ACCT-01": {
        "status": "NotAFinding", "by": "ISSO", "date": "2026-11-02"}}}
    assert acct01(ADMINISTRATOR, inputs=inputs).status is Status.OPEN


@pytest.mark.parametrize("inputs", [{}, {"cwh_approved_admins": None}])
def test_no_list_is_nothing_declared(inputs: dict[str, Any]) -> None:
    verdict = acct01(ADMINISTRATOR, inputs=inputs)
    assert verdict.status is Status.NOT_REVIEWED and not verdict.error
    assert "no approved administrators declared" in verdict.reason


@pytest.mark.parametrize("section", [
    failed("Group S-1-5-32-544 was not found."),
    ok(None),
    ok({"members": [ADMINISTRATOR]}),  # no group_sid: not the collector's shape
    ok([ADMINISTRATOR]),
])
def test_local_admins_failure_is_not_reviewed_with_error(section: dict[str, Any]) -> None:
    verdict = judge_separate_admin_accounts(
        ACCT01, facts(local_admins=section), {"cwh_approved_admins": ["Administrator"]},
        today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "could not read the local Administrators group" in verdict.reason


def test_local_admins_section_missing() -> None:
    verdict = judge_separate_admin_accounts(ACCT01, facts(), {"cwh_approved_admins": ["x"]},
                                            today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error


def test_lab_images() -> None:
    inputs = {"cwh_approved_admins": ["labadmin", "adm-jdoe", "auditor"]}  # inventory/lab.yml
    hardened = judge_separate_admin_accounts(ACCT01, image_facts(load_image("hardened")),
                                             inputs, today=TODAY)
    assert hardened.status is Status.NOT_A_FINDING
    for name in inputs["cwh_approved_admins"]:  # each the host's own local account
        assert f"SC-HARDENED\\{name} [" in hardened.observed
        assert f"(local account, by name {name})" in hardened.observed
    drifted = judge_separate_admin_accounts(ACCT01, image_facts(load_image("drifted")),
                                            inputs, today=TODAY)
    assert drifted.status is Status.OPEN
    assert "SC-DRIFTED\\jdoe" in drifted.observed and "svc-backup" in drifted.observed
    # drifted's built-in account keeps setup's name: not the organization's labadmin
    assert "SC-DRIFTED\\Administrator [" in drifted.observed
    assert "adm-jdoe" not in drifted.observed
    # Another host's namesakes are not this host's accounts.
    foreign = judge_separate_admin_accounts(ACCT01, image_facts(load_image("hardened")),
                                            {"cwh_approved_admins": ["SC-DRIFTED\\auditor"]},
                                            today=TODAY)
    assert foreign.status is Status.OPEN and "SC-HARDENED\\auditor" in foreign.observed


# --- CWH-ACCT-02 ----------------------------------------------------------------------------

def apps(installed: Any, profiles: Any) -> dict[str, Any]:
    return ok({"installed": installed, "profiles": profiles})


def test_internet_use_is_not_reviewed_with_evidence() -> None:
    host = facts(local_admins=admins(ADMINISTRATOR, ADM_JDOE), internet_apps=apps(
        [{"name": "Google Chrome", "version": "131.0", "publisher": "Google LLC"},
         {"name": "Mozilla Thunderbird", "version": "128.5", "publisher": "Mozilla"}],
        [{"sid": ADMINISTRATOR["sid"], "path": "C:\\Users\\Administrator",
          "browser_data": ["AppData\\Local\\Google\\Chrome\\User Data"]},
         {"sid": ADM_JDOE["sid"], "path": "C:\\Users\\adm-jdoe", "browser_data": []},
         {"sid": JDOE["sid"], "path": "C:\\Users\\jdoe",
          "browser_data": ["AppData\\Local\\Microsoft\\Outlook"]}]))
    verdict = judge_internet_use(ACCT02, host, {}, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED and not verdict.error
    assert "Google Chrome, Mozilla Thunderbird" in verdict.observed
    assert "C:\\Users\\Administrator (AppData\\Local\\Google\\Chrome\\User Data)" in \
        verdict.observed
    assert "jdoe" not in verdict.observed.replace("adm-jdoe", "")  # not an administrator
    installed, profiles = verdict.evidence
    assert installed.observed == "Google Chrome, Mozilla Thunderbird"
    assert profiles.observed == "C:\\Users\\Administrator"
    assert "adm-jdoe" in profiles.raw  # every admin profile is in the raw evidence


def test_internet_use_scalars_and_nulls() -> None:
    """One installed app arrives as an object; no profiles arrive as null."""
    host = facts(local_admins=admins(ADMINISTRATOR), internet_apps=apps(
        {"name": "Microsoft Edge", "version": "131.0", "publisher": "Microsoft"}, None))
    verdict = judge_internet_use(ACCT02, host, {}, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED
    assert "Internet applications installed: Microsoft Edge" in verdict.observed
    assert verdict.observed.endswith("browser or mail data: none")


def test_internet_use_on_the_drifted_image() -> None:
    verdict = judge_internet_use(ACCT02, image_facts(load_image("drifted")), {}, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED
    assert "Google Chrome" in verdict.observed
    assert "C:\\Users\\jdoe (" in verdict.observed  # jdoe is an administrator there


def test_internet_use_evidence_failure_is_not_reviewed_with_error() -> None:
    host = facts(local_admins=admins(ADMINISTRATOR), internet_apps=failed("Access denied"))
    verdict = judge_internet_use(ACCT02, host, {}, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "could not collect the evidence" in verdict.reason


# --- attestations -----------------------------------------------------------------------------

ATTESTED = {"status": "NotAFinding", "by": "J. Assessor", "date": dt.date(2026, 11, 1),
            "expires": dt.date(2027, 5, 1), "note": "AppLocker denies browsers to adm-* accounts"}


def _attested(entry: dict[str, Any], today: dt.date = TODAY):
    inputs = {"cwh_attestations": {"CWH-ACCT-02": entry}}
    host = image_facts(image("hardened"))
    return judge_internet_use(ACCT02, host, inputs, today=today)


def test_valid_attestation_sets_the_status_and_keeps_the_evidence() -> None:
    verdict = _attested(ATTESTED)
    assert verdict.status is Status.NOT_A_FINDING
    assert verdict.reason == ("attested by J. Assessor on 2026-11-01: AppLocker denies browsers "
                              "to adm-* accounts")
    assert len(verdict.evidence) == 3  # the collected evidence stays beside the attestation
    attestation = verdict.evidence[-1]
    assert attestation.source == "assessor attestation (inventory cwh_attestations)"
    assert attestation.observed == ("NotAFinding attested by J. Assessor on 2026-11-01, valid "
                                    "until 2027-05-01")
    assert "Microsoft Edge" in verdict.observed


def test_attestation_expiring_today_still_counts() -> None:
    assert _attested(ATTESTED, today=dt.date(2027, 5, 1)).status is Status.NOT_A_FINDING


def test_expired_attestation_keeps_the_original_status() -> None:
    verdict = _attested(ATTESTED, today=dt.date(2027, 5, 2))
    assert verdict.status is Status.NOT_REVIEWED
    assert "expired on 2027-05-01" in verdict.reason
    assert "J. Assessor" in verdict.reason
    assert verdict.evidence[-1].source.startswith("assessor attestation")


def test_attestation_of_open_and_iso_strings() -> None:
    verdict = _attested({"status": "Open", "by": "ISSO", "date": "2026-10-01"})
    assert verdict.status is Status.OPEN
    assert verdict.reason == "attested by ISSO on 2026-10-01"


def test_attestation_on_acct01_without_declared_admins() -> None:
    inputs = {"cwh_attestations": {"CWH-ACCT-01": {"status": "NotAFinding", "by": "ISSO",
                                                   "date": "2026-11-02"}}}
    verdict = judge_separate_admin_accounts(ACCT01, facts(local_admins=admins(ADMINISTRATOR)),
                                            inputs, today=TODAY)
    assert verdict.status is Status.NOT_A_FINDING
    assert verdict.evidence[0].observed.startswith("SC01\\Administrator")


def test_attestation_for_another_control_is_ignored() -> None:
    inputs = {"cwh_attestations": {"CWH-ACCT-01": ATTESTED}}
    verdict = judge_internet_use(ACCT02, image_facts(image("hardened")), inputs, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED
    assert attestation_for("CWH-ACCT-02", inputs) is None


@pytest.mark.parametrize(("raw", "fragment"), [
    ({**ATTESTED, "status": "Not_Reviewed"}, "status must be one of"),
    ({**ATTESTED, "status": "passed"}, "status must be one of"),
    ({k: v for k, v in ATTESTED.items() if k != "status"}, "status must be one of"),
    ({k: v for k, v in ATTESTED.items() if k != "by"}, "'by' (the assessor) is required"),
    ({**ATTESTED, "by": ""}, "'by' (the assessor) is required"),
    ({k: v for k, v in ATTESTED.items() if k != "date"}, "'date' is required"),
    ({**ATTESTED, "date": "01/11/2026"}, "date must be a date (YYYY-MM-DD), got '01/11/2026'"),
    ({**ATTESTED, "expires": "next year"}, "expires must be a date"),
    ({**ATTESTED, "reviewer": "x"}, "unknown field reviewer"),
    ({**ATTESTED, 5: "x", None: "y"}, "unknown field 5"),  # keys of mixed types
    ({**ATTESTED, "by": 42}, "'by' (the assessor) is required"),
    ("NotAFinding", "must be a mapping"),
])
def test_malformed_attestation_names_the_control(raw: Any, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_attestation("CWH-ACCT-02", raw)
    assert "attestation for CWH-ACCT-02" in str(caught.value)
    assert fragment in str(caught.value)


def test_an_attestation_is_not_applied_to_a_host_that_did_not_answer() -> None:
    inputs = {"cwh_attestations": {"CWH-ACCT-02": ATTESTED}}
    host = HostFacts.failed("sc01", "connection refused at 10.0.0.5:5986")
    verdict = judge_internet_use(ACCT02, host, inputs, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert verdict.reason == ("could not collect the evidence: connection refused at "
                              "10.0.0.5:5986; the attestation by J. Assessor (NotAFinding, "
                              "2026-11-01) is not applied: this host's evidence was not "
                              "collected")
    assert verdict.evidence[-1].source.startswith("assessor attestation")


@pytest.mark.parametrize("section", ["internet_apps", "local_admins"])
def test_an_attestation_is_not_applied_when_its_evidence_failed(section: str) -> None:
    sections = {"local_admins": admins(ADMINISTRATOR), "internet_apps": apps([], [])}
    sections[section] = failed("Access is denied")
    inputs = {"cwh_attestations": {"CWH-ACCT-02": ATTESTED}}
    verdict = judge_internet_use(ACCT02, facts(**sections), inputs, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "Access is denied" in verdict.reason and "is not applied" in verdict.reason


def test_an_acct01_attestation_is_not_applied_to_a_host_that_did_not_answer() -> None:
    inputs = {"cwh_attestations": {"CWH-ACCT-01": ATTESTED}}
    verdict = judge_separate_admin_accounts(ACCT01, HostFacts.failed("sc01", "timed out"),
                                            inputs, today=TODAY)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error


def test_an_attestation_dated_in_the_future_is_refused() -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    with pytest.raises(ValueError, match="date 2026-11-28 is in the future"):
        parse_attestation("CWH-ACCT-02", {**ATTESTED, "date": tomorrow}, today=TODAY)
    assert parse_attestation("CWH-ACCT-02", {**ATTESTED, "date": TODAY}, today=TODAY).date == \
        TODAY
    with pytest.raises(ValueError, match="in the future"):  # the judge refuses it too
        _attested({**ATTESTED, "date": tomorrow.isoformat()})


def test_an_attestation_expiring_before_its_date_is_refused() -> None:
    with pytest.raises(ValueError, match="expires 2026-10-31 is before its date 2026-11-01"):
        parse_attestation("CWH-ACCT-02", {**ATTESTED, "expires": "2026-10-31"})


@pytest.mark.parametrize("value", ["2026-02-30", "2026-11-1", 20261101, "20261101",
                                   "2026-W44-1", True, "\uff12\uff10\uff12\uff16-11-01", None])
def test_only_real_yyyy_mm_dd_dates_are_dates(value: Any) -> None:
    with pytest.raises(ValueError, match=r"date must be a date \(YYYY-MM-DD\)"):
        parse_attestation("CWH-ACCT-02", {**ATTESTED, "date": value})


def test_check_attestations_names_file_host_and_control() -> None:
    class Target:
        name = "sc01"
        vars = {"cwh_attestations": {"CWH-ACCT-01": {**ATTESTED},
                                     "CWH-ACCT-02": {**ATTESTED, "status": "Pass"}}}
    with pytest.raises(ConfigError) as caught:
        check_attestations("inv.yml", [Target()], TODAY)
    assert str(caught.value) == ("inventory inv.yml: host sc01: cwh_attestations: attestation "
                                 "for CWH-ACCT-02: status must be one of NotAFinding, Open, "
                                 "Not_Applicable")
    check_attestations("inv.yml", [], TODAY)


def test_malformed_attestation_stops_the_judge() -> None:
    with pytest.raises(ValueError, match="attestation for CWH-ACCT-02"):
        _attested({**ATTESTED, "status": "Pass"})


def test_timestamp_expiry_is_a_date() -> None:
    attestation = parse_attestation("CWH-ACCT-02", {**ATTESTED,
                                                    "expires": dt.datetime(2027, 5, 1, 12, 0)})
    assert not attestation.expired(TODAY)


# --- the review of issue 10, finding 5: names compared as Windows does ---------------------------
# Windows compares account names by upper-casing them (MS-SAMR 3.1.5.14: on a member server,
# uppercase per Unicode, then a byte comparison; .NET's OrdinalIgnoreCase and the NLS table
# behind it never map a non-ASCII letter onto an ASCII one). U+212A KELVIN SIGN stays U+212A
# there, U+017F LATIN SMALL LETTER LONG S is no 's'; Python's lower() maps the Kelvin sign to
# 'k', and re.IGNORECASE matches the long s with 's'. An attacker who can create accounts names
# one with such a letter, and it passed as the approved account.

KELVIN, LONG_S = "\u212a", "\u017f"


def _domain_user(name: str) -> dict[str, Any]:
    return {"name": name, "sid": "S-1-5-21-1-2-3-1111", "object_class": "User",
            "principal_source": "ActiveDirectory", "resolved": True}


@pytest.mark.parametrize("member, approved, pattern", [
    (_domain_user(f"CORP\\{KELVIN}admin"), ["CORP\\kadmin"], None),
    (_domain_user(f"CORP\\{KELVIN}admin"), ["CORP\\Kadmin"], None),
    ({**_domain_user(f"SC01\\{KELVIN}admin"), "principal_source": "Local"}, ["kadmin"], None),
    ({**_domain_user(f"SC01\\admini{LONG_S}trator"), "principal_source": "Local"},
     ["Administrator"], None),
    (_domain_user(f"CORP\\{LONG_S}vc-backdoor"), [], r"CORP\\svc-.*"),
    (_domain_user(f"CORP\\{LONG_S}vc-backdoor"), [], r"svc-.*"),
    (_domain_user(f"CORP\\{KELVIN}-admin"), [], r"[a-z]-admin"),
    # the member's domain part in another script of letters is another computer's account
    ({**_domain_user(f"SC0{KELVIN}\\kadmin"), "principal_source": "Local"}, ["kadmin"], None),
    # dotless i, and the dotted capital I, are not i
    ({**_domain_user("SC01\\adm\u0131n"), "principal_source": "Local"}, ["admin"], None),
    (_domain_user("CORP\\\u0130nfra"), ["CORP\\infra"], None),
])
def test_a_name_that_only_unicode_case_folding_makes_approved_is_not(member, approved,
                                                                    pattern) -> None:
    computer = "SC0K" if "SC0" + KELVIN in member["name"] else "SC01"
    judged = judge_member(member, approved, pattern, computer)
    assert judged.match is Match.UNAPPROVED, judged


@pytest.mark.parametrize("member, approved, pattern", [
    (_domain_user("CORP\\KADMIN"), ["corp\\kadmin"], None),      # ASCII: any case
    ({**_domain_user("sc01\\KAdmin"), "principal_source": "Local"}, ["kadmin"], None),
    (_domain_user("CORP\\SVC-backup"), [], r"corp\\svc-.*"),
    (_domain_user("CORP\\Müller"), ["CORP\\Müller"], None),      # written as Windows lists it
])
def test_names_windows_treats_as_the_same_still_approve(member, approved, pattern) -> None:
    assert judge_member(member, approved, pattern, "SC01").match is Match.APPROVED


def test_a_kelvin_sign_member_is_open_through_the_control() -> None:
    member = {**_domain_user(f"SC01\\{KELVIN}admin"), "principal_source": "Local"}
    verdict = acct01(ADMINISTRATOR, member, inputs={"cwh_approved_admins": ["Administrator",
                                                                            "kadmin"]})
    assert verdict.status is Status.OPEN and f"SC01\\{KELVIN}admin" in verdict.observed


# --- the review of issue 10, M6: the member's type, whatever the language --------------------
# Get-LocalGroupMember's ObjectClass is a resource string of the LocalAccounts module ("User",
# "Group", "Other"), translated on localized Windows ("Benutzer", "Gruppe"). The collector
# reports member_type from the module's own objects (locale-independent); the judge never takes
# a member whose type it cannot tell for a user account.

ADM_GROUP = {"name": "CORP\\adm-admins", "sid": "S-1-5-21-111-222-333-5100",
             "principal_source": "ActiveDirectory", "resolved": True}


@pytest.mark.parametrize("member", [
    {**ADM_GROUP, "object_class": "Gruppe"},                           # older collector
    {**ADM_GROUP, "object_class": "Gruppe", "member_type": "Group"},
    {**ADM_GROUP, "object_class": "Group", "member_type": "Group"},
    {**ADM_GROUP, "object_class": "Benutzer", "member_type": "Other"},
    {**ADM_GROUP, "object_class": None},
    {**ADM_GROUP, "object_class": "Benutzer", "member_type": "Group"},  # the type decides
])
def test_the_pattern_approves_only_members_known_to_be_user_accounts(member) -> None:
    judged = judge_member(member, [], "adm-.*", "SC01")
    assert judged.match is Match.UNAPPROVED, judged


@pytest.mark.parametrize("member", [
    {**LOCAL_AUDITOR, "object_class": "Benutzer"},
    {**LOCAL_AUDITOR, "object_class": "Gruppe", "member_type": "Group"},
])
def test_a_bare_name_approves_only_a_member_known_to_be_a_user_account(member) -> None:
    judged = judge_member(member, ["auditor"], None, "SC01")
    assert judged.match is Match.UNAPPROVED, judged
    assert "approves only a local account" in judged.how


@pytest.mark.parametrize("member", [
    {**ADM_JDOE, "object_class": "Benutzer", "member_type": "User"},
    {**ADM_JDOE, "member_type": "User"},
    ADM_JDOE,                                                           # English, no type
])
def test_a_user_account_in_any_language_is_approved_by_the_pattern(member) -> None:
    assert judge_member(member, [], "adm-.*", "SC01").match is Match.APPROVED


def test_sids_and_full_names_approve_a_member_of_any_type() -> None:
    member = {**ADM_GROUP, "object_class": "Gruppe"}
    assert judge_member(member, [ADM_GROUP["sid"]], None, "SC01").match is Match.APPROVED
    assert judge_member(member, ["CORP\\adm-admins"], None, "SC01").match is Match.APPROVED


# --- the review of issue 10, M1: attestation values that must stop the run ------------------

@pytest.mark.parametrize("value", [0, False, "", None, [], "0"])
def test_an_expires_that_is_no_date_is_refused_not_never(value: Any) -> None:
    """`expires: 0` (false, "") meant "never expires": raw.get("expires") was falsy."""
    with pytest.raises(ValueError, match=r"expires must be a date \(YYYY-MM-DD\)"):
        parse_attestation("CWH-ACCT-02", {**ATTESTED, "expires": value})


@pytest.mark.parametrize("expires", ["9999-12-31", "2027-11-02", dt.date(2030, 1, 1)])
def test_an_attestation_counts_for_a_year_at_most(expires: Any) -> None:
    with pytest.raises(ValueError, match="more than a year after its date 2026-11-01"):
        parse_attestation("CWH-ACCT-02", {**ATTESTED, "expires": expires})


def test_an_attestation_without_expires_ends_a_year_after_its_date() -> None:
    raw = {k: v for k, v in ATTESTED.items() if k != "expires"}
    attestation = parse_attestation("CWH-ACCT-02", raw)
    assert attestation.expires == dt.date(2027, 11, 1)
    assert not attestation.expired(dt.date(2027, 11, 1))
    assert attestation.expired(dt.date(2027, 11, 2))
    assert parse_attestation("CWH-ACCT-02", {**raw, "expires": "2027-11-01"}).expires == \
        dt.date(2027, 11, 1)
    leap = parse_attestation("CWH-ACCT-02", {**raw, "date": "2024-02-29"})
    assert leap.expires == dt.date(2025, 2, 28)


@pytest.mark.parametrize("control", ["CWH-GPO-01", "CWH-NET-05", "CWH-STIG-06"])
def test_an_attestation_for_an_automated_control_is_refused(control: str) -> None:
    """Only the manual controls apply attestations: one for CWH-GPO-01 was accepted and then
    silently ignored, so whoever wrote it believed it counted."""
    class Target:
        name = "sc01"
        vars = {"cwh_attestations": {control: {**ATTESTED}}}
    with pytest.raises(ConfigError) as caught:
        check_attestations("inv.yml", [Target()], TODAY)
    assert str(caught.value) == (
        f"inventory inv.yml: host sc01: cwh_attestations: {control} is an automated control: "
        "attestations answer only the manual ones (CWH-ACCT-01, CWH-ACCT-02)")
