"""Judges for the account controls, which are manual in the STIG: automate what can be
automated, attach the evidence, and otherwise leave them Not_Reviewed for an assessor."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.attestation import attestation_for
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed

_ADMINS_SOURCE = "local Administrators (S-1-5-32-544) members (collector over WinRM)"
_APPS_SOURCE = "installed software and user profiles (collector over WinRM)"


_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def same_account_name(left: str, right: str) -> bool:
    """Whether two account (or domain) names are the same to Windows, never looser: ASCII
    letters compared without case, every other character as it is.

    Windows upper-cases names before comparing them (MS-SAMR 3.1.5.14 on a member server;
    .NET's OrdinalIgnoreCase and the NLS table behind it never map a non-ASCII letter onto an
    ASCII one: U+212A KELVIN SIGN is not K, U+017F LONG S is not S), and a domain controller
    compares sAMAccountNames more loosely still. Python's lower() and casefold() map the Kelvin
    sign to k, so an account an attacker names with it passed as the approved one. Folding only
    ASCII never makes two names equal that Windows keeps apart; a non-ASCII name in another
    case ("MÜLLER" for "Müller") is then unapproved, and is approved as Windows lists it or by
    its SID."""
    return left.translate(_ASCII_UPPER) == right.translate(_ASCII_UPPER)


def _member_label(member: Mapping[str, Any]) -> str:
    name = member.get("name") or "(unresolved)"
    return f"{name} [{member.get('sid')}]"


def _split(name: str) -> tuple[str, str]:
    """`DOMAIN\\name` -> (DOMAIN, name); a name without a domain part -> ("", name)."""
    domain, sep, account = name.rpartition("\\")
    return (domain, account) if sep else ("", name)


def member_kind(member: Mapping[str, Any]) -> str | None:
    """"User", "Group" or None (unknown). The collector's member_type comes from the
    LocalAccounts module's own objects (or ADSI's class), whatever the language; without it
    the English ObjectClass is taken at its word. Any other text (Get-LocalGroupMember's
    ObjectClass is translated: "Benutzer", "Gruppe") leaves the type unknown."""
    for key in ("member_type", "object_class"):
        value = member.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        kind = next((k for k in ("User", "Group") if same_account_name(value.strip(), k)), None)
        if kind or key == "member_type":
            return kind  # "Other" (a computer, an unknown SID type) is neither
    return None


def is_group(member: Mapping[str, Any]) -> bool:
    return member_kind(member) == "Group"


def _is_sid(entry: str) -> bool:
    return entry.translate(_ASCII_UPPER).startswith("S-1-")


class Match(Enum):
    APPROVED = "approved"
    UNAPPROVED = "unapproved"
    UNDETERMINED = "undetermined"  # only a bare name could approve it, and the host is unknown


@dataclass(frozen=True)
class Judged:
    member: Mapping[str, Any]
    match: Match
    how: str = ""  # which entry approved it, or why a same-named entry did not

    def label(self) -> str:
        return _member_label(self.member) + (f" ({self.how})" if self.how else "")


def judge_member(member: Mapping[str, Any], approved: list[str], pattern: str | None,
                 computer_name: str | None) -> Judged:
    """One Administrators member against the declarations.

    - `S-1-...` entries match the SID; `DOMAIN\\name` entries match the whole name (ASCII
      letters in any case, see same_account_name).
    - A bare `name` approves only the computer's own local account of that name: the member's
      domain part is the computer name the host reported, it is not a group, and Windows did not
      say it comes from elsewhere (principal_source). `EVILCORP\\auditor` is not `auditor`;
      built-in principals (BUILTIN, NT AUTHORITY) are declared by SID or full name.
    - A group is judged as that group: only its SID or full name approves it, never a bare name
      or the naming pattern, which are about accounts. So is a member whose type is unknown
      (member_kind): bare names and the pattern approve only members known to be users.
    - The pattern matches the account name of a user in any domain, or the whole `DOMAIN\\name`
      when it contains an escaped backslash (`CORP\\\\adm-.*`), with re.ASCII: only ASCII
      letters match in another case.
    """
    name, sid = str(member.get("name") or ""), str(member.get("sid") or "")
    domain, account = _split(name)
    kind = member_kind(member)
    group = kind == "Group"
    source = str(member.get("principal_source") or "")
    near_miss = ""
    undetermined = False
    for entry in (e.strip() for e in approved):
        if not entry:
            continue
        if _is_sid(entry):
            if sid and same_account_name(entry, sid):
                return Judged(member, Match.APPROVED, f"by SID {entry}")
            continue
        if "\\" in entry:
            if name and same_account_name(entry, name):
                return Judged(member, Match.APPROVED, f"by name {entry}")
            continue
        if not account or not same_account_name(entry, account):
            continue
        if group:
            near_miss = f"a group: the bare name {entry} approves only a local account"
        elif kind is None:
            near_miss = (f"of unknown type (ObjectClass {member.get('object_class')!r}): the "
                         f"bare name {entry} approves only a local account")
        elif not domain:
            near_miss = f"no domain part: the bare name {entry} approves only a local account"
        elif source and not same_account_name(source, "local"):
            near_miss = (f"from {source}, not local: the bare name {entry} approves only the "
                         "local account")
        elif computer_name is None:
            undetermined = True
        elif same_account_name(domain, computer_name):
            return Judged(member, Match.APPROVED, f"local account, by name {entry}")
        else:
            near_miss = (f"an account of {domain}, not of {computer_name}: the bare name {entry} "
                         "approves only the local account")
    if pattern and account and kind == "User":
        subject = name if "\\\\" in pattern else account
        # ASCII: case folds for ASCII letters only (as same_account_name), \w and [a-z]
        # match ASCII only, so no Kelvin sign or long s passes as k or s.
        if re.fullmatch(pattern, subject, re.IGNORECASE | re.ASCII):
            return Judged(member, Match.APPROVED, f"matches {pattern}")
    if undetermined and not near_miss:
        return Judged(member, Match.UNDETERMINED, "a bare name matches it, but the computer name "
                      "is unknown")
    return Judged(member, Match.UNAPPROVED, near_miss)


def is_approved(member: Mapping[str, Any], approved: list[str], pattern: str | None,
                computer_name: str | None = None) -> bool:
    return judge_member(member, approved, pattern, computer_name).match is Match.APPROVED


def _computer_name(facts: HostFacts) -> str | None:
    try:
        name = facts.identity().get("computer_name")
    except FactUnavailable:
        return None
    return name.strip() if isinstance(name, str) and name.strip() else None


def _apply_attestation(control: Control, inputs: Mapping[str, Any], verdict: Verdict,
                       today: dt.date) -> Verdict:
    attestation = attestation_for(control.id, inputs, today)
    if attestation is None:
        return verdict
    evidence = (*verdict.evidence, attestation.as_evidence())
    if verdict.error:
        # Nothing was read from this host (or not enough): the assessor's answer cannot be tied
        # to the machine that did not answer, so it stays beside the error, not in its place.
        return Verdict(verdict.status, f"{verdict.reason}; the attestation by {attestation.by} "
                       f"({attestation.status}, {attestation.date}) is not applied: this host's "
                       "evidence was not collected", verdict.expected, verdict.observed,
                       evidence, verdict.requirement, verdict.error, verdict.details)
    if attestation.expired(today):
        return Verdict(verdict.status, f"{verdict.reason}; the attestation by {attestation.by} "
                       f"expired on {attestation.expires}", verdict.expected, verdict.observed,
                       evidence, verdict.requirement, verdict.error, verdict.details)
    return Verdict(attestation.status, f"attested by {attestation.by} on {attestation.date}"
                   + (f": {attestation.note}" if attestation.note else ""),
                   verdict.expected, verdict.observed or f"attested {attestation.status}",
                   evidence, verdict.requirement)


def _expected(approved: list[str] | None, pattern: str | None) -> str:
    parts = []
    if approved is not None:
        parts.append("every member is in cwh_approved_admins" if approved else
                     "no member (cwh_approved_admins is empty: nobody is approved)")
    if pattern:
        parts.append(f"every account name matches {pattern}")
    return " or ".join(parts)


def judge_separate_admin_accounts(control: Control, facts: HostFacts,
                                  inputs: Mapping[str, Any], today: dt.date | None = None) -> \
        Verdict:
    """CWH-ACCT-01: every local Administrators member is a declared admin account.

    `cwh_approved_admins` absent: nothing declared, an assessor reviews the list. Declared empty
    (`[]`): nobody is approved, so every member is a finding (unless the pattern approves it).
    """
    today = today or dt.date.today()
    try:
        admins = facts.local_admins()
    except FactUnavailable as exc:
        return not_reviewed(f"could not read the local Administrators group: {exc}")
    members = admins["members"]
    raw = compact_json({k: admins.get(k) for k in ("group_name", "method", "note")} |
                       {"members": members}, limit=2000)
    listing = "; ".join(_member_label(m) for m in members)
    if not members:
        return not_reviewed("the collector returned no members for the Administrators group, "
                            "which always has at least one; treating the answer as unreliable")
    declared = inputs.get("cwh_approved_admins")
    approved = [str(e) for e in declared] if isinstance(declared, list) else None
    pattern = inputs.get("cwh_admin_name_pattern")
    if approved is None and not pattern:
        evidence = Evidence(_ADMINS_SOURCE, admins.get("group_name", "Administrators"), listing,
                            "declared approved administrators", raw)
        verdict = Verdict(Status.NOT_REVIEWED, "no approved administrators declared "
                          "(cwh_approved_admins / cwh_admin_name_pattern): an assessor must "
                          "review the member list", "declared approved administrators",
                          listing, (evidence,))
        return _apply_attestation(control, inputs, verdict, today)
    expected = _expected(approved, pattern)
    computer = _computer_name(facts)
    judged = [judge_member(m, approved or [], pattern, computer) for m in members]
    unapproved = [j for j in judged if j.match is Match.UNAPPROVED]
    undetermined = [j for j in judged if j.match is Match.UNDETERMINED]
    evidence = Evidence(_ADMINS_SOURCE, admins.get("group_name", "Administrators"), listing,
                        expected, raw)
    if unapproved:
        observed = "not approved: " + "; ".join(j.label() for j in unapproved)
        return Verdict(Status.OPEN, observed, expected, observed, (evidence,))
    if undetermined:
        observed = "cannot tell local from domain accounts: " + \
            "; ".join(j.label() for j in undetermined)
        return not_reviewed(f"{observed} (the host's identity section gave no computer name)",
                            evidence=(evidence,), expected=expected, observed=observed)
    observed = f"{len(members)} members, all approved: " + "; ".join(j.label() for j in judged)
    return Verdict(Status.NOT_A_FINDING, observed, expected, observed, (evidence,))


def judge_internet_use(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                       today: dt.date | None = None) -> Verdict:
    """CWH-ACCT-02: procedural; attach what is installed and which admin profiles hold browser
    or mail data, and leave the answer to an assessor (or to an attestation)."""
    today = today or dt.date.today()
    try:
        apps = facts.internet_apps()
        admins = facts.local_admins()
    except FactUnavailable as exc:
        verdict = not_reviewed(f"could not collect the evidence: {exc}")
        return _apply_attestation(control, inputs, verdict, today)
    admin_sids = {str(m.get("sid")) for m in admins["members"]}
    admin_profiles = [p for p in apps["profiles"] if isinstance(p, dict)
                      and str(p.get("sid")) in admin_sids]
    with_data = [p for p in admin_profiles if p.get("browser_data")]
    installed = ", ".join(str(a.get("name")) for a in apps["installed"] if isinstance(a, dict))
    observed = (f"Internet applications installed: {installed or 'none found'}; "
                f"administrator profiles with browser or mail data: "
                + (", ".join(f"{p.get('path')} ({', '.join(p.get('browser_data'))})"
                             for p in with_data) or "none"))
    evidence = (
        Evidence(_APPS_SOURCE, "Uninstall registry keys", installed or "none found",
                 raw=compact_json(apps["installed"], limit=1500)),
        Evidence(_APPS_SOURCE, "profiles of Administrators members",
                 ", ".join(str(p.get("path")) for p in with_data) or "none with browser data",
                 raw=compact_json(admin_profiles, limit=1500)),
    )
    verdict = Verdict(Status.NOT_REVIEWED, "procedural control: an assessor must confirm that "
                      "administrative accounts are not used for browsing or email",
                      "no Internet use with administrative accounts (assessor)", observed,
                      evidence)
    return _apply_attestation(control, inputs, verdict, today)
