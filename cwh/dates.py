"""Dates as people write them in YAML (waivers, attestations)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

# Only the form the documentation shows. Python's fromisoformat also takes 20270331, 2027-W13-3
# and, through str(), an integer: a typo there must not become some date.
_YYYY_MM_DD = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def as_date(value: Any) -> dt.date:
    """A YAML date, timestamp or YYYY-MM-DD string as a date; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _YYYY_MM_DD.fullmatch(value.strip()):
        return dt.date.fromisoformat(value.strip())  # ValueError for 2026-02-30
    raise ValueError(f"not a YYYY-MM-DD date: {value!r}")


def years_after(date: dt.date, years: int) -> dt.date:
    """The same day `years` later (29 February becomes 28 February)."""
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return date.replace(year=date.year + years, day=28)
