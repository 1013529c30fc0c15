"""One result per host x control: the verdict with everything a report needs about it.

Records are plain dicts (JSON types only): they travel from pytest-xdist workers to the
controller on the test report, and every writer (JSON, HTML, CKL, CKLB, HDF, JUnit) reads them.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from cwh.catalog.model import BENCHMARK_OS, SEVERITIES, Control
from cwh.catalog.stig_rules import KIND_MARKERS, Release, StigRule
from cwh.judge.verdict import Status, Verdict

GUIDE_CONTROL = "guide_control"  # record_type of a control of the guide's catalog
STIG_RULE = "stig_rule"  # record_type of a rule of the host's Windows Server STIG


def shared(value: Any) -> Any:
    """One copy of a short text that many records hold alike (the OS, the check time, what a
    rule expects and what a compliant or drifted host shows): a fleet run keeps every record to
    the end, and 200 hosts x 270 rules repeat the same few texts. Anything else as it is."""
    return sys.intern(value) if type(value) is str and len(value) <= SHARED_LIMIT else value


SHARED_LIMIT = 300


def _now() -> str:
    return shared(dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def evidence_dicts(verdict: Verdict) -> list[dict[str, str]]:
    """Evidence.to_dict without dataclasses.asdict's deep copy (a record per test)."""
    return [{"source": shared(e.source), "location": shared(e.location),
             "observed": shared(e.observed), "expected": shared(e.expected), "raw": e.raw}
            for e in verdict.evidence]


def verdict_fields(verdict: Verdict, os_version: str | None, os_summary: str) -> dict[str, Any]:
    """What every record says of the verdict and the OS it was judged on, in the order every
    record has them."""
    return {
        "os_version": os_version,
        "os": shared(os_summary),
        "expected": shared(verdict.expected),
        "observed": shared(verdict.observed),
        "reason": shared(verdict.reason),
        "requirement": shared(verdict.requirement),
        "evidence": evidence_dicts(verdict),
        "error": verdict.error,
    }


def build_record(*, host: str, control: Control, verdict: Verdict, os_version: str | None,
                 os_summary: str, nodeid: str, duration: float,
                 waiver: dict[str, Any] | None = None) -> dict[str, Any]:
    refs = control.refs_for(os_version)
    severity = control.severity_for(os_version)
    return {
        "host": host,
        "record_type": GUIDE_CONTROL,
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
        **verdict_fields(verdict, os_version, os_summary),
        "manual": control.manual,
        "source": control.source,
        "guide_section": control.guide_section,
        "fix": control.fix,
        # The host's STIG rules this control is the same check as (counted once with them).
        "same_check": [r.stig_id for r in refs if r.benchmark in BENCHMARK_OS],
        "waiver": waiver,
        "nodeid": nodeid,
        "duration": round(duration, 4),
        "checked_at": _now(),
    }


def build_rule_record(*, host: str, rule: StigRule, release: Release, verdict: Verdict,
                      title: str, same_check: list[str], os_version: str | None,
                      os_summary: str, nodeid: str, duration: float,
                      waiver: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record of one STIG rule of the host's benchmark, in the shape of a guide control's
    (so every writer reads both) plus the rule's own identifiers."""
    ref = {"benchmark": rule.benchmark_id, "vuln_id": rule.vuln_id, "stig_id": rule.stig_id}
    return {
        "host": host,
        "record_type": STIG_RULE,
        "control_id": rule.stig_id,
        "title": title,
        "area": KIND_MARKERS.get(rule.kind, "mixed"),
        "status": str(verdict.status),
        "severity": rule.severity,
        "cat": SEVERITIES[rule.severity],
        "stig_ids": [rule.stig_id],
        "vuln_ids": [rule.vuln_id],
        "stig_refs": [ref],
        "vuln_id": rule.vuln_id,
        "rule_id": rule.rule_id,
        "kind": rule.kind,
        "benchmark": rule.benchmark_id,
        "release": release.short_version,
        **verdict_fields(verdict, os_version, os_summary),
        "manual": rule.manual,
        "source": "stig",
        "guide_section": "",
        "fix": "",
        # The guide controls that are the same check (their catalog entries reference it).
        "same_check": same_check,
        "waiver": waiver,
        "nodeid": nodeid,
        "duration": round(duration, 4),
        "checked_at": _now(),
    }


def build_no_benchmark_record(*, host: str, control_id: str, verdict: Verdict,
                              os_version: str | None, os_summary: str, nodeid: str,
                              duration: float) -> dict[str, Any]:
    """The record standing for a host's STIG rules when no benchmark could be chosen for it."""
    return {
        "host": host, "record_type": STIG_RULE, "control_id": control_id,
        "title": "the host's Windows Server STIG (no benchmark could be chosen)",
        "area": "stig", "status": str(verdict.status), "severity": "high",
        "cat": SEVERITIES["high"], "stig_ids": [], "vuln_ids": [], "stig_refs": [],
        "vuln_id": None, "rule_id": None, "kind": None, "benchmark": None, "release": None,
        **verdict_fields(verdict, os_version, os_summary), "manual": False, "source": "stig",
        "guide_section": "", "fix": "", "same_check": [], "waiver": None, "nodeid": nodeid,
        "duration": round(duration, 4),
        "checked_at": _now(),
    }


def is_rule(record: dict[str, Any]) -> bool:
    return record.get("record_type") == STIG_RULE


def is_guide(record: dict[str, Any]) -> bool:
    """A guide control's record (records of runs before record_type existed are all guide)."""
    return record.get("record_type", GUIDE_CONTROL) == GUIDE_CONTROL


def is_waived(record: dict[str, Any]) -> bool:
    waiver = record.get("waiver")
    return bool(waiver) and not waiver.get("expired", False)


def counts_as_finding(record: dict[str, Any]) -> bool:
    return record["status"] == Status.OPEN and not is_waived(record)


def counts_as_error(record: dict[str, Any]) -> bool:
    return record["status"] == Status.NOT_REVIEWED and bool(record.get("error"))
