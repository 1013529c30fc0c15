"""Numbers, versions and timestamps in the exact forms Windows writes them.

Python's int() accepts far more than Windows ever writes: `1_4` is 14, U+0661 (Arabic-Indic
one) is 1, fullwidth `+14` and ` 14 ` are 14, and `\\d` in a regular expression matches any
Unicode digit. A host (or anything between it and us) that sends such text is not telling us a
number, so these readers accept ASCII digits only and return None for anything else; callers
turn None into "not understood", never into a value.
"""

from __future__ import annotations

import datetime as dt
import re

_INTEGER = re.compile(r"-?[0-9]{1,19}")
_VERSION = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9}){1,3}")
# DateTime.ToString('o') of a UTC value: 7 fractional digits and Z. Offsets other than UTC and
# other precisions are accepted only where the collector could plausibly have written them.
_WINDOWS_UTC = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,7}))?(?P<zone>Z|\+00:00)")


def ascii_int(text: object) -> int | None:
    """`-?[0-9]+` as an int; None for anything else (underscores, signs other than a leading
    minus, whitespace inside, non-ASCII digits, bools, floats)."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        return None
    if isinstance(text, int):
        return text
    return int(text) if _INTEGER.fullmatch(text) else None


def dotted_version(text: object) -> tuple[int, ...] | None:
    """'23.9.7.8804' -> (23, 9, 7, 8804), surrounding whitespace allowed; None unless it is two
    to four dot-separated groups of ASCII digits."""
    if not isinstance(text, str):
        return None
    stripped = text.strip(" \t")
    if not _VERSION.fullmatch(stripped):
        return None
    return tuple(int(part) for part in stripped.split("."))


def windows_utc(text: object) -> dt.datetime | None:
    """A UTC timestamp as the collector writes it (`2026-01-01T00:00:00.0000000Z`), as an aware
    datetime; None for any other text. Python keeps microseconds: the seventh digit (100 ns)
    is dropped, never rounded into the next second."""
    if not isinstance(text, str):
        return None
    match = _WINDOWS_UTC.fullmatch(text)
    if match is None:
        return None
    fraction = (match.group("fraction") or "").ljust(6, "0")[:6]
    try:
        moment = dt.datetime.fromisoformat(f"{match.group('date')}T{match.group('time')}")
    except ValueError:  # 2026-02-30, 25:00:00
        return None
    return moment.replace(microsecond=int(fraction), tzinfo=dt.UTC)
