"""The generic judge for catalog conditions: registry values, security policy, user rights,
Windows features and firewall profiles, combined with all/any.

Each condition yields passed / failed / unknown with what was read. Unknown (the fact could not
be collected or read) can never become a pass: an `all` with an unknown part and no failure is
Not_Reviewed, an `any` needs one part that really passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cwh.catalog.model import Combination, Condition, Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.outcome import Outcome, combine, to_verdict
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed
from cwh.parse.primitives import ascii_int
from cwh.parse.secedit import SeceditParseError

_OPERATOR_TEXT = {"equals": "=", "not_equals": "!=", "at_least": ">=", "at_most": "<=",
                  "one_of": "one of"}
_SOURCE = {
    "registry": "registry, 64-bit view (collector over WinRM)",
    "secedit": "secedit /export /areas SECURITYPOLICY USER_RIGHTS (collector over WinRM)",
    "user_right": "secedit /export /areas USER_RIGHTS (collector over WinRM)",
    "windows_feature": "Get-WindowsFeature (collector over WinRM)",
    "firewall_profiles": "Get-NetFirewallProfile -PolicyStore ActiveStore (collector over WinRM)",
}


@dataclass(frozen=True)
class Requirement:
    """The value applied for a condition, and who asked for what."""

    expected: Any
    text: str
    active: bool = True  # False: only the STIG asks for it and the inventory follows the guide


def requirement_for(control: Control, condition: Condition, inputs: Mapping[str, Any]) -> \
        Requirement:
    """Stricter value by default; the guide's value when the inventory lists the control in
    cwh_guide_only; an inventory input when the condition names one."""
    guide_only = control.id in (inputs.get("cwh_guide_only") or ())
    op = _OPERATOR_TEXT.get(condition.operator, condition.operator)
    stig_text = f"STIG {op} {condition.expected}"
    if condition.source == "stig":
        guide_text = (f"guide {op} {condition.guide}" if condition.guide is not None
                      else "guide does not ask for it")
    elif condition.source == "guide":
        guide_text, stig_text = f"guide {op} {condition.expected}", "STIG does not ask for it"
    else:
        guide_text, stig_text = "", f"STIG and guide {op} {condition.expected}"
    asked = "; ".join(filter(None, (stig_text, guide_text)))
    if condition.input and inputs.get(condition.input) is not None:
        value = inputs[condition.input]
        floor = condition.guide if condition.guide is not None else condition.expected
        too_lax = (condition.operator == "at_least" and value < floor) or \
            (condition.operator == "at_most" and value > floor)
        if too_lax:
            return Requirement(floor, f"{asked}; inventory {condition.input} = {value} is laxer "
                                      f"than the guide, so {op} {floor} applied")
        return Requirement(value, f"{asked}; applied {op} {value} (inventory {condition.input})")
    if guide_only and condition.source == "stig":
        if condition.guide is None:
            return Requirement(None, f"{asked}; not applied (inventory cwh_guide_only)", False)
        return Requirement(condition.guide,
                           f"{asked}; applied {op} {condition.guide} (inventory cwh_guide_only)")
    if condition.source == "stig" and condition.guide is not None:
        return Requirement(condition.expected, f"{asked}; applied the stricter STIG value")
    return Requirement(condition.expected, asked)


def compare(operator: str, observed: Any, expected: Any) -> bool:
    """Compare like with like; a number that arrives as text is not silently converted."""
    if operator == "equals":
        return type(observed) is type(expected) and observed == expected
    if operator == "not_equals":
        return not (type(observed) is type(expected) and observed == expected)
    if operator == "one_of":
        return any(type(observed) is type(e) and observed == e for e in expected)
    if not isinstance(observed, int) or isinstance(observed, bool):
        raise TypeError(f"{observed!r} is not a number")
    if operator == "at_least":
        return observed >= expected
    if operator == "at_most":
        return observed <= expected
    raise ValueError(f"unknown operator {operator}")


def _expected_text(condition: Condition, expected: Any) -> str:
    if condition.method == "registry":
        return f"{condition.params['type']} {_OPERATOR_TEXT[condition.operator]} {expected}"
    if condition.method == "secedit":
        return f"{_OPERATOR_TEXT[condition.operator]} {expected}"
    return {"assigned_to_none": "assigned to no one", "not_installed": "not installed",
            "installed": "installed", "all_enabled": "enabled in every profile"}[condition.operator]


def _unknown(condition: Condition, expected: str, reason: str,
             raw: tuple[str, ...] = ()) -> Outcome:
    """Not available; `raw` holds the host's own lines that show why (else the reason)."""
    evidence = Evidence(_SOURCE[condition.method], condition.describe(), "not available",
                        expected, "\n".join(raw) or reason)
    return Outcome(None, (evidence,), expected, "not available", reason)


def _registry(condition: Condition, facts: HostFacts, expected: Any, text: str) -> Outcome:
    value = facts.registry(condition.params["path"], condition.params["name"])
    raw = compact_json({"key_exists": value.key_exists, "value_exists": value.value_exists,
                        "kind": value.kind, "value": value.value})
    observed = value.describe()

    def outcome(passed: bool, note: str = "") -> Outcome:
        shown = f"{observed} ({note})" if note else observed
        evidence = Evidence(_SOURCE["registry"], value.location, shown, text, raw)
        return Outcome(passed, (evidence,), text, shown)

    if not value.value_exists:
        if condition.absent == "compliant":
            return outcome(True, "absence is compliant per the STIG check text")
        return outcome(False, "a missing value is a finding")
    if value.kind != condition.params["type"]:
        return outcome(False, f"wrong type: {condition.params['type']} expected; Windows does "
                              "not read a differently typed value as this setting")
    try:
        return outcome(compare(condition.operator, value.value, expected))
    except TypeError as exc:
        return outcome(False, str(exc))


def _secedit(condition: Condition, facts: HostFacts, expected: Any, text: str) -> Outcome:
    policy = facts.security_policy()
    section, key = condition.params["section"], condition.params["key"]
    try:
        raw_value = policy.value(section, key)
    except SeceditParseError as exc:
        if exc.lines:
            return _unknown(condition, text, str(exc), exc.lines)
        return _unknown(condition, text, f"the secedit export is incomplete: {exc}")
    location = condition.describe()
    if raw_value is None:
        evidence = Evidence(_SOURCE["secedit"], location, "line absent", text, f"[{section}]")
        return Outcome(False, (evidence,), text, "line absent (policy not defined: a finding)")
    observed: Any = raw_value
    if isinstance(expected, int):
        # secedit writes plain ASCII digits; int() would also read `1_4` or an Arabic-Indic digit.
        observed = ascii_int(raw_value)
        if observed is None:
            reason = f"{key} = {raw_value!r} is not a number"
            return _unknown(condition, text, reason, (f"{key} = {raw_value}",))
    evidence = Evidence(_SOURCE["secedit"], location, str(observed), text, f"{key} = {raw_value}")
    return Outcome(compare(condition.operator, observed, expected), (evidence,), text,
                   str(observed))


def _user_right(condition: Condition, facts: HostFacts, text: str) -> Outcome:
    policy = facts.security_policy()
    right = condition.params["right"]
    try:
        holders = policy.right(right)
    except SeceditParseError as exc:
        return _unknown(condition, text, str(exc), exc.lines)
    raw = policy.value("Privilege Rights", right)
    observed = "assigned to no one" if not holders else "assigned to " + ", ".join(holders)
    evidence = Evidence(_SOURCE["user_right"], condition.describe(), observed, text,
                        f"{right} = {raw}" if raw is not None else f"{right} absent from "
                        "[Privilege Rights]")
    return Outcome(not holders, (evidence,), text, observed)


def _feature(condition: Condition, facts: HostFacts, text: str) -> Outcome:
    state = facts.feature_state(condition.params["name"])
    installed = state == "Installed"
    if state not in ("Installed", "Available", "Removed"):
        return _unknown(condition, text, f"unexpected install state {state!r}")
    passed = installed if condition.operator == "installed" else not installed
    evidence = Evidence(_SOURCE["windows_feature"], condition.describe(), state, text,
                        f"InstallState = {state}")
    return Outcome(passed, (evidence,), text, state)


def _firewall(condition: Condition, facts: HostFacts, text: str) -> Outcome:
    profiles = facts.firewall_profiles()
    states = {str(p.get("name")): str(p.get("enabled")) for p in profiles}
    missing = {"Domain", "Private", "Public"} - set(states)
    if missing:
        return _unknown(condition, text, f"profiles missing from the answer: {sorted(missing)}")
    observed = ", ".join(f"{name}={states[name]}" for name in ("Domain", "Private", "Public"))
    passed = all(states[name] == "True" for name in ("Domain", "Private", "Public"))
    evidence = Evidence(_SOURCE["firewall_profiles"], condition.describe(), observed, text,
                        compact_json(profiles))
    return Outcome(passed, (evidence,), text, observed)


def evaluate_condition(control: Control, condition: Condition, facts: HostFacts,
                       inputs: Mapping[str, Any]) -> tuple[Outcome, Requirement]:
    requirement = requirement_for(control, condition, inputs)
    text = _expected_text(condition, requirement.expected)
    try:
        if condition.method == "registry":
            outcome = _registry(condition, facts, requirement.expected, text)
        elif condition.method == "secedit":
            outcome = _secedit(condition, facts, requirement.expected, text)
        elif condition.method == "user_right":
            outcome = _user_right(condition, facts, text)
        elif condition.method == "windows_feature":
            outcome = _feature(condition, facts, text)
        else:
            outcome = _firewall(condition, facts, text)
    except FactUnavailable as exc:
        outcome = _unknown(condition, text, str(exc))
    return replace(outcome, label=_label(condition)), requirement


def _label(condition: Condition) -> str:
    params = condition.params
    if condition.method == "registry":
        # SCHANNEL values share names across protocols, so keep the protocol: TLS 1.0\Enabled
        keys = params["path"].split("\\")
        return f"{keys[-2]}\\{params['name']}" if "Protocols" in keys else params["name"]
    names = {"secedit": "key", "user_right": "right", "windows_feature": "name"}
    return params[names[condition.method]] if condition.method in names else "firewall"


def evaluate(control: Control, check: Condition | Combination, facts: HostFacts,
             inputs: Mapping[str, Any], requirements: list[str]) -> Outcome | None:
    """Evaluate a check tree; None when every part is switched off by the inventory."""
    if isinstance(check, Condition):
        outcome, requirement = evaluate_condition(control, check, facts, inputs)
        requirements.append(f"{check.describe()}: {requirement.text}")
        return outcome if requirement.active else None
    parts = [o for o in (evaluate(control, p, facts, inputs, requirements) for p in check.parts)
             if o is not None]
    return combine(check.mode, parts) if parts else None


def judge_policy(control: Control, facts: HostFacts, inputs: Mapping[str, Any]) -> Verdict:
    """Judge a catalog control whose check is made of conditions."""
    requirements: list[str] = []
    applicability: Outcome | None = None
    if control.not_applicable_when:
        rule = control.not_applicable_when
        applicability = evaluate(control, rule.condition, facts, inputs, [])
        if applicability is not None and applicability.passed is True:
            return Verdict(Status.NOT_APPLICABLE, rule.reason, observed=applicability.observed,
                           evidence=applicability.evidence)
    outcome = evaluate(control, control.check, facts, inputs, requirements)  # type: ignore[arg-type]
    requirement = " | ".join(requirements)
    if outcome is None:
        return Verdict(Status.NOT_REVIEWED, "every condition is switched off by the inventory",
                       requirement=requirement, error=False)
    verdict = to_verdict(outcome, requirement=requirement)
    if applicability is not None and applicability.passed is None and \
            verdict.status is not Status.NOT_A_FINDING:
        # A finding only counts where the control applies; unsure of that, we cannot say Open.
        return not_reviewed(f"{verdict.reason}; could not tell whether the control applies: "
                            f"{applicability.unknown_reason}", evidence=verdict.evidence,
                            expected=verdict.expected, observed=verdict.observed)
    return verdict
