"""The `acl` kind (docs/stig-rules.md): the SDDL Get-Acl returned for a file, directory,
registry key or the files of a directory, compared with the ACEs the rule lists.

`at_most`: every Allow ACE, for every scope it applies to (the object itself, child containers,
child objects, from its inheritance flags), grants only rights within the union of the listed
ACEs of the same SID for that scope; Deny ACEs are always fine. `holders`: nobody but the listed
principals holds every bit of `rights` through the union of their Allow ACEs on the object.
An ACE that cannot be read, an unreadable or garbled ACL, and an object whose path could not be
told are unknown; a missing object is a finding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.collect.needs_system import acl_items
from cwh.judge.outcome import Outcome, combine
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.principals import SidContext, describe, principal_sids, sid_context
from cwh.judge.stig.system_facts import OVER_WINRM, acl_answer, domain_sids
from cwh.judge.verdict import Evidence
from cwh.parse.sddl import (
    Ace,
    DomainSids,
    ObjectKind,
    SddlError,
    describe_mask,
    effective_mask,
    parse_sddl,
    rights_mask,
)

SOURCE = f"Get-Acl SDDL ({OVER_WINRM})"
ALL_SCOPES = frozenset({"self", "containers", "objects"})
APPLIES_TO = {
    "this_folder_subfolders_files": ALL_SCOPES,
    "this_folder_subfolders": frozenset({"self", "containers"}),
    "this_folder_files": frozenset({"self", "objects"}),
    "this_folder_only": frozenset({"self"}),
    "subfolders_files_only": frozenset({"containers", "objects"}),
    "subfolders_only": frozenset({"containers"}),
    "files_only": frozenset({"objects"}),
    "this_key_subkeys": frozenset({"self", "containers"}),
    "this_key_only": frozenset({"self"}),
    "subkeys_only": frozenset({"containers"}),
}
SCOPE_WORDS = {"self": "the object itself", "containers": "subfolders/subkeys",
               "objects": "files"}
ITEM_TYPES = {"file": "file", "directory": "directory", "registry": "registry_key",
              "directory_files": "directory"}


@dataclass(frozen=True)
class Allowed:
    """What the rule lets each SID hold, per scope (at_most), or who may hold `mask`."""

    kind: ObjectKind
    masks: Mapping[tuple[str, str], int]  # (SID, scope) -> union of the listed masks
    words: str  # the requirement, for evidence


def ace_scopes(ace: Ace, container: bool, kind: ObjectKind) -> frozenset[str]:
    """Where an ACE of the object's DACL applies, from its inheritance flags."""
    own = frozenset() if ace.inherit_only else frozenset({"self"})
    if not container:
        return own
    scopes = set(own)
    if "CI" in ace.flags:
        scopes.add("containers")
    if "OI" in ace.flags and kind == "file":
        scopes.add("objects")
    return frozenset(scopes)


def _listed_scopes(ace: Mapping[str, Any], container: bool) -> frozenset[str]:
    if not container:
        return frozenset({"self"})
    if "applies_to" not in ace:
        return ALL_SCOPES
    if ace["applies_to"] not in APPLIES_TO:
        raise FactUnavailable(f"rule data: unknown applies_to {ace['applies_to']!r}")
    return APPLIES_TO[ace["applies_to"]]


def _mask(rights: Any, kind: ObjectKind) -> int:
    try:
        return rights_mask(rights, kind)
    except (KeyError, TypeError):
        raise FactUnavailable(f"rule data: rights {rights!r} are not ones the suite knows for "
                              f"{'registry keys' if kind == 'registry' else 'files'}") from None


def allowed_at_most(check: Mapping[str, Any], context: RuleContext, sids: SidContext,
                    kind: ObjectKind, container: bool) -> Allowed:
    masks: dict[tuple[str, str], int] = defaultdict(int)
    words = []
    for ace in check.get("aces") or ():
        roles = ace.get("roles")
        if roles and not context.roles & set(roles):
            continue
        if ace.get("type", "Allow") != "Allow":
            raise FactUnavailable(f"rule data: an ACE of type {ace.get('type')!r}")
        mask = _mask(ace.get("rights"), kind)
        scopes = _listed_scopes(ace, container)
        for sid in principal_sids(ace["principal"], sids):
            for scope in scopes:
                masks[(sid, scope)] |= mask
        where = f" ({ace['applies_to'].replace('_', ' ')})" if container and \
            "applies_to" in ace else ""
        words.append(f"{describe(ace['principal'])} {ace.get('rights')}{where}")
    return Allowed(kind, dict(masks), "at most: " + "; ".join(words))


def _who(ace: Ace) -> str:
    return ace.trustee if ace.trustee == ace.sid else f"{ace.trustee} ({ace.sid})"


def judge_at_most(aces: tuple[Ace, ...], allowed: Allowed,
                  container: bool) -> tuple[list[str], list[str]]:
    """(violations, unreadable ACEs) of a DACL against the listed ACEs."""
    violations, unknown = [], []
    for ace in aces:
        if ace.denies:
            continue  # a Deny ACE only takes rights away
        if ace.problem or not ace.allows or ace.sid is None:
            unknown.append(f"({ace.text}): {ace.problem or 'not an Allow or Deny ACE'}")
            continue
        mask = effective_mask(ace.mask, allowed.kind)
        for scope in sorted(ace_scopes(ace, container, allowed.kind)):
            extra = mask & ~allowed.masks.get((ace.sid, scope), 0)
            if extra:
                violations.append(f"{_who(ace)} holds {describe_mask(mask, allowed.kind)} on "
                                  f"{SCOPE_WORDS[scope]} ({ace.text}): "
                                  f"0x{extra:X} beyond what the rule lists")
    return violations, unknown


def judge_holders(aces: tuple[Ace, ...], rights: int, permitted: frozenset[str],
                  kind: ObjectKind, container: bool) -> tuple[list[str], list[str]]:
    """(principals holding `rights` who may not, unreadable ACEs) on the object itself."""
    held: dict[str, int] = defaultdict(int)
    unknown = []
    for ace in aces:
        if ace.denies:
            continue
        if ace.problem or not ace.allows or ace.sid is None:
            unknown.append(f"({ace.text}): {ace.problem or 'not an Allow or Deny ACE'}")
            continue
        if "self" in ace_scopes(ace, container, kind):
            held[ace.sid] |= effective_mask(ace.mask, kind)
    violations = [f"{sid} holds {describe_mask(mask, kind)}" for sid, mask in sorted(held.items())
                  if sid not in permitted and mask & rights == rights]
    return violations, unknown


def _outcome(label: str, path: str, passed: bool | None, observed: str, expected: str,
             raw: str = "", reason: str = "") -> Outcome:
    """One object's part; the path leads both texts, so several parts stay apart."""
    evidence = Evidence(SOURCE, path, observed, expected, raw[:1500])
    return Outcome(passed, (evidence,), f"{path}: {expected}", f"{path}: {observed}", reason)


def _presence(label: str, obj: Mapping[str, Any], expected_type: str,
              expected: str) -> Outcome | None:
    """The outcome when the object is missing (a finding), unreadable or not of the type the
    rule names; None when it is there to be judged."""
    path = str(obj.get("resolved_path") or obj.get("path") or label)
    raw = str(obj.get("sddl") or obj.get("error") or "")
    if obj.get("error"):
        error = f"{obj.get('error_type') or 'error'}: {obj['error']}"
        return _outcome(label, path, None, "not readable", expected, raw,
                        f"the ACL of {path} could not be read ({error})")
    if obj.get("exists") is False:
        return _outcome(label, path, False, "does not exist", expected, raw)
    if obj.get("exists") is not True:
        return _outcome(label, path, None, "not available", expected, raw,
                        f"the collector did not say whether {path} exists")
    if obj.get("item_type") != expected_type:
        return _outcome(label, path, None, "not available", expected, raw,
                        f"{path} is a {obj.get('item_type')}, not a {expected_type}: not the "
                        "object the rule names")
    return None


def _object_outcome(label: str, obj: Mapping[str, Any], expected_type: str, expected: str,
                    judge: Any, sids: DomainSids) -> Outcome:
    absent = _presence(label, obj, expected_type, expected)
    if absent is not None:
        return absent
    path = str(obj.get("resolved_path") or obj.get("path") or label)
    raw = str(obj.get("sddl") or "")
    try:
        descriptor = parse_sddl(raw, sids)
    except SddlError as exc:
        return _outcome(label, path, None, "not readable", expected, raw,
                        f"the SDDL of {path} is not understood: {exc}")
    if descriptor.dacl is None:
        return _outcome(label, path, None, "not readable", expected, raw,
                        f"the SDDL of {path} holds no DACL")
    if descriptor.dacl.null:
        return _outcome(label, path, False, "NULL DACL: everyone holds every right", expected,
                        raw)
    violations, unreadable = judge(descriptor.dacl.aces, expected_type != "file")
    if violations:
        return _outcome(label, path, False, "; ".join(violations), expected, raw)
    if unreadable:
        return _outcome(label, path, None, "not readable", expected, raw,
                        f"ACEs of {path} that cannot be read: {'; '.join(unreadable)}")
    return _outcome(label, path, True, f"{len(descriptor.dacl.aces)} ACEs, none beyond the "
                    "requirement", expected, raw)


def _source_problem(entry: Mapping[str, Any]) -> str | None:
    source = entry.get("source")
    if isinstance(source, dict) and source.get("error"):
        where = f"{source.get('path')}\\{source.get('name')}" if source.get("kind") == \
            "registry" else f"share {source.get('path')}"
        return f"where the object is could not be told: reading {where} failed " \
               f"({source['error']})"
    if entry.get("error") and not entry.get("resolved_path"):
        return f"the path could not be resolved on the host: {entry['error']}"
    return None


@check_judge("acl")
def judge_acl(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    target = str(check.get("target"))
    if target not in ITEM_TYPES:
        raise FactUnavailable(f"rule data: unknown ACL target {target!r}")
    kind: ObjectKind = "registry" if target == "registry" else "file"
    container = target in ("directory", "registry")
    sids = sid_context(facts)
    mode = check.get("mode")
    if mode == "at_most":
        allowed = allowed_at_most(check, context, sids, kind, container)
        expected = allowed.words

        def judge(aces: tuple[Ace, ...], is_container: bool) -> tuple[list[str], list[str]]:
            return judge_at_most(aces, allowed, is_container)
    elif mode == "holders":
        rights = _mask(check.get("rights"), kind)
        permitted: frozenset[str] = frozenset().union(
            *(principal_sids(p, sids) for p in check.get("principals") or ()))
        expected = (f"no one but {', '.join(describe(p) for p in check.get('principals') or ())}"
                    f" holds {check.get('rights')}")

        def judge(aces: tuple[Ace, ...], is_container: bool) -> tuple[list[str], list[str]]:
            return judge_holders(aces, rights, permitted, kind, is_container)
    else:
        raise FactUnavailable(f"rule data: the suite cannot judge ACL mode {mode!r}")
    try:
        items = acl_items(check)
    except (KeyError, ValueError, TypeError) as exc:
        raise FactUnavailable(f"rule data: the ACL check names no readable path ({exc})") \
            from None
    aliases = domain_sids(facts)
    parts = []
    for item in items:
        entry, bits = acl_answer(facts, item)
        label = str(entry.get("resolved_path") or item[1])
        if bits is not True and kind == "file":
            reason = ("the collector ran as a 32-bit process, which Windows redirects from "
                      "System32 and Program Files" if bits is False else
                      "the collector did not say whether it ran as a 64-bit process")
            parts.append(_outcome(label, label, None, "not available", expected, "", reason))
            continue
        problem = _source_problem(entry)
        if problem:
            parts.append(_outcome(label, label, None, "not available", expected, "", problem))
            continue
        if target != "directory_files":
            parts.append(_object_outcome(label, entry, ITEM_TYPES[target], expected, judge,
                                         aliases))
            continue
        parts.append(_directory_files(label, entry, expected, judge, aliases))
    return combine("all", parts)


def _directory_files(label: str, entry: Mapping[str, Any], expected: str, judge: Any,
                     aliases: DomainSids) -> Outcome:
    """Every file directly in the directory (the AD database and its logs)."""
    absent = _presence(label, entry, "directory", expected)
    if absent is not None:
        return absent
    files = as_list(entry.get("files"))
    if entry.get("files_truncated") is not False or not all(isinstance(f, dict) for f in files):
        return _outcome(label, label, None, "not available", expected, "",
                        f"the file list of {label} is incomplete or malformed")
    if not files:  # where the database or its logs should be: nothing to judge is not a pass
        return _outcome(label, label, None, "no files", expected, "",
                        f"{label} holds no files, where the rule's files should be")
    return combine("all", [_object_outcome(str(f.get("path")), f, "file", expected, judge,
                                           aliases) for f in files])
