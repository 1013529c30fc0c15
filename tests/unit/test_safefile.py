"""Artifacts are written without ever following a symbolic link (review of issue 10, 10)."""

from __future__ import annotations

import os

import pytest

from cwh.report.safefile import NotAFolder, write_below
from cwh.report.writers import write_json


def test_a_link_at_the_name_is_replaced_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "h1.ckl").symlink_to(victim)
    written = write_below(tmp_path / "r", "h1.ckl", b"<CHECKLIST/>")
    assert victim.read_text() == "keep"
    assert not written.is_symlink() and written.read_bytes() == b"<CHECKLIST/>"
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["h1.ckl"]  # no temporary left


def test_a_linked_folder_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "hosts").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(NotAFolder, match="hosts is a symbolic link"):
        write_below(tmp_path / "r", "hosts/h1.html", b"x")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_planted_temporary_name_is_never_opened(tmp_path):
    """write_json wrote through `<name>.tmp`, a fixed name a link could stand at."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (tmp_path / "results.json.tmp").symlink_to(victim)
    write_json(tmp_path / "results.json", {"a": 1})
    assert victim.read_text() == "keep"


def test_files_get_the_mode_of_a_plain_write(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = write_below(tmp_path, "a.json", b"{}")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("relative", ["../x", "/etc/x", ""])
def test_only_paths_inside(tmp_path, relative):
    with pytest.raises(ValueError):
        write_below(tmp_path, relative, b"x")
