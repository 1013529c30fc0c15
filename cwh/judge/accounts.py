"""Judges for the account controls, which are manual in the STIG: automate what can be
automated, attach the evidence, and otherwise leave them Not_Reviewed for an assessor."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.attestation import attestation_for
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed

_ADMINS_SOURCE = "local Administrators (S-1-5-32-544) members (collector over WinRM)"
_APPS_SOURCE = "installed software and user profiles (collector over WinRM)"


def _member_label(member: Mapping[str, Any]) -> str:
    name = member.get("name") or "(unresolved)"
    return f"{name} [{member.get('sid')}]"


def is_approved(member: Mapping[str, Any], approved: list[str], pattern: str | None) -> bool:
    """Approved by exact name (DOMAIN\\user or user), by SID, or by the naming pattern."""
    name = str(member.get("name") or "")
    sid = str(member.get("sid") or "")
    account = name.split("\\")[-1]
    for entry in approved:
        entry_l = entry.lower()
        if entry_l in (name.lower(), account.lower(), sid.lower()) and entry_l:
            return True
    return bool(pattern and account and re.fullmatch(pattern, account, re.IGNORECASE))


def _apply_attestation(control: Control, inputs: Mapping[str, Any], verdict: Verdict,
                       today: dt.date) -> Verdict:
    attestation = attestation_for(control.id, inputs)
    if attestation is None:
        return verdict
    evidence = (*verdict.evidence, attestation.as_evidence())
    if attestation.expired(today):
        return Verdict(verdict.status, f"{verdict.reason}; the attestation by {attestation.by} "
                       f"expired on {attestation.expires}", verdict.expected, verdict.observed,
                       evidence, verdict.requirement, verdict.error, verdict.details)
    return Verdict(attestation.status, f"attested by {attestation.by} on {attestation.date}"
                   + (f": {attestation.note}" if attestation.note else ""),
                   verdict.expected, verdict.observed or f"attested {attestation.status}",
                   evidence, verdict.requirement)


def judge_separate_admin_accounts(control: Control, facts: HostFacts,
                                  inputs: Mapping[str, Any], today: dt.date | None = None) -> \
        Verdict:
    """CWH-ACCT-01: every local Administrators member is a declared admin account."""
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
    approved = list(inputs.get("cwh_approved_admins") or [])
    pattern = inputs.get("cwh_admin_name_pattern")
    expected = ("every member is in cwh_approved_admins" if approved else "") + \
        (" or " if approved and pattern else "") + \
        (f"every account name matches {pattern}" if pattern else "")
    if not approved and not pattern:
        evidence = Evidence(_ADMINS_SOURCE, admins.get("group_name", "Administrators"), listing,
                            "declared approved administrators", raw)
        verdict = Verdict(Status.NOT_REVIEWED, "no approved administrators declared "
                          "(cwh_approved_admins / cwh_admin_name_pattern): an assessor must "
                          "review the member list", "declared approved administrators",
                          listing, (evidence,))
        return _apply_attestation(control, inputs, verdict, today)
    unapproved = [m for m in members if not is_approved(m, approved, pattern)]
    observed = (f"{len(members)} members, all approved: {listing}" if not unapproved else
                "not approved: " + "; ".join(_member_label(m) for m in unapproved))
    evidence = Evidence(_ADMINS_SOURCE, admins.get("group_name", "Administrators"), listing,
                        expected, raw)
    if unapproved:
        return Verdict(Status.OPEN, observed, expected, observed, (evidence,))
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
