"""The audit_policy judge: by GUID, the English words or the backup's number (which must agree
when both are read), a German Windows judged by the number, never by a guessed translation."""

from __future__ import annotations

import pytest

from tests.stig.policy_facts import facts, failed, judge

LOGON = "{0CCE9215-69AE-11D9-BED3-505054503030}"
SUCCESS = {"kind": "audit_policy", "subcategory": "Logon", "guid": LOGON, "include": ["Success"]}
FAILURE = {**SUCCESS, "include": ["Failure"]}
REPORT_HEADER = ("Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,"
                 "Exclusion Setting\r\n\r\n")
GERMAN_HEADER = ("Computername,Richtlinienziel,Unterkategorie,Unterkategorie-GUID,"
                 "Aufnahmeeinstellung,Ausschlusseinstellung\r\n\r\n")
BACKUP_HEADER = ("Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,"
                 "Exclusion Setting,Setting Value\r\n")


def report(setting, name="Logon", header=REPORT_HEADER):
    return {"command": "auditpol /get /category:* /r", "error": None,
            "text": f"{header}SC-X,System,{name},{LOGON},{setting},\r\n"}


def backup(value, text="Success and Failure"):
    return {"command": "auditpol /backup /file:<temporary file>", "error": None,
            "text": f"{BACKUP_HEADER}SC-X,System,Audit Logon,{LOGON.lower()},{text},,{value}\r\n"}


def broken(message):
    return {"command": "auditpol", "text": None, "error": message}


def audit(report_part, backup_part):
    return facts(audit_policy={"report": report_part, "backup": backup_part})


@pytest.mark.parametrize(("setting", "value", "success", "failure"), [
    ("Success and Failure", 3, True, True), ("Success", 1, True, False),
    ("Failure", 2, False, True), ("No Auditing", 0, False, False)])
def test_english_words_and_the_number_agree(setting, value, success, failure):
    host = audit(report(setting), backup(value, setting))
    assert judge(SUCCESS, host).passed is success
    assert judge(FAILURE, host).passed is failure
    assert "report and backup agree" in judge(SUCCESS, host).observed


def test_a_german_windows_is_judged_by_the_backups_number():
    host = audit(report("Erfolg und Fehler", "Anmelden", GERMAN_HEADER),
                 backup(3, "Erfolg und Fehler"))
    result = judge(SUCCESS, host)
    assert result.passed is True and "judged by the backup's number" in result.observed
    assert "'Anmelden'" in result.observed


def test_translated_words_alone_are_never_guessed():
    host = audit(report("Erfolg und Fehler", "Anmelden", GERMAN_HEADER),
                 broken("auditpol /backup failed with exit code 87"))
    result = judge(SUCCESS, host)
    assert result.passed is None
    assert "not auditpol's English" in result.unknown_reason


def test_the_english_report_alone_is_enough():
    result = judge(SUCCESS, audit(report("Success"), broken("disk full")))
    assert result.passed is True and "judged by the report alone" in result.observed


def test_the_report_and_the_backup_disagreeing_is_contradictory():
    result = judge(SUCCESS, audit(report("Success"), backup(0, "No Auditing")))
    assert result.passed is None and "disagree" in result.unknown_reason


def test_a_subcategory_missing_from_both_is_unknown():
    other = "{0CCE923F-69AE-11D9-BED3-505054503030}"
    check = {**SUCCESS, "guid": other, "subcategory": "Credential Validation"}
    result = judge(check, audit(report("Success"), backup(1, "Success")))
    assert result.passed is None and "missing" in result.unknown_reason


def test_a_guid_listed_twice_with_different_settings_is_unknown():
    twice = report("Success")
    twice["text"] += f"SC-X,System,Logon,{LOGON},No Auditing,\r\n"
    assert judge(SUCCESS, audit(twice, broken("x"))).passed is None


def test_both_runs_failing_and_the_section_failing_are_unknown():
    privilege = "Error 0x00000522 occurred:\r\nA required privilege is not held by the client."
    assert judge(SUCCESS, audit(broken(privilege), broken(privilege))).passed is None
    assert judge(SUCCESS, facts(audit_policy=failed("boom"))).passed is None
    assert judge(SUCCESS, facts()).passed is None


def test_an_unknown_setting_value_is_not_read():
    result = judge(SUCCESS, audit(broken("x"), backup(7)))
    assert result.passed is None and "not one [MS-GPAC] defines" in result.unknown_reason
