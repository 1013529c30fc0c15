"""The requirement of a check (`op` and its operands, docs/stig-rules.md) applied to one observed
value: shared by every kind whose checks compare a value (registry, account policy, OS,
device guard, LDAP policy, ...).

Like compares with like: a number only with a number, a string only with a string (unless the
check says its value is a number written as text, or `case: insensitive`). A value that is not
of the kind the requirement needs is unknown (None), never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NUMERIC_OPS = ("at_least", "at_most", "range", "bits_set", "bits_clear")


@dataclass(frozen=True)
class Comparison:
    passed: bool | None  # None: the observed value is not something the requirement can judge
    expected: str  # the requirement in words, for evidence
    note: str = ""  # why the value could not be judged, or what made it pass or fail


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _same(observed: Any, wanted: Any, insensitive: bool) -> bool:
    if isinstance(wanted, str) and isinstance(observed, str):
        return observed.casefold() == wanted.casefold() if insensitive else observed == wanted
    if isinstance(wanted, bool) or isinstance(observed, bool):
        return observed is wanted
    if _number(wanted) is not None:
        return _number(observed) == wanted
    if isinstance(wanted, Sequence) and isinstance(observed, Sequence) and \
            not isinstance(observed, str):
        return len(observed) == len(wanted) and all(
            _same(o, w, insensitive) for o, w in zip(observed, wanted, strict=True))
    return False


def describe(check: Mapping[str, Any]) -> str:
    """The requirement in words: `>= 15 (or -1, 0)`, `one of 1, 2`, `1..3, not 0`."""
    op = check.get("op", "equals")
    if op == "equals":
        text = f"= {check.get('value')!r}"
    elif op in ("one_of", "none_of"):
        values = ", ".join(repr(v) for v in check.get("values", ()))
        text = f"one of {values}" if op == "one_of" else f"none of {values}"
    elif op == "at_least":
        text = f">= {check.get('value')}"
    elif op == "at_most":
        text = f"<= {check.get('value')}"
    elif op == "range":
        text = f"{check.get('min')}..{check.get('max')}"
    elif op == "bits_set":
        text = f"bits 0x{int(check.get('value', 0)):X} set"
    elif op == "bits_clear":
        text = f"bits 0x{int(check.get('value', 0)):X} clear"
    else:
        text = op
    if check.get("also"):
        text += " (or " + ", ".join(repr(v) for v in check["also"]) + ")"
    if check.get("never"):
        text += ", never " + ", ".join(repr(v) for v in check["never"])
    return text


def compare(check: Mapping[str, Any], observed: Any) -> Comparison:
    """Apply the check's op to `observed` (already converted to the check's value type)."""
    op = check.get("op", "equals")
    expected = describe(check)
    insensitive = check.get("case") == "insensitive"
    never = check.get("never") or ()
    also = check.get("also") or ()
    if any(_same(observed, v, insensitive) for v in never):
        return Comparison(False, expected, f"{observed!r} is excluded")
    if any(_same(observed, v, insensitive) for v in also):
        return Comparison(True, expected, f"{observed!r} is accepted as well")
    if op == "equals":
        return Comparison(_same(observed, check.get("value"), insensitive), expected)
    if op == "one_of":
        return Comparison(any(_same(observed, v, insensitive) for v in check.get("values", ())),
                          expected)
    if op == "none_of":
        if not isinstance(observed, (str, int)) or isinstance(observed, bool):
            return Comparison(None, expected, f"{observed!r} is not a value to compare")
        return Comparison(not any(_same(observed, v, insensitive)
                                  for v in check.get("values", ())), expected)
    number = _number(observed)
    if op in NUMERIC_OPS and number is None:
        return Comparison(None, expected, f"{observed!r} is not a number")
    if op == "at_least":
        return Comparison(number >= check["value"], expected)
    if op == "at_most":
        return Comparison(number <= check["value"], expected)
    if op == "range":
        return Comparison(check["min"] <= number <= check["max"], expected)
    if op == "bits_set":
        return Comparison(number & check["value"] == check["value"], expected)
    if op == "bits_clear":
        return Comparison(number & check["value"] == 0, expected)
    return Comparison(None, expected, f"the suite cannot judge op {op!r}")
