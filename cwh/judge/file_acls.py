"""The ACL controls of the application folders, read through the generic `acl_paths` request
list (the catalog entry names its items) and judged by SID:

- CWH-CWA-08: LTShare grants exactly the Automate application pools and SYSTEM, each Modify
  (screenconnect.md section 9);
- CWH-SC-05: ScreenConnect's web.config: no principal but the allowed administrative ones
  (SYSTEM, Administrators, TrustedInstaller) can write or read it (it holds the machine keys
  and the Duo secret; section 8.3);
- CWH-SC-06: the backups of the install folder (`ScreenConnect Backups`, beside the install
  root the collector found), the same.

On all three the owner must be SYSTEM, Administrators or TrustedInstaller: an owner holds
READ_CONTROL and WRITE_DAC without any ACE (unless an OWNER RIGHTS ACE limits it).

A missing LTShare is a finding; a missing backups folder leaves nothing to protect. An ACL that
could not be read, a garbled SDDL or an ACE that cannot be read is never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.acl_rules import (
    ADMINISTRATIVE,
    READ_BITS,
    WRITE_BITS,
    Comparison,
    Grants,
    app_pool_sid,
    deny_note,
    exact_grants,
    grants,
    label,
    only_allowed,
    owner_problem,
    owner_shown,
)
from cwh.judge.outcome import Outcome, combine, to_verdict
from cwh.judge.stig.system_facts import OVER_WINRM, acl_answer, domain_sids
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed
from cwh.parse.sddl import FILE_RIGHTS, SddlError, parse_sddl

SOURCE = f"Get-Acl SDDL ({OVER_WINRM})"
BITS = {"write": WRITE_BITS, "read": READ_BITS}


@dataclass(frozen=True)
class Read:
    """One object's ACL as collected: exists True with grants, False, or a problem."""

    path: str
    exists: bool | None
    grants: Grants | None = None
    problem: str = ""
    sddl: str = ""
    found_by: str = ""  # where the host found the object (a share), for the evidence


def _items(control: Control) -> list[tuple[str, ...]]:
    return [tuple(str(part) for part in item) for item in control.check["acl_paths"]]


def read_acl(facts: HostFacts, item: Sequence[str]) -> Read:
    """The object of one request item, read as far as it can be trusted."""
    try:
        entry, bits = acl_answer(facts, item)
    except FactUnavailable as exc:
        return Read(item[1], None, problem=str(exc))
    return read_entry(facts, entry, bits, item[0], item[1])


def _same_path(a: object, b: object) -> bool:
    return isinstance(a, str) and isinstance(b, str) and \
        a.rstrip("\\").casefold() == b.rstrip("\\").casefold()


def install_acl(facts: HostFacts, target: str, path: str) -> Read | None:
    """The ACL the screenconnect section read for `path` (its web.config, or the backups beside
    the install root it found); None when it holds no such entry (an older collector)."""
    try:
        install = facts.screenconnect()
    except FactUnavailable:
        return None
    listed = install.get("acls")
    if not isinstance(listed, list):
        return None
    found = [e for e in listed if isinstance(e, dict) and isinstance(e.get("item"), list)
             and len(e["item"]) > 1 and e["item"][0] == target
             and _same_path(e["item"][1], path)]
    if len(found) != 1:
        return None
    bits = install.get("process_64bit")
    return read_entry(facts, found[0], bits if isinstance(bits, bool) else None, target, path)


def read_entry(facts: HostFacts, entry: Mapping[str, Any], bits: bool | None, target: str,
               default: str) -> Read:
    """One Resolve-CwhAclItem answer, read as far as it can be trusted."""
    path = str(entry.get("resolved_path") or default)
    source = entry.get("source") if isinstance(entry.get("source"), dict) else None
    found_by = ""
    if source and source.get("kind") == "share":
        found_by = f"the share {source.get('path')}" if source.get("found") else \
            f"the default path (no share named {source.get('path')})"
        if source.get("error"):
            return Read(path, None, problem=f"the share {source.get('path')} could not be "
                                            f"read: {source['error']}")
    if bits is not True:
        return Read(path, None, problem="the collector ran as a 32-bit process, which Windows "
                    "redirects from Program Files" if bits is False else
                    "the collector did not say whether it ran as a 64-bit process")
    if entry.get("error"):
        return Read(path, None, problem=f"the ACL of {path} could not be read "
                    f"({entry.get('error_type') or 'error'}: {entry['error']})")
    if entry.get("exists") is False:
        return Read(path, False, found_by=found_by)
    wanted_type = "directory" if target == "directory" else "file"
    if entry.get("exists") is not True or entry.get("item_type") != wanted_type:
        return Read(path, None, problem=f"the collector did not say that {path} exists as a "
                    f"{wanted_type} ({entry.get('exists')!r}, {entry.get('item_type')!r})")
    sddl = str(entry.get("sddl") or "")
    try:
        descriptor = parse_sddl(sddl, domain_sids(facts))
    except SddlError as exc:
        return Read(path, None, problem=f"the SDDL of {path} is not understood: {exc}",
                    sddl=sddl)
    found = grants(descriptor, target == "directory")
    if isinstance(found, str):
        return Read(path, None, problem=f"{path}: {found}", sddl=sddl)
    return Read(path, True, found, sddl=sddl, found_by=found_by)


def _part(read: Read, expected: str, passed: bool | None, observed: str) -> Outcome:
    evidence = Evidence(SOURCE, read.path + (f" (found through {read.found_by})"
                                             if read.found_by else ""), observed, expected,
                        read.sddl[:1500])
    return Outcome(passed, (evidence,), f"{read.path}: {expected}", f"{read.path}: {observed}",
                   observed if passed is None else "")


def _problem(read: Read, expected: str) -> Outcome:
    return _part(read, expected, None, read.problem)


# --- LTShare ----------------------------------------------------------------------------------

def wanted_principals(check: Mapping[str, Any]) -> tuple[dict[str, int], dict[str, str]]:
    """SID -> rights and SID -> name for the principals the catalog lists."""
    rights = FILE_RIGHTS[str(check["rights"])]
    wanted, names = {}, {}
    for principal in check["principals"]:
        if "app_pool" in principal:
            sid, name = app_pool_sid(principal["app_pool"]), f"IIS AppPool\\{principal['app_pool']}"
        else:
            sid, name = str(principal["sid"]).upper(), str(principal.get("name") or "")
        wanted[sid] = rights
        if name:
            names[sid] = name
    return wanted, names


def judge_ltshare_acl(control: Control, facts: HostFacts, inputs: Mapping[str, Any]) -> Verdict:
    """CWH-CWA-08: exactly the listed principals with the listed rights, everywhere below."""
    wanted, names = wanted_principals(control.check)
    expected = "exactly " + ", ".join(f"{label(s, names)} {control.check['rights']}"
                                      for s in wanted) + " (this folder, subfolders and files)"
    [item] = _items(control)
    read = read_acl(facts, item)
    if read.exists is None:
        return to_verdict(_problem(read, expected))
    if read.exists is False:
        where = f" (looked up through {read.found_by})" if read.found_by else ""
        return to_verdict(_part(read, expected, False, f"LTShare does not exist{where}"))
    assert read.grants is not None
    expected += f"; owned by one of {', '.join(label(s) for s in ADMINISTRATIVE)}"
    result = _with_owner(exact_grants(read.grants, wanted, names), read.grants, ADMINISTRATIVE,
                         BITS, names)
    return to_verdict(_part(read, expected, result.passed, result.observed),
                      note=deny_note(read.grants))


def _with_owner(result: Comparison, found: Grants, allowed: Sequence[str],
                rights: Mapping[str, int], names: Mapping[str, str] | None = None) -> Comparison:
    """The DACL's comparison with the owner's: a wrong owner is a finding however the DACL
    reads; the owner is shown either way."""
    owner = owner_problem(found, allowed, rights, names)
    if owner is None:
        return Comparison(result.passed, f"{result.observed}; {owner_shown(found, names)}")
    if result.passed is False:
        return Comparison(False, f"{result.observed}; {owner.observed}")
    passed = False if owner.passed is False else None
    return Comparison(passed, f"{owner.observed}; {result.observed}")


# --- ScreenConnect's web.config and backups ---------------------------------------------------

def _exclusion(control: Control) -> tuple[list[str], dict[str, int], str]:
    allowed = [str(p).upper() for p in control.check["allowed"]]
    denied = {word: BITS[word] for word in control.check["denied"]}
    return allowed, denied, " or ".join(denied)


def _excluded(read: Read, allowed: list[str], denied: dict[str, int],
              expected: str) -> Outcome:
    assert read.grants is not None
    result = _with_owner(only_allowed(read.grants, allowed, denied), read.grants, allowed,
                         denied)
    return _part(read, expected, result.passed, result.observed)


def _expected(allowed: list[str], what: str, holds: str = "") -> str:
    shown = ", ".join(label(p) for p in allowed)
    return f"no principal but {shown} can {what} it{holds}; owned by one of them"


def judge_web_config_acl(control: Control, facts: HostFacts,
                         inputs: Mapping[str, Any]) -> Verdict:
    """CWH-SC-05: no write or read but for the allowed administrative principals on web.config,
    the one the ScreenConnect installation uses."""
    principals, denied, what = _exclusion(control)
    expected = _expected(principals, what)
    try:
        install = facts.screenconnect()
    except FactUnavailable as exc:
        return not_reviewed(f"could not read the ScreenConnect installation: {exc}")
    path = install.get("web_config_path")
    if not isinstance(path, str) or not path:
        return not_reviewed(f"web.config was not found under {install.get('install_root')}",
                            expected=expected)
    reads = [read_acl(facts, item) for item in _items(control)]
    mine = [r for r in reads if _same_path(r.path, path)]
    if not mine and (own := install_acl(facts, "file", path)) is not None:
        mine = [own]
    if not mine:
        collected = ", ".join(r.path for r in reads)
        return not_reviewed(f"the ACL of {path} was not collected: the installation is not in "
                            f"a default location (collected: {collected})", expected=expected,
                            evidence=(Evidence(SOURCE, path, "not collected", expected,
                                               compact_json([r.path for r in reads])),))
    read = mine[0]
    if read.exists is not True:
        problem = read.problem or f"{path} does not exist, though ScreenConnect reads it"
        return to_verdict(_part(read, expected, None, problem))
    return to_verdict(_excluded(read, principals, denied, expected),
                      note=deny_note(read.grants) if read.grants else "")


def judge_backups_acl(control: Control, facts: HostFacts, inputs: Mapping[str, Any]) -> Verdict:
    """CWH-SC-06: the same for every backups folder that exists, and all it holds: the one
    beside the install root the collector found, and any at the default paths."""
    principals, denied, what = _exclusion(control)
    expected = _expected(principals, what, " or what it holds")
    reads = [read_acl(facts, item) for item in _items(control)]
    unread: list[Outcome] = []
    beside = ""
    try:
        install = facts.screenconnect()
    except FactUnavailable as exc:
        install = None
        unread.append(_part(Read("ScreenConnect Backups beside the install", None), expected,
                            None, f"the install root is unknown, so the backups beside it were "
                            f"not looked for: {exc}"))
    if install is not None and isinstance(install.get("backups_path"), str):
        beside = install["backups_path"]
        if not any(_same_path(r.path, beside) for r in reads):
            own = install_acl(facts, "directory", beside)
            if own is None:
                unread.append(_part(Read(beside, None), expected, None,
                                    f"the ACL of {beside}, beside the install root "
                                    f"{install.get('install_root')}, was not collected"))
            else:
                reads.append(own)
    present = [r for r in reads if r.exists is not False]
    if not present and not unread:
        shown = ", ".join(r.path for r in reads)
        where = f"the default paths and beside the install root ({shown})" if beside else \
            f"the default paths ({shown}; no install root was found to look beside)"
        return Verdict(Status.NOT_APPLICABLE, f"no backups folder at {where}: nothing to "
                       "protect", observed="absent", evidence=tuple(
                           Evidence(SOURCE, r.path, "does not exist", expected) for r in reads))
    parts = [_problem(r, expected) if r.exists is None else
             _excluded(r, principals, denied, expected) for r in present] + unread
    notes = [n for r in present if r.grants and (n := deny_note(r.grants))]
    return to_verdict(combine("all", parts), note="; ".join(notes))
