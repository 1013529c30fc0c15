"""The `user_right` and `user_rights_sids` checks: who holds a right in secedit's `[Privilege
Rights]`, compared by SID only (docs/stig-rules.md, "user_right", "Principals").

secedit writes well-known and unresolvable accounts as `*S-1-...` and other accounts by name; the
collector translates every holder on the host (the secedit section's `principals`), and the
inventory's principals given by name (the account_sids section). A holder or an allowed
principal whose SID is not known makes the check unknown wherever it could change the answer,
never a pass: a right held by someone unknown is not "held only by Administrators".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list, unique_entries
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.principals import describe, is_sid, principal_sids, sid_context
from cwh.judge.verdict import Evidence
from cwh.parse.secedit import SeceditParseError, SecurityPolicy, parse_accounts

SOURCE = "secedit /export /areas USER_RIGHTS, holders translated by LSA (collector over WinRM)"
NOT_MAPPED = "System.Security.Principal.IdentityNotMappedException"


@dataclass(frozen=True)
class Holder:
    entry: str  # as secedit wrote it, without the `*`
    sid: str | None  # None: a name the host could not translate
    name: str | None
    problem: str = ""  # why the SID or the name is not known

    def show(self) -> str:
        if self.sid is None:
            return f"{self.entry} (SID unknown: {self.problem})"
        return f"{self.name} ({self.sid})" if self.name and self.name != self.sid else self.sid


def translations(facts: HostFacts, required: bool = False) -> dict[str, dict[str, Any]]:
    """The collector's translation of each holder, by entry as secedit wrote it (upper case);
    FactUnavailable when the answer says two things about one entry, or (when `required`) is
    missing. Without it a holder written as a SID is still known; one written by name is not."""
    data = facts.section("secedit")
    if not isinstance(data, dict) or "principals" not in data:
        if required:
            raise FactUnavailable("the secedit section holds no translation of the rights' "
                                  "holders")
        return {}
    return unique_entries(((record["entry"].upper(), record["entry"], record)
                           for record in map(_translation, as_list(data.get("principals")))),
                          "the translation of holder")


def _translation(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict) or not isinstance(record.get("entry"), str):
        raise FactUnavailable(f"a holder translation is malformed: {record!r}")
    return record


def _holder(entry: str, starred: bool, found: Mapping[str, Mapping[str, Any]]) -> Holder:
    record = found.get(("*" + entry if starred else entry).upper())
    if starred:
        name = record.get("name") if record else None
        return Holder(entry, entry.upper(), name if isinstance(name, str) else None)
    if record is None:
        return Holder(entry, None, entry, "the collector did not translate it")
    sid = record.get("sid")
    if isinstance(sid, str) and is_sid(sid) and not record.get("error"):
        return Holder(entry, sid.upper(), entry)
    return Holder(entry, None, entry, str(record.get("error") or "no SID returned"))


def right_holders(policy: SecurityPolicy, right: str,
                  found: Mapping[str, Mapping[str, Any]]) -> tuple[list[Holder], str]:
    """(holders, the raw line) of one right; SeceditParseError when the export cannot say."""
    accounts = policy.right(right)
    raw = policy.value("Privilege Rights", right)
    starred = [part.strip().startswith("*") for part in (raw or "").split(",") if part.strip()]
    holders = [_holder(entry, star, found) for entry, star in zip(accounts, starred, strict=True)]
    line = f"{right} = {raw}" if raw is not None else f"{right} absent from [Privilege Rights]"
    return holders, line


@dataclass(frozen=True)
class Allowed:
    sids: frozenset[str]
    unknown: tuple[str, ...]  # principals named but not resolvable on this host
    text: str


def _inventory_sids(items: Any, context_sids: Any, accounts: Mapping[str, str | None],
                    what: str) -> tuple[set[str], list[str], list[str]]:
    """SIDs of an inventory list of principals (a SID, an account name, or rule-data shape)."""
    sids: set[str] = set()
    unknown: list[str] = []
    shown: list[str] = []
    for item in as_list(items):
        if isinstance(item, Mapping):
            try:
                sids |= principal_sids(item, context_sids)
                shown.append(describe(item))
            except FactUnavailable as exc:
                unknown.append(f"{describe(item)} ({exc})")
        elif isinstance(item, str) and is_sid(item):
            sids.add(item.upper())
            shown.append(item.upper())
        elif isinstance(item, str) and accounts.get(item.casefold()):
            sids.add(str(accounts[item.casefold()]))
            shown.append(f"{item} ({accounts[item.casefold()]})")
        else:
            unknown.append(f"{item!r} from {what} (not translated to a SID on the host)")
    return sids, unknown, shown


def account_sids(facts: HostFacts) -> dict[str, str | None]:
    """The inventory's account names as the host translated them (casefolded name -> SID)."""
    try:
        data = facts.section("account_sids")
    except FactUnavailable:
        return {}
    found: dict[str, str | None] = {}
    for record in as_list(data.get("accounts") if isinstance(data, dict) else None):
        if isinstance(record, dict) and isinstance(record.get("entry"), str):
            sid = record.get("sid")
            found[record["entry"].casefold()] = sid.upper() if isinstance(sid, str) and \
                is_sid(sid) and not record.get("error") else None
    return found


def allowed(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Allowed:
    """Who may hold the right: the rule's principals, the documented application exceptions
    for this right and the organization's also-allowed group."""
    sid_ctx = sid_context(facts)
    sids: set[str] = set()
    unknown: list[str] = []
    shown: list[str] = []
    for principal in check.get("principals") or ():
        try:
            sids |= principal_sids(principal, sid_ctx)
            shown.append(describe(principal))
        except FactUnavailable as exc:
            unknown.append(f"{describe(principal)} ({exc})")
    accounts = account_sids(facts)
    extra = []
    exceptions = context.inputs.get(str(check.get("exceptions_input")))
    if check.get("exceptions_input") and isinstance(exceptions, Mapping):
        extra.append((exceptions.get(check["right"]), str(check["exceptions_input"])))
    if check.get("also_allowed_input"):
        extra.append((context.inputs.get(str(check["also_allowed_input"])),
                      str(check["also_allowed_input"])))
    for items, what in extra:
        more, missing, named = _inventory_sids(items, sid_ctx, accounts, what)
        sids |= more
        unknown += missing
        shown += [f"{n} ({what})" for n in named]
    return Allowed(frozenset(sids), tuple(unknown), ", ".join(shown) or "no one")


def _outcome(check: Mapping[str, Any], passed: bool | None, expected: str, observed: str,
             raw: str, note: str = "") -> Outcome:
    location = f"[Privilege Rights] {check.get('right')}"
    shown = f"{observed} ({note})" if note else observed
    return Outcome(passed, (Evidence(SOURCE, location, shown, expected, raw),), expected, shown,
                   f"{check.get('right')}: {note}" if passed is None else "",
                   label=str(check.get("right")))


def _held_by(holders: Iterable[Holder]) -> str:
    shown = [h.show() for h in holders]
    return "held by " + ", ".join(shown) if shown else "held by no one"


@check_judge("user_right")
def judge_user_right(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    right, op = str(check["right"]), check.get("op")
    try:
        holders, raw = right_holders(facts.security_policy(), right, translations(facts))
    except SeceditParseError as exc:
        return _outcome(check, None, str(op), "not available", "\n".join(exc.lines) or str(exc),
                        str(exc))
    observed = _held_by(holders)
    if op in ("only", "none"):
        permitted = allowed(check, facts, context)
        expected = "assigned to no one" if op == "none" and permitted.text == "no one" else \
            f"held only by {permitted.text}"
        nobody = not permitted.sids and not permitted.unknown  # then any holder is too many
        unknown = [h for h in holders if h.sid is None and not nobody]
        others = [h for h in holders if (h.sid is None and nobody) or
                  (h.sid is not None and h.sid not in permitted.sids)]
        if others and not permitted.unknown:
            return _outcome(check, False, expected, observed, raw,
                            "not allowed: " + ", ".join(h.show() for h in others))
        if others or unknown:
            why = [f"holders whose SID is unknown: {'; '.join(h.show() for h in unknown)}"
                   if unknown else "",
                   f"allowed principals whose SID is unknown: {'; '.join(permitted.unknown)}"
                   if others and permitted.unknown else ""]
            return _outcome(check, None, expected, observed, raw,
                            "; ".join(w for w in why if w))
        return _outcome(check, True, expected, observed, raw)
    if op == "includes":
        return _includes(check, facts, holders, observed, raw)
    return _outcome(check, None, str(op), observed, raw, f"the suite cannot judge op {op!r}")


def _includes(check: Mapping[str, Any], facts: HostFacts, holders: list[Holder], observed: str,
              raw: str) -> Outcome:
    """Every principal listed must hold the right (an any_of by one of its members)."""
    sid_ctx = sid_context(facts)
    held = {h.sid for h in holders if h.sid is not None}
    untranslated = [h.entry for h in holders if h.sid is None]
    missing: list[str] = []
    unknown: list[str] = []
    for principal in check.get("principals") or ():
        try:
            if not principal_sids(principal, sid_ctx) & held:
                missing.append(describe(principal))
        except FactUnavailable as exc:
            unknown.append(f"{describe(principal)} ({exc})")
    expected = "held by " + ", ".join(describe(p) for p in check.get("principals") or ())
    if missing and not untranslated:
        return _outcome(check, False, expected, observed, raw, "missing: " + ", ".join(missing))
    if missing or unknown:
        why = unknown + ([f"{', '.join(missing)} may be among the holders whose SID is unknown "
                          f"({', '.join(untranslated)})"] if missing else [])
        return _outcome(check, None, expected, observed, raw, "; ".join(why))
    return _outcome(check, True, expected, observed, raw)


@check_judge("user_rights_sids")
def judge_user_rights_sids(check: Mapping[str, Any], facts: HostFacts,
                           context: RuleContext) -> Outcome:
    """Every account holding any right must resolve on the host (an orphaned SID is a
    finding); a lookup that could not be made is unknown."""
    expected = "every holder of a user right resolves to an account or group"
    location = "[Privilege Rights] (every right)"
    try:
        policy = facts.security_policy()
        found = translations(facts, required=True)
        lines = _rights(policy)
        entries = [(line, entry) for right, line, raw in lines
                   for entry in _entries(right, raw)]
    except SeceditParseError as exc:
        evidence = Evidence(SOURCE, location, "not available", expected,
                            "\n".join(exc.lines) or str(exc))
        return Outcome(None, (evidence,), expected, "not available", str(exc), "SIDs")
    orphaned, unknown = [], []
    for _line, entry in entries:
        record = found.get(entry.upper())
        if record is None:
            unknown.append(f"{entry} (not translated by the collector)")
        elif record.get("error_type") == NOT_MAPPED:
            orphaned.append(entry)
        elif record.get("error") or not isinstance(record.get("name"), str):
            unknown.append(f"{entry} ({record.get('error') or 'no name returned'})")
    raw = "\n".join(line for _, line, _ in lines)
    raw_records = json.dumps([found[e.upper()] for _, e in entries if e.upper() in found
                              and found[e.upper()].get("error")], ensure_ascii=False)[:600]
    if orphaned:
        observed = "unresolved: " + ", ".join(sorted(set(orphaned)))
        passed: bool | None = False
    elif unknown:
        observed = "not known: " + "; ".join(sorted(set(unknown)))
        passed = None
    else:
        observed = f"all {len({e.upper() for _, e in entries})} holders resolve"
        passed = True
    evidence = Evidence(SOURCE, location, observed, expected,
                        raw + ("\n" + raw_records if raw_records != "[]" else ""))
    return Outcome(passed, (evidence,), expected, observed,
                   observed if passed is None else "", "SIDs")


def _rights(policy: SecurityPolicy) -> list[tuple[str, str, str]]:
    """Every `right = holders` line of [Privilege Rights]; SeceditParseError when the section
    is missing or empty (the export is then incomplete)."""
    section = next((entries for name, entries in policy.sections.items()
                    if name.lower() == "privilege rights"), None)
    if not section:
        raise SeceditParseError("the [Privilege Rights] section is missing or empty: the export "
                                "is incomplete")
    for right in section:
        policy.value("Privilege Rights", right)  # raises for a right given two values
    return [(right, f"{right} = {raw}", raw) for right, raw in section.items()]


def _entries(right: str, raw: str) -> list[str]:
    """The holders as secedit wrote them, `*` kept (the collector's translation key)."""
    if not raw:
        return []
    parse_accounts(right, raw)  # raises for garbage
    return [part.strip() for part in raw.split(",")]
