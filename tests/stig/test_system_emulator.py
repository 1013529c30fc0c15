"""The lab's answers for the system sections (cwh/lab/system_sections.py) play Windows, including
its adversarial behaviour, in the shape collector.ps1 writes."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.needs import add_rule
from cwh.collect.request import FactRequest
from cwh.collect.script import collector_body
from cwh.lab.emulator import run_collector
from cwh.lab.image import Image, load_image
from cwh.lab.platform_sections import SECURE_BOOT_UNSUPPORTED
from tests.stig.test_system_collector import SYSTEM_SECTIONS


def _request(budget: float = 94.0) -> dict[str, Any]:
    request = FactRequest()
    for release in committed_releases().values():
        for rule in release.rules:
            add_rule(request, rule)
    return {**json.loads(request.to_json()), "section_budget_sec": budget}


def answer(changes: dict[str, Any] | None = None, base: str = "hardened",
           budget: float = 94.0) -> dict[str, Any]:
    image = load_image(base)
    data = copy.deepcopy(image.data)
    data.update(changes or {})
    return run_collector(Image(image.name, image.path, data), _request(budget))["sections"]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_every_system_section_answers_in_the_collectors_own_words():
    body = collector_body()
    for image in ("hardened", "drifted"):
        sections = answer(base=image)
        for name in SYSTEM_SECTIONS:
            assert sections[name]["ok"], (image, name, sections[name].get("error"))
            for key in _keys(sections[name]["data"]):
                if re.fullmatch(r"[a-z_0-9]+", key):  # data keys, not the image's paths
                    assert re.search(rf"\b{key} = ", body), (name, key)


def test_get_acl_denied_and_a_path_windows_does_not_have():
    sections = answer({"acls": {"C:\\Windows": {"denied": True}}})
    entries = {e["item"][1]: e for e in sections["acls"]["data"]["entries"]}
    denied = entries["%SystemRoot%"]
    assert denied["error"] == "Attempted to perform an unauthorized operation."
    assert denied["error_type"] == "System.UnauthorizedAccessException"
    assert entries["%SystemDrive%\\"]["exists"] is False  # not in the image: not on the host


def test_paths_expand_from_the_hosts_environment_or_fail_as_windows_leaves_them():
    sections = answer({"environment": {"SystemRoot": "D:\\WINNT"}})
    entries = {e["item"][1]: e for e in sections["acls"]["data"]["entries"]}
    assert entries["%SystemRoot%"]["resolved_path"] == "D:\\WINNT"
    assert "%ProgramFiles%" in entries["%ProgramFiles%"]["error"]


def test_secure_boot_on_bios_firmware_is_not_supported():
    firmware = answer({"firmware": {"type": "BIOS"}})["firmware"]["data"]
    assert firmware["secure_boot"] == {"value": None, "error": SECURE_BOOT_UNSUPPORTED,
                                       "error_type": "System.PlatformNotSupportedException"}
    assert firmware["boot_loader"]["path"].endswith("winload.exe")
    assert firmware["secure_boot_registry"]["value_exists"] is False


def test_a_failing_tpm_or_accounts_query_fails_its_section_only():
    sections = answer({"tpm": {"error": "Get-Tpm : The TPM is not ready."},
                       "accounts": {"error": "Get-CimInstance : Provider load failure"}})
    assert not sections["tpm"]["ok"] and "not ready" in sections["tpm"]["error"]
    assert not sections["local_accounts"]["ok"]
    assert sections["acls"]["ok"] and sections["firmware"]["ok"]


def test_a_file_search_past_its_limit_reports_what_it_reached():
    files = {"search_seconds": 200, "paths": [f"C:\\d{i}\\c.pfx" for i in range(10)]}
    search = answer({"files_on_disk": files})["file_search"]["data"]
    assert search["complete"] is False and search["limit_seconds"] == 47
    assert "stopped at the search's limit of 47 s" in search["stopped"]
    assert len(search["matches"]) == 2  # 47 of 200 seconds: the first paths only
    short = answer({"files_on_disk": files}, budget=22.0)["file_search"]["data"]
    assert short["limit_seconds"] == 11


def test_a_group_the_host_does_not_have_cannot_be_translated():
    groups = answer({"local_groups": {}})["group_members"]["data"]["groups"]
    assert all("could not be translated" in g["error"] for g in groups)


def test_a_missing_store_is_the_error_get_childitem_gives():
    stores = answer({"certificate_stores": {}})["certificate_stores"]["data"]["stores"]
    assert all("because it does not exist" in s["error"] for s in stores)
    assert all("certificates" not in s for s in stores)
