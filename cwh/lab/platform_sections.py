"""The lab's answers for the collector's platform, directory, software, file and share sections
(collector.ps1: device_guard, firmware, tpm, volumes, ldap_policy, applocker, file_search,
shares), in the shape the PowerShell writes, from the image keys docs/lab-images.md describes.
Their table, SECTIONS, is part of the emulator's (cwh/lab/emulator.py).

Windows' own behaviour is played, the adversarial part included: Confirm-SecureBootUEFI on BIOS
firmware ("Cmdlet not supported on this platform"), a TPM query that fails, a file search cut
off at its time limit or failing on a directory, robocopy's 8.3 short-name matches.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
from collections.abc import Callable, Mapping
from typing import Any

from cwh.lab.image import Image
from cwh.lab.section_error import SectionFailure

SECURE_BOOT_UNSUPPORTED = "Cmdlet not supported on this platform: 0xC0000002"
FILE_SEARCH_SHARE = 0.5  # of the section budget, as Get-CwhFileSearch computes its limit


def _device_guard(image: Image, request: dict) -> dict:
    spec = image.get("device_guard")
    if not isinstance(spec, Mapping):
        raise SectionFailure("Get-CimInstance : Invalid namespace \"root\\Microsoft\\Windows\\"
                             "DeviceGuard\"")
    if spec.get("error"):
        raise SectionFailure(str(spec["error"]))
    return {"properties": dict(spec.get("properties") or {})}


def _firmware(image: Image, request: dict) -> dict:
    spec = image.get("firmware")
    if not isinstance(spec, Mapping) or spec.get("type") not in ("UEFI", "BIOS"):
        raise SectionFailure("lab: the image's firmware needs type UEFI or BIOS")
    uefi = spec["type"] == "UEFI"
    environment = {str(k).lower(): v for k, v in (image.get("environment") or {}).items()}
    loader = spec.get("boot_loader", "\\Windows\\system32\\winload." + ("efi" if uefi else "exe"))
    secure = {"value": None, "error": None, "error_type": None}
    if spec.get("confirm_error"):
        error = spec["confirm_error"]
        secure.update(error=error.get("message"), error_type=error.get("type"))
    elif uefi:
        secure["value"] = bool(spec.get("secure_boot", False))
    else:
        secure.update(error=SECURE_BOOT_UNSUPPORTED,
                      error_type="System.PlatformNotSupportedException")
    state_key = r"HKLM\SYSTEM\CurrentControlSet\Control\SecureBoot\State"
    recorded = spec.get("secure_boot_registry",
                        int(bool(spec.get("secure_boot"))) if uefi else None)
    registry = {"path": state_key, "name": "UEFISecureBootEnabled", "key_exists": uefi or
                recorded is not None, "value_exists": recorded is not None,
                "kind": "DWord" if recorded is not None else None, "value": recorded,
                "error": None}
    return {"firmware_type_env": environment.get("firmware_type"),
            "boot_loader": {"path": loader, "error": spec.get("boot_loader_error")},
            "secure_boot": secure, "secure_boot_registry": registry}


def _tpm(image: Image, request: dict) -> dict:
    spec = image.get("tpm")
    if not isinstance(spec, Mapping):
        raise SectionFailure("lab: the image holds no TPM facts")
    if spec.get("error"):
        raise SectionFailure(str(spec["error"]))
    present = bool(spec.get("present", False))
    result = {"present": present, "ready": spec.get("ready", False) if present else False,
              "enabled": spec.get("enabled", present), "activated": spec.get("activated",
                                                                             present),
              "owned": spec.get("owned", present),
              "manufacturer_version": spec.get("manufacturer_version"),
              "spec_version": None, "spec_error": None}
    if present:
        result["spec_version"] = spec.get("spec_version")
        result["spec_error"] = spec.get("spec_error")
        if result["spec_version"] is None and result["spec_error"] is None:
            result["spec_error"] = "Win32_Tpm returned no instance"
    return result


def _volume_path(volume: Mapping[str, Any], index: int) -> str:
    digest = hashlib.sha1(f"{index}:{volume.get('drive_letter')}:{volume.get('label')}".encode(),
                          usedforsecurity=False).hexdigest()
    return f"\\\\?\\Volume{{{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-" \
           f"{digest[20:32]}}}\\"


def _image_volumes(image: Image) -> list[Mapping[str, Any]]:
    volumes = image.get("volumes")
    if not isinstance(volumes, list):
        raise SectionFailure("Get-Partition : the image holds no volumes")
    return volumes


def _volumes(image: Image, request: dict) -> dict:
    answers = []
    for index, volume in enumerate(_image_volumes(image)):
        partition = volume.get("partition")
        answers.append({
            "path": _volume_path(volume, index), "drive_letter": volume.get("drive_letter"),
            "drive_type": volume.get("drive_type", "Fixed"),
            "file_system": volume.get("file_system"),
            "file_system_type": volume.get("file_system_type", volume.get("file_system") or
                                           "Unknown"),
            "label": volume.get("label", ""), "size": int(volume.get("size", 0)),
            "partition": None if partition is None else {
                "disk": int(partition.get("disk", 0)), "number": int(partition.get("number", 1)),
                "type": partition.get("type", "Basic"), "gpt_type": partition.get("gpt_type"),
                "mbr_type": partition.get("mbr_type")},
        })
    return {"volumes": answers}


# --- directory, software, files, shares ---------------------------------------------------

def _ldap_policy(image: Image, request: dict) -> dict:
    role = int((image.get("identity") or {}).get("domain_role", 2))
    if role < 4:
        return {"domain_controller": False, "domain_role": role}
    spec = image.get("ldap_policy")
    if not isinstance(spec, Mapping):
        raise SectionFailure("The specified domain either does not exist or could not be "
                             "contacted.")
    if spec.get("error"):
        raise SectionFailure(str(spec["error"]))
    return {"domain_controller": True, "domain_role": role,
            "policy_dn": spec.get("policy_dn", "CN=Default Query Policy,CN=Query-Policies,CN="
                                  "Directory Service,CN=Windows NT,CN=Services,CN=Configuration"
                                  ",DC=corp,DC=example,DC=com"),
            "limits": list(spec.get("limits") or []),
            "dc_query_policy": list(spec.get("dc_query_policy") or []),
            "site_query_policy": list(spec.get("site_query_policy") or []), "error": None}


def _applocker(image: Image, request: dict) -> dict:
    spec = image.get("applocker")
    if not isinstance(spec, Mapping):
        raise SectionFailure("lab: the image holds no AppLocker facts")
    service = spec.get("appidsvc")
    return {"policy_xml": spec.get("policy_xml"), "policy_error": spec.get("policy_error"),
            "appidsvc": None if service is None else {"state": service.get("state"),
                                                      "start_mode": service.get("start_mode")}}


def _robocopy_matches(name: str, pattern: str) -> bool:
    """robocopy's wildcard match, which also tries the 8.3 short name: a three-letter
    extension in the pattern matches any longer extension that starts with it."""
    lowered, pattern = name.lower(), pattern.lower()
    if fnmatch.fnmatchcase(lowered, pattern):
        return True
    stem, dot, extension = pattern.rpartition(".")
    return bool(dot) and len(extension) == 3 and "*" not in extension and \
        fnmatch.fnmatchcase(lowered, f"{stem}.{extension}*")


def _file_search(image: Image, request: dict) -> dict:
    spec = image.get("files_on_disk")
    if not isinstance(spec, Mapping):
        raise SectionFailure("lab: the image does not say which files its drives hold")
    limit = max(1, math.floor(float(request["section_budget_sec"]) * FILE_SEARCH_SHARE))
    roots = [f"{v['drive_letter']}:\\" for v in _image_volumes(image)
             if v.get("drive_letter") and v.get("drive_type", "Fixed") == "Fixed"]
    roots += [str(p) for v in _image_volumes(image) for p in v.get("mount_paths") or []]
    seconds = float(spec.get("search_seconds", 1))
    paths = sorted(str(p) for p in spec.get("paths") or [])
    stopped = None
    if seconds > limit:  # the search walks in order and is stopped part way
        seen = max(0, math.floor(len(paths) * limit / seconds))
        paths, stopped = paths[:seen], f"stopped at the search's limit of {limit} s while " \
                                       f"searching {roots[0] if roots else '?'}"
    patterns = [str(p) for p in request["file_patterns"]]
    matches = [p for p in paths if any(_robocopy_matches(p.rsplit("\\", 1)[-1], pat)
                                       for pat in patterns)
               and any(p.lower().startswith(r.lower()) for r in roots)]
    errors = [f"2026/12/01 09:00:00 ERROR 5 (0x00000005) Scanning Source Directory {d} Access "
              "is denied." for d in spec.get("unreadable") or []]
    runs = [{"root": r, "exit_code": None if stopped else (8 if errors else int(bool(matches))),
             "stopped": bool(stopped)} for r in roots[:1 if stopped else len(roots)]]
    return {"method": "robocopy /L /B /XJ", "patterns": patterns, "roots": roots,
            "limit_seconds": limit, "seconds": min(seconds, limit),
            "complete": not stopped and not errors, "stopped": stopped, "runs": runs,
            "errors": errors, "matches": matches[:1000], "matches_truncated": len(matches) > 1000}


def _shares(image: Image, request: dict) -> dict:
    shares = image.get("shares")
    if not isinstance(shares, list):
        raise SectionFailure("Get-CimInstance : the image holds no shares")
    volumes = []
    for index, volume in enumerate(_image_volumes(image)):
        device = _volume_path(volume, index)
        names = ([f"{volume['drive_letter']}:\\"] if volume.get("drive_letter") else []) + \
            [str(p) for p in volume.get("mount_paths") or []]
        drive_type = 3 if volume.get("drive_type", "Fixed") == "Fixed" else 2
        volumes += [{"name": n, "device_id": device, "drive_type": drive_type}
                    for n in names or [device]]
    return {"shares": [{"name": s.get("name"), "path": s.get("path"), "type": int(s.get("type", 0)),
                        "description": s.get("description", "")} for s in shares],
            "volumes": volumes}


SECTIONS: dict[str, Callable[[Image, dict], Any]] = {
    "device_guard": _device_guard, "firmware": _firmware, "tpm": _tpm, "volumes": _volumes,
    "ldap_policy": _ldap_policy, "applocker": _applocker, "file_search": _file_search,
    "shares": _shares,
}
