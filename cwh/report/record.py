"""One result per host x control: the verdict with everything a report needs about it.

Records are plain dicts (JSON types only): they travel from pytest-xdist workers to the
controller on the test report, and every writer (JSON, HTML, CKL, CKLB, HDF, JUnit) reads them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cwh.catalog.model import SEVERITIES, Control
from cwh.judge.verdict import Status, Verdict


def build_record(*, host: str, control: Control, verdict: Verdict, os_version: str | None,
                 os_summary: str, nodeid: str, duration: float,
                 waiver: dict[str, Any] | None = None) -> dict[str, Any]:
    refs = control.refs_for(os_version)
    severity = control.severity_for(os_version)
    return {
        "host": host,
        "control_id": control.id,
        "title": control.title,
        "area": control.area,
        "status": str(verdict.status),
        "severity": severity,
        "cat": SEVERITIES[severity],
        "stig_ids": [r.stig_id for r in refs],
        "vuln_ids": [r.vuln_id for r in refs],
        "stig_refs": [{"benchmark": r.benchmark, "vuln_id": r.vuln_id, "stig_id": r.stig_id}
                      for r in refs],
        "os_version": os_version,
        "os": os_summary,
        "expected": verdict.expected,
        "observed": verdict.observed,
        "reason": verdict.reason,
        "requirement": verdict.requirement,
        "evidence": [e.to_dict() for e in verdict.evidence],
        "error": verdict.error,
        "manual": control.manual,
        "source": control.source,
        "guide_section": control.guide_section,
        "fix": control.fix,
        "waiver": waiver,
        "nodeid": nodeid,
        "duration": round(duration, 4),
        "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def is_waived(record: dict[str, Any]) -> bool:
    waiver = record.get("waiver")
    return bool(waiver) and not waiver.get("expired", False)


def counts_as_finding(record: dict[str, Any]) -> bool:
    return record["status"] == Status.OPEN and not is_waived(record)


def counts_as_error(record: dict[str, Any]) -> bool:
    return record["status"] == Status.NOT_REVIEWED and bool(record.get("error"))
