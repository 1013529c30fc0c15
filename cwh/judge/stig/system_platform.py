"""The platform kinds (docs/stig-rules.md): `device_guard` (Win32_DeviceGuard), `firmware` (BIOS
mode and Secure Boot), `tpm` (Get-Tpm and Win32_Tpm), `os` (build and installation type from
the registry) and `volumes` (the file system of every local fixed volume).

Where Windows offers two readings of one fact, both are collected and must agree: the firmware
type from %firmware_type% and from the running boot loader (winload.efi or winload.exe), Secure
Boot from Confirm-SecureBootUEFI and the UEFISecureBootEnabled value Windows writes at boot, the
build from the registry and from Win32_OperatingSystem. A disagreement is unknown, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.collect.needs_system import CURRENT_VERSION_KEY, OS_VALUES
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.compare import compare
from cwh.judge.stig.system_facts import OVER_WINRM, compact, section
from cwh.judge.verdict import Evidence
from cwh.parse.primitives import ascii_int

DEVICE_GUARD = "Win32_DeviceGuard (root\\Microsoft\\Windows\\DeviceGuard)"
ESP_GPT = "{c12a7328-f81f-11d2-ba4b-00a0c93ec93b}"
RECOVERY_GPT = "{de94bba4-06d1-4d40-a16a-bfd50179d6ac}"
EXCLUDED_MBR = {"efi_system": 0xEF, "recovery": 0x27}
EXCLUDED_GPT = {"efi_system": ESP_GPT, "recovery": RECOVERY_GPT}


def _result(passed: bool | None, source: str, location: str, observed: str, expected: str,
            reason: str = "", raw: str = "") -> Outcome:
    evidence = Evidence(source, location, observed, expected, raw)
    return Outcome(passed, (evidence,), expected, observed, reason, location)


def _compared(check: Mapping[str, Any], value: Any, source: str, location: str,
              raw: str = "") -> Outcome:
    comparison = compare(check, value)
    observed = f"{value!r}" + (f" ({comparison.note})" if comparison.note else "")
    return _result(comparison.passed, source, location, observed, comparison.expected,
                   comparison.note if comparison.passed is None else "", raw)


# --- device guard -------------------------------------------------------------------------

@check_judge("device_guard")
def judge_device_guard(check: Mapping[str, Any], facts: HostFacts,
                       context: RuleContext) -> Outcome:
    properties = section(facts, "device_guard").get("properties")
    name = str(check.get("property"))
    if not isinstance(properties, dict) or name not in properties:
        raise FactUnavailable(f"Win32_DeviceGuard.{name} was not in the collector's answer")
    value = properties[name]
    location = f"Win32_DeviceGuard.{name}"
    source = f"{DEVICE_GUARD} ({OVER_WINRM})"
    if check.get("op") == "includes":
        # PowerShell hands a one-element array over as its element: read it as that list.
        items = as_list(value) if value is not None else None
        if items is None or not all(isinstance(i, int) and not isinstance(i, bool)
                                    for i in items):
            raise FactUnavailable(f"{location} is not a list of numbers: {value!r}")
        wanted = check.get("value")
        return _result(wanted in items, source, location, repr(items), f"includes {wanted}")
    if value is None or isinstance(value, (bool, list)):
        raise FactUnavailable(f"{location} is not a single number: {value!r}")
    return _compared(check, value, source, location)


# --- firmware -----------------------------------------------------------------------------

def firmware_mode(data: Mapping[str, Any]) -> tuple[str, str]:
    """("UEFI" or "BIOS", the sources that say so); FactUnavailable when none can tell or
    they disagree."""
    readings: dict[str, str] = {}
    problems = []
    env = data.get("firmware_type_env")
    if env is not None:
        words = {"UEFI": "UEFI", "LEGACY": "BIOS", "BIOS": "BIOS"}
        if str(env).strip().upper() in words:
            readings["%firmware_type%"] = words[str(env).strip().upper()]
        else:
            problems.append(f"%firmware_type% is {env!r}")
    loader = data.get("boot_loader") if isinstance(data.get("boot_loader"), dict) else {}
    path = loader.get("path")
    if isinstance(path, str) and path.strip():
        lowered = path.strip().lower()
        if lowered.endswith("winload.efi"):
            readings["boot loader"] = "UEFI"
        elif lowered.endswith("winload.exe"):
            readings["boot loader"] = "BIOS"
        else:
            problems.append(f"boot loader {path!r} is neither winload.efi nor winload.exe")
    elif loader.get("error"):
        problems.append(f"bcdedit: {loader['error']}")
    said = ", ".join(f"{k}: {v}" for k, v in readings.items())
    if len(set(readings.values())) > 1:
        raise FactUnavailable(f"the firmware type readings disagree ({said}): contradictory")
    if not readings:
        raise FactUnavailable("the firmware type could not be told"
                              + (f" ({'; '.join(problems)})" if problems else ""))
    return next(iter(readings.values())), said + (f"; {'; '.join(problems)}" if problems else "")


def secure_boot(data: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether Secure Boot is on, from Confirm-SecureBootUEFI (a platform without it is "not
    supported": off), corroborated by UEFISecureBootEnabled when Windows wrote it."""
    confirm = data.get("secure_boot") if isinstance(data.get("secure_boot"), dict) else {}
    value, error = confirm.get("value"), confirm.get("error")
    if isinstance(value, bool) and not error:
        state, said = value, f"Confirm-SecureBootUEFI: {value}"
    elif error and (confirm.get("error_type") == "System.PlatformNotSupportedException"
                    or "not supported on this platform" in str(error)):
        state, said = False, f"Confirm-SecureBootUEFI: {error} (no Secure Boot on this platform)"
    else:
        raise FactUnavailable(f"Confirm-SecureBootUEFI gave no answer: "
                              f"{error or compact(confirm)}")
    registry = data.get("secure_boot_registry") if \
        isinstance(data.get("secure_boot_registry"), dict) else {}
    if registry.get("value_exists") is True:
        recorded = registry.get("value")
        if recorded not in (0, 1) or isinstance(recorded, bool):
            raise FactUnavailable(f"UEFISecureBootEnabled is {recorded!r}, not 0 or 1")
        if bool(recorded) != state:
            raise FactUnavailable(f"{said}, but UEFISecureBootEnabled is {recorded}: "
                                  "contradictory")
        said += f"; UEFISecureBootEnabled: {recorded}"
    elif registry.get("error"):
        said += f"; UEFISecureBootEnabled not readable ({registry['error']})"
    else:
        said += "; UEFISecureBootEnabled absent"
    return state, said


@check_judge("firmware")
def judge_firmware(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    data = section(facts, "firmware")
    prop = check.get("property")
    source = f"firmware ({OVER_WINRM})"
    if prop == "mode":
        mode, said = firmware_mode(data)
        return _compared(check, mode, source, "BIOS mode", said)
    if prop == "secure_boot":
        state, said = secure_boot(data)
        return _compared(check, state, source, "Secure Boot", said)
    raise FactUnavailable(f"rule data: unknown firmware property {prop!r}")


# --- TPM ----------------------------------------------------------------------------------

@check_judge("tpm")
def judge_tpm(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    data = section(facts, "tpm")
    source = f"Get-Tpm and Win32_Tpm ({OVER_WINRM})"
    present, ready = data.get("present"), data.get("ready")
    wanted = [str(v) for v in check.get("spec_versions") or ()]
    expected = f"a TPM, ready for use, specification {' or '.join(wanted)}"
    raw = compact(data)
    if not isinstance(present, bool):
        raise FactUnavailable(f"Get-Tpm did not say whether a TPM is present ({present!r})")
    if not present:
        return _result(False, source, "TPM", "no TPM", expected, raw=raw)
    if not isinstance(ready, bool):
        raise FactUnavailable(f"Get-Tpm did not say whether the TPM is ready ({ready!r})")
    if check.get("ready") and not ready:
        return _result(False, source, "TPM", "present, not ready for use", expected, raw=raw)
    spec = data.get("spec_version")
    version = spec.split(",")[0].strip() if isinstance(spec, str) else None
    if not version:
        reason = f"the TPM's specification version is not known " \
                 f"({data.get('spec_error') or repr(spec)})"
        return _result(None, source, "TPM", "not available", expected, reason, raw)
    return _result(version in wanted, source, "TPM", f"ready, specification {version}",
                   expected, raw=raw)


# --- OS -----------------------------------------------------------------------------------

@check_judge("os")
def judge_os(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    prop = str(check.get("property"))
    if prop not in OS_VALUES:
        raise FactUnavailable(f"rule data: unknown OS property {prop!r}")
    value = facts.registry(CURRENT_VERSION_KEY, OS_VALUES[prop])
    location, source = value.location, f"registry (64-bit view, {OVER_WINRM})"
    if not value.value_exists or value.kind != "String" or not isinstance(value.value, str):
        raise FactUnavailable(f"{location} is {value.describe()}, where Windows always writes "
                              "a string")
    if prop == "installation_type":
        return _compared(check, value.value, source, location)
    build = ascii_int(value.value)
    if build is None or build < 0:
        raise FactUnavailable(f"{location} {value.value!r} is not a build number")
    try:
        reported = section(facts, "os").get("build")
    except FactUnavailable:
        reported = None
    if reported is not None and ascii_int(reported) != build:
        raise FactUnavailable(f"{location} says {build}, Win32_OperatingSystem says "
                              f"{reported!r}: contradictory")
    return _compared(check, build, source, location)


# --- volumes ------------------------------------------------------------------------------

def _excluded(volume: Mapping[str, Any], exclude: list[str]) -> str | None:
    partition = volume.get("partition") if isinstance(volume.get("partition"), dict) else {}
    gpt = str(partition.get("gpt_type") or "").lower()
    mbr = partition.get("mbr_type")
    for name in exclude:
        if gpt == EXCLUDED_GPT.get(name) or (mbr is not None and mbr == EXCLUDED_MBR.get(name)):
            return name
    return None


def _volume_label(volume: Mapping[str, Any]) -> str:
    letter = volume.get("drive_letter")
    return f"{letter}:" if letter else str(volume.get("path") or volume.get("label") or "?")


@check_judge("volumes")
def judge_volumes(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    volumes = as_list(section(facts, "volumes").get("volumes"))
    if not volumes or not all(isinstance(v, dict) for v in volumes):
        raise FactUnavailable("the volume list is empty or malformed, where every Windows host "
                              "has its system volume")
    allowed = [str(f) for f in check.get("file_systems") or ()]
    exclude = [str(e) for e in check.get("exclude") or ()]
    expected = f"every local fixed volume {' or '.join(allowed)} (except " \
               f"{', '.join(exclude) or 'none'})"
    judged, failing, unknown, skipped = [], [], [], []
    for volume in volumes:
        label = _volume_label(volume)
        drive_type = volume.get("drive_type")
        if drive_type != "Fixed":
            if not isinstance(drive_type, str) or drive_type in ("", "Unknown"):
                unknown.append(f"{label}: drive type {drive_type!r} is not known")
            else:
                skipped.append(f"{label} ({drive_type})")
            continue
        why = _excluded(volume, exclude)
        file_system = volume.get("file_system")
        if why:
            skipped.append(f"{label} ({why}, {file_system})")
            continue
        if not isinstance(file_system, str) or not file_system.strip():
            unknown.append(f"{label}: file system not known ({file_system!r})")
            continue
        judged.append(f"{label} {file_system}")
        if file_system.strip() not in allowed:
            failing.append(f"{label} is {file_system}")
    source = f"Get-Volume and Get-Partition ({OVER_WINRM})"
    observed = "; ".join(judged) + (f" (not judged: {', '.join(skipped)})" if skipped else "")
    if failing:
        return _result(False, source, "volumes", "; ".join(failing), expected, raw=observed)
    if unknown:
        return _result(None, source, "volumes", "not available", expected, "; ".join(unknown),
                       observed)
    if not judged:
        return _result(None, source, "volumes", "not available", expected,
                       "no local fixed volume was reported", observed)
    return _result(True, source, "volumes", observed, expected)

