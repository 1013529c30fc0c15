"""Checklist file names: one per host, never cut at a dot, never shared."""

from __future__ import annotations

import pytest

from cwh.report.hostfiles import host_file_stems as checklist_stems


def test_safe_names_are_kept_whole():
    hosts = ["10.20.30.11", "10.20.30.12", "sc01.corp.example", "sc01.corp.test", "lab-hardened"]
    assert checklist_stems(hosts) == {h: h for h in hosts}


@pytest.mark.parametrize("hosts", [
    ["sc:01", "sc_01", "sc/01", "sc 01"],            # sanitise alike
    ["SC01", "sc01", "Sc01"],                        # one file on Windows and macOS
    ["fe80::1", "fe80__1", "[fe80::1]"],             # IPv6
    ["con", "nul.corp.example", "COM1", "lpt9"],     # Windows device names
    ["sc01.", "sc01", ".sc01", "..", "", "-x"],      # dots and dashes at the ends
    ["管理员", "日本", "ß", "ss"],                    # nothing safe left
    ["a" * 300, "a" * 301],                          # too long, then truncated alike
])
def test_every_host_gets_a_distinct_file_name(hosts):
    stems = checklist_stems(hosts)
    assert set(stems) == set(hosts)
    assert len({s.casefold() for s in stems.values()}) == len(hosts), stems
    for stem in stems.values():
        assert stem and len(stem) <= 200
        assert all(c.isascii() and (c.isalnum() or c in "._-") for c in stem), stem
        assert not stem.startswith((".", "-")) and not stem.endswith(".")


def test_a_sanitised_name_never_takes_a_safe_names_place():
    stems = checklist_stems(["sc_01", "sc:01"])
    assert stems["sc_01"] == "sc_01" and stems["sc:01"].startswith("sc_01-")


def test_names_do_not_depend_on_the_other_hosts_unless_they_clash():
    assert checklist_stems(["sc:01"]) == {"sc:01": checklist_stems(["sc:01", "x"])["sc:01"]}
