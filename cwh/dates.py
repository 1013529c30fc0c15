"""Dates as people write them in YAML (waivers, attestations)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def as_date(value: Any) -> dt.date:
    """A YAML date, timestamp or YYYY-MM-DD string as a date; ValueError otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
