"""cwh.convert.accounts: the host's accounts and groups."""

from __future__ import annotations

import pytest

from cwh.convert import accounts
from cwh.convert.applicability import read_applicability
from cwh.convert.result import Refusal
from tests.convert.phrasings import edited, text


def run(recogniser, ct, *args) -> list[dict]:
    roles = read_applicability(ct).roles
    found = recogniser(ct, roles) if args else recogniser(ct)
    assert found is not None
    assert ct.unread_conditions() == []
    return found.checks


def test_builtin_administrator_password_age() -> None:
    for stig_id in ("WN22-00-000020", "WN16-00-000030"):
        [check] = run(accounts.builtin_admin_password_checks, text(stig_id))
        assert check["where"] == {"rid": 500} and check["if_none"] == "finding"
        assert check["require"] == {"property": "password_age_days", "op": "at_most",
                                    "value": 60}


def test_the_2019_laps_version_is_not_read_as_the_same_rule() -> None:
    assert accounts.builtin_admin_password_checks(text("WN19-00-000020")) is None


def test_the_age_must_be_one_number() -> None:
    ct = edited("WN22-00-000020", 'date is greater than "60" days old, this is a finding.\n\n'
                "Member", 'date is greater than "90" days old, this is a finding.\n\nMember')
    with pytest.raises(Refusal, match="one number"):
        accounts.builtin_admin_password_checks(ct)


def test_krbtgt() -> None:
    [check] = run(accounts.krbtgt_password_checks, text("WN22-DC-000430"))
    assert check["where"] == {"rid": 502} and check["require"]["value"] == 180


def test_application_accounts() -> None:
    [check] = run(accounts.application_password_checks, text("WN22-00-000060"))
    assert check["where"] == {"names_input": "cwh_application_accounts"}
    assert (check["require"]["value"], check["if_none"]) == (365, "not_applicable")


def test_password_required_and_expiring() -> None:
    [required] = run(accounts.password_required_checks, text("WN22-00-000200"))
    assert required["require"]["property"] == "password_required"
    assert required["exclude"] == [{"trust_account": True}]
    [expires] = run(accounts.password_expires_checks, text("WN16-00-000230"))
    assert expires["exclude"] == [{"names_input": "cwh_application_accounts"}, {"rid": 502}]


def test_inactive_accounts_and_their_exclusions() -> None:
    [check] = run(accounts.inactive_account_checks, text("WN22-00-000190"))
    assert check["require"] == {"property": "last_logon_age_days", "op": "at_most", "value": 35}
    assert check["exclude"] == [{"rid": 500}, {"rid": 501},
                                {"names_input": "cwh_application_accounts"},
                                {"names_input": "cwh_documented_inactive_accounts"}]
    [check_2016] = run(accounts.inactive_account_checks, text("WN16-00-000210"))
    assert {"rid": 503} in check_2016["exclude"]


def test_inactivity_must_agree_between_the_roles() -> None:
    ct = edited("WN22-00-000190", "-TimeSpan 35.00:00:00", "-TimeSpan 45.00:00:00")
    with pytest.raises(Refusal, match="same way"):
        accounts.inactive_account_checks(ct)


def test_smart_cards() -> None:
    [check] = run(accounts.smartcard_checks, text("WN22-DC-000310"))
    assert check["require"] == {"property": "smartcard_required", "op": "equals", "value": True}


def test_administrators_on_member_servers_and_on_dcs() -> None:
    only, no_domain_admins = run(accounts.administrators_checks, text("WN22-MS-000010"), True)
    assert only["principals_input"] == "cwh_approved_admins"
    assert no_domain_admins == {"kind": "group_members", "group": accounts.ADMINISTRATORS,
                                "op": "excludes",
                                "principals": [{"domain_rid": 512, "name": "Domain Admins"}],
                                "roles": ["member"]}
    assert len(run(accounts.administrators_checks, text("WN22-DC-000010"), True)) == 1


def test_backup_operators() -> None:
    [check] = run(accounts.backup_operators_checks, text("WN22-00-000040"))
    assert check["group"]["sid"] == "S-1-5-32-551"
    assert check["if_empty"] == "not_applicable"
