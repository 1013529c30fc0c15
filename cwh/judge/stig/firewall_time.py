"""The `firewall_profiles` and `time_source` checks (docs/stig-rules.md).

Firewall: the enforced (ActiveStore) state of each profile named; only `True` is enabled, `False`
is a finding, anything else (a profile missing, `NotConfigured`, which ActiveStore should never
show) is unknown.

Time source: the Windows Time client's Type and NtpServer as W32Time applies them: a Group Policy
value (HKLM\\SOFTWARE\\Policies\\Microsoft\\W32Time\\Parameters) where set, else the service's own
(HKLM\\SYSTEM\\...\\W32Time\\Parameters). These are the values `w32tm /query /configuration`
prints, read from the registry so that no translated console text is parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, RegistryValue, as_list
from cwh.collect.needs_policy import W32TIME_LOCAL, W32TIME_POLICY
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.verdict import Evidence, compact_json

FIREWALL_SOURCE = "Get-NetFirewallProfile -PolicyStore ActiveStore (collector over WinRM)"
TIME_SOURCE = "W32Time registry values, policy over local (collector over WinRM)"


@check_judge("firewall_profiles")
def judge_firewall_profiles(check: Mapping[str, Any], facts: HostFacts,
                            context: RuleContext) -> Outcome:
    wanted = [str(p) for p in check.get("profiles", ())]
    enabled = check.get("enabled", True) is True
    expected = f"{'enabled' if enabled else 'disabled'} in {', '.join(wanted)}"
    profiles = facts.firewall_profiles()
    states = {str(p.get("name")).casefold(): str(p.get("enabled")) for p in profiles}
    observed = ", ".join(f"{name} {states.get(name.casefold(), 'missing')}" for name in wanted)
    evidence = Evidence(FIREWALL_SOURCE, "firewall profiles", observed, expected,
                        compact_json(profiles))
    results = []
    for name in wanted:
        state = states.get(name.casefold())
        results.append(None if state not in ("True", "False") else (state == "True") == enabled)
    passed = False if False in results else (None if None in results else True)
    reason = "" if passed is not None else \
        f"a profile's state is missing or not True/False: {observed}"
    return Outcome(passed, (evidence,), expected, observed, reason, label="firewall")


def _text(value: RegistryValue) -> str | None:
    """A W32Time string value; FactUnavailable when it exists with another type or no text."""
    if not value.value_exists:
        return None
    if value.kind not in ("String", "ExpandString") or not isinstance(value.value, str):
        raise FactUnavailable(f"{value.location} is {value.kind} {value.value!r}, not the "
                              "string W32Time reads")
    return value.value


def effective_w32time(facts: HostFacts, name: str) -> tuple[str | None, str, str]:
    """(value, where it came from, raw) of one W32Time setting: policy over local."""
    policy = facts.registry(W32TIME_POLICY, name)
    local = facts.registry(W32TIME_LOCAL, name)
    raw = f"{policy.location}: {policy.describe()}; {local.location}: {local.describe()}"
    from_policy = _text(policy)
    if from_policy is not None:
        return from_policy, "Group Policy", raw
    return _text(local), "local", raw


@check_judge("time_source")
def judge_time_source(check: Mapping[str, Any], facts: HostFacts,
                      context: RuleContext) -> Outcome:
    wanted_type = str(check.get("type"))
    servers_input = check.get("servers_input")
    approved = [str(s) for s in as_list(context.inputs.get(str(servers_input)))] \
        if servers_input else []
    expected = f"Type {wanted_type}" + (
        f", NtpServer one of {', '.join(approved) or '(none listed)'}" if servers_input else "")
    kind, kind_from, kind_raw = effective_w32time(facts, "Type")
    observed = f"Type {kind!r} ({kind_from})" if kind is not None else "Type not set"
    raws = [kind_raw]
    passed = kind is not None and kind.casefold() == wanted_type.casefold()
    note = "" if passed else "the time client is not configured as required"
    if passed and servers_input:
        servers, servers_from, servers_raw = effective_w32time(facts, "NtpServer")
        raws.append(servers_raw)
        hosts = [entry.split(",", 1)[0] for entry in (servers or "").split() if entry]
        observed += f", NtpServer {servers!r} ({servers_from})"
        passed = any(h.casefold() == a.casefold() for h in hosts for a in approved)
        note = "" if passed else "no NtpServer entry is an approved time source"
    shown = f"{observed} ({note})" if note else observed
    evidence = Evidence(TIME_SOURCE, "W32Time Parameters", shown, expected, "; ".join(raws))
    return Outcome(passed, (evidence,), expected, shown, label="time source")
