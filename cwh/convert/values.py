"""Read DISA's value phrases: `0x00000001 (1)`, `0x0000001e (30) (or less, but not 0)`,
`0x00000001 (1), 0x00000003 (3), or 0x00000008 (8) (or if the Value Name does not exist)`,
`1 (Lock Workstation) or 2 (Force Logoff)`, `4 (or less)`.

A value written in hex and decimal must agree in both, or the phrase is refused. Labels that
name a value ("(Secure Boot only)", "- No peering (HTTP Only)") are allowed, but a label that
sounds like a bound or a condition ("less", "greater", "except", ...) is refused: it might change
the requirement and the scanner does not know how.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cwh.convert.result import Refusal

_HEX_DEC = re.compile(r"0x([0-9a-f]+)\s*\(\s*(\d+)\s*\)", re.I)
_HEX = re.compile(r"0x([0-9a-f]+)\b", re.I)
_DEC = re.compile(r"(\d+)\b")
_SEPARATOR = re.compile(r"[ \t]*(,\s*or\b|,|\bor\b|;|\n)\s*", re.I)
_DASH_LABEL = re.compile(r"\s+-\s+([^\n]*)")
# Labels that could carry a bound or a condition are not "just a name".
_SUSPICIOUS_LABEL = re.compile(
    r"\b(less|greater|more|higher|lower|exclud\w*|except\w*|exist\w*|minimum|maximum|at least|"
    r"at most|but|finding|unless|only if|if)\b", re.I)

_AT_MOST = re.compile(r"^or less$", re.I)
_AT_LEAST = re.compile(r"^or (greater|more)$", re.I)
_AT_MOST_NOT = re.compile(
    r"^or less, (?:but not|excluding) \"?(\d+)\"?(?: which is effectively disabled)?$", re.I)
_ABSENT_OK = re.compile(r"^or if the value name does not exist$", re.I)


def number(token: str) -> int:
    """`0x0000001e (30)` -> 30; hex and decimal must agree. `0x1e` and `30` alone also read."""
    token = token.strip()
    pair = _HEX_DEC.fullmatch(token)
    if pair:
        hex_value, dec_value = int(pair.group(1), 16), int(pair.group(2))
        if hex_value != dec_value:
            raise Refusal(f"the value is written as hex {pair.group(1)} and decimal "
                          f"{pair.group(2)}, which disagree")
        return hex_value
    if _HEX.fullmatch(token):
        return int(token[2:], 16)
    if _DEC.fullmatch(token):
        return int(token)
    raise Refusal("a value is not a number")


@dataclass
class ValueSpec:
    """A requirement on one number (or string that holds one)."""

    numbers: list[int]
    bound: str | None = None  # at_most | at_least
    never: list[int] = field(default_factory=list)
    absent_compliant: bool = False
    labels: list[str] = field(default_factory=list)

    def fields(self, as_strings: bool = False) -> dict[str, Any]:
        """The check fields: op and operands as docs/stig-rules.md defines them."""
        if self.bound:
            if len(self.numbers) != 1:
                raise Refusal("a bound ('or less', 'or greater') with several values")
            out: dict[str, Any] = {"op": self.bound, "value": self.numbers[0]}
            if self.never:
                out["never"] = self.never
            return out
        if self.never:
            raise Refusal("'but not' without a bound")
        values: list[Any] = [str(n) for n in self.numbers] if as_strings else list(self.numbers)
        if len(values) == 1:
            return {"op": "equals", "value": values[0]}
        if len(set(values)) != len(values):
            raise Refusal("the same value is listed twice")
        return {"op": "one_of", "values": sorted(values, key=_sort_key)}

    def allows(self, candidate: int) -> bool:
        """Whether `candidate` meets the requirement (for checking DISA's own examples)."""
        if candidate in self.never:
            return False
        if self.bound == "at_most":
            return candidate <= self.numbers[0]
        if self.bound == "at_least":
            return candidate >= self.numbers[0]
        return candidate in self.numbers


def _sort_key(value: Any) -> tuple[int, Any]:
    return (0, int(value)) if str(value).isdigit() else (1, str(value))


def _qualifier(spec: ValueSpec, inner: str) -> bool:
    """Apply a parenthesised qualifier; False when `inner` is not one."""
    inner = inner.strip()
    match = _AT_MOST_NOT.match(inner)
    if match:
        _set_bound(spec, "at_most")
        spec.never.append(int(match.group(1)))
        return True
    if _AT_MOST.match(inner):
        _set_bound(spec, "at_most")
        return True
    if _AT_LEAST.match(inner):
        _set_bound(spec, "at_least")
        return True
    if _ABSENT_OK.match(inner):
        spec.absent_compliant = True
        return True
    return False


def _set_bound(spec: ValueSpec, bound: str) -> None:
    if spec.bound:
        raise Refusal("two bounds on one value")
    spec.bound = bound


def _label(spec: ValueSpec, text: str) -> None:
    text = text.strip()
    if _SUSPICIOUS_LABEL.search(text):
        raise Refusal("the value carries a note that may change it")
    spec.labels.append(text)


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at `start`."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise Refusal("unbalanced parentheses in the value")


def value_spec(text: str) -> ValueSpec:
    """Scan a value phrase into numbers, a bound, exclusions and labels; refuse anything else."""
    spec = ValueSpec(numbers=[])
    pos, expect_value = 0, True
    text = text.strip()
    while pos < len(text):
        separator = _SEPARATOR.match(text, pos)
        if separator and separator.end() > pos:
            pos, expect_value = separator.end(), True
            continue
        if text[pos].isspace():
            pos += 1
            continue
        token = _HEX_DEC.match(text, pos) or _HEX.match(text, pos) or _DEC.match(text, pos)
        if token:
            if not expect_value:
                raise Refusal("two values without a separator")
            spec.numbers.append(number(token.group(0)))
            pos, expect_value = token.end(), False
            continue
        if text[pos] == "(":
            end = _closing(text, pos)
            if not _qualifier(spec, text[pos + 1:end]):
                _label(spec, text[pos + 1:end])
            pos = end + 1
            continue
        dash = _DASH_LABEL.match(text, pos - 1) if pos else None
        if text[pos] == "-" and dash:
            _label(spec, dash.group(1))
            pos = dash.end()
            continue
        raise Refusal("the value phrase has text the converter does not read")
    if not spec.numbers:
        raise Refusal("the value phrase names no value")
    return spec
