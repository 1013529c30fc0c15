"""How a host's results are counted: each check once.

A guide control and the host's STIG rules its catalog entry references (`same_check` on both
records) are the same check. Both records stay in every report, cross-referenced; the counts
(per host, per status, compliance) take the pair once:

- a guide control whose every same-check STIG rule was judged on the host in this run is
  counted through those rules: each of them counts with the worse of its own status and the
  guide control's (Open > Not_Reviewed > NotAFinding > Not_Applicable), so a finding either
  record shows is never lost, and never counted twice;
- every other record (a rule no guide control names, a guide control with no STIG rule in the
  run: IIS references, a -m or -k that selected the control but not its rules) counts as
  itself.

A counted check is waived when every Open record in it is under an unexpired waiver, an error
when its status is Not_Reviewed and one of its records is an error. The exit code needs none of
this: it asks whether any record is an error (6) or an unwaived Open at or above --fail-on (1),
which a finding shown twice answers as one shown once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cwh.report.record import counts_as_error, is_guide, is_rule, is_waived

PRECEDENCE = ("Open", "Not_Reviewed", "NotAFinding", "Not_Applicable")  # worst first
_RANK = {"low": 1, "medium": 2, "high": 3}


@dataclass(frozen=True)
class Check:
    """One counted check of one host: a record, or a STIG rule with the guide controls that
    are the same check."""

    control_id: str
    status: str
    severity: str
    error: bool
    waived: bool
    records: tuple[dict[str, Any], ...]


def _check(control_id: str, records: list[dict[str, Any]]) -> Check:
    statuses = {str(r.get("status")) for r in records}
    status = next((s for s in PRECEDENCE if s in statuses), "Not_Reviewed")
    opened = [r for r in records if r.get("status") == "Open"]
    return Check(
        control_id=control_id, status=status,
        severity=max((str(r.get("severity")) for r in records), key=lambda s: _RANK.get(s, 0)),
        error=status == "Not_Reviewed" and any(counts_as_error(r) for r in records),
        waived=bool(opened) and all(is_waived(r) for r in opened),
        records=tuple(records))


def counted_checks(records: Iterable[dict[str, Any]]) -> list[Check]:
    """One host's records as the checks the counts count (see the module's rule)."""
    records = list(records)
    judged = {str(r["control_id"]): r for r in records if is_rule(r)}
    through: dict[str, list[dict[str, Any]]] = {}
    checks: list[Check] = []
    for record in records:
        if not is_guide(record):
            continue
        same = [str(s) for s in record.get("same_check") or ()]
        if same and all(s in judged for s in same):
            for stig_id in same:
                through.setdefault(stig_id, []).append(record)
        else:
            checks.append(_check(str(record["control_id"]), [record]))
    for stig_id, record in judged.items():
        checks.append(_check(stig_id, [record, *through.get(stig_id, ())]))
    return sorted(checks, key=lambda c: c.control_id)


def guide_counted_through(records: Iterable[dict[str, Any]]) -> set[str]:
    """The IDs of one host's guide controls counted through the STIG rules that are the same
    check (every one of their same-check rules was judged on the host)."""
    records = list(records)
    judged = {str(r["control_id"]) for r in records if is_rule(r)}
    return {str(r["control_id"]) for r in records if is_guide(r) and r.get("same_check")
            and all(str(s) in judged for s in r["same_check"])}
