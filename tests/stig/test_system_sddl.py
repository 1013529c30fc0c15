"""SDDL as Get-Acl writes it (cwh/parse/sddl.py), read on the descriptors Windows Server ships:
the drive root, Program Files, the Windows directory, the event logs and Eventvwr.exe, with their
inherit-only ACEs and generic rights."""

from __future__ import annotations

import pytest

from cwh.parse.sddl import (
    DomainSids,
    SddlError,
    describe_mask,
    effective_mask,
    parse_ace,
    parse_mask,
    parse_sddl,
    rights_mask,
)

TI = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
EVENTLOG = "S-1-5-80-880578595-1860270145-482643319-2788375705-1540778122"
DRIVE_ROOT = (f"O:{TI}G:{TI}D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
              "(A;CI;LC;;;BU)(A;CIIO;DC;;;BU)(A;OICIIO;GA;;;CO)")
PROGRAM_FILES = (f"O:{TI}G:{TI}D:PAI(A;;FA;;;{TI})(A;CIIO;GA;;;{TI})(A;;0x1301bf;;;SY)"
                 "(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;BA)(A;OICIIO;GA;;;BA)(A;;0x1200a9;;;BU)"
                 "(A;OICIIO;GXGR;;;BU)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC)"
                 "(A;;0x1200a9;;;S-1-15-2-2)(A;OICIIO;GXGR;;;S-1-15-2-2)")
EVENT_LOG = f"O:SYG:SYD:AI(A;ID;FA;;;{EVENTLOG})(A;ID;FA;;;SY)(A;ID;FA;;;BA)"
EVENTVWR = (f"O:{TI}G:{TI}D:PAI(A;;FA;;;{TI})(A;;0x1200a9;;;BA)(A;;0x1200a9;;;SY)"
            "(A;;0x1200a9;;;BU)(A;;0x1200a9;;;AC)(A;;0x1200a9;;;S-1-15-2-2)")


def test_the_drive_root_as_windows_ships_it():
    descriptor = parse_sddl(DRIVE_ROOT)
    assert descriptor.owner == descriptor.group == TI
    assert descriptor.dacl is not None and descriptor.dacl.flags == {"P", "AI"}
    aces = descriptor.dacl.aces
    assert [a.sid for a in aces] == ["S-1-5-18", "S-1-5-32-544", "S-1-5-32-545",
                                     "S-1-5-32-545", "S-1-5-32-545", "S-1-3-0"]
    assert not any(a.problem for a in aces)
    # Users' create-folders right prints as the directory-service code LC (0x4), their
    # subfolder create-files right as DC (0x2): bit positions, not directory-service meanings.
    assert (aces[3].mask, aces[3].flags) == (0x4, {"CI"})
    assert (aces[4].mask, aces[4].flags) == (0x2, {"CI", "IO"})
    assert aces[5].inherit_only and aces[5].mask == 0x10000000  # GA for CREATOR OWNER


def test_generic_rights_on_inherit_only_aces_map_to_file_rights():
    aces = parse_sddl(PROGRAM_FILES).dacl.aces
    users_below = next(a for a in aces if a.sid == "S-1-5-32-545" and a.inherit_only)
    assert users_below.mask == 0xA0000000  # GXGR
    assert effective_mask(users_below.mask, "file") == rights_mask("ReadAndExecute", "file")
    system_below = next(a for a in aces if a.sid == "S-1-5-18" and a.inherit_only)
    assert effective_mask(system_below.mask, "file") == rights_mask("FullControl", "file")
    system_here = next(a for a in aces if a.sid == "S-1-5-18" and not a.inherit_only)
    assert effective_mask(system_here.mask, "file") == rights_mask("Modify", "file")
    assert describe_mask(effective_mask(system_here.mask, "file"), "file") == "Modify"
    assert {a.sid for a in aces} >= {"S-1-15-2-1", "S-1-15-2-2", TI}  # AC is an alias


def test_event_logs_and_eventvwr_as_windows_ships_them():
    log = parse_sddl(EVENT_LOG)
    assert log.owner == "S-1-5-18" and all(a.inherited for a in log.dacl.aces)
    assert {a.sid for a in log.dacl.aces} == {EVENTLOG, "S-1-5-18", "S-1-5-32-544"}
    viewer = parse_sddl(EVENTVWR)
    full = [a.sid for a in viewer.dacl.aces if effective_mask(a.mask, "file") == 0xF01FF]
    assert full == [TI]


@pytest.mark.parametrize(("text", "mask"), [
    ("FA", 0x1F01FF), ("0x1200a9", 0x1200A9), ("0X1301BF", 0x1301BF), ("GXGR", 0xA0000000),
    ("KR", 0x20019), ("RCSDWDWO", 0xF0000), ("CCDCLCSWRPWPDTLOCR", 0x1FF),
])
def test_masks(text, mask):
    assert parse_mask(text) == mask


@pytest.mark.parametrize("text", ["", "F", "XX", "0x", "0x123456789", "0x12g", "fa",
                                  "0x\uff11\uff12"])
def test_masks_that_are_not_understood(text):
    assert parse_mask(text) is None


def test_registry_generic_rights_map_to_key_rights():
    assert effective_mask(0x10000000, "registry") == 0xF003F  # GA -> KEY_ALL_ACCESS
    assert effective_mask(0x80000000, "registry") == 0x20019  # GR -> KEY_READ
    assert effective_mask(0x80000000, "file") == 0x20089  # GR -> FILE_GENERIC_READ, no sync


def test_domain_relative_aliases_need_their_domain():
    unknown = parse_ace("A;;FA;;;LA")
    assert unknown.sid is None and "own account database" in unknown.problem
    known = parse_ace("A;;FA;;;LA", DomainSids(machine="S-1-5-21-1-2-3"))
    assert known.sid == "S-1-5-21-1-2-3-500" and not known.problem
    assert parse_ace("A;;FA;;;DA", DomainSids(domain="S-1-5-21-7-8-9")).sid == \
        "S-1-5-21-7-8-9-512"
    assert parse_ace("A;;FA;;;EA", DomainSids(domain="S-1-5-21-7-8-9")).sid is None


@pytest.mark.parametrize(("ace", "problem"), [
    ("A;;FA;;;Administrators", "neither a SID nor an SDDL alias"),
    ("A;QQ;FA;;;BA", "unknown ACE flags"),
    ("Q;;FA;;;BA", "unknown ACE type"),
    ("AU;SA;FA;;;BA", "does not belong in a DACL"),
    ("A;;FULL;;;BA", "not understood"),
    ("A;;FA;;BA", "not 6"),
    ("A;;FA;bf967a86-0de6-11d0-a285-00aa003049e2;;BA", "object GUIDs"),
])
def test_aces_that_cannot_be_read_are_kept_with_their_problem(ace, problem):
    parsed = parse_ace(ace)
    assert problem in parsed.problem


def test_conditional_and_object_aces_are_read_as_allows():
    descriptor = parse_sddl('O:BAG:SYD:(XA;;FX;;;WD;(@User.Title == "PM (acting)"))'
                            "(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;AU)")
    conditional, objectace = descriptor.dacl.aces
    assert conditional.allows and conditional.sid == "S-1-1-0" and not conditional.problem
    assert objectace.allows and objectace.mask == 0x100 and not objectace.problem


def test_null_and_empty_dacls_are_different_things():
    assert parse_sddl("O:SYG:SYD:NO_ACCESS_CONTROL").dacl.null
    empty = parse_sddl("O:SYG:SYD:P").dacl
    assert not empty.null and empty.aces == () and empty.flags == {"P"}
    assert parse_sddl("O:SYG:SY").dacl is None  # no D: part: the DACL was not read


@pytest.mark.parametrize("text", [
    "", "   ", "not sddl", "O:SYG:SYD:(A;;FA;;;SY", "O:SYG:SYD:(A;;FA;;;SY)garbage",
    "D:(A;;FA;;;SY)D:(A;;FA;;;BA)", "O:G:SY", "O:SYG:SYD:(A;;FA;;;SY)\x00", "O:SYG:SYD:é",
])
def test_garbled_descriptors_are_refused(text):
    with pytest.raises(SddlError):
        parse_sddl(text)


def test_rights_of_the_rule_data():
    assert rights_mask("Modify", "file") == 0x301BF
    assert rights_mask(["Modify", "ChangePermissions", "TakeOwnership"], "file") == 0xF01BF
    assert rights_mask("FullControl", "registry") == 0xF003F
    for bad in ("Special", [], "Modify "):
        with pytest.raises(KeyError):
            rights_mask(bad, "file")
    with pytest.raises(KeyError):
        rights_mask("Modify", "registry")
