"""File and folder ACLs compared by SID, from the SDDL Get-Acl returned (cwh/parse/sddl.py):
who is granted what on the object itself, on the subfolders and on the files below it.

- `exact_grants`: the object grants exactly these principals exactly these rights everywhere
  (LTShare: the Automate application pools and SYSTEM, each Modify);
- `only_allowed`: no principal outside an allow-list holds any of these rights anywhere
  (web.config and the backups: only SYSTEM, Administrators and TrustedInstaller may write or
  read; a denylist of Users/Everyone/Authenticated Users would pass INTERACTIVE, NETWORK,
  Guests, Domain Users or one local user holding FullControl);
- `owner_problem`: the owner is an allowed principal, since the owner holds READ_CONTROL and
  WRITE_DAC without any ACE (it can rewrite the DACL and grant itself anything) unless an
  OWNER RIGHTS ACE says what it holds instead.

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
ADMINISTRATORS = "S-1-5-32-544"
TRUSTED_INSTALLER = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
CREATOR_OWNER = "S-1-3-0"
OWNER_RIGHTS = "S-1-3-4"
# Who may own, write and read an application's secrets: the guide's fix keeps SYSTEM and
# Administrators; TrustedInstaller owns what Windows installs.
ADMINISTRATIVE = (SYSTEM, ADMINISTRATORS, TRUSTED_INSTALLER)
MODIFY = FILE_RIGHTS["Modify"]
# What changing the object takes, and what reading its content takes (winnt.h): write data,
# append, write extended attributes, delete child, write attributes, delete, change the
# permissions, take ownership; read data.
WRITE_BITS = 0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x10000 | 0x40000 | 0x80000
READ_BITS = 0x1
# Names for the evidence only: every decision is made on the SID.
NAMES = {SYSTEM: "NT AUTHORITY\\SYSTEM", EVERYONE: "Everyone", USERS: "BUILTIN\\Users",
         AUTHENTICATED_USERS: "NT AUTHORITY\\Authenticated Users", OWNER_RIGHTS: "OWNER RIGHTS",
         "S-1-5-4": "NT AUTHORITY\\INTERACTIVE", "S-1-5-2": "NT AUTHORITY\\NETWORK",
         "S-1-5-32-546": "BUILTIN\\Guests", "S-1-5-7": "NT AUTHORITY\\ANONYMOUS LOGON",
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
    owner: str | None = None  # the owner's SID (None: not read)
    owner_text: str = ""
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
    found = Grants(scopes, descriptor.owner, descriptor.owner_text)
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


def only_allowed(found: Grants, allowed: Iterable[str], rights: Mapping[str, int],
                 names: Mapping[str, str] | None = None) -> Comparison:
    """No principal outside `allowed` holds any of `rights` (word -> bits: write, read) on any
    scope. CREATOR OWNER grants only to whoever creates a child, which takes a write right of
    its own (judged here); OWNER RIGHTS grants to the owner, judged by `owner_problem`."""
    allowed = set(allowed) | {CREATOR_OWNER, OWNER_RIGHTS}
    what = " or ".join(rights)
    if found.everyone_everything:
        return Comparison(False, f"NULL DACL: everyone can {what}")
    problems = []
    for sid in sorted(set(found.granted) - allowed):
        for scope, mask in sorted(found.of(sid).items()):
            can = [word for word, bits in rights.items() if mask & bits]
            if can:
                problems.append(f"{label(sid, names)} can {' and '.join(can)} ({_rights(mask)} "
                                f"on {SCOPE_WORDS[scope]})")
    if problems:
        return Comparison(False, "; ".join(problems))
    if (unknown := _unknown(found)) is not None:
        return unknown
    shown = ", ".join(label(s, names) for s in sorted(allowed - {CREATOR_OWNER, OWNER_RIGHTS}))
    return Comparison(True, f"no principal but {shown} can {what}")


def owner_problem(found: Grants, allowed: Iterable[str], rights: Mapping[str, int],
                  names: Mapping[str, str] | None = None) -> Comparison | None:
    """None when the owner is allowed, or an OWNER RIGHTS ACE leaves it none of `rights`; else
    why the owner is a finding (or unknown when it was not read)."""
    if found.owner is None:
        return Comparison(None, f"the owner was not read (O:{found.owner_text or '?'})")
    if found.owner in set(allowed):
        return None
    owner = label(found.owner, names)
    if OWNER_RIGHTS in found.granted:
        held = 0
        for mask in found.of(OWNER_RIGHTS).values():
            held |= mask
        can = [word for word, bits in rights.items() if held & bits]
        if not can:
            return None
        return Comparison(False, f"owned by {owner}, which OWNER RIGHTS lets "
                                 f"{' and '.join(can)} ({_rights(held)})")
    return Comparison(False, f"owned by {owner}, which holds READ_CONTROL and WRITE_DAC without "
                             "any ACE: it can rewrite the DACL and grant itself any right")


def owner_shown(found: Grants, names: Mapping[str, str] | None = None) -> str:
    return f"owner {label(found.owner, names)}" if found.owner else "owner not read"


def deny_note(found: Grants) -> str:
    if not found.denies:
        return ""
    return "deny ACEs, not counted (they only take rights away): " + "; ".join(found.denies)
