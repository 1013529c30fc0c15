"""Assessor attestations for manual controls, declared in the inventory (`cwh_attestations`).

An attestation records an assessor's answer so it shows in the evidence; it never replaces the
automated evidence, it sits beside it. One that has expired is reported and ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwh.dates import as_date
from cwh.judge.verdict import Evidence, Status

ATTESTABLE = (Status.NOT_A_FINDING, Status.OPEN, Status.NOT_APPLICABLE)


@dataclass(frozen=True)
class Attestation:
    status: Status
    by: str
    date: dt.date
    note: str = ""
    expires: dt.date | None = None

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires

    def as_evidence(self) -> Evidence:
        until = f", valid until {self.expires.isoformat()}" if self.expires else ""
        return Evidence("assessor attestation (inventory cwh_attestations)", "inventory",
                        f"{self.status} attested by {self.by} on {self.date.isoformat()}{until}",
                        raw=self.note)


def _date(value: Any, field: str, control: str) -> dt.date:
    try:
        return as_date(value)
    except ValueError:
        raise ValueError(f"attestation for {control}: {field} must be a date (YYYY-MM-DD), "
                         f"got {value!r}") from None


def parse_attestation(control: str, raw: Any) -> Attestation:
    """Validate one inventory entry; ValueError names the control and the field."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"attestation for {control} must be a mapping")
    unknown = set(raw) - {"status", "by", "date", "note", "expires"}
    if unknown:
        raise ValueError(f"attestation for {control}: unknown field {sorted(unknown)[0]}")
    try:
        status = Status(raw.get("status"))
    except ValueError:
        status = None
    if status not in ATTESTABLE:
        raise ValueError(f"attestation for {control}: status must be one of "
                         f"{', '.join(map(str, ATTESTABLE))}")
    if not raw.get("by"):
        raise ValueError(f"attestation for {control}: 'by' (the assessor) is required")
    if "date" not in raw:
        raise ValueError(f"attestation for {control}: 'date' is required")
    expires = _date(raw["expires"], "expires", control) if raw.get("expires") else None
    return Attestation(status, str(raw["by"]), _date(raw["date"], "date", control),
                       str(raw.get("note", "")), expires)


def attestation_for(control: str, inputs: Mapping[str, Any]) -> Attestation | None:
    raw = (inputs.get("cwh_attestations") or {}).get(control)
    return parse_attestation(control, raw) if raw is not None else None
