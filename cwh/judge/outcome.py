"""Partial results and how they combine into a verdict.

Every check is made of parts that each come out passed, failed or unknown (the fact or the
probe was not available). Unknown can never become a pass: `all` passes only when every part
passed, `any` only when one part really passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cwh.judge.verdict import Evidence, Status, Verdict


@dataclass(frozen=True)
class Outcome:
    passed: bool | None  # None: unknown, the fact or probe was not available
    evidence: tuple[Evidence, ...]
    expected: str
    observed: str
    unknown_reason: str = ""
    label: str = ""  # short name of the part, to tell parts of a combination apart


def unknown(label: str, expected: str, reason: str, evidence: Evidence) -> Outcome:
    return Outcome(None, (evidence,), expected, "not available", reason, label)


def combine(mode: str, parts: Sequence[Outcome]) -> Outcome:
    """Combine parts with `all` or `any`; labels keep the parts apart in the text."""
    if len(parts) == 1:
        return parts[0]
    evidence = tuple(e for part in parts for e in part.evidence)
    joiner = " and " if mode == "all" else " or "
    expected = joiner.join(f"{p.label} {p.expected}".strip() for p in parts)
    observed = "; ".join(f"{p.label}: {p.observed}" if p.label else p.observed for p in parts)
    reasons = "; ".join(p.unknown_reason for p in parts if p.passed is None)
    results = [p.passed for p in parts]
    if mode == "all":
        passed = False if False in results else (None if None in results else True)
    else:
        passed = True if True in results else (None if None in results else False)
    return Outcome(passed, evidence, expected, observed, reasons)


def to_verdict(outcome: Outcome, *, requirement: str = "", note: str = "") -> Verdict:
    """NotAFinding, Open or Not_Reviewed (error) from a combined outcome."""
    suffix = f"; {note}" if note else ""
    common = {"expected": outcome.expected, "observed": outcome.observed,
              "evidence": outcome.evidence, "requirement": requirement}
    if outcome.passed is True:
        return Verdict(Status.NOT_A_FINDING, f"observed {outcome.observed}{suffix}", **common)
    if outcome.passed is False:
        return Verdict(Status.OPEN, f"expected {outcome.expected}, observed "
                       f"{outcome.observed}{suffix}", **common)
    return Verdict(Status.NOT_REVIEWED, f"could not evaluate: {outcome.unknown_reason}{suffix}",
                   error=True, **common)
