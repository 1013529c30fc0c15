"""The frame every STIG rule is judged in (cwh/judge/stig): the host's role, Not_Applicable
conditions, manual rules, organization-defined inputs, how checks combine, and kinds the suite
cannot judge, which are never a pass."""

from __future__ import annotations

from typing import Any

import pytest

from cwh.catalog.stig_rules import StigRule
from cwh.collect.facts import HostFacts
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status


def facts(domain_role: Any = 2) -> HostFacts:
    return HostFacts("h", {"schema": 1, "sections": {
        "identity": {"ok": True, "data": {"domain_role": domain_role}}}})


def rule(**kw: Any) -> StigRule:
    base: dict[str, Any] = dict(benchmark_id="Windows_Server_2019_STIG", vuln_id="V-1",
                                rule_id="SV-1r1_rule", stig_id="WN19-XX-000010",
                                severity="medium", roles=("dc", "member", "standalone"),
                                kind="mixed", checks=())
    base.update(kw)
    return StigRule(**base)


def flag(name: str, equals: bool = True) -> dict[str, Any]:
    return {"kind": "input", "input": name, "equals": equals}


YES = flag("cwh_ftp_server")  # default False: never holds unless the inventory says so


def test_a_rule_for_another_role_is_not_applicable_and_says_why():
    verdict = judge_rule(rule(roles=("dc",), checks=(YES,)), facts(2), {})
    assert verdict.status is Status.NOT_APPLICABLE
    assert "domain controller" in verdict.reason and "standalone" in verdict.reason


@pytest.mark.parametrize("domain_role", [None, "2", True, 1, 7])
def test_an_unknown_or_workstation_role_is_not_reviewed(domain_role):
    verdict = judge_rule(rule(checks=(YES,)), facts(domain_role), {"cwh_ftp_server": True})
    assert verdict.status is Status.NOT_REVIEWED and verdict.error


def test_a_host_without_facts_is_not_reviewed_with_its_error():
    verdict = judge_rule(rule(checks=(YES,)), HostFacts.failed("h", "h: connection refused"),
                         {"cwh_ftp_server": True})
    assert verdict.status is Status.NOT_REVIEWED and "refused" in verdict.reason


def test_manual_rules_await_an_assessor_without_failing_the_run():
    verdict = judge_rule(rule(kind="manual", manual_reason="procedural"), facts(), {})
    assert verdict.status is Status.NOT_REVIEWED and not verdict.error
    assert "procedural" in verdict.reason


def test_a_not_applicable_condition_holds_only_on_evidence():
    na = ({"checks": [flag("cwh_classified")], "reason": "classified system"},)
    checks = (flag("cwh_third_party_firewall"),)
    applies = judge_rule(rule(checks=checks, not_applicable_if=na), facts(), {})
    assert applies.status is Status.OPEN
    exempt = judge_rule(rule(checks=checks, not_applicable_if=na), facts(),
                        {"cwh_classified": True})
    assert exempt.status is Status.NOT_APPLICABLE and exempt.reason == "classified system"
    unknown_na = ({"checks": [{"kind": "no-such-kind"}], "reason": "never"},)
    assert judge_rule(rule(checks=checks, not_applicable_if=unknown_na), facts(), {}).status \
        is Status.OPEN


def test_a_required_input_that_is_not_set_is_named():
    verdict = judge_rule(rule(inputs=("cwh_time_sources",), checks=(YES,)), facts(), {})
    assert verdict.status is Status.NOT_REVIEWED and "cwh_time_sources" in verdict.reason


def test_a_kind_without_a_judge_is_never_a_pass():
    alone = judge_rule(rule(checks=({"kind": "no-such-kind"},)), facts(), {})
    assert alone.status is Status.NOT_REVIEWED and alone.error
    with_pass = judge_rule(rule(checks=({"kind": "no-such-kind"}, flag("cwh_ftp_server"))),
                           facts(), {"cwh_ftp_server": True})
    assert with_pass.status is Status.NOT_REVIEWED


def test_any_needs_one_real_pass_and_all_needs_every_one():
    passing, failing = flag("cwh_ftp_server"), flag("cwh_classified")
    inputs = {"cwh_ftp_server": True}
    assert judge_rule(rule(combine="any", checks=(failing, passing)), facts(), inputs).status \
        is Status.NOT_A_FINDING
    assert judge_rule(rule(combine="all", checks=(failing, passing)), facts(), inputs).status \
        is Status.OPEN
    unknown = {"kind": "no-such-kind"}
    assert judge_rule(rule(combine="any", checks=(failing, unknown)), facts(), inputs).status \
        is Status.NOT_REVIEWED


def test_checks_for_other_roles_are_left_out():
    member_only = {**flag("cwh_classified"), "roles": ["member"]}
    everywhere = flag("cwh_ftp_server")
    verdict = judge_rule(rule(checks=(member_only, everywhere)), facts(2), {"cwh_ftp_server": True})
    assert verdict.status is Status.NOT_A_FINDING
    assert judge_rule(rule(checks=(member_only, everywhere)), facts(3),
                      {"cwh_ftp_server": True}).status is Status.OPEN
    pdc = {**everywhere, "roles": ["dc_pdc"]}
    assert judge_rule(rule(roles=("dc",), checks=(pdc,)), facts(4), {}).status \
        is Status.NOT_REVIEWED  # no check applies to a DC that is not the PDC emulator


def test_constant_rules_state_their_own_result():
    verdict = judge_rule(rule(roles=("dc",), checks=({"kind": "constant", "result": "finding"},)),
                         facts(5), {})
    assert verdict.status is Status.OPEN


def test_principals_resolve_to_sids_and_never_guess():
    from cwh.collect.facts import FactUnavailable
    from cwh.judge.stig.principals import SidContext, principal_sids

    member = SidContext("S-1-5-21-1-2-3", "S-1-5-21-7-8-9", None)
    assert principal_sids({"sid": "s-1-5-32-544"}, member) == {"S-1-5-32-544"}
    assert principal_sids({"domain_rid": 512}, member) == {"S-1-5-21-7-8-9-512"}
    assert principal_sids({"machine_rid": 500}, member) == {"S-1-5-21-1-2-3-500"}
    assert principal_sids({"any_of": [{"sid": "S-1-5-114"}, {"sid": "S-1-5-113"}]}, member) == \
        {"S-1-5-114", "S-1-5-113"}
    for unresolvable in ({"forest_rid": 519}, {"sid": "Administrators"}, {"name": "x"}):
        with pytest.raises(FactUnavailable):
            principal_sids(unresolvable, member)


def test_an_empty_group_is_not_applicable_even_before_the_organization_names_its_members():
    from cwh.catalog.stig_rules import committed_releases

    backup = committed_releases()["Windows_Server_2019_STIG"].by_stig_id("WN19-00-000040")
    empty = HostFacts("h", {"schema": 1, "sections": {
        "identity": {"ok": True, "data": {"domain_role": 2, "machine_sid": "S-1-5-21-1-2-3"}},
        "group_members": {"ok": True, "data": {"groups": [
            {"sid": "S-1-5-32-551", "name": "BUILTIN\\Backup Operators", "members": []}]}}}})
    assert judge_rule(backup, empty, {}).status is Status.NOT_APPLICABLE
    member = {"sid": "S-1-5-21-1-2-3-1005", "name": "SC01\\svc-backup"}
    empty.document["sections"]["group_members"]["data"]["groups"][0]["members"] = [member]
    verdict = judge_rule(backup, empty, {})
    assert verdict.status is Status.NOT_REVIEWED and "cwh_backup_operators" in verdict.reason
