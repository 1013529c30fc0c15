"""The summary printed at the end of a run: per host counts, problems, where the evidence is."""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cwh.identity import same_machine
from cwh.report.counting import counted_checks
from cwh.report.record import counts_as_error, is_guide, is_rule, is_waived
from cwh.text import printable

if TYPE_CHECKING:
    from cwh.audit import Audit

STATUS_ORDER = ("NotAFinding", "Open", "Not_Applicable", "Not_Reviewed")
MAX_LISTED_HOSTS = 20  # a stopped fleet run lists the first hosts; results.json has them all
MAX_LISTED_IDS = 40  # per host and line: a host's 200 unjudged STIG rules would flood a CI log


def _ids(ids: list[str]) -> str:
    ids = sorted(ids)
    more = f" and {len(ids) - MAX_LISTED_IDS} more (results.json)" \
        if len(ids) > MAX_LISTED_IDS else ""
    return " ".join(ids[:MAX_LISTED_IDS]) + more


def _not_evaluated_lines(selected: int, missing: list[str]) -> list[str]:
    """One line with the count, then which controls per host (from the test IDs)."""
    if not missing:
        return []
    lines = [f"INCOMPLETE: {len(missing)} of {selected} selected controls were not evaluated "
             "(the run stopped early: -x, --maxfail, a crash or Ctrl-C); exit code 6"]
    by_host: dict[str, list[str]] = defaultdict(list)
    for nodeid in missing:
        host, _, control = nodeid.partition("[")[2].removesuffix("]").rpartition("::")
        by_host[host].append(control)
    hosts = sorted(by_host.items())
    for host, controls in hosts[:MAX_LISTED_HOSTS]:
        lines.append(f"  not evaluated on {printable(host)}: {' '.join(sorted(controls))}")
    if len(hosts) > MAX_LISTED_HOSTS:
        lines.append(f"  and on {len(hosts) - MAX_LISTED_HOSTS} more hosts "
                     "(results.json: run.not_evaluated_tests)")
    return lines


def _host_lines(host: str, records: list[dict[str, Any]], width: int) -> list[str]:
    """The host's counts, each check once (cwh/report/counting.py), and which records are open
    or could not be evaluated."""
    checks = counted_checks(records)
    counts = Counter(c.status for c in checks)
    waived = sum(1 for c in checks if c.waived)
    errors = sum(1 for c in checks if c.error)
    parts = [f"{counts.get(s, 0)} {s}" for s in STATUS_ORDER]
    rules = sum(1 for r in records if is_rule(r))
    guide = sum(1 for r in records if is_guide(r))
    through = guide + rules - len(checks)
    extra = []
    if waived:
        extra.append(f"{waived} waived")
    if errors:
        extra.append(f"{errors} not evaluated (errors)")
    if rules:
        extra.append(f"{guide} guide controls and {rules} STIG rules, {through} of the guide's "
                     "counted with the STIG rule that is the same check" if through else
                     f"{guide} guide controls and {rules} STIG rules")
    lines = [f"{host:<{width}}  " + ", ".join(parts) +
             (f"  [{'; '.join(extra)}]" if extra else "")]
    # Which controls, so a CI log says what to fix without opening the report.
    for label, chosen in (("open", [r for r in records if r["status"] == "Open"
                                    and not is_waived(r)]),
                          ("not evaluated", [r for r in records if counts_as_error(r)])):
        if chosen:
            lines.append(f"{'':<{width}}  {label}: " + _ids([r["control_id"] for r in chosen]))
    return lines


def _awaiting_lines(records: list[dict[str, Any]]) -> list[str]:
    """Manual guide controls per control; manual STIG rules per benchmark (a 200-host run has
    thousands)."""
    lines = []
    guide: dict[str, list[str]] = defaultdict(list)
    rules: dict[str, set[str]] = defaultdict(set)
    hosts: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if record["status"] != "Not_Reviewed" or record.get("error"):
            continue
        if is_rule(record):
            where = f"{record.get('benchmark')} {record.get('release')}"
            rules[where].add(record["control_id"])
            hosts[where].add(record["host"])
        else:
            guide[record["control_id"]].append(record["host"])
    for control, names in sorted(guide.items()):
        lines.append(f"awaiting review (manual): {control} on {', '.join(sorted(names))} "
                     "(record the answer in cwh_attestations)")
    for where, ids in sorted(rules.items()):
        names = sorted(hosts[where])
        shown = ", ".join(names[:MAX_LISTED_HOSTS]) + \
            (f" and {len(names) - MAX_LISTED_HOSTS} more" if len(names) > MAX_LISTED_HOSTS else "")
        lines.append(f"awaiting review: {len(ids)} STIG rules of {where} (manual, or waiting "
                     f"for an organization-defined value) on {shown}; results.json says why")
    return lines


def host_warning_lines(assets: dict[str, dict[str, Any]]) -> list[str]:
    """One line per host whose collection came with warnings (hosts.<host>.warnings)."""
    lines = []
    for host, asset in sorted(assets.items()):
        found = (asset or {}).get("warnings")
        warnings = [str(w) for w in found] if isinstance(found, list) else []
        if warnings:
            lines.append(f"warning: {printable(host)}: {printable('; '.join(warnings))}")
    return lines


def summary_lines(audit: Audit, records: list[dict[str, Any]], written: list[Path],
                  not_evaluated: list[str] | None = None) -> list[str]:
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_host[record["host"]].append(record)
    lines = list(audit.notes)
    width = max((len(h) for h in by_host), default=4)
    for host in sorted(by_host):
        lines += _host_lines(host, by_host[host], width)
    for _host, error in sorted(audit.host_errors.items()):
        lines.append(f"ERROR {printable(error)}")
    lines += host_warning_lines(audit.assets)
    lines += [group.line() for group in same_machine(audit.assets)]
    lines += _awaiting_lines(records)
    expired: dict[tuple[str, str], list[str]] = defaultdict(list)
    for record in records:
        waiver = record.get("waiver")
        if waiver and waiver.get("expired"):
            expired[(waiver["id"], str(waiver["expires"]))].append(
                f"{record['control_id']} on {record['host']}")
    for (waiver_id, expires), where in sorted(expired.items()):
        lines.append(f"waiver {printable(waiver_id)} expired on {expires}; counts again: "
                     + ", ".join(sorted(where)))
    lines += _not_evaluated_lines(len(audit.selected), not_evaluated or [])
    if not records and not not_evaluated:
        lines.append("no control was selected for any host")
    lines += [f"warning: {w}" for w in audit.warnings]
    lines += written_lines(audit.report_dir, written)
    return lines


# Files of a kind a run writes many of (one per host), counted; the rest are named.
_MANY = (("hosts/", ".html", "host pages"), ("hdf/", ".json", "host HDF files (hdf/)"),
         ("", ".ckl", "checklists (.ckl)"), ("", ".cklb", "checklists (.cklb)"))
_ONE = {"host pages": "host page", "host HDF files (hdf/)": "host HDF file (hdf/)",
        "checklists (.ckl)": "checklist (.ckl)", "checklists (.cklb)": "checklist (.cklb)"}


def _kind(relative: str) -> str:
    for folder, suffix, kind in _MANY:
        if relative.startswith(folder) and relative.endswith(suffix) and \
                "/" not in relative[len(folder):]:
            return kind
    return relative


def written_lines(report_dir: Path, written: list[Path]) -> list[str]:
    """One line: the report directory, how many files and of which kinds (a 200-host run
    writes a page, two checklists and an HDF file per host: 800 lines said nothing). A file
    the run wrote elsewhere (--junitxml=/elsewhere) is named on a line of its own."""
    root = Path(os.path.abspath(report_dir))
    inside: Counter[str] = Counter()
    outside = []
    for path in dict.fromkeys(Path(os.path.abspath(p)) for p in written):
        if root in path.parents:
            inside[_kind(path.relative_to(root).as_posix())] += 1
        else:
            outside.append(f"wrote {printable(str(path))}")
    if not inside:
        return outside
    kinds = [f"{inside[kind]} {kind if inside[kind] != 1 else _ONE[kind]}"
             for _, _, kind in _MANY if inside[kind]]
    named = sorted(k for k in inside if k not in {kind for _, _, kind in _MANY})
    total = sum(inside.values())
    line = (f"reports: {total} file{'s' if total != 1 else ''} in {printable(str(root))}: "
            + ", ".join([*named, *kinds]))
    return [line, *outside]
