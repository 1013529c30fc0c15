"""The `account_policy` check: a key of secedit's `[System Access]` or `[Kerberos Policy]`
against its requirement (docs/stig-rules.md, "account_policy").

secedit writes numbers in ASCII digits, `-1` where the policy means "forever" (LockoutDuration
0, passwords that never expire) and account names in quotes (`NewAdministratorName =
"Administrator"`). A key absent from the export is a finding (the policy is not defined); a
section absent, a key given two values, or a number that is not one is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.collect.facts import HostFacts
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.compare import NUMERIC_OPS, compare, describe
from cwh.judge.verdict import Evidence
from cwh.parse.primitives import ascii_int
from cwh.parse.secedit import SeceditParseError

SOURCE = "secedit /export /areas SECURITYPOLICY USER_RIGHTS (collector over WinRM)"


@check_judge("account_policy")
def judge_account_policy(check: Mapping[str, Any], facts: HostFacts,
                         context: RuleContext) -> Outcome:
    section, key = str(check["section"]), str(check["key"])
    location = f"[{section}] {key}"
    expected = describe(check)

    def outcome(passed: bool | None, observed: str, raw: str, note: str = "") -> Outcome:
        shown = f"{observed} ({note})" if note else observed
        return Outcome(passed, (Evidence(SOURCE, location, shown, expected, raw),), expected,
                       shown, f"{location}: {note}" if passed is None else "", label=key)

    try:
        raw = facts.security_policy().value(section, key)
    except SeceditParseError as exc:
        return outcome(None, "not available", "\n".join(exc.lines) or str(exc), str(exc))
    if raw is None:
        return outcome(False, "absent from the export", f"no {key} line in [{section}]",
                       "the policy is not defined: a finding")
    line = f"{key} = {raw}"
    if _numeric(check):
        number = ascii_int(raw)
        if number is None:
            return outcome(None, repr(raw), line, f"{raw!r} is not a number secedit writes")
        comparison = compare(check, number)
        return outcome(comparison.passed, str(number), line, comparison.note)
    text = unquoted(raw)
    comparison = compare(check, text)
    return outcome(comparison.passed, repr(text), line, comparison.note)


def _numeric(check: Mapping[str, Any]) -> bool:
    values = [check.get("value"), *(check.get("values") or ()), *(check.get("also") or ())]
    return check.get("op") in NUMERIC_OPS or any(
        isinstance(v, int) and not isinstance(v, bool) for v in values)


def unquoted(raw: str) -> str:
    """secedit's `"Administrator"` as the name it stands for."""
    return raw[1:-1] if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"') else raw
