"""cwh.parse.secedit: the INF `secedit /export /areas SECURITYPOLICY USER_RIGHTS` writes."""

from __future__ import annotations

import pytest

from cwh.parse.secedit import SeceditParseError, parse_inf
from tests.unit.helpers import inf_text

# As Windows Server 2019 writes it (UTF-16LE on disk; the collector hands over the text).
EXPORT = "\r\n".join([
    "[Unicode]",
    "Unicode=yes",
    "[System Access]",
    "MinimumPasswordAge = 1",
    "MaximumPasswordAge = 60",
    "MinimumPasswordLength = 14",
    "PasswordComplexity = 1",
    "PasswordHistorySize = 24",
    "LockoutBadCount = 3",
    "ResetLockoutCount = 15",
    "LockoutDuration = 15",
    "RequireLogonToChangePassword = 0",
    "ForceLogoffWhenHourExpire = 0",
    'NewAdministratorName = "Administrator"',
    'NewGuestName = "Gast"',
    "ClearTextPassword = 0",
    "LSAAnonymousNameLookup = 0",
    "EnableAdminAccount = 1",
    "EnableGuestAccount = 0",
    "[Event Audit]",
    "AuditSystemEvents = 0",
    "AuditLogonEvents = 3",
    "AuditObjectAccess = 0",
    "[Registry Values]",
    r"MACHINE\System\CurrentControlSet\Control\Lsa\RestrictAnonymous=4,1",
    r"MACHINE\Software\Microsoft\Windows NT\CurrentVersion\Winlogon\LegalNoticeText=7,",
    r"MACHINE\Software\Microsoft\Windows\CurrentVersion\Policies\System\LegalNoticeCaption=1,"
    '"Authorized use only"',
    r"MACHINE\System\CurrentControlSet\Control\Print\Providers\LanMan Print Services\Servers"
    r"\AddPrinterDrivers=4,1",
    "[Privilege Rights]",
    "SeNetworkLogonRight = *S-1-1-0,*S-1-5-32-544,*S-1-5-32-545,*S-1-5-32-551",
    "SeBackupPrivilege = *S-1-5-32-544,*S-1-5-32-551",
    "SeServiceLogonRight = *S-1-5-80-0,svc-backup",
    "SeInteractiveLogonRight = Gast,*S-1-5-32-544",
    "SeDenyNetworkLogonRight = ",
    "SeDenyBatchLogonRight =",
    "[Version]",
    'signature="$CHICAGO$"',
    "Revision=1",
    "",
])


def test_system_access_values() -> None:
    policy = parse_inf(EXPORT)
    assert policy.value("System Access", "MinimumPasswordLength") == "14"
    assert policy.value("System Access", "PasswordComplexity") == "1"
    assert policy.value("System Access", "NewAdministratorName") == '"Administrator"'
    assert policy.value("System Access", "NewGuestName") == '"Gast"'


def test_lookups_are_case_insensitive() -> None:
    policy = parse_inf(EXPORT)
    assert policy.value("system access", "minimumpasswordlength") == "14"
    assert policy.right("senetworklogonright")[0] == "S-1-1-0"


def test_absent_line_is_none() -> None:
    assert parse_inf(EXPORT).value("System Access", "MinimumPasswordLengthAudit") is None


def test_other_sections_are_kept() -> None:
    policy = parse_inf(EXPORT)
    assert policy.value("Event Audit", "AuditLogonEvents") == "3"
    registry = policy.sections["Registry Values"]
    assert registry[r"MACHINE\System\CurrentControlSet\Control\Lsa\RestrictAnonymous"] == "4,1"
    assert registry[r"MACHINE\Software\Microsoft\Windows NT\CurrentVersion\Winlogon"
                    r"\LegalNoticeText"] == "7,"
    assert registry[r"MACHINE\System\CurrentControlSet\Control\Print\Providers\LanMan Print "
                    r"Services\Servers\AddPrinterDrivers"] == "4,1"
    assert registry[r"MACHINE\Software\Microsoft\Windows\CurrentVersion\Policies\System"
                    r"\LegalNoticeCaption"] == '1,"Authorized use only"'
    assert policy.value("Version", "signature") == '"$CHICAGO$"'


def test_rights_with_sids_and_names() -> None:
    policy = parse_inf(EXPORT)
    assert policy.right("SeNetworkLogonRight") == ["S-1-1-0", "S-1-5-32-544", "S-1-5-32-545",
                                                   "S-1-5-32-551"]
    assert policy.right("SeServiceLogonRight") == ["S-1-5-80-0", "svc-backup"]
    assert policy.right("SeInteractiveLogonRight") == ["Gast", "S-1-5-32-544"]


def test_right_with_empty_value_is_assigned_to_no_one() -> None:
    policy = parse_inf(EXPORT)
    assert policy.right("SeDenyNetworkLogonRight") == []
    assert policy.value("Privilege Rights", "SeDenyNetworkLogonRight") == ""
    assert policy.right("SeDenyBatchLogonRight") == []


def test_absent_right_is_assigned_to_no_one() -> None:
    policy = parse_inf(EXPORT)
    assert policy.right("SeTcbPrivilege") == []
    assert policy.value("Privilege Rights", "SeTcbPrivilege") is None


def test_missing_privilege_rights_section_is_an_error() -> None:
    truncated = EXPORT.split("[Privilege Rights]")[0] + "[Version]\r\nRevision=1\r\n"
    with pytest.raises(SeceditParseError, match=r"no \[Privilege Rights\] section"):
        parse_inf(truncated)


def test_missing_system_access_section_is_an_error() -> None:
    head, tail = EXPORT.split("[System Access]")
    without = head + "[Event Audit]" + tail.split("[Event Audit]", 1)[1]
    assert "[System Access]" not in without
    with pytest.raises(SeceditParseError, match=r"no \[System Access\] section"):
        parse_inf(without)


def test_required_sections_can_be_narrowed() -> None:
    truncated = EXPORT.split("[Privilege Rights]")[0]
    policy = parse_inf(truncated, required=("System Access",))
    assert policy.value("System Access", "PasswordComplexity") == "1"
    with pytest.raises(SeceditParseError):
        policy.right("SeTcbPrivilege")  # the section is not there: not "no one"


@pytest.mark.parametrize("text", ["", "   \r\n\r\n", "\t"])
def test_empty_text_is_an_error(text: str) -> None:
    with pytest.raises(SeceditParseError, match="empty"):
        parse_inf(text)


@pytest.mark.parametrize("text", [
    "Access is denied.\r\n",
    "Task is completing.\r\nAn extended error has occurred.\r\n",
    "#< CLIXML\r\n<Objs Version=\"1.1.0.1\"></Objs>\r\n",
    "MinimumPasswordLength = 14\r\n",  # an entry outside any section
    "[System Access]\r\nthis line has no equals sign\r\n",
])
def test_non_inf_text_is_an_error(text: str) -> None:
    with pytest.raises(SeceditParseError, match="not INF syntax"):
        parse_inf(text)


def test_ini_without_unicode_or_version_is_not_a_secedit_export() -> None:
    with pytest.raises(SeceditParseError, match="not a secedit export"):
        parse_inf("[System Access]\r\nMinimumPasswordLength = 14\r\n[Privilege Rights]\r\n")


def test_bom_is_ignored() -> None:
    policy = parse_inf("\ufeff" + EXPORT)
    assert "Unicode" in policy.sections
    assert policy.value("Unicode", "Unicode") == "yes"


def test_bom_alone_is_an_error() -> None:
    with pytest.raises(SeceditParseError):
        parse_inf("\ufeff")


def test_lf_line_endings_and_comments() -> None:
    text = "; exported by hand\n" + EXPORT.replace("\r\n", "\n")
    assert parse_inf(text).value("System Access", "LockoutBadCount") == "3"


def test_helper_export_is_a_valid_export() -> None:
    policy = parse_inf(inf_text({"MinimumPasswordLength": 9}, {"SeTcbPrivilege": "*S-1-5-18"}))
    assert policy.value("System Access", "MinimumPasswordLength") == "9"
    assert policy.right("SeTcbPrivilege") == ["S-1-5-18"]


# --- contradictions and garbage (each once read as a value) -----------------------------------

def _export(*lines: str) -> str:
    return "\r\n".join(["[Unicode]", "Unicode=yes", "[System Access]", *lines,
                        "[Privilege Rights]", "SeBackupPrivilege = *S-1-5-32-544",
                        "[Version]", 'signature="$CHICAGO$"', ""])


@pytest.mark.parametrize("second", ["MinimumPasswordLength = 14", "minimumpasswordlength = 14",
                                    "MINIMUMPASSWORDLENGTH=14"])
def test_a_key_given_two_values_is_a_contradiction_with_its_lines(second: str) -> None:
    policy = parse_inf(_export("MinimumPasswordLength = 0", second, "PasswordComplexity = 1"))
    with pytest.raises(SeceditParseError, match="2 different values") as caught:
        policy.value("System Access", "MinimumPasswordLength")
    assert caught.value.lines == ("line 4: MinimumPasswordLength = 0", f"line 5: {second}")
    assert policy.value("System Access", "PasswordComplexity") == "1"  # the rest stands


def test_a_key_repeated_with_the_same_value_is_one_value() -> None:
    policy = parse_inf(_export("MinimumPasswordLength = 14", "MinimumPasswordLength=14"))
    assert policy.value("System Access", "MinimumPasswordLength") == "14"


def test_a_section_repeated_in_another_case_is_one_section() -> None:
    policy = parse_inf(_export("MinimumPasswordLength = 14") +
                       "[system access]\r\nMinimumPasswordLength = 0\r\n")
    assert len([n for n in policy.sections if n.lower() == "system access"]) == 1
    with pytest.raises(SeceditParseError, match="contradictory"):
        policy.value("System Access", "MinimumPasswordLength")


def test_a_right_given_two_values_is_a_contradiction() -> None:
    policy = parse_inf(inf_text(privilege_rights={"SeTcbPrivilege": ""}) +
                       "[Privilege Rights]\r\nSeTcbPrivilege = *S-1-1-0\r\n")
    with pytest.raises(SeceditParseError, match="contradictory"):
        policy.right("SeTcbPrivilege")


@pytest.mark.parametrize("value", [", ,", ",", "*S-1-5-32-544,", ",*S-1-5-32-544", "*",
                                   "*S-1-5-32-544,,Gast", "*Administrators", "*S-1-5-32-5_44",
                                   "*S-1-5-32-\u0665\u0664\u0664"])
def test_a_right_that_is_not_a_list_of_accounts_is_garbage(value: str) -> None:
    policy = parse_inf(inf_text(privilege_rights={"SeTcbPrivilege": value}))
    with pytest.raises(SeceditParseError, match="not a list of accounts") as caught:
        policy.right("SeTcbPrivilege")
    assert caught.value.lines == (f"SeTcbPrivilege = {value}",)
