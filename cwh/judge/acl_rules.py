"""File and folder ACLs compared by SID, from the SDDL Get-Acl returned (cwh/parse/sddl.py):
who is granted what on the object itself, on the subfolders and on the files below it.

- `exact_grants`: the object grants exactly these principals exactly these rights everywhere
  (LTShare: the Automate application pools and SYSTEM, each Modify);
- `no_access`: these principals hold none of these rights anywhere (Users, Everyone and
  Authenticated Users on web.config and the backups: no write, no read).

Only Allow ACEs grant. A Deny ACE can only take rights away, so it never decides a pass: it is
named in the evidence and not subtracted (a grant hidden behind a deny is still reported). An
ACE the parser could not read makes the answer unknown; a NULL DACL grants everyone everything.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cwh.judge.stig.system_acl import SCOPE_WORDS, ace_scopes
from cwh.parse.sddl import FILE_RIGHTS, SecurityDescriptor, describe_mask, effective_mask

SYSTEM = "S-1-5-18"
EVERYONE = "S-1-1-0"
USERS = "S-1-5-32-545"
AUTHENTICATED_USERS = "S-1-5-11"
MODIFY = FILE_RIGHTS["Modify"]
# What changing the object takes, and what reading its content takes (winnt.h): write data,
# append, write extended attributes, delete child, write attributes, delete, change the
# permissions, take ownership; read data.
WRITE_BITS = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000
READ_BITS = 0x1
# Names for the evidence only: every decision is made on the SID.
NAMES = {SYSTEM: "NT AUTHORITY\\SYSTEM", EVERYONE: "Everyone", USERS: "BUILTIN\\Users",
         AUTHENTICATED_USERS: "NT AUTHORITY\\Authenticated Users",
         "S-1-5-32-544": "BUILTIN\\Administrators", "S-1-3-0": "CREATOR OWNER",
         "S-1-5-32-568": "BUILTIN\\IIS_IUSRS", "S-1-5-17": "NT AUTHORITY\\IUSR",
         "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464":
             "NT SERVICE\\TrustedInstaller"}


def app_pool_sid(name: str) -> str:
    """The virtual account SID of `IIS AppPool\\<name>`: S-1-5-82 followed by the SHA-1 of the
    pool's name, lower-cased, in UTF-16LE, read as five little-endian integers (as Windows
    derives it: `DefaultAppPool` is S-1-5-82-3006700770-424185619-1745488364-794895919-
    4004696415)."""
    digest = hashlib.sha1(name.lower().encode("utf-16-le")).digest()
    return "S-1-5-82-" + "-".join(str(n) for n in struct.unpack("<5I", digest))


def label(sid: str, names: Mapping[str, str] | None = None) -> str:
    name = (names or {}).get(sid) or NAMES.get(sid)
    return f"{name} [{sid}]" if name else sid


@dataclass
class Grants:
    """A DACL read as SID -> scope -> the union of what its Allow ACEs grant there."""

    scopes: tuple[str, ...]
    granted: dict[str, dict[str, int]] = field(default_factory=dict)
    denies: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    everyone_everything: bool = False  # a NULL DACL

    def of(self, sid: str) -> dict[str, int]:
        return self.granted.get(sid, {})


def grants(descriptor: SecurityDescriptor, container: bool) -> Grants | str:
    """What the DACL grants, or why that cannot be told."""
    scopes = ("self", "containers", "objects") if container else ("self",)
    if descriptor.dacl is None:
        return "the descriptor holds no DACL"
    found = Grants(scopes)
    if descriptor.dacl.null:
        found.everyone_everything = True
        return found
    for ace in descriptor.dacl.aces:
        if ace.problem or ace.sid is None or not (ace.allows or ace.denies):
            found.unreadable.append(f"({ace.text}): {ace.problem or 'not an Allow or Deny ACE'}")
        elif ace.denies:
            found.denies.append(f"({ace.text})")
        else:
            mask = effective_mask(ace.mask, "file")
            for scope in ace_scopes(ace, container, "file"):
                per = found.granted.setdefault(ace.sid, {})
                per[scope] = per.get(scope, 0) | mask
    return found


@dataclass(frozen=True)
class Comparison:
    passed: bool | None
    observed: str


def _rights(mask: int) -> str:
    return describe_mask(mask, "file")


def _unknown(found: Grants) -> Comparison | None:
    if found.unreadable:
        return Comparison(None, "ACEs that cannot be read: " + "; ".join(found.unreadable))
    return None


def exact_grants(found: Grants, wanted: Mapping[str, int],
                 names: Mapping[str, str] | None = None) -> Comparison:
    """Everyone granted anything is in `wanted`, holding exactly its rights on every scope."""
    if found.everyone_everything:
        return Comparison(False, "NULL DACL: everyone holds every right")
    problems = []
    for sid in sorted(set(found.granted) - set(wanted)):
        held = ", ".join(f"{_rights(m)} on {SCOPE_WORDS[s]}" for s, m in
                         sorted(found.of(sid).items()))
        problems.append(f"{label(sid, names)} is not listed but holds {held}")
    for sid, rights in wanted.items():
        held = found.of(sid)
        wrong = [f"{_rights(held[s]) if s in held else 'nothing'} on {SCOPE_WORDS[s]}"
                 for s in found.scopes if held.get(s, 0) != rights]
        if wrong:
            problems.append(f"{label(sid, names)} holds {', '.join(wrong)}, not {_rights(rights)}")
    if problems:
        return Comparison(False, "; ".join(problems))
    if (unknown := _unknown(found)) is not None:
        return unknown
    return Comparison(True, "exactly " + ", ".join(f"{label(sid, names)} {_rights(r)}"
                                                   for sid, r in wanted.items()))


def no_access(found: Grants, principals: Iterable[str], rights: Mapping[str, int]) -> Comparison:
    """None of `principals` holds any of `rights` (word -> bits: write, read) on any scope."""
    principals = list(principals)
    what = " or ".join(rights)
    if found.everyone_everything:
        return Comparison(False, f"NULL DACL: everyone can {what}")
    problems = []
    for sid in principals:
        for scope, mask in sorted(found.of(sid).items()):
            can = [word for word, bits in rights.items() if mask & bits]
            if can:
                problems.append(f"{label(sid)} can {' and '.join(can)} ({_rights(mask)} on "
                                f"{SCOPE_WORDS[scope]})")
    if problems:
        return Comparison(False, "; ".join(problems))
    if (unknown := _unknown(found)) is not None:
        return unknown
    return Comparison(True, f"none of {', '.join(label(s) for s in principals)} can {what}")


def deny_note(found: Grants) -> str:
    if not found.denies:
        return ""
    return "deny ACEs, not counted (they only take rights away): " + "; ".join(found.denies)
