"""The `acl` judge (cwh/judge/stig/system_acl.py) on the committed rules and the descriptors
Windows Server ships, the drifts seen on real servers, and every way the answer can fail."""

from __future__ import annotations

from typing import Any

import pytest

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.facts import HostFacts
from cwh.collect.needs_system import acl_items
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status
from tests.stig.test_system_sddl import DRIVE_ROOT, EVENT_LOG, EVENTLOG, EVENTVWR, PROGRAM_FILES, TI

WS2022 = committed_releases()["MS_Windows_Server_2022_STIG"]
WINDOWS = (f"O:{TI}G:{TI}D:PAI(A;OICIIO;GA;;;CO)(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;SY)"
           "(A;OICIIO;GA;;;BA)(A;;0x1301bf;;;BA)(A;OICIIO;GXGR;;;BU)(A;;0x1200a9;;;BU)"
           f"(A;CIIO;GA;;;{TI})(A;;FA;;;{TI})(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC)"
           "(A;;0x1200a9;;;S-1-15-2-2)(A;OICIIO;GXGR;;;S-1-15-2-2)")
PATHS = {"%SystemDrive%\\": "C:\\", "%ProgramFiles%": "C:\\Program Files",
         "%ProgramFiles(x86)%": "C:\\Program Files (x86)", "%SystemRoot%": "C:\\Windows"}


def expanded(path: str) -> str:
    for variable, value in PATHS.items():
        path = path.replace(variable, value)
    return path.replace("\\\\", "\\")


def entry(item: tuple, text: str | None = None, **changes: Any) -> dict[str, Any]:
    """An `acls` answer for one item as Get-CwhAcls writes it (the object found and read)."""
    kind = "file" if item[0] == "file" else "directory"
    answer = {"item": list(item), "source": None, "resolved_path": expanded(item[1]),
              "exists": True, "item_type": kind, "sddl": text, "error": None,
              "error_type": None}
    if item[2] == "registry":
        answer["source"] = {"kind": "registry", "path": item[3], "name": item[4], "use": item[5],
                            "found": False, "value": None, "error": None}
    answer.update(changes)
    return answer


def facts(entries: list[dict[str, Any]], domain_role: int = 2, process_64bit: Any = True,
          **identity: Any) -> HostFacts:
    return HostFacts("h", {"schema": 1, "sections": {
        "identity": {"ok": True, "data": {"domain_role": domain_role, **identity}},
        "acls": {"ok": True, "data": {"process_64bit": process_64bit, "entries": entries}}}})


def judged(stig_id: str, text: str, domain_role: int = 2, **changes: Any):
    """The verdict on a committed rule when each of its objects has this SDDL."""
    rule = WS2022.by_stig_id(stig_id)
    entries = [entry(item, text, **changes) for check in rule.checks
               for item in acl_items(check)]
    return judge_rule(rule, facts(entries, domain_role), {})


@pytest.mark.parametrize(("stig_id", "sddl"), [
    ("WN22-00-000140", DRIVE_ROOT),
    ("WN22-00-000150", PROGRAM_FILES),
    ("WN22-00-000160", WINDOWS),
    ("WN22-AU-000030", EVENT_LOG),
    ("WN22-AU-000040", EVENT_LOG),
    ("WN22-AU-000060", EVENTVWR),
])
def test_the_acls_windows_server_ships_are_not_a_finding(stig_id, sddl):
    verdict = judged(stig_id, sddl)
    assert verdict.status is Status.NOT_A_FINDING, verdict.reason
    assert verdict.evidence and sddl[:40] in verdict.evidence[0].raw


@pytest.mark.parametrize(("stig_id", "sddl", "why"), [
    # Authenticated Users Modify on the drive root, applied to everything below it
    ("WN22-00-000140", DRIVE_ROOT + "(A;OICI;0x1301bf;;;AU)", "AU (S-1-5-11) holds Modify"),
    # Users Modify on the Windows directory itself, this folder only
    ("WN22-00-000160", WINDOWS + "(A;;0x1301bf;;;BU)", "holds Modify on the object itself"),
    # Users read on an event log, inherited from winevt\Logs
    ("WN22-AU-000030", EVENT_LOG + "(A;ID;FR;;;BU)", "BU (S-1-5-32-545) holds Read"),
    # an account's own ACE on the log: nobody but the three may hold anything
    ("WN22-AU-000040", EVENT_LOG + "(A;;FA;;;S-1-5-21-1-2-3-1017)", "S-1-5-21-1-2-3-1017"),
    # Administrators took ownership of Eventvwr.exe and granted themselves full control
    ("WN22-AU-000060", EVENTVWR.replace("(A;;0x1200a9;;;BA)", "(A;;FA;;;BA)"),
     "S-1-5-32-544 holds FullControl"),
    # Modify through two ACEs that are harmless alone (the union holds every Modify bit)
    ("WN22-AU-000060", EVENTVWR + "(A;;0x116;;;BU)(A;;SD;;;BU)", "S-1-5-32-545 holds Modify"),
    # a NULL DACL grants every right to everyone
    ("WN22-00-000140", f"O:{TI}G:{TI}D:NO_ACCESS_CONTROL", "NULL DACL"),
])
def test_drifted_acls_are_open_and_say_who_holds_what(stig_id, sddl, why):
    verdict = judged(stig_id, sddl)
    assert verdict.status is Status.OPEN and why in verdict.reason, verdict.reason


def test_an_ace_is_judged_for_every_scope_it_applies_to():
    # Users may create files only in subfolders; the same right on the drive root is too much
    on_root = judged("WN22-00-000140", DRIVE_ROOT.replace("(A;CIIO;DC;;;BU)", "(A;CI;DC;;;BU)"))
    assert on_root.status is Status.OPEN and "on the object itself" in on_root.reason
    # Modify for Users only on files below (OI IO): beyond ReadAndExecute there, and only there
    below = judged("WN22-00-000140", DRIVE_ROOT + "(A;OIIO;0x1301bf;;;BU)")
    assert below.status is Status.OPEN and "on files" in below.reason
    assert "on the object itself" not in below.reason


def test_deny_aces_and_fewer_rights_are_fine():
    fewer = DRIVE_ROOT.replace("(A;OICI;0x1200a9;;;BU)", "(A;OICI;FR;;;BU)")
    denied = DRIVE_ROOT + "(D;OICI;FA;;;WD)(D;;FA;;;Someone)"
    for sddl in (fewer, denied, f"O:{TI}G:{TI}D:P"):
        assert judged("WN22-00-000140", sddl).status is Status.NOT_A_FINDING, sddl


@pytest.mark.parametrize("extra", ["(A;;FA;;;LA)", "(A;;FULL;;;BU)", "(Q;;FA;;;BU)",
                                   "(A;;FA;;;Administrators)"])
def test_an_allow_ace_that_cannot_be_read_is_never_ignored(extra):
    verdict = judged("WN22-00-000140", DRIVE_ROOT + extra)
    assert verdict.status is Status.NOT_REVIEWED and "cannot be read" in verdict.reason
    # ... but a finding beside it stays a finding
    both = judged("WN22-00-000140", DRIVE_ROOT + extra + "(A;OICI;FA;;;WD)")
    assert both.status is Status.OPEN


@pytest.mark.parametrize(("changes", "status", "why"), [
    ({"exists": False, "sddl": None, "item_type": None}, Status.OPEN, "does not exist"),
    ({"sddl": None, "error": "Attempted to perform an unauthorized operation.",
      "error_type": "System.UnauthorizedAccessException"}, Status.NOT_REVIEWED, "unauthorized"),
    ({"sddl": "O:SYG:SYD:(A;;FA;;;SY"}, Status.NOT_REVIEWED, "not understood"),
    ({"sddl": "O:SYG:SY"}, Status.NOT_REVIEWED, "holds no DACL"),
    ({"sddl": ""}, Status.NOT_REVIEWED, "not understood"),
    ({"item_type": "file"}, Status.NOT_REVIEWED, "not a directory"),
    ({"exists": None}, Status.NOT_REVIEWED, "did not say whether"),
])
def test_objects_that_are_missing_unreadable_or_garbled(changes, status, why):
    verdict = judged("WN22-00-000140", DRIVE_ROOT, **changes)
    assert verdict.status is status and why in verdict.reason, verdict.reason


@pytest.mark.parametrize("bits", [False, None, "True"])
def test_a_collector_that_may_be_32_bit_sees_redirected_files(bits):
    rule = WS2022.by_stig_id("WN22-AU-000060")
    item = acl_items(rule.checks[0])[0]
    verdict = judge_rule(rule, facts([entry(item, EVENTVWR)], process_64bit=bits), {})
    assert verdict.status is Status.NOT_REVIEWED and "-bit process" in verdict.reason


def test_a_log_moved_elsewhere_is_judged_where_the_registry_says():
    rule = WS2022.by_stig_id("WN22-AU-000040")
    item = acl_items(rule.checks[0])[0]
    moved = entry(item, EVENT_LOG + "(A;;FA;;;WD)", resolved_path="D:\\Logs\\Security.evtx")
    moved["source"].update(found=True, value="D:\\Logs\\Security.evtx")
    verdict = judge_rule(rule, facts([moved]), {})
    assert verdict.status is Status.OPEN and "D:\\Logs\\Security.evtx" in verdict.reason
    failed = entry(item, EVENT_LOG)
    failed["source"]["error"] = "Requested registry access is not allowed."
    verdict = judge_rule(rule, facts([failed]), {})
    assert verdict.status is Status.NOT_REVIEWED and "registry access" in verdict.reason
    unresolved = entry(item, None, resolved_path=None, exists=None,
                       error="this host does not define %SystemRoot%")
    assert judge_rule(rule, facts([unresolved]), {}).status is Status.NOT_REVIEWED


def test_an_answer_missing_or_given_twice_differently_is_unknown():
    rule = WS2022.by_stig_id("WN22-00-000140")
    item = acl_items(rule.checks[0])[0]
    assert judge_rule(rule, facts([]), {}).status is Status.NOT_REVIEWED
    twice = [entry(item, DRIVE_ROOT), entry(item, DRIVE_ROOT + "(A;OICI;FA;;;WD)")]
    verdict = judge_rule(rule, facts(twice), {})
    assert verdict.status is Status.NOT_REVIEWED and "contradictory" in verdict.reason


def _ntds(files: list[dict[str, Any]], truncated: bool = False):
    rule = WS2022.by_stig_id("WN22-DC-000070")
    entries = [entry(item, "O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", files=files,
                     files_truncated=truncated) for check in rule.checks
               for item in acl_items(check)]
    return judge_rule(rule, facts(entries, domain_role=5), {})


def test_the_directory_database_files_on_a_domain_controller():
    file = {"resolved_path": "C:\\Windows\\NTDS\\ntds.dit", "exists": True, "item_type": "file",
            "sddl": "O:BAG:SYD:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)", "error": None}
    assert _ntds([file]).status is Status.NOT_A_FINDING
    loose = {**file, "resolved_path": "C:\\Windows\\NTDS\\edb.log",
             "sddl": file["sddl"] + "(A;ID;FR;;;AU)"}
    assert _ntds([file, loose]).status is Status.OPEN
    assert _ntds([file], truncated=True).status is Status.NOT_REVIEWED
    assert _ntds([]).status is Status.NOT_REVIEWED  # no files where the database should be


def test_the_eventlog_service_sid_is_the_one_allowed():
    assert EVENTLOG in EVENT_LOG
    assert judged("WN22-AU-000050", EVENT_LOG.replace(EVENTLOG, "S-1-5-80-1-2-3-4-5")).status \
        is Status.OPEN
