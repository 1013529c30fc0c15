"""Assessor attestations for manual controls, declared in the inventory (`cwh_attestations`).

An attestation records an assessor's answer so it shows in the evidence; it never replaces the
automated evidence, it sits beside it. One that has expired is reported and ignored, and none
answers for a host whose evidence could not be collected: an assessor's word about some machine
is no evidence that the machine the suite could not reach (or could not read) is that one, or
is still as assessed. Attestations are validated with the inventory, before any host is
contacted; one dated after today is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cwh.dates import as_date
from cwh.errors import ConfigError
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


def parse_attestation(control: str, raw: Any, today: dt.date | None = None) -> Attestation:
    """Validate one inventory entry; ValueError names the control and the field. With `today`,
    an attestation dated after it is refused: nobody can have assessed the host yet."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"attestation for {control} must be a mapping")
    unknown = set(raw) - {"status", "by", "date", "note", "expires"}
    if unknown:
        raise ValueError(f"attestation for {control}: unknown field {sorted(map(str, unknown))[0]}")
    try:
        status = Status(raw.get("status"))
    except ValueError:
        status = None
    if status not in ATTESTABLE:
        raise ValueError(f"attestation for {control}: status must be one of "
                         f"{', '.join(map(str, ATTESTABLE))}")
    by = raw.get("by")
    if not isinstance(by, str) or not by.strip():
        raise ValueError(f"attestation for {control}: 'by' (the assessor) is required")
    if "date" not in raw:
        raise ValueError(f"attestation for {control}: 'date' is required")
    date = _date(raw["date"], "date", control)
    expires = _date(raw["expires"], "expires", control) if raw.get("expires") else None
    if today is not None and date > today:
        raise ValueError(f"attestation for {control}: date {date.isoformat()} is in the future "
                         f"(today is {today.isoformat()}): nobody can have assessed it yet")
    if expires is not None and expires < date:
        raise ValueError(f"attestation for {control}: expires {expires.isoformat()} is before "
                         f"its date {date.isoformat()}")
    return Attestation(status, by.strip(), date, str(raw.get("note") or ""), expires)


def attestation_for(control: str, inputs: Mapping[str, Any],
                    today: dt.date | None = None) -> Attestation | None:
    raw = (inputs.get("cwh_attestations") or {}).get(control)
    return parse_attestation(control, raw, today) if raw is not None else None


def check_attestations(inventory_path: str, targets: Iterable[Any],
                       today: dt.date | None = None) -> None:
    """Every host's attestations, read as the judges will read them, so a mistake stops the run
    (ConfigError naming file, host and control) before any host is contacted."""
    today = today or dt.date.today()
    for target in targets:
        for control, raw in (target.vars.get("cwh_attestations") or {}).items():
            try:
                parse_attestation(str(control), raw, today)
            except ValueError as exc:
                raise ConfigError(f"inventory {inventory_path}: host {target.name}: "
                                  f"cwh_attestations: {exc}") from None
