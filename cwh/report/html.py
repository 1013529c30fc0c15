"""pytest-html integration: the self-contained report/report.html with audit columns and evidence.

pytest-html inserts custom cells and extras as raw HTML, so everything that came from a host (or
from the inventory) is escaped here. Registered only on the controller and only when pytest-html
is installed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from html import escape
from typing import Any

import pytest
import pytest_html

from cwh.report.record import counts_as_error, is_waived

COLUMNS = ("Host", "Control", "STIG ID", "Severity", "Status")
_STATUS_CLASS = {"NotAFinding": "passed", "Open": "failed", "Not_Applicable": "skipped",
                 "Not_Reviewed": "skipped"}
_audit: Any = None


def configure(config: pytest.Config, audit: Any) -> None:
    """Default to reports/report.html, self-contained, unless the user chose --html."""
    global _audit
    _audit = audit
    if not config.option.htmlpath:
        config.option.htmlpath = str(audit.report_dir / "report.html")
        config.option.self_contained_html = True


def _status_label(record: dict[str, Any]) -> str:
    status = record["status"]
    if is_waived(record):
        return f"{status} (waived)"
    if counts_as_error(record):
        return f"{status} (error)"
    return status


def pytest_html_report_title(report: Any) -> None:
    report.title = "ConnectWise ScreenConnect hardening audit"


def pytest_html_results_table_header(cells: list[str]) -> None:
    cells[1:1] = [f'<th class="sortable" data-column-type="{name.lower().replace(" ", "")}">'
                  f"{name}</th>" for name in COLUMNS]


def pytest_html_results_table_row(report: Any, cells: list[str]) -> None:
    record = getattr(report, "cwh_result", None)
    if record is None:
        values = [""] * len(COLUMNS)
    else:
        values = [record["host"], record["control_id"], ", ".join(record["stig_ids"]) or "-",
                  f"{record['cat']} ({record['severity']})", _status_label(record)]
    cells[1:1] = [f'<td class="col-{name.lower().replace(" ", "")}">{escape(str(value))}</td>'
                  for name, value in zip(COLUMNS, values, strict=True)]


def _evidence_html(record: dict[str, Any]) -> str:
    rows = [
        ("Status", _status_label(record)),
        ("Reason", record["reason"]),
        ("Expected", record["expected"]),
        ("Observed", record["observed"]),
        ("Requirement", record["requirement"]),
        ("STIG", "; ".join(f"{r['benchmark']} {r['vuln_id']} {r['stig_id']}"
                           for r in record["stig_refs"]) or "none for this OS"),
        ("Host OS", record["os"]),
        ("Source", f"{record['source']}: {record['guide_section']}".rstrip(": ")),
        ("Fix", record["fix"]),
    ]
    if record.get("waiver"):
        waiver = record["waiver"]
        expired = ", EXPIRED" if waiver.get("expired") else ""
        rows.append(("Waiver", f"{waiver.get('justification')} (approved by "
                               f"{waiver.get('approver')}, {waiver.get('ticket')}, expires "
                               f"{waiver.get('expires')}{expired})"))
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows if v)
    evidence = "".join(
        "<tr>" + "".join(f"<td>{escape(str(e.get(k, '')))}</td>"
                         for k in ("source", "location", "observed", "expected", "raw")) + "</tr>"
        for e in record["evidence"])
    return (
        f'<div class="cwh-evidence"><table>{table}</table>'
        "<table><tr><th>Read with</th><th>Where</th><th>Observed</th><th>Expected</th>"
        f"<th>Raw excerpt</th></tr>{evidence}</table></div>"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Attach the evidence before pytest-html reads the report (works under xdist too)."""
    record = getattr(report, "cwh_result", None)
    if record is not None:
        report.extras = [*getattr(report, "extras", []), pytest_html.extras.html(
            _evidence_html(record))]


STATUSES = ("NotAFinding", "Open", "Not_Applicable", "Not_Reviewed")
_SHORT = {"NotAFinding": "NF", "Open": "O", "Not_Applicable": "NA", "Not_Reviewed": "NR"}
STYLE = """<style>
.cwh-run li{margin:0}.cwh-summary td,.cwh-summary th,.cwh-matrix td,.cwh-matrix th{
border:1px solid #ccc;padding:2px 6px;text-align:center}.cwh-summary,.cwh-matrix{
border-collapse:collapse;margin:6px 0}.cwh-NotAFinding{background:#d4edda}
.cwh-Open{background:#f8d7da}.cwh-Not_Applicable{background:#eee}.cwh-Not_Reviewed{
background:#fff3cd}.cwh-waived{background:#e2d9f3}.cwh-evidence table{margin:4px 0}
.cwh-evidence th{text-align:left;vertical-align:top;padding-right:8px}</style>"""


def compliance(records: list[dict[str, Any]]) -> str:
    """NotAFinding over everything that applies: Not_Reviewed counts against, N/A does not."""
    applicable = [r for r in records if r["status"] != "Not_Applicable"]
    if not applicable:
        return "n/a"
    passed = sum(r["status"] == "NotAFinding" for r in applicable)
    return f"{100 * passed / len(applicable):.0f}%"


def _host_table(records: list[dict[str, Any]]) -> str:
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_host[record["host"]].append(record)
    head = "".join(f"<th>{s}</th>" for s in STATUSES)
    cats = ("CAT I", "CAT II", "CAT III")
    rows = []
    for host in sorted(by_host):
        mine = by_host[host]
        counts = Counter(r["status"] for r in mine)
        cells = "".join(f"<td class='cwh-{s}'>{counts.get(s, 0)}</td>" for s in STATUSES)
        open_by_cat = Counter(r["cat"] for r in mine if r["status"] == "Open")
        cat_cells = "".join(f"<td>{open_by_cat.get(c, 0)}</td>" for c in cats)
        waived = sum(1 for r in mine if is_waived(r))
        errors = sum(1 for r in mine if counts_as_error(r))
        rows.append(f"<tr><td>{escape(host)}</td>{cells}{cat_cells}<td>{waived}</td>"
                    f"<td>{errors}</td><td>{compliance(mine)}</td></tr>")
    cat_head = "".join(f"<th>Open {c}</th>" for c in cats)
    return (f"<table class='cwh-summary'><tr><th>Host</th>{head}{cat_head}<th>Waived</th>"
            f"<th>Errors</th><th>Compliance</th></tr>{''.join(rows)}</table>")


def _fleet_matrix(records: list[dict[str, Any]]) -> str:
    """Controls x hosts, for fleets: where one control fails everywhere, or one host drifts."""
    hosts = sorted({r["host"] for r in records})
    if len(hosts) < 2:
        return ""
    by_key = {(r["control_id"], r["host"]): r for r in records}
    controls = sorted({r["control_id"] for r in records})
    head = "".join(f"<th>{escape(h)}</th>" for h in hosts)
    rows = []
    for control in controls:
        cells = []
        for host in hosts:
            record = by_key.get((control, host))
            if record is None:
                cells.append("<td></td>")
                continue
            css = "waived" if is_waived(record) else record["status"]
            cells.append(f"<td class='cwh-{css}' title='{escape(_status_label(record))}'>"
                         f"{_SHORT[record['status']]}</td>")
        rows.append(f"<tr><th>{escape(control)}</th>{''.join(cells)}</tr>")
    return (f"<p>Fleet matrix (NF NotAFinding, O Open, NA Not_Applicable, NR Not_Reviewed; "
            f"purple: waived)</p><table class='cwh-matrix'><tr><th>Control</th>{head}</tr>"
            f"{''.join(rows)}</table>")


def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str],
                                session: pytest.Session) -> None:
    if _audit is None:
        return
    from cwh.report.writers import run_metadata

    meta = run_metadata(_audit, session.config)
    facts = "".join(f"<li><b>{escape(k.replace('_', ' '))}</b>: {escape(str(v))}</li>"
                    for k, v in meta.items())
    records = sorted(_audit.results.values(), key=lambda r: (r["host"], r["control_id"]))
    prefix.append(f"{STYLE}<ul class='cwh-run'>{facts}</ul>{_host_table(records)}"
                  f"{_fleet_matrix(records)}")
