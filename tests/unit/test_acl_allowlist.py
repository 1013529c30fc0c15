"""Review of issue 13, findings 6 and 7: web.config and the backups are judged by an allow-list
(SYSTEM, Administrators, TrustedInstaller), not by three denied SIDs, and the owner counts:
it holds READ_CONTROL and WRITE_DAC without any ACE, unless OWNER RIGHTS limits it."""

from __future__ import annotations

import pytest

from cwh.judge import judge
from cwh.judge.acl_rules import ADMINISTRATIVE, READ_BITS, WRITE_BITS, owner_problem
from cwh.judge.verdict import Status
from tests.unit.helpers import CATALOG
from tests.unit.test_file_acls import GOOD, WANTED, _facts, _image, file, folder, only_allowed

RIGHTS = {"write": WRITE_BITS, "read": READ_BITS}
WEB_CONFIG = r"C:\Program Files (x86)\ScreenConnect\web.config"
ONE_USER = "S-1-5-21-2871133530-1309470712-3934528713-1105"


@pytest.mark.parametrize("trustee", ["IU", "NU", "BG", "AN", ONE_USER, "S-1-15-2-1"],
                         ids=["interactive", "network", "guests", "anonymous", "local-user",
                              "all-app-packages"])
def test_any_principal_outside_the_allow_list_with_a_right_is_open(trustee: str) -> None:
    found = file(f"O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;{trustee})")
    result = only_allowed(found, ADMINISTRATIVE, RIGHTS)
    assert result.passed is False and "can write and read" in result.observed


def test_the_allowed_principals_alone_pass_and_are_named() -> None:
    found = file("O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)")
    result = only_allowed(found, ADMINISTRATIVE, RIGHTS)
    assert result.passed is True and "BUILTIN\\Administrators" in result.observed


@pytest.mark.parametrize(("sddl", "passed"), [
    ("O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)", None),  # allowed owner: no problem
    ("O:SYG:SYD:PAI(A;;FA;;;SY)", None),
    ("O:BUG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)", False),  # Users own it: WRITE_DAC
    ("O:WDG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)", False),
    ("O:BUG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x20000;;;OW)", None),  # OWNER RIGHTS: read ACL
    ("O:BUG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;OW)", False),  # ... or read the content
], ids=["administrators", "system", "users", "everyone", "owner-rights-limits",
        "owner-rights-reads"])
def test_the_owner_is_an_allowed_principal_or_a_finding(sddl: str, passed) -> None:
    problem = owner_problem(file(sddl), ADMINISTRATIVE, RIGHTS)
    assert (problem.passed if problem else None) is passed


def _web_config(sddl: str):
    img = _image("hardened", acls={WEB_CONFIG: {"exists": True, "type": "file", "sddl": sddl}})
    return judge(CATALOG["CWH-SC-05"], _facts(img), {})


@pytest.mark.parametrize("sddl", [
    "O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;IU)",
    f"O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;{ONE_USER})",
    "O:BUG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)",
], ids=["interactive-full", "local-user-reads", "owned-by-users"])
def test_sc05_on_the_lab_is_open(sddl: str) -> None:
    result = _web_config(sddl)
    assert result.status is Status.OPEN, result.reason


def test_sc05_hardened_passes_and_shows_the_owner() -> None:
    result = _web_config("O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)")
    assert result.status is Status.NOT_A_FINDING, result.reason
    assert "owner BUILTIN\\Administrators [S-1-5-32-544]" in result.evidence[0].observed


def test_ltshare_owned_by_everyone_is_open_though_the_dacl_is_exact() -> None:
    from cwh.judge.acl_rules import exact_grants
    found = folder(GOOD.replace("O:BA", "O:WD"))
    assert exact_grants(found, WANTED).passed is True
    assert owner_problem(found, ADMINISTRATIVE, RIGHTS).passed is False
    img = _image("automate-hardened")
    acls = img.data["acls"]
    key = next(k for k in acls if k.lower().endswith("ltshare"))
    acls[key] = {**acls[key], "sddl": acls[key]["sddl"].replace("O:BA", "O:WD", 1)}
    result = judge(CATALOG["CWH-CWA-08"], _facts(img), {})
    assert result.status is Status.OPEN and "owned by Everyone" in result.reason


# --- finding 5: the backups beside the install root the collector found ----------------------

DEFAULT_BACKUPS = r"C:\Program Files (x86)\ScreenConnect Backups"
MOVED_BACKUPS = r"D:\ScreenConnect Backups"
EVERYONE_FULL = "O:BAG:SYD:AI(A;OICIID;FA;;;WD)(A;OICIID;FA;;;SY)"


def _moved(default_present: bool, backups: dict | None):
    img = _image("combined")
    img.data["screenconnect"] = {**img.data["screenconnect"], "install_root": r"D:\ScreenConnect"}
    acls = img.data["acls"]
    acls[r"D:\ScreenConnect\web.config"] = {"type": "file",
                                            "sddl": "O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)"}
    if not default_present:
        acls[DEFAULT_BACKUPS] = None
    if backups is not None:
        acls[MOVED_BACKUPS] = backups
    return judge(CATALOG["CWH-SC-06"], _facts(img), {})


def test_backups_beside_a_moved_install_are_judged_though_the_default_folder_is_fine() -> None:
    result = _moved(True, {"type": "directory", "sddl": EVERYONE_FULL})
    assert result.status is Status.OPEN, result.reason
    assert "Everyone" in result.reason and MOVED_BACKUPS in result.reason


def test_backups_beside_a_moved_install_alone_are_judged_not_not_applicable() -> None:
    result = _moved(False, {"type": "directory", "sddl": EVERYONE_FULL})
    assert result.status is Status.OPEN, result.reason


def test_no_backups_anywhere_says_where_it_looked() -> None:
    result = _moved(False, None)
    assert result.status is Status.NOT_APPLICABLE, result.reason
    assert "the default paths and beside the install root" in result.reason
    assert MOVED_BACKUPS in result.reason


def test_backups_beside_the_install_unread_is_not_reviewed() -> None:
    img = _image("combined")
    img.data["acls"][DEFAULT_BACKUPS] = None
    facts = _facts(img)
    facts.document["sections"]["screenconnect"]["data"]["backups_path"] = MOVED_BACKUPS
    result = judge(CATALOG["CWH-SC-06"], facts, {})
    assert result.status is Status.NOT_REVIEWED, result.reason
    assert "was not collected" in result.reason
