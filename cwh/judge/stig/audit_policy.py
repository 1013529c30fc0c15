"""The `audit_policy` check: an advanced audit policy subcategory, found by GUID, must include
Success and/or Failure (docs/stig-rules.md, "audit_policy"; auditing more is never a finding).

Two readings of one policy: `auditpol /get /category:* /r` (English words on an English Windows,
translated elsewhere) and `auditpol /backup` (a number in every language). The judge reads the
words only when they are auditpol's English ones and the number always; where both are read they
must agree. A subcategory that neither lists, a word the suite does not know without a number
beside it, or a GUID listed twice with different settings is unknown, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.verdict import Evidence
from cwh.parse.auditpol import (
    AuditpolParseError,
    AuditRow,
    describe_setting,
    parse_backup,
    parse_report,
)

SOURCE = "auditpol /get /category:* /r and auditpol /backup (collector over WinRM)"


@dataclass(frozen=True)
class Reading:
    setting: tuple[bool, bool] | None  # (success, failure); None: not read
    shown: str  # what was read, for evidence
    problem: str = ""  # why it could not be read


def _rows(data: Mapping[str, Any], part: str) -> tuple[dict[str, list[AuditRow]] | None, str]:
    """One part's rows by GUID, or None and why it is not available."""
    entry = data.get(part)
    if not isinstance(entry, dict):
        return None, f"the collector's answer has no {part}"
    if entry.get("error"):
        return None, f"{entry.get('command')}: {entry['error']}"
    try:
        text = entry.get("text")
        if not isinstance(text, str):  # garbled (unhashable, too): the parser says why
            return (parse_report if part == "report" else parse_backup)(text), ""
        return _parsed(part, text), ""
    except AuditpolParseError as exc:
        return None, str(exc)


@lru_cache(maxsize=64)
def _parsed(part: str, text: str) -> dict[str, list[AuditRow]]:
    """A host's auditpol text parsed once for its 36 or so audit rules, not once per rule (the
    rows are only read); a text that does not parse raises again each time."""
    parse = parse_report if part == "report" else parse_backup
    return parse(text)


def _reading(rows: dict[str, list[AuditRow]] | None, problem: str, guid: str,
             report: bool) -> Reading:
    what = "report" if report else "backup"
    if rows is None:
        return Reading(None, f"{what}: not available", problem)
    found = rows.get(guid.upper(), [])
    if not found:
        return Reading(None, f"{what}: no row for {guid}", f"{guid} is missing from the {what}")
    settings = {(row.english_setting() if report else row.value_setting()) for row in found}
    texts = sorted({row.inclusion if report else str(row.setting_value) for row in found})
    shown = f"{what}: {found[0].subcategory!r} " + " / ".join(
        repr(t) if report else f"Setting Value {t}" for t in texts)
    if len(settings) > 1 or len(texts) > 1:
        return Reading(None, shown, f"{guid} is listed {len(found)} times with different "
                                    f"settings in the {what}: contradictory, not trusted")
    setting = settings.pop()
    if setting is None:
        why = (f"the setting {texts[0]!r} is not auditpol's English (a translated Windows): not "
               "read by guess" if report else f"Setting Value {texts[0]} is not one [MS-GPAC] "
               "defines")
        return Reading(None, shown, why)
    return Reading(setting, shown)


def audit_readings(facts: HostFacts, guid: str) -> tuple[Reading, Reading]:
    data = facts.section("audit_policy")
    if not isinstance(data, dict):
        raise FactUnavailable("the audit_policy section is not an object")
    report_rows, report_problem = _rows(data, "report")
    backup_rows, backup_problem = _rows(data, "backup")
    return (_reading(report_rows, report_problem, guid, True),
            _reading(backup_rows, backup_problem, guid, False))


@check_judge("audit_policy")
def judge_audit_policy(check: Mapping[str, Any], facts: HostFacts,
                       context: RuleContext) -> Outcome:
    guid, name = str(check["guid"]), str(check.get("subcategory"))
    include = [str(i) for i in check.get("include", ())]
    expected = f"{name} includes {' and '.join(include)}"
    report, backup = audit_readings(facts, guid)
    observed = "; ".join(r.shown for r in (report, backup))
    problems = [r.problem for r in (report, backup) if r.problem]

    def outcome(passed: bool | None, note: str) -> Outcome:
        evidence = Evidence(SOURCE, f"{name} {guid}", f"{observed} ({note})", expected,
                            "; ".join(problems))
        return Outcome(passed, (evidence,), expected, f"{observed} ({note})",
                       f"{name}: {note}" if passed is None else "", label=name)

    read = [r.setting for r in (report, backup) if r.setting is not None]
    if not read:
        return outcome(None, "; ".join(problems))
    if len(set(read)) > 1:
        return outcome(None, "the report and the backup disagree: contradictory, not trusted")
    setting = read[0]
    wanted = (("Success" in include) <= setting[0]) and (("Failure" in include) <= setting[1])
    basis = "report and backup agree" if len(read) == 2 else \
        "judged by the backup's number" if backup.setting is not None else \
        "judged by the report alone"
    return outcome(wanted, f"{describe_setting(setting)}, {basis}")
