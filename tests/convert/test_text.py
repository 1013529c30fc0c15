"""cwh.convert.text: normalised lines, what is taken, and conditions nobody read."""

from __future__ import annotations

from cwh.convert.text import CheckText, normalise


def test_typographic_quotes_and_dashes_are_normalised() -> None:
    assert normalise("\u201cIt\u2019s\u201d \u2013 x\u2026") == "\"It's\" - x..."


def test_blank_lines_go_and_spaces_collapse() -> None:
    ct = CheckText.of("  Registry Hive:  HKEY_LOCAL_MACHINE \n\n\tValue:  1 ")
    assert ct.lines == ["Registry Hive: HKEY_LOCAL_MACHINE", "Value: 1"]


def test_an_untaken_condition_is_reported() -> None:
    ct = CheckText.of("Open a window.\nIf the window is open, this is a finding.\nClose it.")
    assert ct.unread_conditions() == [1]
    ct.take(1)
    assert ct.unread_conditions() == []


def test_instructions_are_not_conditions() -> None:
    ct = CheckText.of('Run "gpedit.msc".\nEnter "AuditPol /get /category:*"')
    assert ct.unread_conditions() == []


def test_find_skips_taken_lines_and_snapshots_restore() -> None:
    ct = CheckText.of("a finding\nb finding")
    snapshot = ct.snapshot()
    ct.take_all("finding")
    assert list(ct.find("finding")) == []
    ct.restore(snapshot)
    assert [i for i, _ in ct.find("finding")] == [0, 1]
