"""The account_policy judge on secedit's own writing: -1 for "forever", quoted names, ASCII
digits, a key absent (a finding), a key given twice (unknown), a section missing (unknown)."""

from __future__ import annotations

import pytest

from tests.stig.policy_facts import facts, failed, inf, judge, secedit


def check(key, op, section="System Access", **operands):
    return {"kind": "account_policy", "section": section, "key": key, "op": op, **operands}


DURATION = check("LockoutDuration", "at_least", value=15, also=[-1, 0])
MAX_AGE = check("MaximumPasswordAge", "range", min=1, max=60)
ADMIN_NAME = check("NewAdministratorName", "none_of", values=["Administrator"],
                   case="insensitive")


def outcome(rule_check, text):
    return judge(rule_check, facts(secedit=secedit(text)))


@pytest.mark.parametrize(("value", "passed"), [(15, True), (30, True), (-1, True), (0, True),
                                               (14, False), (1, False)])
def test_lockout_duration_allows_secedits_forever(value, passed):
    assert outcome(DURATION, inf({"LockoutDuration": value})).passed is passed


@pytest.mark.parametrize(("value", "passed"), [(60, True), (1, True), (-1, False), (0, False),
                                               (61, False), (42, True)])
def test_maximum_password_age_never_expiring_is_a_finding(value, passed):
    assert outcome(MAX_AGE, inf({"MaximumPasswordAge": value})).passed is passed


@pytest.mark.parametrize(("written", "passed"), [('"Administrator"', False),
                                                  ('"ADMINISTRATOR"', False),
                                                  ('"sc-root"', True), ("Administrator", False)])
def test_names_are_compared_without_secedits_quotes_and_case(written, passed):
    result = outcome(ADMIN_NAME, inf({"NewAdministratorName": written}))
    assert result.passed is passed
    assert result.evidence[0].raw == f"NewAdministratorName = {written}"


def test_a_key_absent_from_the_export_is_a_finding():
    result = outcome(DURATION, inf({"LockoutDuration": None}))
    assert result.passed is False and "absent" in result.observed


@pytest.mark.parametrize("written", ["1_5", "\u0661\u0665", "fifteen", "1 5", "+15", ""])
def test_a_number_secedit_never_writes_is_unknown(written):
    text = inf({"LockoutDuration": 15}).replace("LockoutDuration = 15",
                                                 f"LockoutDuration = {written}")
    assert outcome(DURATION, text).passed is None


def test_a_key_given_two_values_is_unknown_with_the_lines():
    text = inf({"LockoutDuration": 15}, extra="[System Access]\r\nlockoutduration = 0")
    result = outcome(DURATION, text)
    assert result.passed is None and "contradictory" in result.unknown_reason
    assert "lockoutduration = 0" in result.evidence[0].raw


def test_a_section_missing_is_unknown_not_absent():
    kerberos = check("MaxTicketAge", "range", section="Kerberos Policy", min=1, max=10)
    assert judge(kerberos, facts("dc_pdc", secedit=secedit(inf()))).passed is None


def test_secedit_failing_is_unknown():
    assert judge(DURATION, facts(secedit=failed("secedit /export failed with exit code 1: "
                                                "Access is denied."))).passed is None


def test_equals_one_and_zero():
    complexity = check("PasswordComplexity", "equals", value=1)
    assert outcome(complexity, inf({"PasswordComplexity": 1})).passed is True
    assert outcome(complexity, inf({"PasswordComplexity": 0})).passed is False
    assert outcome(complexity, inf({"PasswordComplexity": 2})).passed is False
