"""cwh.convert.acl and acl_parse: permission tables, icacls output, and the objects."""

from __future__ import annotations

import pytest

from cwh.convert import acl
from cwh.convert.acl_parse import FILE_RIGHTS, canonical, icacls_ace, list_aces, table_ace
from cwh.convert.applicability import read_applicability
from cwh.convert.principals import TRUSTED_INSTALLER
from cwh.convert.result import Refusal
from tests.convert.phrasings import edited, text

USERS = {"sid": "S-1-5-32-545", "name": "Users"}


def test_a_table_line() -> None:
    assert table_ace("Users - Create files/write data - Subfolders only") == {
        "principal": USERS, "rights": "CreateFiles", "type": "Allow",
        "applies_to": "subfolders_only"}
    assert table_ace("Server Operators - Read - This Key and subkeys (Domain controllers only)")[
        "roles"] == ["dc"]
    with pytest.raises(Refusal):
        table_ace("Users - Read - This folder and its neighbours")


def test_icacls_lines() -> None:
    assert icacls_ace(r"BUILTIN\Users:(CI)(IO)(WD)", container=True) == {
        "principal": USERS, "rights": "CreateFiles", "type": "Allow",
        "applies_to": "subfolders_only"}
    assert icacls_ace(r"BUILTIN\Users:(OI)(CI)(IO)(GR,GE)", container=True)["rights"] == \
        "ReadAndExecute"
    assert icacls_ace(r"BUILTIN\Administrators:(M,WDAC,WO)", container=True)["rights"] == \
        ["Modify", "ChangePermissions", "TakeOwnership"]
    assert icacls_ace(r"NT AUTHORITY\SYSTEM:(I)(F)", container=False) == {
        "principal": {"sid": "S-1-5-18", "name": "SYSTEM"}, "rights": "FullControl",
        "type": "Allow", "inherited": True}
    with pytest.raises(Refusal):
        icacls_ace(r"BUILTIN\Users:(NP)(RX)", container=True)


def test_a_list_line_with_several_principals() -> None:
    aces = list_aces("Administrators, SYSTEM, Users - Read & Execute")
    assert [a["principal"]["sid"] for a in aces] == ["S-1-5-32-544", "S-1-5-18", "S-1-5-32-545"]


def test_table_and_icacls_reduce_to_the_same_form() -> None:
    table = [table_ace("TrustedInstaller - Full control - This folder and subfolders")]
    icacls = [icacls_ace(r"NT SERVICE\TrustedInstaller:(F)", True),
              icacls_ace(r"NT SERVICE\TrustedInstaller:(CI)(IO)(F)", True)]
    assert canonical(table, FILE_RIGHTS) == canonical(icacls, FILE_RIGHTS)


def run(recogniser, ct) -> list[dict]:
    read_applicability(ct)
    found = recogniser(ct)
    assert found is not None
    assert ct.unread_conditions() == []
    return found.checks


def test_system_drive() -> None:
    [check] = run(acl.directory_checks, text("WN22-00-000140"))
    assert (check["target"], check["path"], check["mode"]) == ("directory", "%SystemDrive%\\",
                                                                "at_most")
    assert len(check["aces"]) == 6


def test_program_files_are_two_directories() -> None:
    checks = run(acl.directory_checks, text("WN19-00-000150"))
    assert [c["path"] for c in checks] == ["%ProgramFiles%", "%ProgramFiles(x86)%"]


def test_table_and_icacls_disagreeing_is_refused() -> None:
    ct = edited("WN22-00-000160", r"BUILTIN\Users:(RX)", r"BUILTIN\Users:(M)")
    with pytest.raises(Refusal, match="disagree"):
        run(acl.directory_checks, ct)


def test_hklm_keys_with_an_access_disa_calls_special_are_refused() -> None:
    # HKLM\SECURITY lists Administrators as "Special": no rights named, so "as restrictive as
    # the default" cannot be judged (Full Control would fit any upper bound we chose)
    ct = text("WN22-00-000170")
    read_applicability(ct)
    with pytest.raises(Refusal, match="Special"):
        acl.hklm_checks(ct)
    with pytest.raises(Refusal, match="Special"):
        table_ace("Administrators - Special - This key and subkeys")


def test_hklm_keys() -> None:
    # the same text with the Special line named as a right: the three keys are read
    ct = edited("WN22-00-000170", "Administrators - Special - This key and subkeys",
                "Administrators - Read - This key and subkeys")
    checks = run(acl.hklm_checks, ct)
    assert [c["path"] for c in checks] == ["HKLM\\SECURITY", "HKLM\\SOFTWARE", "HKLM\\SYSTEM"]
    system = checks[2]["aces"]
    assert any(a.get("roles") == ["dc"] for a in system)
    assert any(a["principal"]["sid"].startswith("S-1-15-3-1024-") for a in system)
    assert not any(a["principal"]["sid"].startswith("S-1-15-3-") for a in checks[0]["aces"])


def test_event_log_file_where_the_service_keeps_it() -> None:
    [check] = run(acl.event_log_checks, text("WN22-AU-000040"))
    assert check["path"].endswith("Security.evtx")
    assert check["path_from_registry"]["name"] == "File"
    assert {a["principal"]["name"] for a in check["aces"]} == {"Eventlog", "SYSTEM",
                                                               "Administrators"}


def test_event_viewer_holders() -> None:
    [check] = run(acl.event_viewer_checks, text("WN22-AU-000060"))
    assert (check["mode"], check["rights"]) == ("holders", "Modify")
    assert check["principals"] == [{"sid": TRUSTED_INSTALLER, "name": "TrustedInstaller"}]


def test_ad_database_files() -> None:
    [check] = run(acl.ntds_checks, text("WN22-DC-000070"))
    assert check["target"] == "directory_files"
    assert [p["name"] for p in check["paths_from_registry"]] == ["DSA Database file",
                                                                "Database log files path"]
    assert all(a["inherited"] for a in check["aces"])


def test_sysvol() -> None:
    [check] = run(acl.sysvol_checks, text("WN16-DC-000080"))  # lists one line twice
    assert check["path_from_share"] == {"name": "SYSVOL", "use": "parent"}
    administrators = [a for a in check["aces"] if a["principal"]["sid"] == "S-1-5-32-544"]
    assert len(administrators) == 2
