"""The user_right and user_rights_sids judges: SIDs only, `only` / `none` / `includes`, the
documented application exceptions, the role split of the deny-logon rules, and holders or
principals the host could not translate, which never make a pass."""

from __future__ import annotations

import pytest

from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status
from tests.stig.policy_facts import (
    DOMAIN,
    FOREST,
    MACHINE,
    NOT_MAPPED,
    facts,
    holder,
    identity,
    inf,
    judge,
    rule,
    secedit,
)

ADMINS = {"sid": "S-1-5-32-544", "name": "Administrators"}
AUTH = {"sid": "S-1-5-11", "name": "Authenticated Users"}
GUESTS = {"sid": "S-1-5-32-546", "name": "Guests"}
NETWORK = {"kind": "user_right", "right": "SeNetworkLogonRight", "op": "only",
           "principals": [AUTH, ADMINS], "exceptions_input": "cwh_user_right_exceptions"}
TCB = {"kind": "user_right", "right": "SeTcbPrivilege", "op": "none",
       "exceptions_input": "cwh_user_right_exceptions"}
SECURITY = {"kind": "user_right", "right": "SeSecurityPrivilege", "op": "only",
            "principals": [ADMINS], "exceptions_input": "cwh_user_right_exceptions",
            "also_allowed_input": "cwh_auditors_group"}
SVC = f"{MACHINE}-1017"


def host(rights, principals=None, role="standalone", **sections):
    return facts(role, secedit=secedit(inf(rights=rights), principals), **sections)


def test_only_the_listed_sids_pass():
    result = judge(NETWORK, host({"SeNetworkLogonRight": "*S-1-5-11,*S-1-5-32-544"}))
    assert result.passed is True
    assert result.evidence[0].raw == "SeNetworkLogonRight = *S-1-5-11,*S-1-5-32-544"


def test_a_fresh_installs_everyone_is_a_finding_with_the_holder_named():
    rights = {"SeNetworkLogonRight": "*S-1-1-0,*S-1-5-32-544,*S-1-5-32-545,*S-1-5-32-551"}
    result = judge(NETWORK, host(rights, [holder("*S-1-1-0", name="Everyone")]))
    assert result.passed is False
    assert "not allowed: Everyone (S-1-1-0)" in result.observed


def test_holding_by_none_of_them_is_compliant_for_only():
    assert judge(NETWORK, host({"SeNetworkLogonRight": None})).passed is True


def test_a_holder_written_by_name_is_judged_by_the_sid_the_host_translated():
    rights = {"SeTcbPrivilege": "svc-backup"}
    translated = host(rights, [holder("svc-backup", SVC, "svc-backup")])
    result = judge(TCB, translated)
    assert result.passed is False and SVC in result.observed
    exception = {"cwh_user_right_exceptions": {"SeTcbPrivilege": [SVC]}}
    assert judge(TCB, translated, exception).passed is True


def test_an_untranslated_holder_is_unknown_where_it_could_be_allowed():
    rights = {"SeSecurityPrivilege": "*S-1-5-32-544,svc-audit"}
    lookup_failed = ("System.SystemException", "The trust relationship between this "
                     "workstation and the primary domain failed.")
    result = judge(SECURITY, host(rights, [holder("svc-audit", error=lookup_failed)]))
    assert result.passed is None and "svc-audit" in result.unknown_reason
    # no translation returned at all: the same
    assert judge(SECURITY, host(rights, [])).passed is None
    assert judge(SECURITY, host(rights, None)).passed is None


def test_for_none_any_holder_at_all_is_a_finding_even_untranslated():
    rights = {"SeTcbPrivilege": "svc-gone"}
    result = judge(TCB, host(rights, [holder("svc-gone", error=NOT_MAPPED)]))
    assert result.passed is False


@pytest.mark.parametrize("written", [None, ""])
def test_a_right_absent_or_empty_is_held_by_no_one(written):
    assert judge(TCB, host({"SeTcbPrivilege": written})).passed is True


def test_an_empty_privilege_rights_section_is_unknown_not_no_one():
    text = inf().split("[Privilege Rights]")[0] + "[Privilege Rights]\r\n[Version]\r\n" \
        'signature="$CHICAGO$"\r\n'
    assert judge(TCB, facts(secedit=secedit(text))).passed is None


def test_garbage_holders_are_unknown():
    assert judge(TCB, host({"SeTcbPrivilege": ", ,"})).passed is None
    assert judge(TCB, host({"SeTcbPrivilege": "*Administrators"})).passed is None


def test_the_auditors_group_and_exceptions_by_name_need_the_hosts_translation():
    rights = {"SeSecurityPrivilege": "*S-1-5-32-544,*S-1-5-21-9-9-9-1200"}
    inputs = {"cwh_auditors_group": ["CORP\\Auditors"]}
    named = host(rights, account_sids={"accounts": [
        holder("CORP\\Auditors", "S-1-5-21-9-9-9-1200", "CORP\\Auditors")]})
    assert judge(SECURITY, named, inputs).passed is True
    untranslated = host(rights)
    result = judge(SECURITY, untranslated, inputs)
    assert result.passed is None and "'CORP\\\\Auditors' from cwh_auditors_group" in \
        result.unknown_reason
    by_sid = judge(SECURITY, untranslated, {"cwh_auditors_group": ["S-1-5-21-9-9-9-1200"]})
    assert by_sid.passed is True


def test_an_exception_for_another_right_does_not_count():
    rights = {"SeTcbPrivilege": f"*{SVC}"}
    inputs = {"cwh_user_right_exceptions": {"SeDebugPrivilege": [SVC]}}
    assert judge(TCB, host(rights), inputs).passed is False


DENY_NETWORK_ALL = {"kind": "user_right", "right": "SeDenyNetworkLogonRight", "op": "includes",
                    "principals": [GUESTS]}
DENY_NETWORK_DOMAIN = {"kind": "user_right", "right": "SeDenyNetworkLogonRight",
                       "op": "includes", "roles": ["member"],
                       "principals": [{"any_of": [{"sid": "S-1-5-114"}, {"sid": "S-1-5-113"}]},
                                      {"domain_rid": 512, "name": "Domain Admins"},
                                      {"forest_rid": 519, "name": "Enterprise Admins"}]}


def test_includes_needs_every_principal():
    assert judge(DENY_NETWORK_ALL, host({"SeDenyNetworkLogonRight": "*S-1-5-32-546"})).passed
    result = judge(DENY_NETWORK_ALL, host({"SeDenyNetworkLogonRight": None}))
    assert result.passed is False and "missing: Guests" in result.observed


def test_an_any_of_principal_is_met_by_one_of_its_members_and_domain_groups_by_sid():
    both = f"*S-1-5-113,*{DOMAIN}-512,*{FOREST}-519,*S-1-5-32-546"
    member = host({"SeDenyNetworkLogonRight": both}, role="member")
    assert judge(DENY_NETWORK_DOMAIN, member, role="member").passed is True
    no_ea = host({"SeDenyNetworkLogonRight": f"*S-1-5-114,*{DOMAIN}-512"}, role="member")
    result = judge(DENY_NETWORK_DOMAIN, no_ea, role="member")
    assert result.passed is False and "Enterprise Admins" in result.observed


def test_domain_groups_without_the_domain_sid_are_unknown_never_missing():
    no_sid = identity("member", domain_sid=None, forest_root_sid=None,
                      sid_errors={"domain_sid": "lookup failed", "forest_root_sid": "x",
                                  "machine_sid": None})
    text = inf(rights={"SeDenyNetworkLogonRight": "*S-1-5-113"})
    result = judge(DENY_NETWORK_DOMAIN, facts("member", no_sid, secedit=secedit(text)),
                   role="member")
    assert result.passed is None and "domain" in result.unknown_reason


def test_the_deny_rule_is_split_by_role():
    deny = rule(DENY_NETWORK_ALL, DENY_NETWORK_DOMAIN, roles=("member", "standalone"),
                kind="user_right")
    guests_only = secedit(inf(rights={"SeDenyNetworkLogonRight": "*S-1-5-32-546"}))
    assert judge_rule(deny, facts("standalone", secedit=guests_only), {}).status \
        is Status.NOT_A_FINDING
    assert judge_rule(deny, facts("member", secedit=guests_only), {}).status is Status.OPEN


ALL_RESOLVE = {"kind": "user_rights_sids", "op": "all_resolve"}


def test_every_holder_resolves_or_it_is_a_finding():
    rights = {"SeBatchLogonRight": f"*S-1-5-32-544,*{MACHINE}-1009",
              "SeServiceLogonRight": "*S-1-5-80-0,svc-backup"}
    resolved = [holder("*S-1-5-32-544", name="BUILTIN\\Administrators"),
                holder("*S-1-5-80-0", name="NT SERVICE\\ALL SERVICES"),
                holder("svc-backup", SVC, "svc-backup"),
                holder("*S-1-5-32-544", name="BUILTIN\\Administrators")]
    rest = {"*S-1-5-11": "NT AUTHORITY\\Authenticated Users"}
    resolved += [holder(entry, name=name) for entry, name in rest.items()]
    clean = host({"SeBatchLogonRight": "*S-1-5-32-544",
                  "SeServiceLogonRight": "*S-1-5-80-0,svc-backup"}, resolved)
    assert judge(ALL_RESOLVE, clean).passed is True
    orphan = host(rights, [*resolved, holder(f"*{MACHINE}-1009", error=NOT_MAPPED)])
    result = judge(ALL_RESOLVE, orphan)
    assert result.passed is False and f"{MACHINE}-1009" in result.observed


def test_a_lookup_that_could_not_be_made_is_unknown():
    failed_lookup = ("System.SystemException", "The RPC server is unavailable.")
    text = {"SeBatchLogonRight": f"*{MACHINE}-1009"}
    records = [holder("*S-1-5-32-544", name="BUILTIN\\Administrators"),
               holder("*S-1-5-11", name="NT AUTHORITY\\Authenticated Users"),
               holder(f"*{MACHINE}-1009", error=failed_lookup)]
    assert judge(ALL_RESOLVE, host(text, records)).passed is None
    assert judge(ALL_RESOLVE, host(text, None)).passed is None  # no translation at all
    assert judge(ALL_RESOLVE, host(text, records[:2])).passed is None  # one not translated
