"""The lab's answers for the collector's STIG system sections (collector.ps1: acls,
certificate_stores, local_accounts, group_members here; the platform, directory, software, file
and share sections in cwh/lab/platform_sections.py), in exactly the shape the PowerShell
writes, from the image keys docs/lab-images.md describes. Their tables, SECTIONS and
CONTEXT_SECTIONS, are part of the emulator's (cwh/lab/emulator.py).

Each answer plays Windows' own behaviour, including the adversarial one: Get-Acl denied, a path
that does not exist, a group member whose SID does not resolve, Confirm-SecureBootUEFI on BIOS
firmware ("Cmdlet not supported on this platform"), a TPM query that fails, a file search cut
off by its time limit or stopped at a directory it cannot read. What the image does not say is
answered as Windows would answer for a host without it, never invented.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from cwh.lab.image import Image
from cwh.lab.section_error import SectionFailure
from cwh.lab.section_kit import (
    Context,
    certificates_section,
    find_named,
    registry_value,
    windows_round_trip,
)

NOT_FOUND = "Cannot find path '{path}' because it does not exist."
ACCESS_DENIED = "Attempted to perform an unauthorized operation."


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _when(value: Any, now: dt.datetime) -> str | None:
    """An image time as the collector writes it: `{days_ago: N}` relative to now (images stay
    true whatever day the lab runs), a date or timestamp, or null."""
    if value is None:
        return None
    if isinstance(value, Mapping) and "days_ago" in value:
        return windows_round_trip(now - dt.timedelta(days=float(value["days_ago"])))
    if isinstance(value, dt.datetime):
        return windows_round_trip(value if value.tzinfo else value.replace(tzinfo=dt.UTC))
    if isinstance(value, dt.date):
        return windows_round_trip(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
    return str(value)  # written as the collector would write it (or deliberately garbled)


def _expand(path: str, image: Image) -> str:
    """[Environment]::ExpandEnvironmentVariables with the image's `environment`."""
    variables = {str(k).lower(): str(v) for k, v in (image.get("environment") or {}).items()}

    def one(match: re.Match[str]) -> str:
        return variables.get(match.group(1).lower(), match.group(0))
    expanded = re.sub(r"%([^%]+)%", one, path)
    leftover = re.search(r"%[^%\\]+%", expanded)
    if leftover:
        raise ValueError(f"this host does not define {leftover.group(0)} ({path})")
    return expanded


# --- acls ---------------------------------------------------------------------------------

def _key(path: str) -> str:
    """Windows compares paths case-insensitively; a trailing backslash (but a drive root's)
    names the same object."""
    lowered = path.lower()
    return lowered if re.fullmatch(r"[a-z]:\\", lowered) else lowered.rstrip("\\")


def _acl_spec(image: Image, path: str) -> Any:
    for name, spec in (image.get("acls") or {}).items():
        if not str(name).startswith("_") and _key(str(name)) == _key(path):
            return spec
    return None


def _acl_entry(image: Image, target: str, path: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"resolved_path": path, "exists": None, "item_type": None,
                             "sddl": None, "error": None, "error_type": None}
    spec = _acl_spec(image, path)
    if not isinstance(spec, Mapping):  # not on this host (null removes an extended image's)
        entry["exists"] = False
        return entry
    if spec.get("denied") or spec.get("error"):
        entry.update(error=spec.get("error") or ACCESS_DENIED,
                     error_type=spec.get("error_type", "System.UnauthorizedAccessException"))
        return entry
    kind = spec.get("type", "directory")
    if (target == "registry") != (kind == "registry_key"):
        entry["exists"] = False  # a file path is no registry key, and a key is no file
        return entry
    entry.update(exists=True, item_type=kind, sddl=spec.get("sddl"))
    return entry


def _directory_files(image: Image, directory: str) -> list[str]:
    prefix = _key(directory).rstrip("\\") + "\\"
    return sorted(str(p) for p, spec in (image.get("acls") or {}).items()
                  if _key(str(p)).startswith(prefix) and "\\" not in _key(str(p))[len(prefix):]
                  and isinstance(spec, Mapping) and spec.get("type") == "file")


def acl_item(image: Image, item: list[str]) -> dict[str, Any]:
    """One acl_paths item answered as Resolve-CwhAclItem does (also used by the screenconnect
    section for the install's own web.config and backups)."""
    target, chosen = item[0], item[1]
    entry: dict[str, Any] = {"item": [str(i) for i in item], "source": None,
                             "resolved_path": None, "exists": None, "item_type": None,
                             "sddl": None, "error": None, "error_type": None}
    if item[2] == "registry":
        read = registry_value(image, item[3], item[4])
        entry["source"] = {"kind": "registry", "path": item[3], "name": item[4], "use": item[5],
                           "found": bool(read["value_exists"]), "value": read["value"],
                           "error": read["error"]}
        if read["error"]:
            return entry
        if read["value_exists"]:
            if not isinstance(read["value"], str) or not read["value"].strip():
                entry["source"]["error"] = f"the value is {read['kind']}, not a path"
                return entry
            chosen = read["value"]
    elif item[2] == "share":
        shares = [s for s in image.get("shares") or [] if str(s.get("name")) == item[3]]
        entry["source"] = {"kind": "share", "path": item[3], "name": "", "use": item[5],
                           "found": len(shares) == 1, "value": None, "error": None}
        if len(shares) > 1:
            entry["source"]["error"] = f"{len(shares)} shares are named {item[3]}"
            return entry
        if shares:
            entry["source"]["value"] = chosen = shares[0].get("path")
    try:
        expanded = _expand(chosen, image)
    except ValueError as exc:
        entry.update(error=str(exc), error_type="System.Management.Automation.RuntimeException")
        return entry
    if entry["source"] and entry["source"]["found"] and item[5] == "parent":
        expanded = expanded.rsplit("\\", 1)[0]
    entry.update(_acl_entry(image, "directory" if target == "directory_files" else target,
                            expanded))
    if target == "directory_files" and entry["exists"] and entry["item_type"] == "directory":
        files = _directory_files(image, expanded)
        entry["files_truncated"] = len(files) > 200
        entry["files"] = [_acl_entry(image, "file", f) for f in files[:200]]
    return entry


def _acls(image: Image, request: dict) -> dict:
    bits = (image.get("acls") or {}).get("_process_64bit", True)
    return {"process_64bit": bool(bits),
            "entries": [acl_item(image, list(item)) for item in request["acl_paths"]]}


# --- certificate stores -------------------------------------------------------------------

def _certificate(entry: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {"thumbprint": entry.get("thumbprint"), "subject": entry.get("subject"),
            "issuer": entry.get("issuer", entry.get("subject")),
            "not_before": _when(entry.get("not_before"), now),
            "not_after": _when(entry.get("not_after"), now),
            "dns_names": list(entry.get("dns_names") or [])}


def _generated(context: Context) -> list[dict[str, Any]]:
    """The lab's generated certificates, as LocalMachine\\My lists them."""
    listed = certificates_section(None, {}, context)["certificates"]  # type: ignore[arg-type]
    keys = ("thumbprint", "subject", "issuer", "not_before", "not_after", "dns_names")
    return [{k: c[k] for k in keys} for c in listed]


def _certificate_stores(image: Image, request: dict, context: Context) -> dict:
    now = _now()
    stores = image.get("certificate_stores") or {}
    answers = []
    for name in request["certificate_stores"]:
        entry: dict[str, Any] = {"store": name, "location": "LocalMachine", "error": None,
                                 "error_type": None}
        found = find_named(stores, name)
        path = f"Cert:\\LocalMachine\\{name}"
        if found is None:
            entry.update(error=NOT_FOUND.format(path=path),
                         error_type="System.Management.Automation.ItemNotFoundException")
        elif isinstance(found[1], Mapping) and found[1].get("error"):
            entry.update(error=found[1]["error"],
                         error_type=found[1].get("error_type", "System.Security.Cryptography."
                                                 "CryptographicException"))
        else:
            entry["certificates"] = [_certificate(c, now) for c in found[1] or []]
            if name.lower() == "my":
                entry["certificates"] += _generated(context)
        answers.append(entry)
    return {"collected_at": windows_round_trip(now), "stores": answers}


# --- accounts and groups ------------------------------------------------------------------

def _account(user: Mapping[str, Any], domain: str, now: dt.datetime,
             adsi_error: str | None) -> dict[str, Any]:
    account = {
        "name": user.get("name"), "domain": user.get("domain", domain), "sid": user.get("sid"),
        "disabled": not user.get("enabled", True),
        "password_required": user.get("password_required", True),
        "password_expires": user.get("password_expires", True),
        "trust_account": bool(user.get("trust_account", False)),
        "smartcard_required": user.get("smartcard_required", False),
        "last_logon": None, "never_logged_on": None, "password_last_set": None,
        "password_must_change": None, "error": None,
    }
    error = f"ADSI (WinNT) failed: {adsi_error}" if adsi_error else user.get("adsi_error")
    if error:
        account.update(smartcard_required=None, error=error)
        return account
    last = user.get("last_logon", "never")
    account["never_logged_on"] = last == "never"
    account["last_logon"] = None if last == "never" else _when(last, now)
    account["password_last_set"] = _when(user.get("password_last_set"), now)
    return account


def _local_accounts(image: Image, request: dict) -> dict:
    accounts = image.get("accounts")
    if not isinstance(accounts, Mapping):
        raise SectionFailure('Get-CimInstance : Invalid class "Win32_UserAccount"')
    if accounts.get("error"):
        raise SectionFailure(str(accounts["error"]))
    identity = image.get("identity") or {}
    role = int(identity.get("domain_role", 2))
    now = _now()
    domain = str(identity.get("computer_name") or "")
    adsi_error = accounts.get("adsi_error")
    return {
        "source": "LDAP (the domain's user accounts)" if role >= 4 else
                  "Win32_UserAccount and ADSI (WinNT)",
        "collected_at": windows_round_trip(now), "domain_role": role,
        "truncated": bool(accounts.get("truncated", False)), "adsi_error": adsi_error,
        "accounts": [_account(u, domain, now, adsi_error) for u in accounts.get("users") or []],
    }


def _group_members(image: Image, request: dict) -> dict:
    groups = image.get("local_groups") or {}
    answers = []
    for sid in request["groups"]:
        found = find_named(groups, sid)
        entry: dict[str, Any] = {"sid": sid, "name": None, "error": None, "members": []}
        if found is None or not isinstance(found[1], Mapping):
            entry["error"] = ('Exception calling "Translate" with "1" argument(s): "Some or all '
                              'identity references could not be translated."')
        elif found[1].get("error"):
            entry.update(name=found[1].get("name"), error=found[1]["error"])
        else:
            entry["name"] = found[1].get("name")
            entry["members"] = [{
                "name": None if m.get("orphaned") else m.get("name"), "sid": m.get("sid"),
                "resolved": not m.get("orphaned"),
                "object_class": m.get("object_class", "User"), "principal_source": None,
            } for m in found[1].get("members") or []]
        answers.append(entry)
    return {"method": "ADSI (WinNT)", "groups": answers}


SECTIONS: dict[str, Callable[[Image, dict], Any]] = {
    "acls": _acls, "local_accounts": _local_accounts, "group_members": _group_members,
}
# Sections that also read what the lab generated (certificates).
CONTEXT_SECTIONS: dict[str, Callable[[Image, dict, Context], Any]] = {
    "certificate_stores": _certificate_stores,
}
