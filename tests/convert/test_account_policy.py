"""cwh.convert.account_policy on DISA's real account policy and Kerberos phrasings."""

from __future__ import annotations

import pytest

from cwh.convert.account_policy import account_policy_checks
from cwh.convert.applicability import read_applicability
from cwh.convert.result import Refusal
from cwh.convert.text import CheckText
from tests.convert.phrasings import edited, rule, text


def read(ct: CheckText) -> dict:
    read_applicability(ct)
    found = account_policy_checks(ct)
    assert found is not None
    assert ct.unread_conditions() == []
    [check] = found.checks
    return {k: v for k, v in check.items() if k != "kind"}


@pytest.mark.parametrize(("stig_id", "expected"), [
    # the policy's 0 (locked until an administrator unlocks) is -1 in secedit's export
    ("WN22-AC-000010", {"key": "LockoutDuration", "op": "at_least", "value": 15,
                        "also": [-1, 0]}),
    ("WN22-AC-000020", {"key": "LockoutBadCount", "op": "range", "min": 1, "max": 3}),
    ("WN22-AC-000030", {"key": "ResetLockoutCount", "op": "at_least", "value": 15}),
    ("WN22-AC-000040", {"key": "PasswordHistorySize", "op": "at_least", "value": 24}),
    ("WN22-AC-000050", {"key": "MaximumPasswordAge", "op": "range", "min": 1, "max": 60}),
    ("WN22-AC-000060", {"key": "MinimumPasswordAge", "op": "at_least", "value": 1}),
    ("WN22-AC-000070", {"key": "MinimumPasswordLength", "op": "at_least", "value": 14}),
    ("WN22-AC-000090", {"key": "ClearTextPassword", "op": "equals", "value": 0}),
    ("WN22-SO-000010", {"key": "EnableGuestAccount", "op": "equals", "value": 0}),
    ("WN22-SO-000030", {"key": "NewAdministratorName", "op": "none_of",
                        "values": ["Administrator"], "case": "insensitive"}),
    ("WN16-SO-000250", {"key": "LSAAnonymousNameLookup", "op": "equals", "value": 0}),
])
def test_system_access(stig_id: str, expected: dict) -> None:
    assert read(text(stig_id)) == {"section": "System Access", **expected}


def test_policy_name_without_the_secedit_key() -> None:
    # 2022 names "Allow anonymous SID/Name translation" only by its Group Policy name.
    assert read(text("WN22-SO-000210"))["key"] == "LSAAnonymousNameLookup"


@pytest.mark.parametrize(("stig_id", "expected"), [
    ("WN22-DC-000020", {"key": "TicketValidateClient", "op": "equals", "value": 1}),
    ("WN22-DC-000030", {"key": "MaxServiceAge", "op": "range", "min": 1, "max": 600}),
    ("WN22-DC-000040", {"key": "MaxTicketAge", "op": "range", "min": 1, "max": 10}),
    ("WN22-DC-000050", {"key": "MaxRenewAge", "op": "at_most", "value": 7}),
    ("WN22-DC-000060", {"key": "MaxClockSkew", "op": "at_most", "value": 5}),
])
def test_kerberos_policy(stig_id: str, expected: dict) -> None:
    assert read(text(stig_id)) == {"section": "Kerberos Policy", **expected}


def test_the_two_wordings_must_agree() -> None:
    ct = edited("WN22-AC-000040", 'If "PasswordHistorySize" is less than "24"',
                'If "PasswordHistorySize" is less than "20"')
    with pytest.raises(Refusal, match="different requirements"):
        read(ct)


def test_a_unit_secedit_does_not_store_is_refused() -> None:
    ct = edited("WN22-DC-000040", '"10" hours', '"10" minutes')
    with pytest.raises(Refusal, match="unit"):
        read(ct)


def test_complexity_keeps_its_password_filter_sentence_for_the_exception() -> None:
    ct = text("WN22-AC-000080")
    applicability = read_applicability(ct)
    found = account_policy_checks(ct)
    assert found is not None and found.checks[0]["value"] == 1
    assert applicability.exceptions == [{"kind": "input", "input":
                                         "cwh_external_password_filter", "equals": True}]
    assert ct.unread_conditions() == []


def test_not_an_account_policy_rule() -> None:
    assert account_policy_checks(text("WN22-SO-000050")) is None


def test_minus_one_is_allowed_only_where_it_is_the_policys_zero() -> None:
    # secedit writes -1 for "forever": an allowed 0 of LockoutDuration also allows -1, but a
    # MaximumPasswordAge of -1 (never expires) stays outside range 1..60, a finding
    assert read(text("WN16-AC-000010"))["also"] == [-1, 0]
    assert read(text("WN19-AC-000050")) == {"section": "System Access",
                                            "key": "MaximumPasswordAge", "op": "range",
                                            "min": 1, "max": 60}
    assert "also" not in read(text("WN22-AC-000030"))  # ResetLockoutCount: no 0, no -1


def test_a_bare_maximum_on_a_forever_setting_is_refused() -> None:
    # without DISA's "0 is a finding", "greater than 60" alone would pass secedit's -1
    # (never expires) as "at most 60"
    content = rule("WN22-AC-000050").check_content
    for sentence in ('If the value is set to "0" (never expires), this is a finding.',
                     'If "MaximumPasswordAge" is greater than "60" or equal to "0" in the file, '
                     'this is a finding.'):
        assert sentence in content
        content = content.replace(sentence, "")
    ct = CheckText.of(content)
    with pytest.raises(Refusal, match="-1"):
        account_policy_checks(ct)
