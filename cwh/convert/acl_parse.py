"""ACEs as DISA lists them: File Explorer tables ("SYSTEM - Full control - This folder,
subfolders, and files"), plain lists ("Eventlog - Full Control") and icacls output
("BUILTIN\\Users:(OI)(CI)(IO)(GR,GE)").

Where DISA gives both a table and icacls output for the same object, both are reduced to one
canonical form (per principal, per scope: this object, child containers, child objects, the
access mask) and must agree.
"""

from __future__ import annotations

import re
from typing import Any

from cwh.convert.principals import by_name, identity
from cwh.convert.result import Refusal

Ace = dict[str, Any]
SELF, CONTAINERS, OBJECTS = "self", "containers", "objects"

# Access masks of the named rights (.NET FileSystemRights / RegistryRights, without SYNCHRONIZE
# 0x100000, which the judge ignores too).
FILE_RIGHTS = {"FullControl": 0x1F01FF, "Modify": 0x301BF, "ReadAndExecute": 0x200A9,
               "Read": 0x20089, "Write": 0x116, "AppendData": 0x4, "CreateFiles": 0x2,
               "Delete": 0x10000, "ChangePermissions": 0x40000, "TakeOwnership": 0x80000}
REGISTRY_RIGHTS = {"FullControl": 0xF003F, "Read": 0x20019}
_SYNCHRONIZE = 0x100000

_ACCESS_NAMES = {
    "full control": "FullControl", "modify": "Modify", "read & execute": "ReadAndExecute",
    "read": "Read", "write": "Write", "create folders/append data": "AppendData",
    "create files/write data": "CreateFiles",
}
_ICACLS_RIGHTS = {"F": "FullControl", "M": "Modify", "RX": "ReadAndExecute", "R": "Read",
                  "W": "Write", "AD": "AppendData", "WD": "CreateFiles", "D": "Delete",
                  "WDAC": "ChangePermissions", "WO": "TakeOwnership"}
_APPLIES_TO = {
    "this folder, subfolders, and files": "this_folder_subfolders_files",
    "this folder, subfolders and files": "this_folder_subfolders_files",
    "this folder and subfolders": "this_folder_subfolders",
    "this folder and files": "this_folder_files",
    "this folder only": "this_folder_only",
    "subfolders and files only": "subfolders_files_only",
    "subfolders only": "subfolders_only",
    "files only": "files_only",
    "this key and subkeys": "this_key_subkeys",
    "this key only": "this_key_only",
    "subkeys only": "subkeys_only",
}
SCOPES = {
    "this_folder_subfolders_files": {SELF, CONTAINERS, OBJECTS},
    "this_folder_subfolders": {SELF, CONTAINERS}, "this_folder_files": {SELF, OBJECTS},
    "this_folder_only": {SELF}, "subfolders_files_only": {CONTAINERS, OBJECTS},
    "subfolders_only": {CONTAINERS}, "files_only": {OBJECTS},
    "this_key_subkeys": {SELF, CONTAINERS}, "this_key_only": {SELF}, "subkeys_only": {CONTAINERS},
}
_FLAG_SCOPES = {(): "this_folder_only", ("CI", "OI"): "this_folder_subfolders_files",
                ("CI",): "this_folder_subfolders", ("OI",): "this_folder_files",
                ("CI", "IO", "OI"): "subfolders_files_only", ("CI", "IO"): "subfolders_only",
                ("IO", "OI"): "files_only"}

TABLE_LINE = re.compile(r"^(?P<principal>[A-Za-z][\w .-]*?) - (?P<access>[A-Za-z&/ ]+?) - "
                        r"(?P<applies>[A-Za-z, ]+?)(?P<dc>\s*\(Domain controllers only\))?$", re.I)
LIST_LINE = re.compile(r"^(?P<principals>[A-Za-z][\w ,.-]*?) - (?P<access>Full Control|Read & "
                       r"Execute|Read|Modify)$", re.I)
ICACLS_LINE = re.compile(r"^(?P<principal>[^:()]+):(?P<flags>(?:\([A-Z,]+\))+)$")


def _access(text: str) -> str:
    if text.strip().lower() == "special":
        # Explorer shows "Special" for any mask that is not a named right: DISA's default is
        # then unknown, and no bound we chose would be DISA's (Full Control passes any upper
        # bound, yet DISA's own comparison sees "Full Control" where it lists "Special")
        raise Refusal("a default permission DISA lists as Special, without naming its rights")
    name = _ACCESS_NAMES.get(text.strip().lower())
    if name is None:
        raise Refusal("a permission name the converter does not know")
    return name


def table_ace(line: str) -> Ace | None:
    """`Users - Read & execute - This folder, subfolders, and files` -> an ACE (or None)."""
    match = TABLE_LINE.match(line)
    if not match:
        return None
    applies = _APPLIES_TO.get(match.group("applies").strip().lower())
    if applies is None:
        raise Refusal("an 'applies to' the converter does not know")
    ace: Ace = {"principal": by_name(match.group("principal")),
                "rights": _access(match.group("access")), "type": "Allow", "applies_to": applies}
    if match.group("dc"):
        ace["roles"] = ["dc"]
    return ace


def list_aces(line: str) -> list[Ace] | None:
    """`Administrators, SYSTEM, Users - Read & Execute` -> one ACE per principal (or None)."""
    match = LIST_LINE.match(line)
    if not match:
        return None
    rights = _access(match.group("access"))
    return [{"principal": by_name(name), "rights": rights, "type": "Allow"}
            for name in match.group("principals").split(",")]


def icacls_ace(line: str, container: bool) -> Ace | None:
    """`BUILTIN\\Administrators:(M,WDAC,WO)` -> an ACE (or None)."""
    match = ICACLS_LINE.match(line)
    if not match:
        return None
    groups = re.findall(r"\(([A-Z,]+)\)", match.group("flags"))
    flags = tuple(sorted(g for g in groups if g in ("OI", "CI", "IO", "I", "NP")))
    codes = [c for g in groups if g not in ("OI", "CI", "IO", "I", "NP") for c in g.split(",")]
    if "NP" in flags:
        raise Refusal("a no-propagate ACE")
    if sorted(codes) == ["GE", "GR"]:
        rights: Any = "ReadAndExecute"  # GENERIC_READ|GENERIC_EXECUTE on a file
    else:
        if any(code not in _ICACLS_RIGHTS for code in codes) or not codes:
            raise Refusal("an icacls permission code the converter does not know")
        names = [_ICACLS_RIGHTS[code] for code in codes]
        rights = names[0] if len(names) == 1 else names
    ace: Ace = {"principal": by_name(match.group("principal")), "rights": rights, "type": "Allow"}
    inheritance = tuple(f for f in flags if f != "I")
    if container:
        ace["applies_to"] = _FLAG_SCOPES.get(inheritance) or _refuse_flags()
    elif inheritance:
        raise Refusal("inheritance flags on a file")
    if "I" in flags:
        ace["inherited"] = True
    return ace


def _refuse_flags() -> str:
    raise Refusal("an inheritance combination the converter does not know")


def mask(rights: str | list[str], table: dict[str, int]) -> int:
    names = [rights] if isinstance(rights, str) else rights
    total = 0
    for name in names:
        if name not in table:
            raise Refusal("a permission that does not exist on this kind of object")
        total |= table[name]
    return total & ~_SYNCHRONIZE


def canonical(aces: list[Ace], table: dict[str, int]) -> dict[tuple[Any, ...], dict[str, int]]:
    """principal -> scope -> union of access masks: what two listings must agree on."""
    out: dict[tuple[Any, ...], dict[str, int]] = {}
    for ace in aces:
        scopes = SCOPES[ace["applies_to"]] if "applies_to" in ace else {SELF}
        entry = out.setdefault(identity(ace["principal"]), {})
        for scope in scopes:
            entry[scope] = entry.get(scope, 0) | mask(ace["rights"], table)
    return out


def dedupe(aces: list[Ace]) -> list[Ace]:
    """The ACEs once each, in a stable order (2016 lists an icacls line twice)."""
    seen: dict[str, Ace] = {}
    for ace in aces:
        seen.setdefault(repr(sorted((k, repr(v)) for k, v in ace.items())), ace)
    return sorted(seen.values(), key=lambda a: (str(identity(a["principal"])),
                                                a.get("applies_to", ""), repr(a["rights"])))
