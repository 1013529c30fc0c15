"""Builders for the unit tests: facts documents shaped like collector.ps1's output (including the
Windows PowerShell 5.1 quirks), realistic secedit exports, and facts from the lab's host images."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from cwh.catalog.model import Catalog, Condition, Control, load_catalog
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for
from cwh.lab.emulator import run_collector
from cwh.lab.image import Image, load_image

CATALOG: Catalog = load_catalog()

LSA = r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa"
SCHANNEL = r"HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols"
LANMAN = r"HKLM\SYSTEM\CurrentControlSet\Services\LanmanServer\Parameters"
MRXSMB10 = r"HKLM\SYSTEM\CurrentControlSet\Services\mrxsmb10"

OS_2019 = {"caption": "Microsoft Windows Server 2019 Standard", "version": "10.0.17763",
           "build": "17763", "product_type": 3, "language": 1031, "architecture": "64-Bit",
           "last_boot": "2026-11-20T06:12:41.0000000Z"}


# --- sections ---------------------------------------------------------------------------------

def ok(data: Any) -> dict[str, Any]:
    """A section that ran (Invoke-CwhSection's success shape)."""
    return {"ok": True, "data": data, "ms": 12}


def failed(error: str, error_type: str = "System.UnauthorizedAccessException") -> dict[str, Any]:
    """A section that threw (Invoke-CwhSection's catch shape)."""
    return {"ok": False, "error": error, "error_type": error_type, "ms": 3}


def reg(path: str, name: str, kind: str | None = None, value: Any = None, *,
        key: bool = True, error: str | None = None) -> dict[str, Any]:
    """One Read-CwhRegistryValue answer; kind None means the value is absent."""
    present = key and kind is not None and error is None
    return {"path": path, "name": name, "key_exists": key and error is None,
            "value_exists": present, "kind": kind if present else None,
            "value": value if present else None, "error": error}


def registry(*items: dict[str, Any]) -> dict[str, Any]:
    return ok({"view": "Registry64", "values": list(items)})


def features(**states: str | None) -> dict[str, Any]:
    """Get-CwhFeatures; a state of None is reported as the per-feature error Windows gives."""
    return ok({"features": {
        name: ({"install_state": state, "source": "Get-WindowsFeature", "error": None}
               if state is not None else
               {"install_state": None, "source": "Get-WindowsFeature",
                "error": f"no feature named {name} on this system"})
        for name, state in states.items()}})


def firewall(**profiles: str) -> dict[str, Any]:
    return ok({"store": "ActiveStore", "profiles": [
        {"name": name, "enabled": enabled, "default_inbound_action": "Block"}
        for name, enabled in profiles.items()]})


def secedit(inf: str) -> dict[str, Any]:
    return ok({"command": "secedit /export /areas SECURITYPOLICY USER_RIGHTS", "inf": inf})


def inf_text(system_access: dict[str, Any] | None = None,
             privilege_rights: dict[str, str] | None = None) -> str:
    """A secedit export laid out the way Windows writes it (CRLF, [Unicode] first,
    [Version] last), with overridable [System Access] and [Privilege Rights]."""
    access = {
        "MinimumPasswordAge": 1, "MaximumPasswordAge": 60, "MinimumPasswordLength": 14,
        "PasswordComplexity": 1, "PasswordHistorySize": 24, "LockoutBadCount": 3,
        "RequireLogonToChangePassword": 0, "ForceLogoffWhenHourExpire": 0,
        "NewAdministratorName": '"Administrator"', "NewGuestName": '"Guest"',
        "ClearTextPassword": 0, "LSAAnonymousNameLookup": 0, "EnableAdminAccount": 1,
        "EnableGuestAccount": 0,
    }
    access.update(system_access or {})
    rights = {
        "SeNetworkLogonRight": "*S-1-5-32-544,*S-1-5-11",
        "SeBackupPrivilege": "*S-1-5-32-544",
        "SeChangeNotifyPrivilege": "*S-1-1-0,*S-1-5-19,*S-1-5-20,*S-1-5-32-544,*S-1-5-32-545",
        "SeServiceLogonRight": "*S-1-5-80-0,svc-backup",
        "SeInteractiveLogonRight": "*S-1-5-32-544",
        "SeDebugPrivilege": "*S-1-5-32-544",
    }
    rights.update(privilege_rights or {})
    lines = ["[Unicode]", "Unicode=yes", "[System Access]"]
    lines += [f"{k} = {v}" for k, v in access.items() if v is not None]
    lines += ["[Event Audit]", "AuditSystemEvents = 0", "AuditLogonEvents = 3",
              "AuditObjectAccess = 0", "AuditPrivilegeUse = 2", "AuditPolicyChange = 3",
              "[Registry Values]",
              r"MACHINE\System\CurrentControlSet\Control\Lsa\RestrictAnonymous=4,1",
              r"MACHINE\Software\Microsoft\Windows NT\CurrentVersion\Winlogon\LegalNoticeText=7,",
              r"MACHINE\System\CurrentControlSet\Control\Print\Providers\LanMan Print Services"
              r"\Servers\AddPrinterDrivers=4,1",
              "[Privilege Rights]"]
    lines += [f"{k} = {v}" if v else f"{k} =" for k, v in rights.items() if v is not None]
    lines += ["[Version]", 'signature="$CHICAGO$"', "Revision=1"]
    return "\r\n".join(lines) + "\r\n"


def document(sections: dict[str, Any], *, with_os: bool = True) -> dict[str, Any]:
    """A whole facts document, schema 1, as parse_output returns it."""
    base = {"os": ok(OS_2019)} if with_os else {}
    return {"schema": 1, "collector_version": "1", "computer": "SC-UNIT",
            "powershell": "5.1.17763.6414", "started": "2026-11-27T10:00:00.0000000Z",
            "finished": "2026-11-27T10:00:02.0000000Z", "sections": {**base, **sections}}


def facts(host: str = "sc-unit", **sections: Any) -> HostFacts:
    return HostFacts(host, document(sections))


# --- the catalog ------------------------------------------------------------------------------

def control(control_id: str) -> Control:
    return CATALOG[control_id]


def policy_controls() -> list[Control]:
    return CATALOG.for_handler("policy")


def registry_conditions(ctrl: Control) -> list[Condition]:
    return [c for c in ctrl.conditions() if c.method == "registry"]


def only_condition(ctrl: Control) -> Condition:
    assert isinstance(ctrl.check, Condition), f"{ctrl.id} is not a single condition"
    return ctrl.check


# --- lab images -------------------------------------------------------------------------------

def image(name: str, **changes: Any) -> Image:
    """A bundled image with top-level keys replaced (deep-copied, so tests stay independent)."""
    loaded = load_image(name)
    data = copy.deepcopy(loaded.data)
    data.update(changes)
    return Image(loaded.name, Path(loaded.path), data)


def image_request(controls: list[Control] | None = None) -> dict[str, Any]:
    """The request the suite would send for these controls (all policy + account controls)."""
    chosen = controls if controls is not None else \
        [c for c in CATALOG.controls if c.handler in ("policy", "accounts")]
    return json.loads(request_for(chosen).to_json())


def image_facts(img: Image, controls: list[Control] | None = None,
                host: str = "lab-host") -> HostFacts:
    return HostFacts(host, run_collector(img, image_request(controls)))
