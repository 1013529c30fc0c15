"""ACLs compared by SID from the SDDL: LTShare exactly the listed principals and rights,
web.config and the backups neither writable nor readable by Users, Everyone or Authenticated
Users; unreadable ACEs, SDDL or answers never pass, a Deny never makes one."""

from __future__ import annotations

import copy
import json

import pytest

from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.needs_system import acl_item
from cwh.collect.request import request_for
from cwh.judge import judge
from cwh.judge.acl_rules import (
    READ_BITS,
    WRITE_BITS,
    app_pool_sid,
    exact_grants,
    grants,
    only_allowed,
)
from cwh.judge.verdict import Status
from cwh.lab.emulator import encode_document, run_collector
from cwh.lab.image import Image, load_image
from cwh.parse.sddl import parse_sddl
from tests.unit.helpers import CATALOG

LT, WCC, API = (app_pool_sid(n) for n in ("LabTech", "LabTech WebCC", "CwaRestApi"))
MODIFY = 0x301BF
WANTED = {LT: MODIFY, WCC: MODIFY, API: MODIFY, "S-1-5-18": MODIFY}
GOOD = f"O:BAG:SYD:PAI(A;OICI;0x1301bf;;;SY)(A;OICI;0x1301bf;;;{LT})(A;OICI;0x1301bf;;;{WCC})" \
       f"(A;OICI;0x1301bf;;;{API})"
ADMINS = ["S-1-5-18", "S-1-5-32-544"]
RIGHTS = {"write": WRITE_BITS, "read": READ_BITS}


def folder(sddl: str):
    return grants(parse_sddl(sddl), container=True)


def file(sddl: str):
    return grants(parse_sddl(sddl), container=False)


def test_app_pool_sids_are_derived_as_windows_derives_them() -> None:
    assert app_pool_sid("DefaultAppPool") == \
        "S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415"
    assert app_pool_sid("LABTECH") == app_pool_sid("LabTech")  # case-insensitive names


def test_exactly_the_listed_principals_with_modify_everywhere_passes() -> None:
    result = exact_grants(folder(GOOD), WANTED)
    assert result.passed is True and result.observed.startswith("exactly ")


@pytest.mark.parametrize(("extra", "problem"), [
    ("(A;OICIID;FA;;;BA)", "S-1-5-32-544] is not listed but holds FullControl"),
    ("(A;OICI;FR;;;WD)", "Everyone [S-1-1-0] is not listed"),
    ("(A;OICI;FA;;;SY)", "NT AUTHORITY\\SYSTEM [S-1-5-18] holds FullControl"),
], ids=["administrators", "everyone-read", "system-full-control"])
def test_anything_beyond_the_list_is_open(extra: str, problem: str) -> None:
    result = exact_grants(folder(GOOD + extra), WANTED)
    assert result.passed is False and problem in result.observed, result.observed


def test_modify_on_the_folder_only_is_not_modify_below_it() -> None:
    sddl = GOOD.replace(f"(A;OICI;0x1301bf;;;{API})", f"(A;;0x1301bf;;;{API})")
    result = exact_grants(folder(sddl), WANTED)
    assert result.passed is False and "nothing on subfolders" in result.observed


def test_generic_inherit_only_aces_count_for_what_is_below() -> None:
    sddl = GOOD.replace(f"(A;OICI;0x1301bf;;;{API})",
                        f"(A;;0x1301bf;;;{API})(A;OICIIO;0x1301bf;;;{API})")
    assert exact_grants(folder(sddl), WANTED).passed is True


def test_a_deny_never_makes_a_pass_and_is_named() -> None:
    result = only_allowed(file("O:BAG:SYD:(D;;FA;;;BU)(A;;0x1200a9;;;BU)(A;;FA;;;SY)"),
                       ADMINS, RIGHTS)
    assert result.passed is False and "BUILTIN\\Users [S-1-5-32-545] can read" in result.observed


def test_an_unreadable_ace_is_unknown_unless_something_else_already_fails() -> None:
    unknown = folder(GOOD + "(A;OICI;FA;;;QQ)")
    assert exact_grants(unknown, WANTED).passed is None
    assert exact_grants(folder(GOOD + "(A;OICI;FA;;;QQ)(A;OICI;FR;;;WD)"),
                        WANTED).passed is False


def test_a_null_dacl_gives_everyone_everything() -> None:
    assert exact_grants(folder("O:BAG:SYD:NO_ACCESS_CONTROL"), WANTED).passed is False
    assert only_allowed(file("O:BAG:SYD:NO_ACCESS_CONTROL"), ADMINS,
                     {"write": WRITE_BITS}).passed is False


@pytest.mark.parametrize(("ace", "passed"), [
    ("(A;;0x1200a9;;;BU)", False),       # Read & execute: reads the content
    ("(A;;0x116;;;AU)", False),          # Write without read
    ("(A;;0x1301bf;;;AU)", False),       # Modify: write and read
    ("(A;;0x120080;;;WD)", True),        # read attributes and the ACL: not the content
    ("(A;;FA;;;SY)(A;;FA;;;BA)", True),
    ("(A;;GR;;;BU)", False),             # generic read maps to reading the data
], ids=["users-read", "authenticated-write", "authenticated-modify", "everyone-attributes",
        "admins-only",
        "generic-read"])
def test_who_can_write_or_read_web_config(ace: str, passed: bool) -> None:
    result = only_allowed(file("O:BAG:SYD:PAI" + ace), ADMINS, RIGHTS)
    assert result.passed is passed, result.observed


def test_the_catalog_items_are_acl_paths_items() -> None:
    for control_id in ("CWH-CWA-08", "CWH-SC-05", "CWH-SC-06"):
        for item in CATALOG[control_id].check["acl_paths"]:
            assert acl_item(*item) == tuple(item)
        assert "acls" in request_for([CATALOG[control_id]]).sections


# --- the judges on the lab's answers ----------------------------------------------------------

def _image(name: str, **changes) -> Image:
    base = load_image(name)
    data = copy.deepcopy(base.data)
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return Image(base.name, base.path, data)


def _facts(img: Image) -> HostFacts:
    request = json.loads(request_for(CATALOG.controls).to_json())
    return HostFacts("h", parse_output(encode_document(run_collector(img, request)), b"", 0))


@pytest.mark.parametrize(("sddl", "status"), [
    ("O:BAG:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)", Status.NOT_A_FINDING),
    ("O:BAG:SYD:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)", Status.OPEN),
    (None, Status.NOT_REVIEWED),  # the file the installation reads is not there
], ids=["admins-only", "users-read", "absent"])
def test_web_config_outside_the_default_locations_is_judged_where_it_is(sddl, status) -> None:
    img = load_image("hardened")
    data = copy.deepcopy(img.data)
    data["screenconnect"]["install_root"] = r"D:\Apps\ScreenConnect"
    if sddl:
        data["acls"][r"D:\Apps\ScreenConnect\web.config"] = {"type": "file", "sddl": sddl}
    result = judge(CATALOG["CWH-SC-05"], _facts(Image(img.name, img.path, data)),
                   {"cwh_products": ["screenconnect"]})
    assert result.status is status, result.reason
    if sddl:
        assert result.evidence[0].location == r"D:\Apps\ScreenConnect\web.config"


def test_web_config_outside_the_default_locations_unread_by_an_older_collector() -> None:
    img = load_image("hardened")
    data = copy.deepcopy(img.data)
    data["screenconnect"]["install_root"] = r"D:\Apps\ScreenConnect"
    facts = _facts(Image(img.name, img.path, data))
    facts.document["sections"]["screenconnect"]["data"]["acls"] = None
    result = judge(CATALOG["CWH-SC-05"], facts, {"cwh_products": ["screenconnect"]})
    assert result.status is Status.NOT_REVIEWED
    assert r"the ACL of D:\Apps\ScreenConnect\web.config was not collected" in result.reason


def test_a_32_bit_collector_is_not_trusted_with_program_files() -> None:
    img = _image("hardened", acls={"_process_64bit": False})
    result = judge(CATALOG["CWH-SC-05"], _facts(img), {})
    assert result.status is Status.NOT_REVIEWED and "32-bit" in result.reason


def test_no_backups_folder_leaves_nothing_to_protect() -> None:
    img = _image("hardened", acls={r"C:\Program Files (x86)\ScreenConnect Backups": None})
    result = judge(CATALOG["CWH-SC-06"], _facts(img), {})
    assert result.status is Status.NOT_APPLICABLE and "nothing to protect" in result.reason


def test_ltshare_found_through_its_share_wherever_it_is() -> None:
    img = _image("automate-hardened",
                 acls={r"D:\LTShare": load_image("automate-hardened").data["acls"][r"C:\LTShare"],
                       r"C:\LTShare": None},
                 shares=[{"name": "LTShare", "path": r"D:\LTShare", "type": 0}])
    result = judge(CATALOG["CWH-CWA-08"], _facts(img), {})
    assert result.status is Status.NOT_A_FINDING, result.reason
    assert any("found through the share LTShare" in e.location for e in result.evidence)
