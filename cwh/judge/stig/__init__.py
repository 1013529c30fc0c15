"""Judge a STIG rule (rule data, docs/stig-rules.md) against a host's facts.

The rule's own frame is judged here: the host's role against the rule's roles, the
organization-defined inputs it needs, its Not_Applicable conditions, manual rules, and how its
checks combine. Each check is judged by the judge registered for its kind (one small module per
family of kinds in this package); a kind without a judge is Not_Reviewed, never a pass.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cwh.catalog.stig_inputs import INPUTS, REQUIRED
from cwh.catalog.stig_rules import StigRule
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.outcome import Outcome, combine, to_verdict
from cwh.judge.verdict import Evidence, Status, Verdict, not_reviewed

# domain_role of Win32_ComputerSystem: 0/1 are workstations, which no server STIG covers.
ROLE_BY_DOMAIN_ROLE = {2: "standalone", 3: "member", 4: "dc", 5: "dc"}
DC_KIND = {4: "dc_other", 5: "dc_pdc"}
ROLE_WORDS = {"dc": "a domain controller", "member": "a domain-joined member server",
              "standalone": "a standalone (workgroup) server"}
_ROLE_SOURCE = "Win32_ComputerSystem.DomainRole (collector over WinRM)"


@dataclass(frozen=True)
class RuleContext:
    """What a check judge may know besides the facts: the rule, the host's role, the inputs."""

    rule: StigRule
    role: str  # dc | member | standalone
    roles: frozenset[str]  # the role and, on a DC, dc_pdc or dc_other
    inputs: Mapping[str, Any]  # the inventory's cwh_ variables, STIG defaults filled in


@dataclass(frozen=True)
class NotApplicableOutcome(Outcome):
    """A check whose subject does not exist where DISA says that makes the rule NA ("If none
    exist, this is NA"): the rule is Not_Applicable with this evidence. `passed` stays None, so
    anything that does not know this class reads it as unknown, never as a pass."""


CheckJudge = Callable[[Mapping[str, Any], HostFacts, RuleContext], Outcome]
CHECK_JUDGES: dict[str, CheckJudge] = {}
# The modules that register judges for kinds (each imports check_judge from here).
KIND_MODULES: tuple[str, ...] = (
    "registry", "account_policy", "user_rights", "audit_policy", "components", "firewall_time",
)
KIND_MODULES += ("system_acl", "system_certificates", "system_accounts", "system_platform",
                 "system_directory", "system_software")  # the STIG's system kinds


def check_judge(*kinds: str) -> Callable[[CheckJudge], CheckJudge]:
    """Register a judge for checks of these kinds."""
    def register(function: CheckJudge) -> CheckJudge:
        for kind in kinds:
            if kind in CHECK_JUDGES:
                raise ValueError(f"two judges for STIG check kind {kind!r}")
            CHECK_JUDGES[kind] = function
        return function
    return register


def effective_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inventory's variables with each STIG input's default where it is not set; required
    inputs without a value stay absent."""
    values = dict(inputs)
    for name, spec in INPUTS.items():
        if values.get(name) is None and spec.default is not REQUIRED:
            values[name] = spec.default
    return values


def host_roles(facts: HostFacts) -> tuple[str, frozenset[str], int]:
    """(role, roles, domain_role) from the identity facts; FactUnavailable when unknown."""
    domain_role = facts.identity().get("domain_role")
    if isinstance(domain_role, bool) or not isinstance(domain_role, int):
        raise FactUnavailable(f"the host's domain role is not a number: {domain_role!r}")
    if domain_role not in ROLE_BY_DOMAIN_ROLE:
        raise FactUnavailable(f"domain role {domain_role} is a workstation's, which no Windows "
                              "Server STIG covers")
    role = ROLE_BY_DOMAIN_ROLE[domain_role]
    extra = {DC_KIND[domain_role]} if domain_role in DC_KIND else set()
    return role, frozenset({role, *extra}), domain_role


def _input_check(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    name = check["input"]
    value = context.inputs.get(name)
    wanted = check.get("equals", True)
    evidence = Evidence("inventory", name, repr(value), f"= {wanted!r}",
                        "an organization-defined value (documented exception)")
    return Outcome(value == wanted, (evidence,), f"{name} = {wanted!r}", f"{name} = {value!r}",
                   label=name)


def _constant_check(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    result = check.get("result")
    evidence = Evidence("rule data", context.rule.stig_id, f"always {result} for this role",
                        "the rule's own verdict", "DISA states the result for every such host")
    return Outcome(result == "compliant", (evidence,), "nothing the host can change",
                   f"always {result}", label="constant")


CHECK_JUDGES.update({"input": _input_check, "constant": _constant_check})


def judge_check(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    """One check's outcome; unknown (never passed) when its facts or its judge are missing."""
    kind = str(check.get("kind"))
    judge = CHECK_JUDGES.get(kind)
    label = kind
    if judge is None:
        reason = f"the suite has no judge for {kind} checks yet"
        return Outcome(None, (Evidence("suite", kind, "not judged", "", reason),), "",
                       "not available", reason, label)
    try:
        return judge(check, facts, context)
    except FactUnavailable as exc:
        return Outcome(None, (Evidence(kind, str(check.get("path") or check.get("name") or kind),
                                       "not available", "", str(exc)),),
                       "", "not available", str(exc), label)


def _applies(check: Mapping[str, Any], context: RuleContext) -> bool:
    roles = check.get("roles")
    return not roles or bool(context.roles & set(roles))


def _not_applicable(rule: StigRule, facts: HostFacts, context: RuleContext) -> Verdict | None:
    for condition in rule.not_applicable_if:
        checks = [c for c in condition.get("checks", ()) if _applies(c, context)]
        outcomes = [judge_check(c, facts, context) for c in checks]
        if outcomes and all(o.passed is True for o in outcomes):
            evidence = tuple(e for o in outcomes for e in o.evidence)
            observed = "; ".join(o.observed for o in outcomes)
            return Verdict(Status.NOT_APPLICABLE, str(condition.get("reason", "")),
                           observed=observed, evidence=evidence)
    return None


def judge_rule(rule: StigRule, facts: HostFacts, inputs: Mapping[str, Any]) -> Verdict:
    """The verdict on one STIG rule for one host."""
    if not facts.ok:
        return not_reviewed(facts.error or "no facts were collected")
    try:
        role, roles, domain_role = host_roles(facts)
    except FactUnavailable as exc:
        return not_reviewed(f"could not tell the host's role: {exc}")
    role_evidence = Evidence(_ROLE_SOURCE, "identity", f"domain_role {domain_role} "
                             f"({ROLE_WORDS[role]})", " or ".join(rule.roles))
    if role not in rule.roles:
        return Verdict(Status.NOT_APPLICABLE,
                       f"applies to {', '.join(ROLE_WORDS[r] for r in rule.roles)}; this host "
                       f"is {ROLE_WORDS[role]}", observed=ROLE_WORDS[role],
                       evidence=(role_evidence,))
    context = RuleContext(rule, role, roles, effective_inputs(inputs))
    na = _not_applicable(rule, facts, context)
    if na is not None:
        return na
    if rule.manual:
        return Verdict(Status.NOT_REVIEWED, f"manual: {rule.manual_reason}",
                       evidence=(role_evidence,))
    missing = [name for name in rule.inputs
               if INPUTS.get(name) and INPUTS[name].default is REQUIRED
               and context.inputs.get(name) is None]
    needs_input = Verdict(Status.NOT_REVIEWED, f"needs the organization-defined value "
                          f"{', '.join(missing)} in the inventory (docs/stig-rules.md)",
                          evidence=(role_evidence,))
    checks = [c for c in rule.checks if _applies(c, context)]
    if not checks:
        return needs_input if missing else \
            not_reviewed(f"none of the rule's checks applies to {ROLE_WORDS[role]}")
    try:
        outcomes = [judge_check(c, facts, context) for c in checks]
    except (KeyError, TypeError, ValueError):
        if missing:  # a judge that needed the value; the missing value is the answer
            return needs_input
        raise
    # DISA's "if none exist, this is NA" (an empty Backup Operators group) holds whether or not
    # the organization has said who may be there; a missing value never decides anything else.
    absent = next((o for o in outcomes if isinstance(o, NotApplicableOutcome)), None)
    if absent is not None and not any(o.passed is False for o in outcomes):
        return Verdict(Status.NOT_APPLICABLE, absent.unknown_reason, observed=absent.observed,
                       evidence=absent.evidence)
    if missing:
        return needs_input
    return to_verdict(combine(rule.combine, outcomes))


# Last, so the kind modules find check_judge and RuleContext defined when they import them.
for _module in KIND_MODULES:
    importlib.import_module(f"cwh.judge.stig.{_module}")
