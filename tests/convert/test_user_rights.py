"""cwh.convert.user_rights on DISA's real user right phrasings: read by name and by SID."""

from __future__ import annotations

import pytest

from cwh.convert.applicability import read_applicability
from cwh.convert.principals import identity
from cwh.convert.result import Refusal
from cwh.convert.text import CheckText
from cwh.convert.user_rights import RIGHTS, user_right_checks
from tests.convert.phrasings import edited, text


def read(ct: CheckText) -> list[dict]:
    roles = read_applicability(ct).roles
    found = user_right_checks(ct, roles)
    assert found is not None
    assert ct.unread_conditions() == []
    return found.checks


def ids(check: dict) -> list:
    return sorted(identity(p) for p in check.get("principals", []))


def test_only_these_groups() -> None:
    [check] = read(text("WN22-UR-000070"))
    assert check["right"] == "SeCreateGlobalPrivilege" and check["op"] == "only"
    assert ids(check) == sorted([("sid", "S-1-5-32-544"), ("sid", "S-1-5-6"),
                                 ("sid", "S-1-5-19"), ("sid", "S-1-5-20")])
    assert check["exceptions_input"] == "cwh_user_right_exceptions"


def test_no_one_even_administrators() -> None:
    [check] = read(text("WN22-UR-000020"))
    assert (check["right"], check["op"]) == ("SeTcbPrivilege", "none")
    assert "principals" not in check


def test_no_one_without_an_application_exception() -> None:
    [check] = read(text("WN22-UR-000010"))
    assert check == {"kind": "user_right", "right": "SeTrustedCredManAccessPrivilege",
                     "op": "none"}


def test_domain_systems_only_and_all_systems() -> None:
    guests, domain = read(text("WN22-MS-000080"))
    assert guests["op"] == "includes" and "roles" not in guests
    assert ids(guests) == [("sid", "S-1-5-32-546")]
    assert domain["roles"] == ["member"]
    assert ids(domain) == sorted([
        ("any_of", (("sid", "S-1-5-113"), ("sid", "S-1-5-114"))),
        ("domain_rid", 512), ("forest_rid", 519)])


def test_local_account_alone_for_remote_desktop() -> None:
    _, domain = read(text("WN19-MS-000120"))
    assert ("sid", "S-1-5-113") in ids(domain)


def test_dc_rule_with_guests() -> None:
    [check] = read(text("WN16-DC-000370"))
    assert (check["right"], check["op"], ids(check)) == \
        ("SeDenyNetworkLogonRight", "includes", [("sid", "S-1-5-32-546")])


def test_the_member_server_only_rule_drops_the_nondomain_condition() -> None:
    # 2019 writes the SID sentence without "on nondomain-joined systems"; the rule applies to
    # member servers only, so only the domain condition remains.
    for stig_id in ("WN19-MS-000100", "WN22-MS-000100", "WN16-MS-000390"):
        [check] = read(text(stig_id))
        assert check["op"] == "includes" and "roles" not in check
        assert ids(check) == [("domain_rid", 512), ("forest_rid", 519)]


def test_hyper_v_virtual_machines_are_allowed() -> None:
    [check] = read(text("WN22-UR-000090"))
    assert ("sid", "S-1-5-83-0") in ids(check)


def test_an_auditors_group() -> None:
    [check] = read(text("WN22-UR-000170"))
    assert check["also_allowed_input"] == "cwh_auditors_group"


def test_2016_states_one_right_by_sid_only() -> None:
    [check] = read(text("WN16-UR-000280"))
    assert (check["right"], ids(check)) == ("SeManageVolumePrivilege", [("sid", "S-1-5-32-544")])


def test_names_and_sids_must_agree() -> None:
    ct = edited("WN22-UR-000070", "S-1-5-6 (Service)", "S-1-5-7 (Service)")
    with pytest.raises(Refusal, match="different principals"):
        read(ct)


def test_the_display_name_must_match_the_constant() -> None:
    ct = edited("WN22-UR-000100", '"SeDebugPrivilege"', '"SeBackupPrivilege"')
    with pytest.raises(Refusal, match="do not match"):
        read(ct)


def test_an_unknown_group_name_is_refused() -> None:
    ct = edited("WN22-UR-000050", "- Administrators", "- Site Administrators")
    with pytest.raises(Refusal, match="no known SID"):
        read(ct)


def test_not_a_user_right_rule() -> None:
    assert user_right_checks(text("WN22-SO-000050"), ["dc", "member", "standalone"]) is None


def test_the_constant_table_is_one_to_one() -> None:
    assert len(set(RIGHTS.values())) == len(RIGHTS)
    assert all(c.startswith("Se") and c.endswith(("Privilege", "Right")) for c in RIGHTS.values())
