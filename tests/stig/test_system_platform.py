"""The platform judges (cwh/judge/stig/system_platform.py): Win32_DeviceGuard arrays, BIOS mode
and Secure Boot read two ways, the TPM, the build and installation type, and volumes."""

from __future__ import annotations

from typing import Any

import pytest

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.facts import HostFacts
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status

RELEASES = committed_releases()
WS2022, WS2019 = RELEASES["MS_Windows_Server_2022_STIG"], RELEASES["Windows_Server_2019_STIG"]
CURRENT = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"


def facts(domain_role: int = 3, **sections: Any) -> HostFacts:
    built = {"identity": {"ok": True, "data": {"domain_role": domain_role}}}
    for name, data in sections.items():
        built[name] = data if isinstance(data, dict) and "ok" in data else \
            {"ok": True, "data": data}
    return HostFacts("h", {"schema": 1, "sections": built})


def verdict(stig_id: str, release=WS2022, domain_role: int = 3, **sections: Any):
    return judge_rule(release.by_stig_id(stig_id), facts(domain_role, **sections), {})


# --- device guard -------------------------------------------------------------------------

VBS_RUNNING = {"AvailableSecurityProperties": [1, 2, 3, 5], "RequiredSecurityProperties": [1, 2],
               "SecurityServicesConfigured": [1], "SecurityServicesRunning": [1],
               "VirtualizationBasedSecurityStatus": 2}


def test_vbs_running_with_secure_boot_required_and_credential_guard():
    dg = {"properties": VBS_RUNNING}
    assert verdict("WN22-CC-000110", device_guard=dg).status is Status.NOT_A_FINDING
    assert verdict("WN22-MS-000140", device_guard=dg).status is Status.NOT_A_FINDING


@pytest.mark.parametrize(("changes", "status"), [
    ({"RequiredSecurityProperties": [0]}, Status.OPEN),  # fresh install: nothing required
    ({"VirtualizationBasedSecurityStatus": 1}, Status.OPEN),  # enabled, not running
    ({"RequiredSecurityProperties": 2}, Status.NOT_A_FINDING),  # a one-element array, unrolled
    ({"RequiredSecurityProperties": None}, Status.NOT_REVIEWED),
    ({"RequiredSecurityProperties": ["2"]}, Status.NOT_REVIEWED),
    ({"VirtualizationBasedSecurityStatus": [2]}, Status.NOT_REVIEWED),
    ({"VirtualizationBasedSecurityStatus": True}, Status.NOT_REVIEWED),
])
def test_device_guard_values_as_windows_writes_them_or_not(changes, status):
    dg = {"properties": {**VBS_RUNNING, **changes}}
    assert verdict("WN22-CC-000110", device_guard=dg).status is status


def test_device_guard_missing_or_failing_is_unknown():
    missing = {"properties": {k: v for k, v in VBS_RUNNING.items()
                              if k != "SecurityServicesRunning"}}
    assert verdict("WN22-MS-000140", device_guard=missing).status is Status.NOT_REVIEWED
    failed = {"ok": False, "error": 'Invalid namespace "root\\Microsoft\\Windows\\DeviceGuard"'}
    assert verdict("WN22-MS-000140", device_guard=failed).status is Status.NOT_REVIEWED


# --- firmware -----------------------------------------------------------------------------

def firmware(env: Any = "UEFI", loader: Any = "\\Windows\\system32\\winload.efi",
             secure: Any = True, error: Any = None, error_type: Any = None,
             recorded: Any = 1) -> dict[str, Any]:
    return {"firmware_type_env": env, "boot_loader": {"path": loader, "error": None},
            "secure_boot": {"value": secure, "error": error, "error_type": error_type},
            "secure_boot_registry": {"value_exists": recorded is not None, "value": recorded,
                                     "kind": "DWord", "error": None}}


BIOS = firmware("Legacy", "\\Windows\\system32\\winload.exe", None,
                "Cmdlet not supported on this platform: 0xC0000002",
                "System.PlatformNotSupportedException", None)


def test_uefi_with_secure_boot_and_bios_without_it():
    assert verdict("WN22-00-000460", firmware=firmware()).status is Status.NOT_A_FINDING
    assert verdict("WN22-00-000470", firmware=firmware()).status is Status.NOT_A_FINDING
    bios_mode = verdict("WN22-00-000460", firmware=BIOS)
    assert bios_mode.status is Status.OPEN and "BIOS" in bios_mode.reason
    no_secure_boot = verdict("WN22-00-000470", firmware=BIOS)
    assert no_secure_boot.status is Status.OPEN
    assert "not supported on this platform" in no_secure_boot.evidence[0].raw
    off = verdict("WN22-00-000470", firmware=firmware(secure=False, recorded=0))
    assert off.status is Status.OPEN


@pytest.mark.parametrize(("fw", "stig_id", "why"), [
    (firmware(env="UEFI", loader="\\Windows\\system32\\winload.exe"), "WN22-00-000460",
     "disagree"),
    (firmware(env=None, loader=None), "WN22-00-000460", "could not be told"),
    (firmware(env="Unknown", loader=None), "WN22-00-000460", "could not be told"),
    (firmware(secure=True, recorded=0), "WN22-00-000470", "contradictory"),
    (firmware(secure=None, error="Access was denied.",
              error_type="System.UnauthorizedAccessException"), "WN22-00-000470", "no answer"),
    (firmware(secure="True"), "WN22-00-000470", "no answer"),
    (firmware(secure=True, recorded=2), "WN22-00-000470", "not 0 or 1"),
])
def test_firmware_answers_that_disagree_or_fail_are_unknown(fw, stig_id, why):
    result = verdict(stig_id, firmware=fw)
    assert result.status is Status.NOT_REVIEWED and why in result.reason, result.reason


def test_one_source_of_the_firmware_type_is_enough_and_says_which():
    only_loader = verdict("WN22-00-000460", firmware=firmware(env=None))
    assert only_loader.status is Status.NOT_A_FINDING
    assert "boot loader: UEFI" in only_loader.evidence[0].raw
    without_registry = verdict("WN22-00-000470", firmware=firmware(recorded=None))
    assert without_registry.status is Status.NOT_A_FINDING


# --- TPM ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("tpm", "status"), [
    ({"present": True, "ready": True, "spec_version": "2.0, 0, 1.38"}, Status.NOT_A_FINDING),
    ({"present": True, "ready": True, "spec_version": "1.2, 2, 3"}, Status.NOT_A_FINDING),
    ({"present": False, "ready": False}, Status.OPEN),
    ({"present": True, "ready": False, "spec_version": "2.0, 0, 1.38"}, Status.OPEN),
    ({"present": True, "ready": True, "spec_version": "1.1b"}, Status.OPEN),
    ({"present": True, "ready": True, "spec_version": None,
      "spec_error": "Access denied"}, Status.NOT_REVIEWED),
    ({"present": None, "ready": None}, Status.NOT_REVIEWED),
    ({"present": "True", "ready": True}, Status.NOT_REVIEWED),
    ({"present": True, "ready": None, "spec_version": "2.0"}, Status.NOT_REVIEWED),
])
def test_tpm(tpm, status):
    assert verdict("WN22-00-000090", tpm=tpm).status is status


def test_a_tpm_query_that_failed_is_unknown():
    failed = {"ok": False, "error": "Get-Tpm : The TPM is not supported on this device."}
    assert verdict("WN22-00-000090", tpm=failed).status is Status.NOT_REVIEWED


# --- OS -----------------------------------------------------------------------------------

def registry(values: dict[str, Any]) -> dict[str, Any]:
    return {"view": "Registry64", "values": [
        {"path": CURRENT, "name": name, "key_exists": True, "value_exists": value is not None,
         "kind": kind, "value": value, "error": None} for name, (kind, value) in values.items()]}


def test_the_build_from_the_registry_agrees_with_win32_operatingsystem():
    good = registry({"CurrentBuildNumber": ("String", "20348")})
    assert verdict("WN22-00-000100", registry=good, os={"build": "20348"}).status is \
        Status.NOT_A_FINDING
    old = registry({"CurrentBuildNumber": ("String", "20344")})
    assert verdict("WN22-00-000100", registry=old, os={"build": "20344"}).status is Status.OPEN
    disagree = verdict("WN22-00-000100", registry=good, os={"build": "17763"})
    assert disagree.status is Status.NOT_REVIEWED and "contradictory" in disagree.reason


@pytest.mark.parametrize("value", [("DWord", 20348), ("String", "20348 "), ("String", "\uff120348"),
                                   ("String", None)])
def test_a_build_that_is_not_a_string_of_digits_is_unknown(value):
    reg = registry({"CurrentBuildNumber": value})
    assert verdict("WN22-00-000100", registry=reg).status is Status.NOT_REVIEWED


def test_server_core_makes_the_gui_rules_not_applicable():
    rule = WS2019.by_stig_id("WN19-AU-000060")  # Eventvwr.exe: NA on Server Core
    core = registry({"InstallationType": ("String", "Server Core")})
    result = judge_rule(rule, facts(3, registry=core), {})
    assert result.status is Status.NOT_APPLICABLE and "Server Core" in result.reason
    desktop = registry({"InstallationType": ("String", "Server")})
    assert judge_rule(rule, facts(3, registry=desktop), {}).status is not Status.NOT_APPLICABLE
    # unknown installation type: the condition does not hold, the rule is judged
    assert judge_rule(rule, facts(3), {}).status is Status.NOT_REVIEWED


# --- volumes ------------------------------------------------------------------------------

ESP = {"gpt_type": "{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}", "mbr_type": None}
RECOVERY = {"gpt_type": "{DE94BBA4-06D1-4D40-A16A-BFD50179D6AC}", "mbr_type": None}


def volume(letter: str | None, file_system: Any, partition: dict | None = None,
           drive_type: Any = "Fixed") -> dict[str, Any]:
    return {"path": f"\\\\?\\Volume{{{letter}}}\\", "drive_letter": letter,
            "drive_type": drive_type, "file_system": file_system, "label": "",
            "partition": partition}


def test_volumes_ntfs_with_efi_and_recovery_excluded():
    volumes = [volume(None, "FAT32", ESP), volume("C", "NTFS", {}), volume(None, "NTFS",
                                                                          RECOVERY),
               volume("D", "", None, "CD-ROM"), volume("E", "ReFS", {})]
    result = verdict("WN22-00-000130", volumes={"volumes": volumes})
    assert result.status is Status.NOT_A_FINDING and "efi_system" in result.observed


@pytest.mark.parametrize(("volumes", "status"), [
    ([volume("C", "NTFS", {}), volume("E", "exFAT", {"mbr_type": 7})], Status.OPEN),
    ([volume("C", "NTFS", {}), volume(None, "FAT32", {"gpt_type": "{ebd0a0a2-b9e5-4433-87c0-"
                                                     "68b6b72699c7}"})], Status.OPEN),
    ([volume("C", "NTFS", {}), volume("F", "", {})], Status.NOT_REVIEWED),
    ([volume("C", "NTFS", {}), volume("F", None, {})], Status.NOT_REVIEWED),
    ([volume("C", "NTFS", {}, None)], Status.NOT_REVIEWED),
    ([volume("D", "", None, "CD-ROM")], Status.NOT_REVIEWED),  # no fixed volume at all
    ([], Status.NOT_REVIEWED),
])
def test_volumes_that_fail_or_cannot_be_told(volumes, status):
    assert verdict("WN22-00-000130", volumes={"volumes": volumes}).status is status
