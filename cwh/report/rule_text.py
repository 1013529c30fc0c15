"""A STIG rule's requirement in words, from the rule data alone.

DISA's prose (title, discussion, check and fix text) is never committed: reports take it from
the XCCDF when the user passes --stig-xccdf, and otherwise say what the suite checks, which is
what this module writes: one line per check, from its kind and operands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cwh.catalog.stig_rules import StigRule

_OPS = {"equals": "=", "at_least": ">=", "at_most": "<=", "one_of": "one of",
        "none_of": "none of", "range": "in", "only": "held only by", "none": "held by no one",
        "includes": "held by at least", "key_values": "holds exactly",
        "matches_input": "matches the inventory's"}
_LOCATION_KEYS = ("path", "right", "subcategory", "key", "name", "service", "group", "store",
                  "scope", "type")


def _value(check: Mapping[str, Any]) -> str:
    op = str(check.get("op", ""))
    if op == "range":
        return f"{check.get('min')}..{check.get('max')}"
    for key in ("value", "values", "input", "principals", "include", "state", "installed",
                "enabled", "result"):
        if key in check:
            value = check[key]
            if key == "principals":
                value = [p.get("name") or p.get("sid") or json.dumps(p, sort_keys=True)
                         for p in value if isinstance(p, Mapping)]
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return ""


def describe_check(check: Mapping[str, Any]) -> str:
    """`registry HKLM\\...\\Lsa\\RestrictAnonymous = 1 (absent: finding)` and the like."""
    kind = str(check.get("kind", "check"))
    where = [str(check[k]) for k in _LOCATION_KEYS if check.get(k) not in (None, "")]
    if kind == "registry" and "path" in check and "name" in check:
        where = [f"{check['path']}\\{check['name']}"]
    op = str(check.get("op", ""))
    parts = [kind, *where[:2], _OPS.get(op, op.replace("_", " ")), _value(check)]
    if check.get("absent"):
        parts.append(f"(absent: {check['absent']})")
    if check.get("roles"):
        parts.append(f"[on {', '.join(map(str, check['roles']))}]")
    return " ".join(p for p in parts if p)


@lru_cache(maxsize=4096)  # the same for every host: made once per rule
def requirement_text(rule: StigRule) -> str:
    """Every check of the rule and how they combine, its Not_Applicable conditions, its inputs;
    for a manual rule, why it is manual."""
    if rule.manual:
        lines = [f"Manual: {rule.manual_reason or 'not automated'}."]
    else:
        word = "all of" if rule.combine == "all" else "any of"
        lines = [f"Automated check ({word}):" if len(rule.checks) > 1 else "Automated check:"]
        lines += [f"- {describe_check(c)}" for c in rule.checks]
    for condition in rule.not_applicable_if:
        checks = "; ".join(describe_check(c) for c in condition.get("checks", ()))
        lines.append(f"Not applicable when {condition.get('reason', '')}: {checks}")
    if rule.inputs:
        lines.append(f"Organization-defined values: {', '.join(rule.inputs)}.")
    lines.append(f"Applies to: {', '.join(rule.roles)}.")
    return "\n".join(lines)


@lru_cache(maxsize=4096)
def rule_title(rule: StigRule) -> str:
    """A one-line title: the first check (and how many more), or why the rule is manual."""
    if rule.manual:
        return f"{rule.stig_id}: manual ({rule.manual_reason or 'not automated'})"
    first = describe_check(rule.checks[0]) if rule.checks else rule.kind
    more = f" (+{len(rule.checks) - 1} more)" if len(rule.checks) > 1 else ""
    return f"{rule.stig_id}: {first}{more}"
