"""The lab's answers to the collector's product sections: which products' install paths exist,
UDP endpoints and the firewall rules' address filters (collector.ps1's Get-CwhProducts,
Get-CwhUdpListeners and Get-CwhFirewallAddresses).

Registered by cwh/lab/emulator.py, which turns `CmdletError` into what PowerShell 5.1 does with
a module cmdlet's error (stop only where the collector passes -ErrorAction Stop). Image keys
(docs/lab-images.md): `automate`, `paths`, `udp_listeners` and the firewall rules'
`remote_addresses` / `local_addresses`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cwh.lab.image import Image
from cwh.lab.section_error import SectionFailure

# What %VAR% expands to on the lab's hosts (a 64-bit Windows Server on C:).
ENVIRONMENT = {"programfiles(x86)": r"C:\Program Files (x86)", "programfiles": r"C:\Program Files",
               "systemdrive": "C:", "systemroot": r"C:\Windows", "windir": r"C:\Windows"}


class CmdletError(Exception):
    """A module cmdlet's error: terminating only under -ErrorAction Stop; `answer` is what the
    section returns when PowerShell swallows it."""

    def __init__(self, cmdlet: str, message: str, answer: Any) -> None:
        super().__init__(message)
        self.cmdlet = cmdlet
        self.answer = answer


def expand(path: str) -> str:
    """[Environment]::ExpandEnvironmentVariables as the lab's hosts have them (an unknown
    variable stays as written, as on Windows)."""
    return re.sub(r"%([^%]+)%", lambda m: ENVIRONMENT.get(m.group(1).lower(), m.group(0)), path)


def _same(a: str, b: str) -> bool:
    return a.rstrip("\\").lower() == b.rstrip("\\").lower()


def existing_paths(image: Image) -> list[str]:
    """Paths the image's installations imply: the ScreenConnect service binary (where the image
    gives a version, as the screenconnect section reads it), LTAgent.exe under Automate's root,
    LTShare."""
    found = []
    sc = image.get("screenconnect") or {}
    if sc.get("install_root") and sc.get("file_version"):
        found.append(f"{sc['install_root']}\\Bin\\ScreenConnect.Service.exe")
    cwa = image.get("automate") or {}
    if cwa.get("install_root"):
        found.append(f"{cwa['install_root']}\\LTAgent.exe")
    if cwa.get("ltshare_path"):
        found.append(str(cwa["ltshare_path"]))
    return found


def products(image: Image, request: dict, context: Any) -> dict:
    """Image key `paths`: path -> true (exists), false (absent) or an error text, on top of what
    the installations imply."""
    overrides = image.get("paths") or {}
    implied = existing_paths(image)
    answers = []
    for path in request["product_paths"]:
        expanded = expand(path)
        entry: dict[str, Any] = {"path": path, "expanded": expanded, "exists": None, "error": None}
        override = next((v for k, v in overrides.items() if _same(expand(str(k)), expanded)),
                        None)
        if isinstance(override, str):
            entry["error"] = override
        elif isinstance(override, bool):
            entry["exists"] = override
        else:
            entry["exists"] = any(_same(p, expanded) for p in implied)
        answers.append(entry)
    return {"paths": answers}


def udp_listeners(image: Image, request: dict, context: Any) -> dict:
    listeners = image.get("udp_listeners")
    if not isinstance(listeners, list):
        raise SectionFailure("Get-NetUDPEndpoint : the image holds no UDP endpoints")
    # `path` is Get-Process' Path: null for System and for processes it may not open.
    return {"listeners": [{"address": x.get("address", "0.0.0.0"), "port": int(x["port"]),
                           "pid": int(x.get("pid", 4)), "process": x.get("process", "System"),
                           "path": x.get("path")}
                          for x in listeners]}


def firewall_addresses(image: Image, request: dict, context: Any) -> dict:
    firewall = image.get("firewall") or {}
    empty = {"store": "ActiveStore", "filters": []}
    if firewall.get("query_error"):
        raise CmdletError("Get-NetFirewallAddressFilter", str(firewall["query_error"]), empty)
    rules = firewall.get("rules")
    if not isinstance(rules, list):
        raise SectionFailure("Get-NetFirewallAddressFilter : the image holds no firewall rules")
    # Windows gives every rule an address filter; an unscoped rule's is Any.
    return {"store": "ActiveStore", "filters": [{
        "id": rule.get("id") or rule.get("display_name"),
        "remote_addresses": [str(a) for a in rule.get("remote_addresses", ["Any"])],
        "local_addresses": [str(a) for a in rule.get("local_addresses", ["Any"])],
    } for rule in rules]}


SECTIONS: dict[str, Callable[[Image, dict, Any], Any]] = {
    "products": products,
    "udp_listeners": udp_listeners,
    "firewall_addresses": firewall_addresses,
}
