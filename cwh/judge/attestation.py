"""Assessor attestations for manual controls, declared in the inventory (`cwh_attestations`).

An attestation records an assessor's answer so it shows in the evidence; it never replaces the
automated evidence, it sits beside it. One that has expired is reported and ignored, and none
answers for a host whose evidence could not be collected: an assessor's word about some machine
is no evidence that the machine the suite could not reach (or could not read) is that one, or
is still as assessed. Attestations are validated with the inventory, before any host is
contacted; one dated after today is refused.

An attestation counts for a year at most: `expires` may not be later than a year after its
`date`, and without `expires` it ends then. An assessor's answer about a manual control is a
review that is due again (NIST SP 800-53 CA-2 assessments are commonly set at least annually);
an answer that never expires would keep a host compliant on a word given long ago. Only the
manual controls apply attestations (the catalog's `manual: true`); one for an automated
control is refused rather than silently ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cwh.catalog.model import load_catalog
from cwh.dates import as_date, years_after
from cwh.errors import ConfigError
from cwh.judge.verdict import Evidence, Status

ATTESTABLE = (Status.NOT_A_FINDING, Status.OPEN, Status.NOT_APPLICABLE)
MAX_VALIDITY_YEARS = 1


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
    # Present means a date: `expires: 0`, false or "" is no "never".
    last = years_after(date, MAX_VALIDITY_YEARS)
    expires = _date(raw["expires"], "expires", control) if "expires" in raw else last
    if today is not None and date > today:
        raise ValueError(f"attestation for {control}: date {date.isoformat()} is in the future "
                         f"(today is {today.isoformat()}): nobody can have assessed it yet")
    if expires < date:
        raise ValueError(f"attestation for {control}: expires {expires.isoformat()} is before "
                         f"its date {date.isoformat()}")
    if expires > last:
        raise ValueError(f"attestation for {control}: expires {expires.isoformat()} is more "
                         f"than a year after its date {date.isoformat()}: an attestation counts "
                         f"for a year at most (until {last.isoformat()}); assess again and date "
                         "it anew")
    return Attestation(status, by.strip(), date, str(raw.get("note") or ""), expires)


def attestation_for(control: str, inputs: Mapping[str, Any],
                    today: dt.date | None = None) -> Attestation | None:
    raw = (inputs.get("cwh_attestations") or {}).get(control)
    return parse_attestation(control, raw, today) if raw is not None else None


def manual_controls() -> tuple[str, ...]:
    """The controls whose judges apply attestations: the catalog's manual ones."""
    return tuple(sorted(c.id for c in load_catalog().controls if c.manual))


def check_attestations(inventory_path: str, targets: Iterable[Any],
                       today: dt.date | None = None,
                       attestable: Collection[str] | None = None) -> None:
    """Every host's attestations, read as the judges will read them, so a mistake stops the run
    (ConfigError naming file, host and control) before any host is contacted. `attestable`: the
    controls that apply attestations (default: the catalog's manual controls)."""
    today = today or dt.date.today()
    manual = tuple(sorted(attestable)) if attestable is not None else manual_controls()
    for target in targets:
        where = f"inventory {inventory_path}: host {target.name}: cwh_attestations"
        for control, raw in (target.vars.get("cwh_attestations") or {}).items():
            if str(control) not in manual:
                raise ConfigError(f"{where}: {control} is an automated control: attestations "
                                  f"answer only the manual ones ({', '.join(manual)})")
            try:
                parse_attestation(str(control), raw, today)
            except ValueError as exc:
                raise ConfigError(f"{where}: {exc}") from None
