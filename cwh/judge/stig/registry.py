"""The `registry` check: one HKLM value against its requirement (docs/stig-rules.md, "registry").

A missing value (or key) is compliant only where the rule data says `absent: compliant`; a value
of another type than the one named is a finding; data the collector garbled (a DWord that is not
a number) is unknown. A numeric op on a String reads the string as a decimal number of ASCII
digits only (CachedLogonsCount is REG_SZ "4"); any other string is a finding, because what
Windows makes of "-1" or "4 " is not the setting.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from cwh.catalog.stig_inputs import INPUTS
from cwh.collect.facts import HostFacts, RegistryValue
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.compare import NUMERIC_OPS, compare, describe
from cwh.judge.verdict import Evidence, compact_json

SOURCE = "registry, 64-bit view (collector over WinRM)"
_DIGITS = re.compile(r"[0-9]{1,20}")
_LIMITS = {"DWord": 2**32 - 1, "QWord": 2**64 - 1}
_TEXT_KINDS = ("String", "ExpandString")
_SHOWN = 100  # characters of a long string shown in the verdict (the evidence has the hash)


@check_judge("registry")
def judge_registry(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    return registry_outcome(check, facts.registry(str(check["path"]), str(check["name"])),
                            context.inputs)


def registry_outcome(check: Mapping[str, Any], value: RegistryValue,
                     inputs: Mapping[str, Any]) -> Outcome:
    """The outcome of one registry check on the value the collector read."""
    wanted_kind = str(check.get("type"))
    expected = f"{wanted_kind} {expected_text(check, inputs)}"
    raw = compact_json({"key_exists": value.key_exists, "value_exists": value.value_exists,
                        "kind": value.kind, "value": value.value})

    def outcome(passed: bool | None, note: str = "") -> Outcome:
        shown = _shown(value)
        observed = f"{shown} ({note})" if note else shown
        evidence = Evidence(SOURCE, value.location, observed, expected, raw)
        return Outcome(passed, (evidence,), expected, observed,
                       f"{value.location}: {note}" if passed is None else "",
                       label=str(check.get("name")))

    if not value.value_exists:
        if check.get("absent") == "compliant":
            return outcome(True, "absent, which the STIG check text calls compliant")
        return outcome(False, "a missing value is a finding")
    if value.kind != wanted_kind:
        return outcome(False, f"wrong type: {wanted_kind} expected; Windows does not read a "
                              "differently typed value as this setting")
    problem = garbled(value)
    if problem:
        return outcome(None, problem)
    op = check.get("op", "equals")
    if op == "key_values":
        return outcome(*_key_values(check, value.value))
    if op == "matches_input":
        return outcome(*_matches_input(check, value.value, inputs))
    observed: Any = value.value
    if value.kind in _TEXT_KINDS and _numeric(check):
        if not _DIGITS.fullmatch(value.value):
            return outcome(False, "not a decimal number in ASCII digits, so not this setting")
        observed = int(value.value)
    comparison = compare(_with_input(check, inputs), observed)
    return outcome(comparison.passed, comparison.note)


def garbled(value: RegistryValue) -> str:
    """Why the data cannot be what Windows holds for its type; empty when it can."""
    data = value.value
    if value.kind in _LIMITS:
        if isinstance(data, bool) or not isinstance(data, int) or \
                not 0 <= data <= _LIMITS[value.kind]:
            return f"{value.kind} data {data!r} is not an unsigned number: garbled, not judged"
    elif value.kind in (*_TEXT_KINDS, "Binary") and not isinstance(data, str):
        return f"{value.kind} data {data!r} is not text: garbled, not judged"
    elif value.kind == "MultiString" and not (
            isinstance(data, list) and all(isinstance(item, str) for item in data)):
        return f"MultiString data {data!r} is not a list of strings: garbled, not judged"
    return ""


def _numeric(check: Mapping[str, Any]) -> bool:
    values = [check.get("value"), *(check.get("values") or ())]
    return check.get("op") in NUMERIC_OPS or any(
        isinstance(v, int) and not isinstance(v, bool) for v in values)


def _with_input(check: Mapping[str, Any], inputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """`one_of` with `also_input`: the inventory's value (when set) is accepted too."""
    name = check.get("also_input")
    extra = inputs.get(str(name)) if name else None
    if not isinstance(extra, str) or not extra:
        return check
    return {**check, "values": [*check.get("values", ()), extra]}


def expected_text(check: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    op = check.get("op", "equals")
    if op == "key_values":
        pairs = ", ".join(f"{k}={v}" for k, v in sorted(check.get("values", {}).items()))
        return f"exactly the pairs {pairs} (any order)"
    if op == "matches_input":
        name = str(check.get("input"))
        if _input_text(name, inputs) is not None:
            return f"= the inventory's {name}"
        return f"DoD's text (SHA-256 {str(check.get('default_sha256'))[:16]}..., " \
               f"whitespace {check.get('normalize') or 'as is'})"
    text = describe(_with_input(check, inputs))
    if check.get("absent") == "compliant":
        text += ", or absent"
    return text


def _key_values(check: Mapping[str, Any], text: str) -> tuple[bool, str]:
    """A String of comma-separated Key=Value pairs must hold exactly the wanted pairs."""
    wanted = {str(k).casefold(): str(v) for k, v in check.get("values", {}).items()}
    found: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition("=")
        key = key.strip().casefold()
        if not sep or not key:
            return False, f"{part!r} is not a Key=Value pair"
        if key in found:
            return False, f"{key} is given twice"
        found[key] = val.strip()
    if found != wanted:
        missing = sorted(set(wanted) - set(found))
        extra = sorted(set(found) - set(wanted))
        wrong = sorted(k for k in set(found) & set(wanted) if found[k] != wanted[k])
        parts = [f"missing {', '.join(missing)}" if missing else "",
                 f"not asked for {', '.join(extra)}" if extra else "",
                 f"other value for {', '.join(wrong)}" if wrong else ""]
        return False, "; ".join(p for p in parts if p)
    return True, "the pairs asked for, no others"


def _input_text(name: str, inputs: Mapping[str, Any]) -> str | None:
    """The inventory's text, or None when it is unset (the catalog's placeholder default
    stands for "use default_sha256")."""
    value = inputs.get(name)
    spec = INPUTS.get(name)
    if not isinstance(value, str) or (spec is not None and value == spec.default):
        return None
    return value


def normalized(text: str, how: str | None) -> str:
    return " ".join(text.split()) if how == "whitespace" else text


def _matches_input(check: Mapping[str, Any], text: str,
                   inputs: Mapping[str, Any]) -> tuple[bool, str]:
    how = check.get("normalize")
    wanted = _input_text(str(check.get("input")), inputs)
    if wanted is not None:
        same = normalized(text, how) == normalized(wanted, how)
        return same, "the inventory's text" if same else "differs from the inventory's text"
    digest = hashlib.sha256(normalized(text, how).encode("utf-8")).hexdigest()
    same = digest == check.get("default_sha256")
    return same, f"SHA-256 {digest[:16]}... {'is' if same else 'is not'} DoD's text"


def _shown(value: RegistryValue) -> str:
    if value.value_exists and isinstance(value.value, str) and len(value.value) > _SHOWN:
        return f"{value.kind} {value.value[:_SHOWN]!r}... ({len(value.value)} characters)"
    return value.describe()
