"""cwh.parse.primitives: numbers, versions and timestamps exactly as Windows writes them;
anything Python's int() or a Unicode `\\d` would also accept is not understood."""

from __future__ import annotations

import datetime as dt

import pytest

from cwh.parse.primitives import ascii_int, dotted_version, windows_utc

ARABIC_ONE = "\u0661"
FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + i) for i in range(10)))


@pytest.mark.parametrize(("text", "number"), [("14", 14), ("0", 0), ("-1", -1), ("0014", 14),
                                              (14, 14)])
def test_ascii_integers(text: object, number: int) -> None:
    assert ascii_int(text) == number


@pytest.mark.parametrize("text", ["1_4", ARABIC_ONE, "14".translate(FULLWIDTH), " 14", "14 ",
                                  "+14", "1 4", "", "-", "0x0E", "14.0", "1e1", None, True,
                                  14.0, "9" * 20, "\u00b2", "\u2160"])
def test_anything_else_is_not_a_number(text: object) -> None:
    assert int("1_4") == 14 and int(ARABIC_ONE) == 1  # what int() alone would have said
    assert ascii_int(text) is None


@pytest.mark.parametrize(("text", "version"), [("23.9.8", (23, 9, 8)),
                                               ("23.9.7.8804", (23, 9, 7, 8804)),
                                               (" 24.1.0.8811 ", (24, 1, 0, 8811)),
                                               ("1.0", (1, 0))])
def test_dotted_versions(text: str, version: tuple[int, ...]) -> None:
    assert dotted_version(text) == version


@pytest.mark.parametrize("text", ["23.9.8".translate(FULLWIDTH), f"2{ARABIC_ONE}.9.8",
                                  "23.9_0.8", "23", "23.9.8.1.2", "23..8", "v23.9.8",
                                  "23.9.8 (build)", "", None, 23.9])
def test_other_versions_are_not_understood(text: object) -> None:
    assert dotted_version(text) is None


@pytest.mark.parametrize(("text", "moment"), [
    ("2026-01-01T00:00:00.0000000Z", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    ("2027-03-04T05:06:07.1234567Z", dt.datetime(2027, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)),
    ("2026-12-31T23:59:59.9999999Z", dt.datetime(2026, 12, 31, 23, 59, 59, 999999,
                                                 tzinfo=dt.UTC)),
    ("2026-01-01T00:00:00Z", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    ("2026-01-01T00:00:00.5+00:00", dt.datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=dt.UTC)),
])
def test_windows_utc_timestamps(text: str, moment: dt.datetime) -> None:
    """DateTime.ToString('o') writes 7 fractional digits; the 7th is dropped, never rounded
    up into the next second (which could move an expiry past midnight)."""
    assert windows_utc(text) == moment


@pytest.mark.parametrize("text", [
    "2026-01-01T00:00:00.0000000",  # no zone: local time of an unknown host
    "2026-01-01T00:00:00.0000000+01:00",  # not UTC: the collector converts first
    "2026-01-01T00:00:00.00000000Z",  # 8 digits: not a .NET round-trip string
    "2026-02-30T00:00:00.0000000Z", "2026-01-01T24:00:00.0000000Z",
    "2026-01-01 00:00:00Z", "\\/Date(1767225600000)\\/", "20260101T000000Z",
    "2026-01-01T00:00:00.0000000Z".translate(FULLWIDTH), "", None, 1767225600,
])
def test_other_timestamps_are_not_understood(text: object) -> None:
    assert windows_utc(text) is None
