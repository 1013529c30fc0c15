"""The conversion report and `python -m cwh.convert`, and the automated shares the issue asks
for: at least 90% of member-server rules and 85% of domain-controller rules, per release."""

from __future__ import annotations

import pytest

from cwh.convert.__main__ import EXIT_BAD_INPUT, main
from cwh.convert.release import DATA_DIR
from cwh.convert.report import render, share
from tests.convert.phrasings import STIG_DIR, benchmark_path
from tests.convert.test_data import RELEASES, committed


@pytest.mark.parametrize("prefix", sorted(RELEASES))
def test_automated_shares(prefix: str) -> None:
    release = committed(prefix)
    member, dc = share(release, "member"), share(release, "dc")
    assert member.ratio >= 0.90, member.describe("member servers")
    assert dc.ratio >= 0.85, dc.describe("domain controllers")
    assert member.applicable > 200 and dc.applicable > 240


def test_share_counts_only_rules_for_the_role() -> None:
    release = {"rules": [{"roles": ["dc"], "kind": "registry", "inputs": []},
                         {"roles": ["dc", "member"], "kind": "manual", "inputs": []},
                         {"roles": ["member"], "kind": "registry", "inputs": []}]}
    assert (share(release, "dc").automated, share(release, "dc").applicable) == (1, 2)
    assert share(release, "member").ratio == 0.5


def test_rules_waiting_for_a_required_input_can_be_left_out() -> None:
    release = {"rules": [{"roles": ["member"], "kind": "group_members",
                          "inputs": ["cwh_approved_admins"]},
                         {"roles": ["member"], "kind": "registry", "inputs": []}]}
    assert share(release, "member").automated == 2
    assert share(release, "member", without_required_inputs=True).automated == 1


def test_the_report_names_kinds_manual_rules_and_shares() -> None:
    text = render(committed("WN22"), "x.xml")
    assert "Rules by kind:" in text and "  registry" in text
    assert "WN22-UC-000010" in text and "HKCU" in text
    assert "Member servers: " in text and "Domain controllers: " in text


def test_the_command_on_a_folder_prints_every_release(capsys, tmp_path) -> None:
    benchmark_path("WN22")
    assert main([str(STIG_DIR), "--write", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("Member servers: ") == 3
    for name in RELEASES.values():
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes()


def test_bad_input_is_one_line_and_exit_4(capsys, tmp_path) -> None:
    assert main([str(tmp_path / "missing.xml")]) == EXIT_BAD_INPUT
    assert main([str(tmp_path)]) == EXIT_BAD_INPUT
    (tmp_path / "x-xccdf.xml").write_text("<not-xccdf/>")
    assert main([str(tmp_path / "x-xccdf.xml")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("cwh.convert: ") for line in err)
    assert "Traceback" not in "".join(err)
