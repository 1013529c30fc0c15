"""What the exit code of an audit run means, so a pipeline can gate on it.

0  every selected control is NotAFinding, Not_Applicable, waived, or a manual control awaiting
   review
1  findings: at least one Open control at or above --fail-on (default: any severity)
2  interrupted (pytest)
3  internal error (pytest)
4  usage error: bad option, inventory, waiver file or catalog; nothing was contacted
5  nothing selected: no control ran for any host
6  scan errors: some control could not be evaluated (host unreachable, authentication failed,
   facts missing or unreadable), or the run stopped before every selected control had a result
   (-x, --maxfail, a crashed worker, Ctrl-C), or an inventory host was not audited (-k or a
   deselection left it without any selected control: --limit is how to leave hosts out; or
   two inventory hosts were judged on one machine's facts), or the reports could not be
   written (the report directory vanished or refused a file); it takes precedence over 1 and
   2 because the scan is incomplete
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cwh.report.record import counts_as_error, counts_as_finding

OK = 0
FINDINGS = 1
INTERRUPTED = 2
INTERNAL_ERROR = 3
USAGE_ERROR = 4
NOTHING_SELECTED = 5
SCAN_ERROR = 6
_RANK = {"low": 1, "medium": 2, "high": 3}
FAIL_ON = {"cat1": "high", "cat2": "medium", "cat3": "low"}


def hosts_without_results(hosts: Iterable[str], records: Iterable[dict[str, Any]]) -> list[str]:
    """The hosts a run (or a slice of a fleet) was given that have no result at all: never
    audited, whatever else the run did. The run and the fleet merge apply the same rule."""
    audited = {r["host"] for r in records}
    return sorted(h for h in hosts if h not in audited)


def decide(records: Iterable[dict[str, Any]], pytest_status: int, fail_on: str = "cat3",
           not_evaluated: int = 0, *, unaudited: int = 0) -> int:
    """The run's exit code; `not_evaluated` counts selected tests that produced no result,
    `unaudited` the inventory hosts (or machines judged twice) the run did not audit."""
    if pytest_status in (INTERNAL_ERROR, USAGE_ERROR):
        return pytest_status
    if not_evaluated:
        return SCAN_ERROR  # absent results are not findings: without this, -x could pass
    if pytest_status == INTERRUPTED:
        return pytest_status
    records = list(records)
    if not records:
        return NOTHING_SELECTED
    if unaudited or any(counts_as_error(r) for r in records):
        return SCAN_ERROR
    threshold = _RANK[FAIL_ON[fail_on]]
    if any(counts_as_finding(r) and _RANK[r["severity"]] >= threshold for r in records):
        return FINDINGS
    return OK
