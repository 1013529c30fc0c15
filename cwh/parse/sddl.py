"""Security descriptors in SDDL, as Get-Acl's `.Sddl` writes them (files, directories, registry
keys), read into owner, group and DACL with every ACE's type, flags, access mask and trustee SID.

Windows writes the trustee as a SID string or a two-letter alias (`BA`, `SY`, `AC`, ...); the
aliases that stand for an account of a domain (`DA`, `LA`, `EA`, ...) need that domain's SID,
which the caller passes in `DomainSids`. An ACE that cannot be read with confidence (an unknown
type, flag or right, a trustee that is neither a SID nor a known alias, an alias whose domain is
unknown) is kept as an ACE with `problem` set: a judge must treat it as unknown, never skip it.
Structural damage (unbalanced parentheses, an unknown part, text after the last ACE) makes the
whole descriptor unreadable (SddlError).

Access masks: the generic bits (GR, GW, GX, GA) mean different specific rights per object type;
`effective_mask` maps them for files and directories or registry keys, and drops SYNCHRONIZE,
which every file right Explorer names includes and which grants nothing to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ObjectKind = Literal["file", "registry"]


class SddlError(ValueError):
    """The text is not a security descriptor the parser can read with confidence."""


@dataclass(frozen=True)
class DomainSids:
    """The SIDs the domain-relative aliases stand on; None when the collector did not say."""

    machine: str | None = None  # the host's own account database (LA, LG)
    domain: str | None = None  # the host's domain (DA, DU, DC, ...)
    forest_root: str | None = None  # the forest root domain (EA, SA, RO, EK)


# Windows' SDDL SID aliases (sddl.h). Values: a SID, or (base, RID) for domain-relative ones.
_WELL_KNOWN = {
    "AA": "S-1-5-32-579", "AC": "S-1-15-2-1", "AN": "S-1-5-7", "AO": "S-1-5-32-548",
    "AS": "S-1-18-1", "AU": "S-1-5-11", "BA": "S-1-5-32-544", "BG": "S-1-5-32-546",
    "BO": "S-1-5-32-551", "BU": "S-1-5-32-545", "CD": "S-1-5-32-574", "CG": "S-1-3-1",
    "CO": "S-1-3-0", "CY": "S-1-5-32-569", "ED": "S-1-5-9", "ER": "S-1-5-32-573",
    "ES": "S-1-5-32-576", "HA": "S-1-5-32-578", "HI": "S-1-16-12288", "IS": "S-1-5-32-568",
    "IU": "S-1-5-4", "LS": "S-1-5-19", "LU": "S-1-5-32-559", "LW": "S-1-16-4096",
    "ME": "S-1-16-8192", "MP": "S-1-16-8448", "MS": "S-1-5-32-577", "MU": "S-1-5-32-558",
    "NO": "S-1-5-32-556", "NS": "S-1-5-20", "NU": "S-1-5-2", "OW": "S-1-3-4",
    "PO": "S-1-5-32-550", "PS": "S-1-5-10", "PU": "S-1-5-32-547", "RA": "S-1-5-32-575",
    "RC": "S-1-5-12", "RD": "S-1-5-32-555", "RE": "S-1-5-32-552", "RM": "S-1-5-32-580",
    "RU": "S-1-5-32-554", "SI": "S-1-16-16384", "SO": "S-1-5-32-549", "SS": "S-1-18-2",
    "SU": "S-1-5-6", "SY": "S-1-5-18", "UD": "S-1-5-84-0-0-0-0-0", "WD": "S-1-1-0",
    "WR": "S-1-5-33",
}
_RELATIVE = {
    "LA": ("machine", 500), "LG": ("machine", 501),
    "AP": ("domain", 525), "CA": ("domain", 517), "CN": ("domain", 522), "DA": ("domain", 512),
    "DC": ("domain", 515), "DD": ("domain", 516), "DG": ("domain", 514), "DU": ("domain", 513),
    "KA": ("domain", 526), "PA": ("domain", 520), "RS": ("domain", 553),
    "EA": ("forest_root", 519), "EK": ("forest_root", 527), "RO": ("forest_root", 498),
    "SA": ("forest_root", 518),
}
_SID = re.compile(r"S-1-[0-9]{1,13}(?:-[0-9]{1,10}){0,15}")

# Access rights (winnt.h): generic, standard, and the two-letter codes SDDL writes. The
# directory-service codes are bit positions, so a file mask 0x4 (append data) prints as LC.
GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE, GENERIC_ALL = \
    0x80000000, 0x40000000, 0x20000000, 0x10000000
SYNCHRONIZE = 0x100000
_RIGHTS = {
    "GA": GENERIC_ALL, "GR": GENERIC_READ, "GW": GENERIC_WRITE, "GX": GENERIC_EXECUTE,
    "RC": 0x20000, "SD": 0x10000, "WD": 0x40000, "WO": 0x80000,
    "RP": 0x10, "WP": 0x20, "CC": 0x1, "DC": 0x2, "LC": 0x4, "SW": 0x8, "LO": 0x80,
    "DT": 0x40, "CR": 0x100,
    "FA": 0x1F01FF, "FR": 0x120089, "FW": 0x120116, "FX": 0x1200A0,
    "KA": 0xF003F, "KR": 0x20019, "KW": 0x20006, "KX": 0x20019,
    "NR": 0x1, "NW": 0x2, "NX": 0x4,
}
# What each generic bit means for the object (FILE_GENERIC_* and KEY_* of winnt.h).
GENERIC_MAPPING: dict[str, dict[int, int]] = {
    "file": {GENERIC_READ: 0x120089, GENERIC_WRITE: 0x120116, GENERIC_EXECUTE: 0x1200A0,
             GENERIC_ALL: 0x1F01FF},
    "registry": {GENERIC_READ: 0x20019, GENERIC_WRITE: 0x20006, GENERIC_EXECUTE: 0x20019,
                 GENERIC_ALL: 0xF003F},
}
_HEX_MASK = re.compile(r"0[xX][0-9A-Fa-f]{1,8}")
ALLOW_TYPES = frozenset({"A", "OA", "XA", "ZA"})  # allowed, object, callback, callback object
DENY_TYPES = frozenset({"D", "OD", "XD"})
_OTHER_TYPES = frozenset({"AU", "AL", "OU", "OL", "ML", "RA", "SP", "XU", "TL", "FL"})
ACE_FLAGS = frozenset({"OI", "CI", "NP", "IO", "ID", "SA", "FA", "TP", "CR"})
ACL_FLAGS = ("NO_ACCESS_CONTROL", "AI", "AR", "P")


@dataclass(frozen=True)
class Ace:
    """One ACE as written, with what could be read of it."""

    text: str  # the ACE string without its parentheses, for evidence
    type: str
    flags: frozenset[str]
    mask: int
    trustee: str  # as written: a SID string or an alias
    sid: str | None  # the trustee's SID (upper case); None when it could not be told
    problem: str = ""  # why the ACE cannot be read with confidence ("" when it can)

    @property
    def allows(self) -> bool:
        return self.type in ALLOW_TYPES

    @property
    def denies(self) -> bool:
        return self.type in DENY_TYPES

    @property
    def inherited(self) -> bool:
        return "ID" in self.flags

    @property
    def inherit_only(self) -> bool:
        return "IO" in self.flags


@dataclass(frozen=True)
class Acl:
    flags: frozenset[str]  # P (protected), AI, AR, NO_ACCESS_CONTROL
    aces: tuple[Ace, ...]

    @property
    def null(self) -> bool:
        """A NULL DACL: no access control at all, everyone holds every right."""
        return "NO_ACCESS_CONTROL" in self.flags


@dataclass(frozen=True)
class SecurityDescriptor:
    owner: str | None  # SID, or None when absent or not resolvable
    group: str | None
    dacl: Acl | None  # None: the text has no D: part (the DACL was not read)
    sacl: Acl | None
    owner_text: str = ""
    group_text: str = ""


def resolve_trustee(trustee: str, sids: DomainSids | None) -> tuple[str | None, str]:
    """(SID, problem) for a trustee written as a SID string or an SDDL alias."""
    upper = trustee.upper()
    if upper.startswith("S-1-"):
        return (upper, "") if _SID.fullmatch(upper) else (None, f"{trustee!r} is not a SID")
    if trustee in _WELL_KNOWN:
        return _WELL_KNOWN[trustee], ""
    if trustee in _RELATIVE:
        which, rid = _RELATIVE[trustee]
        base = getattr(sids, which) if sids is not None else None
        if base is None:
            words = {"machine": "the host's own account database", "domain": "the host's domain",
                     "forest_root": "the forest root domain"}[which]
            return None, f"alias {trustee} stands for RID {rid} of {words}, whose SID was not " \
                         "collected"
        return f"{base.upper()}-{rid}", ""
    return None, f"trustee {trustee!r} is neither a SID nor an SDDL alias"


def parse_mask(text: str) -> int | None:
    """`0x1200a9` or concatenated two-letter codes (`FA`, `GXGR`); None when not readable."""
    if _HEX_MASK.fullmatch(text):
        return int(text, 16)
    if not text or len(text) % 2 or not text.isascii():
        return None
    mask = 0
    for index in range(0, len(text), 2):
        code = text[index:index + 2]
        if code not in _RIGHTS:
            return None
        mask |= _RIGHTS[code]
    return mask


def effective_mask(mask: int, kind: ObjectKind) -> int:
    """The specific rights a mask grants on an object of this kind: generic bits mapped, and
    SYNCHRONIZE dropped (ignored on both sides of every comparison)."""
    mapping = GENERIC_MAPPING[kind]
    specific = mask & ~(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL)
    for bit, rights in mapping.items():
        if mask & bit:
            specific |= rights
    return specific & ~SYNCHRONIZE


def _split_flags(text: str) -> frozenset[str] | None:
    if len(text) % 2:
        return None
    flags = {text[i:i + 2] for i in range(0, len(text), 2)}
    return frozenset(flags) if flags <= ACE_FLAGS else None


def parse_ace(text: str, sids: DomainSids | None = None) -> Ace:
    """One ACE (without its parentheses); problems are recorded, never raised."""
    fields = text.split(";", 6)
    if len(fields) < 6:
        return Ace(text, "", frozenset(), 0, "", None, f"ACE ({text}) has {len(fields)} fields, "
                   "not 6")
    ace_type, flags_text, rights, object_guid, inherit_guid, trustee = fields[:6]
    problems = []
    if ace_type not in ALLOW_TYPES | DENY_TYPES | _OTHER_TYPES:
        problems.append(f"unknown ACE type {ace_type!r}")
    elif ace_type in _OTHER_TYPES:
        problems.append(f"ACE type {ace_type} does not belong in a DACL")
    flags = _split_flags(flags_text)
    if flags is None:
        problems.append(f"unknown ACE flags {flags_text!r}")
        flags = frozenset()
    mask = parse_mask(rights)
    if mask is None:
        problems.append(f"access rights {rights!r} are not understood")
        mask = 0
    if (object_guid or inherit_guid) and ace_type not in ("OA", "OD", "ZA"):
        problems.append("object GUIDs on an ACE that is not an object ACE")
    if len(fields) == 7 and ace_type not in ("XA", "XD", "ZA", "XU"):
        problems.append("a condition on an ACE that is not a callback ACE")
    sid, problem = resolve_trustee(trustee, sids)
    if problem:
        problems.append(problem)
    return Ace(text, ace_type, flags, mask, trustee, sid, "; ".join(problems))


def _ace_strings(text: str, where: str) -> tuple[list[str], str]:
    """The parenthesised ACEs at the start of `text` (conditions may nest parentheses) and the
    rest of the text after them."""
    aces: list[str] = []
    index = 0
    while index < len(text) and text[index] == "(":
        depth, end = 0, index
        quoted = False
        for end in range(index, len(text)):
            char = text[end]
            if char == '"':
                quoted = not quoted
            elif not quoted and char == "(":
                depth += 1
            elif not quoted and char == ")":
                depth -= 1
                if depth == 0:
                    break
        if depth != 0:
            raise SddlError(f"{where}: an ACE is not closed: {text[index:index + 80]!r}")
        aces.append(text[index + 1:end])
        index = end + 1
    return aces, text[index:]


def _parse_acl(text: str, where: str, sids: DomainSids | None) -> tuple[Acl, str]:
    flags: set[str] = set()
    rest = text
    while rest and rest[0] != "(":
        for flag in ACL_FLAGS:
            if rest.startswith(flag):
                flags.add(flag)
                rest = rest[len(flag):]
                break
        else:
            break
    aces, rest = _ace_strings(rest, where)
    return Acl(frozenset(flags), tuple(parse_ace(a, sids) for a in aces)), rest


_PART = re.compile(r"([OGDS]):")


def parse_sddl(text: str, sids: DomainSids | None = None) -> SecurityDescriptor:
    """Owner, group, DACL and SACL of an SDDL string; SddlError when it is not one."""
    if not isinstance(text, str) or not text.strip():
        raise SddlError("no SDDL text")
    if not text.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise SddlError(f"SDDL with characters Windows never writes there: {text[:120]!r}")
    parts: dict[str, str] = {}
    acls: dict[str, Acl] = {}
    rest = text
    while rest:
        match = _PART.match(rest)
        if match is None:
            raise SddlError(f"unexpected text in the SDDL: {rest[:80]!r}")
        tag = match.group(1)
        if tag in parts:
            raise SddlError(f"the SDDL has two {tag}: parts")
        rest = rest[match.end():]
        if tag in "OG":
            value = re.match(r"S-1-[0-9-]+|[A-Z]{2}", rest)
            if value is None:
                raise SddlError(f"{tag}: names no SID: {rest[:40]!r}")
            parts[tag] = value.group(0)
            rest = rest[value.end():]
        else:
            acls[tag], after = _parse_acl(rest, f"{tag}:", sids)
            parts[tag] = rest[:len(rest) - len(after)]
            rest = after
    owner = group = None
    if "O" in parts:
        owner, _ = resolve_trustee(parts["O"], sids)
    if "G" in parts:
        group, _ = resolve_trustee(parts["G"], sids)
    return SecurityDescriptor(owner, group, acls.get("D"), acls.get("S"), parts.get("O", ""),
                              parts.get("G", ""))


# Rights as the rule data names them (docs/stig-rules.md, "acl"), SYNCHRONIZE left out.
FILE_RIGHTS = {
    "FullControl": 0x1F01FF, "Modify": 0x301BF, "ReadAndExecute": 0x200A9, "Read": 0x20089,
    "Write": 0x116, "AppendData": 0x4, "CreateFiles": 0x2, "Delete": 0x10000,
    "ChangePermissions": 0x40000, "TakeOwnership": 0x80000,
}
REGISTRY_RIGHTS = {"FullControl": 0xF003F, "Read": 0x20019}


def rights_mask(rights: str | list[str], kind: ObjectKind) -> int:
    """The mask of a right named in the rule data (or the union of a list); KeyError when the
    name is not one the data defines for this kind of object."""
    table = FILE_RIGHTS if kind == "file" else REGISTRY_RIGHTS
    names = [rights] if isinstance(rights, str) else list(rights)
    if not names:
        raise KeyError("no rights named")
    mask = 0
    for name in names:
        mask |= table[name]
    return mask & ~SYNCHRONIZE


def describe_mask(mask: int, kind: ObjectKind) -> str:
    """A mask in the words of the rule data where one name fits it exactly, else hex."""
    table = FILE_RIGHTS if kind == "file" else REGISTRY_RIGHTS
    for name, value in table.items():
        if value & ~SYNCHRONIZE == mask & ~SYNCHRONIZE:
            return name
    return f"0x{mask:X}"
