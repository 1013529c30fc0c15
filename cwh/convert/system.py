"""Facts about the machine itself: Windows features, the OS build, UEFI and Secure Boot, the TPM,
Device Guard (virtualization-based security, Credential Guard) and the file systems of local
volumes. Each recogniser takes only the exact phrasings DISA uses for it."""

from __future__ import annotations

import re

from cwh.convert.result import Recognised, Refusal
from cwh.convert.text import CheckText

_I = re.I

_FEATURE = re.compile(r'^Enter "Get-WindowsFeature (?:\| Where Name -eq |-Name )([\w-]+)"\.$', _I)
_INSTALLED_IS_FINDING = re.compile(r'^If "Installed State" is "Installed", this is a finding\.$',
                                   _I)
_AVAILABLE_IS_FINE = re.compile(r'^An Installed State of "Available" or "Removed" is not a '
                                r'finding\.$', _I)


def feature_checks(ct: CheckText) -> Recognised | None:
    """A Windows feature that must not be installed."""
    found = list(ct.find(_FEATURE))
    if not found:
        return None
    if len(found) != 1 or not ct.first(_INSTALLED_IS_FINDING):
        raise Refusal("a Windows feature without the condition that makes it a finding")
    ct.take(found[0][0])
    ct.take_all(_INSTALLED_IS_FINDING)
    ct.take_all(_AVAILABLE_IS_FINE)
    return Recognised(checks=[{"kind": "feature", "name": found[0][1].group(1),
                               "installed": False}])


_WINVER = re.compile(r'^If the "About Windows" dialog box does not display "Microsoft Windows '
                     r'Server Version \w+ \(Build (\d+)\.xxx\)" or greater, this is a '
                     r'finding\.$', _I)
# Every preview of Windows Server 2019 and 2022 had a build below the release build, so
# "this build or greater" already excludes them.
_PREVIEW = re.compile(r"^Preview versions must not be used in a production environment\.$", _I)


def os_build_checks(ct: CheckText) -> Recognised | None:
    found = ct.first(_WINVER)
    if not found:
        return None
    ct.take(found[0])
    ct.take_all(_PREVIEW)
    return Recognised(checks=[{"kind": "os", "property": "build", "op": "at_least",
                               "value": int(found[1].group(1))}])


_UEFI_MODE = re.compile(r'^Under "System Summary", if "BIOS Mode" does not display "UEFI", this '
                        r'is a finding\.$', _I)
_SECURE_BOOT = re.compile(r'^Under "System Summary", if "Secure Boot State" does not display '
                          r'"On", this is a finding\.$', _I)
_SECURE_BOOT_CORE = re.compile(r'^If a value of "True" is not returned, this is a finding\.$', _I)
_CONFIRM_SECURE_BOOT = re.compile(r"^Confirm-SecureBootUEFI$", _I)
_UEFI_NOTES = (
    re.compile(r"^(?:Some older systems may not have UEFI firmware\. This is currently a CAT III; "
               r"it will be raised in severity at a future date when broad support of Windows "
               r"hardware and firmware requirements are expected to be met\. )?Devices that have "
               r"UEFI firmware must (?:run in \"UEFI\" mode|have Secure Boot enabled)\.$", _I),
)


def firmware_checks(ct: CheckText) -> Recognised | None:
    mode, secure = ct.first(_UEFI_MODE), ct.first(_SECURE_BOOT)
    if not mode and not secure:
        return None
    if mode and secure:
        raise Refusal("UEFI mode and Secure Boot in one rule")
    for note in _UEFI_NOTES:
        ct.take_all(note)
    if mode:
        ct.take(mode[0])
        return Recognised(checks=[{"kind": "firmware", "property": "mode", "op": "equals",
                                   "value": "UEFI"}])
    assert secure is not None
    ct.take(secure[0])
    if ct.first(_SECURE_BOOT_CORE):
        if not ct.has(_CONFIRM_SECURE_BOOT.pattern):
            raise Refusal("a 'True' condition without Confirm-SecureBootUEFI")
        ct.take_all(_SECURE_BOOT_CORE)
    return Recognised(checks=[{"kind": "firmware", "property": "secure_boot", "op": "equals",
                               "value": True}])


_TPM_LINES = (
    re.compile(r"^Verify the system has a TPM and it is ready for use\.$", _I),
    re.compile(r'^"Status" must indicate it has been configured with a message such as "The TPM '
               r'is ready for use" or "The TPM is on and ownership has been taken"\.$', _I),
)
_TPM_VERSION = re.compile(r"^TPM Manufacturer Information - Specific Version = ([\d.]+) or "
                          r"([\d.]+)$", _I)
_TPM_FINDING = re.compile(r"^If a TPM is not found or is not ready for use, this is a finding\.$",
                          _I)


def tpm_checks(ct: CheckText) -> Recognised | None:
    finding = ct.first(_TPM_FINDING)
    if not finding:
        return None
    version = ct.first(_TPM_VERSION)
    if not version:
        raise Refusal("a TPM requirement without its versions")
    ct.take(finding[0], version[0])
    for line in _TPM_LINES:
        ct.take_all(line)
    versions = sorted({version[1].group(1), version[1].group(2)})
    return Recognised(checks=[{"kind": "tpm", "present": True, "ready": True,
                               "spec_versions": versions}])


_DG_INCLUDES = re.compile(r'^If "(\w+)" does not include a value of "(\d+)"(?: indicating '
                          r'"[^"]+")?(?: \(e\.g\., "\{[\d, ]+\}"\))?, this is a finding\.$', _I)
_DG_EQUALS = re.compile(r'^If "(\w+)" is not a value of "(\d+)" indicating "[^"]+", this is a '
                        r'finding\.$', _I)
_DG_PROPERTIES = {"RequiredSecurityProperties", "VirtualizationBasedSecurityStatus",
                  "SecurityServicesRunning"}
# The System Information view restates the CIM properties above; it adds no condition.
_DG_RESTATED = (
    re.compile(r'^If "(?:Device Guard )?Virtualization based security" does not display '
               r'"Running", this is a finding\.$', _I),
    re.compile(r'^If "(?:Device Guard Required Security Properties|Virtualization based Required '
               r'security Properties)" does not display "Base Virtualization Support, Secure '
               r'Boot", this is a finding\.$', _I),
    re.compile(r'^If "Device Guard Security Services Running" does not list "Credential Guard", '
               r'this is a finding\.$', _I),
    re.compile(r'^If "Secure Boot and DMA Protection" is configured, "(?:3|DMA Protection)" will '
               r'also be displayed', _I),
)
# "The policy settings referenced in the Fix section will configure the following registry
# value(s)... the registry values alone do not ensure proper function": what follows is not
# the requirement, so its lines are taken without being read as checks.
_FIX_REGISTRY = re.compile(r"^The policy settings referenced in the Fix section will configure "
                           r"the following registry values?[.;,] however, due to hardware "
                           r"requirements, the registry values? alone (?:do|does) not ensure "
                           r"proper function\.$", _I)
_REGISTRY_LINE = re.compile(r"^(?:Registry Hive|Registry Path|Value Name|Value Type|Type|Value):"
                            r" |^0x[0-9a-f]+ \(\d+\)", _I)


def device_guard_checks(ct: CheckText) -> Recognised | None:
    includes, equals = list(ct.find(_DG_INCLUDES)), list(ct.find(_DG_EQUALS))
    if not any(m.group(1) in _DG_PROPERTIES for _, m in includes + equals):
        return None
    checks = []
    for (index, match), op in [(f, "includes") for f in includes] + \
                              [(f, "equals") for f in equals]:
        if match.group(1) not in _DG_PROPERTIES:
            raise Refusal("a Device Guard property the converter does not know")
        checks.append({"kind": "device_guard", "property": match.group(1), "op": op,
                       "value": int(match.group(2))})
        ct.take(index)
    for pattern in _DG_RESTATED:
        ct.take_all(pattern)
    for index, _ in list(ct.find(_FIX_REGISTRY)):
        ct.take(index)
        for follow in range(index + 1, len(ct.lines)):
            if not _REGISTRY_LINE.search(ct.lines[follow]):
                break
            ct.take(follow)
    return Recognised(checks=sorted(checks, key=lambda c: c["property"]))


_VOLUMES = re.compile(r'^For each local volume, if the file system does not indicate "(\w+)", '
                      r'this is a finding\.$', _I)
_ALSO_FS = re.compile(r'^"(\w+)" \(resilient file system\) is also acceptable and would not be a '
                      r'finding\.$', _I)
_SYSTEM_PARTITIONS = re.compile(r"^This does not apply to system partitions such (?:as )?the "
                                r"Recovery and EFI System Partition\.$", _I)


def volume_checks(ct: CheckText) -> Recognised | None:
    found = ct.first(_VOLUMES)
    if not found:
        return None
    ct.take(found[0])
    systems = [found[1].group(1)]
    for index, match in list(ct.find(_ALSO_FS)):
        systems.append(match.group(1))
        ct.take(index)
    if not ct.take_all(_SYSTEM_PARTITIONS):
        raise Refusal("local volumes without the system partition exclusion")
    return Recognised(checks=[{"kind": "volumes", "file_systems": sorted(systems),
                               "exclude": ["efi_system", "recovery"]}])
