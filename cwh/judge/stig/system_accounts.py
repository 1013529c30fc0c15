"""The `accounts` and `group_members` kinds (docs/stig-rules.md): the host's own account database
(the local SAM on member and standalone servers, the domain's users on a domain controller) and
the direct members of a group named by SID.

Ages are whole days between the host's own clock when it answered and the timestamp it wrote
(the same clock wrote both). Never logged on is a finding for a bound on the last logon. An
account whose property could not be read makes the check unknown unless another account already
fails it; a group member is matched by SID (or, for inventory entries, the way CWH-ACCT-01
matches them), never by a display name alone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.judge.accounts import Match, judge_member, same_account_name
from cwh.judge.outcome import Outcome
from cwh.judge.stig import NotApplicableOutcome, RuleContext, check_judge
from cwh.judge.stig.compare import compare, describe
from cwh.judge.stig.principals import describe as describe_principal
from cwh.judge.stig.principals import principal_sids, sid_context
from cwh.judge.stig.system_facts import OVER_WINRM, collected_at, entries, one, section
from cwh.judge.verdict import Evidence
from cwh.parse.primitives import windows_utc

_ACCOUNT_SID = re.compile(r"S-1-5-21-[0-9]{1,10}-[0-9]{1,10}-[0-9]{1,10}-(?P<rid>[0-9]{1,10})")
_BOOLEAN_PROPERTIES = ("password_required", "password_expires", "smartcard_required")


class Unknown(Exception):
    """One account's property could not be read."""


def rid(sid: Any) -> int | None:
    """The RID of an account-domain SID (S-1-5-21-a-b-c-RID); None for any other SID."""
    match = _ACCOUNT_SID.fullmatch(str(sid).upper()) if isinstance(sid, str) else None
    return int(match.group("rid")) if match else None


def _label(account: Mapping[str, Any]) -> str:
    domain = account.get("domain")
    name = f"{domain}\\{account.get('name')}" if domain else str(account.get("name"))
    return f"{name} [{account.get('sid')}]"


def _enabled(account: Mapping[str, Any]) -> bool:
    disabled = account.get("disabled")
    if not isinstance(disabled, bool):
        raise Unknown(f"{_label(account)}: whether it is disabled is not known ({disabled!r})")
    return not disabled


def _names(inputs: Mapping[str, Any], name: str) -> list[str]:
    value = inputs.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FactUnavailable(f"{name} must be a list of account names, not {value!r}")
    return [v.strip() for v in value if v.strip()]


def _named(account: Mapping[str, Any], names: list[str]) -> bool:
    """Whether the account is one of the inventory's names (`name` or `DOMAIN\\name`), folded
    as Windows folds account names (ASCII letters only: the Kelvin sign is no K)."""
    own = str(account.get("name", ""))
    full = f"{account.get('domain')}\\{account.get('name')}"
    return any(same_account_name(n, full) if "\\" in n else same_account_name(n, own)
               for n in names)


def _matches(account: Mapping[str, Any], condition: Mapping[str, Any],
             inputs: Mapping[str, Any]) -> bool:
    if "enabled" in condition and _enabled(account) is not condition["enabled"]:
        return False
    if "rid" in condition and rid(account.get("sid")) != int(condition["rid"]):
        return False
    if "names_input" in condition and not _named(account, _names(inputs,
                                                                 condition["names_input"])):
        return False
    if condition.get("trust_account") is True:
        trust = account.get("trust_account")
        if not isinstance(trust, bool):
            raise Unknown(f"{_label(account)}: whether it is a trust account is not known")
        return trust
    return True


def _age_days(account: Mapping[str, Any], key: str, now: dt.datetime) -> int:
    moment = windows_utc(account.get(key))
    if moment is None:
        why = account.get("error") or f"{account.get(key)!r} is not a time the collector writes"
        raise Unknown(f"{_label(account)}: {key} is not known ({why})")
    if moment > now + dt.timedelta(days=1):
        raise Unknown(f"{_label(account)}: {key} {account.get(key)} is after the host's own "
                      f"time {now.isoformat()}: contradictory")
    return max(0, (now - moment).days)


def account_property(account: Mapping[str, Any], name: str, now: dt.datetime) -> Any:
    """The value a `require` compares ("never" for a last logon that never happened)."""
    if name == "enabled":
        return _enabled(account)
    if name in _BOOLEAN_PROPERTIES:
        value = account.get(name)
        if not isinstance(value, bool):
            raise Unknown(f"{_label(account)}: {name} is not known ({value!r})")
        return value
    if name == "last_logon_age_days":
        if account.get("never_logged_on") is True:
            return "never"
        if account.get("never_logged_on") is not False:
            raise Unknown(f"{_label(account)}: its last logon is not known "
                          f"({account.get('error') or 'not reported'})")
        return _age_days(account, "last_logon", now)
    if name == "password_age_days":
        if account.get("password_must_change") is True:
            return "must change at next logon"
        return _age_days(account, "password_last_set", now)
    raise FactUnavailable(f"rule data: unknown account property {name!r}")


def account_list(facts: HostFacts) -> tuple[list[dict[str, Any]], dt.datetime, dict[str, Any]]:
    data = section(facts, "local_accounts")
    accounts = entries(data, "accounts", "account")
    if data.get("truncated") is not False:
        raise FactUnavailable("the account list is incomplete (the collector stopped at its "
                              "limit) or does not say whether it is complete")
    if not accounts:
        raise FactUnavailable("the collector returned no accounts, which an account database "
                              "always has (the built-in Administrator): unreliable")
    for account in accounts:
        if not isinstance(account.get("sid"), str) or not isinstance(account.get("name"), str):
            raise FactUnavailable(f"an account without a name or SID: {str(account)[:200]}")
    return accounts, collected_at(data, "local_accounts"), data


def _passes(require: Mapping[str, Any], value: Any) -> bool | None:
    if value == "never" or value == "must change at next logon":
        # Never logged on (or a password that must be changed) has no age inside any bound.
        return False if require.get("op") in ("at_most", "range") else None
    return compare(require, value).passed


@check_judge("accounts")
def judge_accounts(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    accounts, now, data = account_list(facts)
    require = check.get("require") or {}
    prop = str(require.get("property"))
    expected = f"{prop} {describe(require)} for every account selected"
    where, exclusions = check.get("where") or {}, check.get("exclude") or ()
    selected, failing, unknown, shown = [], [], [], []
    for account in accounts:
        try:
            if not _matches(account, where, context.inputs) or \
                    any(_matches(account, rule, context.inputs) for rule in exclusions):
                continue
            selected.append(account)
            value = account_property(account, prop, now)
        except Unknown as exc:
            unknown.append(str(exc))
            continue
        passed = _passes(require, value)
        shown.append(f"{_label(account)}: {value}")
        if passed is False:
            failing.append(f"{_label(account)}: {prop} {value}")
        elif passed is None:
            unknown.append(f"{_label(account)}: {prop} {value!r} cannot be compared")
    if "names_input" in where:
        if context.inputs.get(where["names_input"]) is None:
            # Which accounts the rule is about is the organization's list: without it nothing
            # is selected, which must not read as "no such account exists".
            raise FactUnavailable(f"{where['names_input']} is not set in the inventory")
        listed = _names(context.inputs, where["names_input"])
        missing = [n for n in listed if not any(_named(a, [n]) for a in accounts)]
        unknown += [f"{n} (in {where['names_input']}) is not an account of this host's "
                    "account database" for n in missing]
    source = f"{data.get('source') or 'account database'} ({OVER_WINRM})"
    if failing:
        observed = "; ".join(failing)
        return Outcome(False, (Evidence(source, "accounts", observed, expected),), expected,
                       observed, "", "accounts")
    if unknown:
        reason = "; ".join(unknown)
        return Outcome(None, (Evidence(source, "accounts", "not available", expected, reason),),
                       expected, "not available", reason, "accounts")
    if not selected:
        if_none = check.get("if_none")
        observed = "no account is selected by the rule"
        evidence = (Evidence(source, "accounts", observed, expected,
                             f"{len(accounts)} accounts read"),)
        if if_none == "not_applicable":
            return NotApplicableOutcome(None, evidence, expected, observed,
                                        "no such account exists (DISA: this is NA)", "accounts")
        return Outcome(if_none == "compliant", evidence, expected, observed, "", "accounts")
    observed = "; ".join(shown)
    return Outcome(True, (Evidence(source, "accounts", observed, expected),), expected, observed,
                   "", "accounts")


# --- group members ------------------------------------------------------------------------

def group_answer(facts: HostFacts, sid: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = section(facts, "group_members")
    found = one([g for g in entries(data, "groups", "group")
                 if str(g.get("sid", "")).upper() == sid.upper()], f"group {sid}")
    if found.get("error"):
        raise FactUnavailable(f"the members of group {sid} could not be read: {found['error']}")
    if "members" not in found:
        raise FactUnavailable(f"the answer for group {sid} lists no members field")
    members = as_list(found.get("members"))
    for member in members:
        if not isinstance(member, dict) or not isinstance(member.get("sid"), str):
            raise FactUnavailable(f"group {sid} lists a member without a SID: {str(member)[:200]}")
    return found, members


def _member_label(member: Mapping[str, Any]) -> str:
    return f"{member.get('name') or '(unresolved)'} [{member.get('sid')}]"


def _fixed(principals: list[Mapping[str, Any]], facts: HostFacts
           ) -> tuple[set[str], list[tuple[Mapping[str, Any], int | None]]]:
    """The SIDs of the rule's own principals, and those that could not be resolved here (with
    the RID they stand for, which decides for members of another RID)."""
    sids: set[str] = set()
    unresolved: list[tuple[Mapping[str, Any], int | None]] = []
    try:
        context = sid_context(facts)
    except FactUnavailable:
        context = None
    for principal in principals:
        try:
            if context is None:
                raise FactUnavailable("no identity section")
            sids |= principal_sids(principal, context)
        except FactUnavailable:
            wanted = next((int(principal[k]) for k in ("machine_rid", "domain_rid", "forest_rid")
                           if k in principal), None)
            unresolved.append((principal, wanted))
    return sids, unresolved


def _could_be(member: Mapping[str, Any], unresolved: list[tuple[Mapping[str, Any], int | None]]
              ) -> bool:
    """Whether an unresolved principal of the rule might be this member: only when the member
    is an account-domain SID with the principal's RID."""
    member_rid = rid(member.get("sid"))
    return any(wanted is None or wanted == member_rid for _, wanted in unresolved)


def _computer_name(facts: HostFacts) -> str | None:
    name = facts.identity().get("computer_name")
    return name.strip() if isinstance(name, str) and name.strip() else None


@check_judge("group_members")
def judge_group_members(check: Mapping[str, Any], facts: HostFacts,
                        context: RuleContext) -> Outcome:
    group = check.get("group") or {}
    sid = str(group.get("sid", ""))
    found, members = group_answer(facts, sid)
    where = f"{found.get('name') or describe_principal(group)} ({sid})"
    source = f"{found.get('method') or 'group members'} ({OVER_WINRM})"
    listing = "; ".join(_member_label(m) for m in members) or "no members"
    principals = list(check.get("principals") or ())
    fixed, unresolved = _fixed(principals, facts)
    op = check.get("op")
    failing, unknown = [], []
    if op == "only":
        declared = context.inputs.get(check["principals_input"]) \
            if check.get("principals_input") else []
        if declared is not None and not isinstance(declared, list):
            raise FactUnavailable(f"{check['principals_input']} must be a list of principals")
        approved = [str(e) for e in declared or ()]
        expected = "members only: " + ", ".join(
            [describe_principal(p) for p in principals] +
            ([f"{check['principals_input']} ({', '.join(approved) or 'empty'})"]
             if check.get("principals_input") else []))
        computer = _computer_name(facts)
        for member in members:
            if str(member["sid"]).upper() in fixed:
                continue
            match = judge_member(member, approved, None, computer).match
            if match is Match.APPROVED:
                continue
            if match is Match.UNDETERMINED or _could_be(member, unresolved):
                unknown.append(f"{_member_label(member)}: cannot tell whether it is approved")
            else:
                failing.append(_member_label(member))
    elif op == "excludes":
        expected = "none of: " + ", ".join(describe_principal(p) for p in principals)
        for member in members:
            if str(member["sid"]).upper() in fixed:
                failing.append(_member_label(member))
            elif _could_be(member, unresolved):
                unknown.append(f"{_member_label(member)}: cannot tell whether it is "
                               f"{' or '.join(describe_principal(p) for p, _ in unresolved)}")
    else:
        raise FactUnavailable(f"rule data: the suite cannot judge group_members op {op!r}")
    if failing:
        observed = "not allowed: " + "; ".join(failing)
        return Outcome(False, (Evidence(source, where, observed, expected, listing),), expected,
                       observed, "", where)
    if unknown:
        reason = "; ".join(unknown)
        return Outcome(None, (Evidence(source, where, "not available", expected, reason),),
                       expected, "not available", reason, where)
    evidence = (Evidence(source, where, listing, expected),)
    if not members and check.get("if_empty") == "not_applicable":
        return NotApplicableOutcome(None, evidence, expected, "no members",
                                    f"{where} has no members (DISA: this is NA)", where)
    return Outcome(True, evidence, expected, listing, "", where)
