"""cwh.convert.system: features, OS build, firmware, TPM, Device Guard, volumes."""

from __future__ import annotations

import pytest

from cwh.convert import system
from cwh.convert.applicability import read_applicability
from cwh.convert.result import Refusal
from tests.convert.phrasings import edited, text


def run(recogniser, ct) -> list[dict]:
    read_applicability(ct)
    found = recogniser(ct)
    assert found is not None
    assert ct.unread_conditions() == []
    return found.checks


@pytest.mark.parametrize(("stig_id", "name"), [
    ("WN22-00-000320", "Fax"), ("WN22-00-000380", "FS-SMB1"), ("WN16-00-000420", "PowerShell-v2"),
])
def test_features(stig_id: str, name: str) -> None:
    assert run(system.feature_checks, text(stig_id)) == [
        {"kind": "feature", "name": name, "installed": False}]


def test_feature_without_its_condition_is_refused() -> None:
    ct = edited("WN22-00-000320", 'If "Installed State" is "Installed", this is a finding.', "")
    with pytest.raises(Refusal):
        system.feature_checks(ct)


@pytest.mark.parametrize(("stig_id", "build"), [("WN22-00-000100", 20348),
                                                ("WN19-00-000100", 17763)])
def test_os_build(stig_id: str, build: int) -> None:
    assert run(system.os_build_checks, text(stig_id)) == [
        {"kind": "os", "property": "build", "op": "at_least", "value": build}]


def test_the_2016_sunset_rule_is_not_a_build_check() -> None:
    assert system.os_build_checks(text("WN16-00-000110")) is None


def test_uefi_and_secure_boot() -> None:
    assert run(system.firmware_checks, text("WN19-00-000460"))[0]["value"] == "UEFI"
    assert run(system.firmware_checks, text("WN22-00-000470"))[0] == {
        "kind": "firmware", "property": "secure_boot", "op": "equals", "value": True}
    assert run(system.firmware_checks, text("WN16-00-000470"))[0]["property"] == "secure_boot"


def test_tpm() -> None:
    assert run(system.tpm_checks, text("WN22-00-000090")) == [
        {"kind": "tpm", "present": True, "ready": True, "spec_versions": ["1.2", "2.0"]}]


def test_vbs_reads_the_cim_properties_not_the_registry_block() -> None:
    checks = run(system.device_guard_checks, text("WN22-CC-000110"))
    assert checks == [
        {"kind": "device_guard", "property": "RequiredSecurityProperties", "op": "includes",
         "value": 2},
        {"kind": "device_guard", "property": "VirtualizationBasedSecurityStatus", "op": "equals",
         "value": 2}]


def test_credential_guard() -> None:
    assert run(system.device_guard_checks, text("WN19-MS-000140")) == [
        {"kind": "device_guard", "property": "SecurityServicesRunning", "op": "includes",
         "value": 1}]


def test_volumes() -> None:
    assert run(system.volume_checks, text("WN22-00-000130")) == [
        {"kind": "volumes", "file_systems": ["NTFS", "ReFS"],
         "exclude": ["efi_system", "recovery"]}]
