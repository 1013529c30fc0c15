"""cwh/parse/auditpol.py on what auditpol really prints: the English and the German report (a
German WS2022's header, names and words), and the backup's [MS-GPAC] rows with options."""

from __future__ import annotations

import pytest

from cwh.parse.auditpol import AuditpolParseError, describe_setting, parse_backup, parse_report

CV = "{0CCE923F-69AE-11D9-BED3-505054503030}"
LOGON = "{0CCE9215-69AE-11D9-BED3-505054503030}"
ENGLISH = ("Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,"
           "Exclusion Setting\r\n\r\n"
           f"SC-X,System,Logon,{LOGON},Success and Failure,\r\n"
           f"SC-X,System,Credential Validation,{CV},No Auditing,\r\n")
GERMAN = ("Computername,Richtlinienziel,Unterkategorie,Unterkategorie-GUID,Aufnahmeeinstellung,"
          "Ausschlusseinstellung\r\n\r\n"
          f"SC-X,System,Anmelden,{LOGON},Erfolg und Fehler,\r\n"
          "SC-X,System,Plug &amp; Play-Ereignisse,{0CCE9248-69AE-11D9-BED3-505054503030},"
          "Keine Überwachung,\r\n")
BACKUP = ("Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,"
          "Exclusion Setting,Setting Value\r\n"
          f"SC-X,System,Audit Logon,{LOGON.lower()},Success and Failure,,3\r\n"
          f"SC-X,System,Audit Credential Validation,{CV.lower()},No Auditing,,0\r\n"
          "SC-X,,Option:CrashOnAuditFail,,Disabled,,0\r\n")


def test_the_english_report_is_read_by_guid_with_its_words():
    rows = parse_report(ENGLISH)
    assert set(rows) == {LOGON, CV}
    assert rows[LOGON][0].english_setting() == (True, True)
    assert rows[CV][0].english_setting() == (False, False)
    assert rows[LOGON][0].setting_value is None


def test_the_german_report_is_found_by_guid_but_its_words_are_not_guessed():
    rows = parse_report(GERMAN)
    assert rows[LOGON][0].subcategory == "Anmelden"
    assert rows[LOGON][0].inclusion == "Erfolg und Fehler"
    assert rows[LOGON][0].english_setting() is None


def test_the_backup_carries_the_number_and_lower_case_guids_are_the_same_guid():
    rows = parse_backup(BACKUP)
    assert rows[LOGON][0].value_setting() == (True, True)
    assert rows[CV][0].value_setting() == (False, False)
    assert len(rows) == 2  # the option row has no GUID


@pytest.mark.parametrize(("value", "setting"), [("1", (True, False)), ("2", (False, True)),
                                                ("4", (False, False)), ("9", None)])
def test_backup_setting_values(value, setting):
    text = BACKUP.replace(",,3\r\n", f",,{value}\r\n")
    assert parse_backup(text)[LOGON][0].value_setting() == setting


def test_per_user_rows_of_the_backup_are_not_the_system_policy():
    text = BACKUP + f"SC-X,S-1-5-21-1-2-3-1001,Audit Logon,{LOGON},Success,,1\r\n"
    assert len(parse_backup(text)[LOGON]) == 1


def test_a_guid_listed_twice_keeps_both_rows_for_the_judge():
    rows = parse_report(ENGLISH + f"SC-X,System,Logon,{LOGON},No Auditing,\r\n")
    assert [r.inclusion for r in rows[LOGON]] == ["Success and Failure", "No Auditing"]


@pytest.mark.parametrize("text", [
    "", "   \r\n",
    "Error 0x00000522 occurred:\r\nA required privilege is not held by the client.\r\n",
    ENGLISH.replace("Exclusion Setting", "Exclusion Setting,Setting Value"),  # wrong columns
    ENGLISH.split("\r\n\r\n")[0] + "\r\n",  # a header, no rows
    ENGLISH + f"SC-X,System,Logon,{LOGON}{CV},Success,\r\n",  # two GUIDs in one row
])
def test_text_that_is_not_the_report_is_refused(text):
    with pytest.raises(AuditpolParseError):
        parse_report(text)


@pytest.mark.parametrize("value", ["", "٣", "3x", "-1"])
def test_a_setting_value_that_is_not_an_ascii_number_is_refused(value):
    with pytest.raises(AuditpolParseError):
        parse_backup(BACKUP.replace(",,3\r\n", f",,{value}\r\n"))


def test_a_translated_setting_with_a_comma_is_kept_whole():
    text = ENGLISH.replace("Success and Failure,", "Succès, échec,")
    assert parse_report(text)[LOGON][0].inclusion == "Succès, échec"


def test_describe_setting():
    assert describe_setting((True, True)) == "Success and Failure"
    assert describe_setting((False, False)) == "No Auditing"
