"""Principals as the rule data names them: well-known SIDs, groups of the host's domain and of
the forest root, with the English name as evidence only.

The SIDs are Microsoft's published well-known SIDs and service SIDs (facts, not anyone's
converted STIG data). A name DISA writes is looked up here; a name not in the table is refused,
never guessed.
"""

from __future__ import annotations

import re
from typing import Any

from cwh.convert.result import Refusal

Principal = dict[str, Any]

TRUSTED_INSTALLER = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
EVENTLOG = "S-1-5-80-880578595-1860270145-482643319-2788375705-1540778122"

# English name (lower case, as DISA and Windows write it) -> (SID, canonical name)
_WELL_KNOWN = {
    "administrators": ("S-1-5-32-544", "Administrators"),
    "builtin\\administrators": ("S-1-5-32-544", "Administrators"),
    "users": ("S-1-5-32-545", "Users"),
    "builtin\\users": ("S-1-5-32-545", "Users"),
    "guests": ("S-1-5-32-546", "Guests"),
    "backup operators": ("S-1-5-32-551", "Backup Operators"),
    "server operators": ("S-1-5-32-549", "Server Operators"),
    "builtin\\server operators": ("S-1-5-32-549", "Server Operators"),
    "pre-windows 2000 compatible access": ("S-1-5-32-554", "Pre-Windows 2000 Compatible Access"),
    "everyone": ("S-1-1-0", "Everyone"),
    "creator owner": ("S-1-3-0", "CREATOR OWNER"),
    "system": ("S-1-5-18", "SYSTEM"),
    "nt authority\\system": ("S-1-5-18", "SYSTEM"),
    "local service": ("S-1-5-19", "Local Service"),
    "network service": ("S-1-5-20", "Network Service"),
    "service": ("S-1-5-6", "Service"),
    "authenticated users": ("S-1-5-11", "Authenticated Users"),
    "nt authority\\authenticated users": ("S-1-5-11", "Authenticated Users"),
    "enterprise domain controllers": ("S-1-5-9", "Enterprise Domain Controllers"),
    "local account": ("S-1-5-113", "Local account"),
    "local account and member of administrators group": ("S-1-5-114", "Local account and "
                                                         "member of Administrators group"),
    "all application packages": ("S-1-15-2-1", "ALL APPLICATION PACKAGES"),
    "application package authority\\all application packages": ("S-1-15-2-1",
                                                                 "ALL APPLICATION PACKAGES"),
    "all restricted application packages": ("S-1-15-2-2", "ALL RESTRICTED APPLICATION PACKAGES"),
    "application package authority\\all restricted application packages": (
        "S-1-15-2-2", "ALL RESTRICTED APPLICATION PACKAGES"),
    "trustedinstaller": (TRUSTED_INSTALLER, "TrustedInstaller"),
    "nt service\\trustedinstaller": (TRUSTED_INSTALLER, "TrustedInstaller"),
    "eventlog": (EVENTLOG, "Eventlog"),
    "virtual machines": ("S-1-5-83-0", "Virtual Machines"),
    "nt virtual machine\\virtual machines": ("S-1-5-83-0", "Virtual Machines"),
}
# Relative IDs of domain groups (the host's domain) and forest-root groups.
_DOMAIN_GROUPS = {"domain admins": (512, "Domain Admins"), "domain users": (513, "Domain Users")}
_FOREST_GROUPS = {"enterprise admins": (519, "Enterprise Admins")}

_SID = re.compile(r"^S-1-(\d+)(-\d+)+$")
_DOMAIN_SID = re.compile(r"^S-1-5-domain-(\d+)$", re.I)
_FOREST_SID = re.compile(r"^S-1-5-root domain-(\d+)$", re.I)
_GROUP_SUFFIX = re.compile(r"\s+group$", re.I)


def sid_principal(sid: str, name: str | None = None) -> Principal:
    out: Principal = {"sid": sid.upper() if sid.lower().startswith("s-") else sid}
    if name:
        out["name"] = name
    return out


def by_name(name: str) -> Principal:
    """A principal from the English name DISA writes ("Guests Group", "BUILTIN\\Users")."""
    exact = name.strip().strip('"').lower()
    key = exact if exact in _WELL_KNOWN else _GROUP_SUFFIX.sub("", exact)
    if key in _WELL_KNOWN:
        sid, canonical = _WELL_KNOWN[key]
        return {"sid": sid, "name": canonical}
    if key in _DOMAIN_GROUPS:
        rid, canonical = _DOMAIN_GROUPS[key]
        return {"domain_rid": rid, "name": canonical}
    if key in _FOREST_GROUPS:
        rid, canonical = _FOREST_GROUPS[key]
        return {"forest_rid": rid, "name": canonical}
    raise Refusal("a principal is named that has no known SID")


def by_sid(text: str, name: str | None = None) -> Principal:
    """A principal from DISA's SID notation: `S-1-5-32-544`, `S-1-5-domain-512`,
    `S-1-5-root domain-519`."""
    text = text.strip()
    domain = _DOMAIN_SID.match(text)
    if domain:
        return _with_name({"domain_rid": int(domain.group(1))}, name)
    forest = _FOREST_SID.match(text)
    if forest:
        return _with_name({"forest_rid": int(forest.group(1))}, name)
    if _SID.match(text.upper()):
        return _with_name({"sid": text.upper()}, name)
    raise Refusal("a SID is not in a notation the converter reads")


def _with_name(principal: Principal, name: str | None) -> Principal:
    if name:
        principal["name"] = name
    return principal


def identity(principal: Principal) -> tuple[Any, ...]:
    """What identifies a principal for comparison: never its name."""
    if "any_of" in principal:
        return ("any_of", tuple(sorted(identity(p) for p in principal["any_of"])))
    for key in ("sid", "domain_rid", "forest_rid"):
        if key in principal:
            return (key, principal[key])
    raise Refusal("a principal without an identity")


def same_principals(left: list[Principal], right: list[Principal]) -> bool:
    return sorted(identity(p) for p in left) == sorted(identity(p) for p in right)


def sort_principals(principals: list[Principal]) -> list[Principal]:
    return sorted(principals, key=lambda p: str(identity(p)))
