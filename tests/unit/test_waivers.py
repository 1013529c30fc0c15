"""cwh.waivers: a waiver file is checked before anything connects, and whatever it holds, a bad
one is one line naming the file and entry, never a traceback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cwh.errors import ConfigError
from cwh.waivers import load_waivers

CONTROLS = {"CWH-GPO-01", "CWH-NET-05"}
ENTRY = ("waivers:\n  - control: CWH-NET-05\n    hosts: [sc-legacy-*]\n"
         "    justification: SMB for the backup agent\n    approver: J. Smith (ISSO)\n")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yml"
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, CONTROLS)
    message = str(caught.value)
    assert message.startswith(f"waivers {path}: ") and "\n" not in message
    return message


def test_a_waiver_with_a_yaml_date_loads(tmp_path: Path) -> None:
    [waiver] = load_waivers(write(tmp_path, ENTRY + "    expires: 2027-03-31\n"), CONTROLS)
    assert waiver.expires == dt.date(2027, 3, 31) and waiver.id == "W-1"


@pytest.mark.parametrize("expires, shown", [
    ("2026-02-30", "'2026-02-30'"),  # unquoted: PyYAML's timestamp constructor raised
    ("'2026-02-30'", "'2026-02-30'"),
    ("20270331", "20270331"),  # fromisoformat would take it, through str()
    ("2027-W13-3", "'2027-W13-3'"),
    ("true", "True"),
])
def test_an_impossible_expiry_names_the_entry_and_field(tmp_path: Path, expires: str,
                                                        shown: str) -> None:
    message = error(tmp_path, ENTRY + f"    expires: {expires}\n")
    assert message.endswith(f"entry 1: expires must be a date (YYYY-MM-DD), got {shown}")


def test_unknown_fields_of_mixed_types_are_named(tmp_path: Path) -> None:
    message = error(tmp_path, ENTRY + "    expires: 2027-03-31\n    5: x\n    true: y\n")
    assert message.endswith("entry 1: unknown field '5'")


def test_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    levels = ["&l0 [" + ", ".join(["sc"] * 9) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    text = ENTRY.replace("hosts: [sc-legacy-*]", f"hosts: [{', '.join(levels)}]")
    message = error(tmp_path, text + "    expires: 2027-03-31\n")
    assert message.startswith(f"waivers {tmp_path / 'waivers.yml'}: line 3 (waivers > 1 > "
                              "hosts): YAML aliases expand ")
    assert message.endswith("(an alias bomb?); refused before reading it")


@pytest.mark.parametrize("content, problem", [
    (b"waivers: []\n\xff\n", "not UTF-8 text (byte 13)"),
    (b"waivers: [\n", "not valid YAML"),
    (b"waivers: &w [*w]\n", "a YAML alias refers to a node that contains it"),
])
def test_unreadable_files_are_one_line(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "waivers.yml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, CONTROLS)
    assert str(caught.value).startswith(f"waivers {path}: ") and problem in str(caught.value)


def test_an_unforeseen_failure_is_one_line_without_its_details(tmp_path: Path,
                                                                monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise TypeError("a value from the file")

    monkeypatch.setattr("cwh.waivers.parse_waivers", explode)
    message = error(tmp_path, ENTRY + "    expires: 2027-03-31\n")
    assert message.endswith("cannot be understood (TypeError while reading it; please report "
                            "this)")


# --- the review of issue 10, M1: no waiver for ever -------------------------------------------

def test_a_waiver_may_run_three_years_at_most(tmp_path: Path) -> None:
    today = dt.date.today()
    limit = today.replace(year=today.year + 3) if not (today.month == 2 and today.day == 29) \
        else today.replace(year=today.year + 3, day=28)
    [waiver] = load_waivers(write(tmp_path, ENTRY + f"    expires: {limit.isoformat()}\n"),
                            CONTROLS)
    assert waiver.expires == limit
    for too_far in (limit + dt.timedelta(days=1), dt.date(9999, 12, 31)):
        message = error(tmp_path, ENTRY + f"    expires: {too_far.isoformat()}\n")
        assert message.endswith(f"entry 1: expires {too_far.isoformat()} is more than 3 years "
                                "away: a waiver runs 3 years at most (approve it again before "
                                "then)"), message
