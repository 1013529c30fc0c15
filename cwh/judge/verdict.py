"""Verdicts: a status with the evidence behind it.

The four statuses are STIG Viewer's. NotAFinding cannot be constructed without an observed value
and at least one piece of evidence: a pass with nothing behind it is a bug, and it fails loudly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    NOT_A_FINDING = "NotAFinding"
    OPEN = "Open"
    NOT_APPLICABLE = "Not_Applicable"
    NOT_REVIEWED = "Not_Reviewed"


@dataclass(frozen=True)
class Evidence:
    """One thing that was read: what, from where, what it said."""

    source: str  # how it was read, e.g. "registry (64-bit view), over WinRM"
    location: str  # where, e.g. "HKLM\\...\\Lsa\\RestrictAnonymous"
    observed: str  # what was there, e.g. "DWord 1" or "value absent"
    expected: str = ""
    raw: str = ""  # a short excerpt of the raw answer

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str
    expected: str = ""
    observed: str = ""
    evidence: tuple[Evidence, ...] = ()
    requirement: str = ""  # which source asked for what, and which value was applied
    error: bool = False  # Not_Reviewed because something could not be collected or read
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status is Status.NOT_A_FINDING and not (self.observed and self.evidence):
            raise ValueError("NotAFinding needs an observed value and evidence")
        if self.status is not Status.NOT_REVIEWED and self.error:
            raise ValueError("only Not_Reviewed can carry an error")

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "reason": self.reason,
            "expected": self.expected,
            "observed": self.observed,
            "requirement": self.requirement,
            "error": self.error,
            "evidence": [e.to_dict() for e in self.evidence],
            "details": self.details,
        }


def not_reviewed(reason: str, *, error: bool = True, evidence: tuple[Evidence, ...] = (),
                 expected: str = "", observed: str = "") -> Verdict:
    return Verdict(Status.NOT_REVIEWED, reason, expected=expected, observed=observed,
                   evidence=evidence, error=error)


def compact_json(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
