"""pytest-html integration, for whoever asks for pytest's own page with `--html PATH`.

The page people read is report.html (cwh/report/pages.py), written for every run. pytest-html's
page is kept for developers who want pytest's view (outcomes, durations, logs): these hooks
give it the audit's columns (host, control and title, STIG ID, severity, status, expected and
observed), the evidence of every result and the run's verdict. pytest-html inserts custom cells,
extras and the summary as raw HTML, so everything that came from a host or the inventory is
escaped here. Registered only on the controller and only when pytest-html is installed.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

import pytest
import pytest_html

from cwh.report import exitcodes
from cwh.report import fleet_view as fv

COLUMNS = ("Host", "Control", "Title", "STIG ID", "Severity", "Status", "Expected", "Observed")
_audit: Any = None
_enabled = False


def configure(config: pytest.Config, audit: Any) -> None:
    """pytest-html writes its page only when --html asks for one. report.html is the suite's
    own page, so an --html naming that very file is moved beside it as pytest-html.html."""
    global _audit, _enabled
    _audit = audit
    _enabled = bool(config.option.htmlpath)
    if not _enabled:
        return
    ours = (audit.report_dir / "report.html").resolve()
    if Path(config.option.htmlpath).resolve() == ours:
        config.option.htmlpath = str(ours.with_name("pytest-html.html"))


def _cell(name: str, value: Any) -> str:
    return f'<td class="col-{name.lower().replace(" ", "")}">{escape(fv.one_line(value))}</td>'


def pytest_html_report_title(report: Any) -> None:
    report.title = "ConnectWise ScreenConnect hardening audit (pytest view)"


def pytest_html_results_table_header(cells: list[str]) -> None:
    if _enabled:
        cells[1:1] = [f'<th class="sortable" data-column-type="{name.lower().replace(" ", "")}">'
                      f"{name}</th>" for name in COLUMNS]


def pytest_html_results_table_row(report: Any, cells: list[str]) -> None:
    if not _enabled:
        return
    record = getattr(report, "cwh_result", None)
    if record is None:
        values = [""] * len(COLUMNS)
    else:
        values = [record["host"], record["control_id"], record.get("title"),
                  ", ".join(record["stig_ids"]) or "-", f"{record['cat']} ({record['severity']})",
                  fv.status_text(record), record.get("expected"), record.get("observed")]
    cells[1:1] = [_cell(name, value) for name, value in zip(COLUMNS, values, strict=True)]


def _evidence_html(record: dict[str, Any]) -> str:
    rows = [
        ("Status", fv.status_text(record)),
        ("Reason", record["reason"]),
        ("Requirement", record["requirement"]),
        ("STIG", "; ".join(f"{r['benchmark']} {r['vuln_id']} {r['stig_id']}"
                           for r in record["stig_refs"]) or "none for this OS"),
        ("Host OS", record["os"]),
        ("Source", f"{record['source']}: {record['guide_section']}".rstrip(": ")),
        ("Fix", record["fix"]),
    ]
    waiver = record.get("waiver")
    if waiver:
        expired = ", EXPIRED" if waiver.get("expired") else ""
        rows.append(("Waiver", f"{waiver.get('justification')} (approved by "
                               f"{waiver.get('approver')}, {waiver.get('ticket')}, expires "
                               f"{waiver.get('expires')}{expired})"))
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(fv.one_line(v))}</td></tr>"
                    for k, v in rows if v)
    evidence = "".join(
        "<tr>" + "".join(f"<td>{escape(fv.shown(e.get(k, '')))}</td>"
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
    if _enabled and record is not None:
        report.extras = [*getattr(report, "extras", []), pytest_html.extras.html(
            _evidence_html(record))]


# pytest-html's own outcome filters and "N tests took" count pytest outcomes (a waived finding
# is an "expected failure", a skip is not counted): the audit's counts replace them here. Its
# grey 12 px text is set to the suite's readable size and colour.
STYLE = """<style>
body,p,a,td,th,button,.summary__data p{font-size:15px!important;color:#1b1b1b}a{color:#0a4b94}
.run-count,p.filter,.filters{display:none}.cwh-summary td,.cwh-summary th{
border:1px solid #767676;padding:2px 6px;text-align:center}.cwh-summary{border-collapse:collapse;
margin:6px 0}.cwh-evidence table{margin:4px 0}.cwh-evidence th{text-align:left;
vertical-align:top;padding-right:8px}.cwh-verdict{font-size:16px;font-weight:600}</style>"""


def _host_table(records: list[dict[str, Any]]) -> str:
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_host[record["host"]].append(record)
    head = "".join(f"<th>{escape(fv.BUCKET_LABEL[b])}</th>" for b in fv.BUCKETS)
    rows = []
    for host in sorted(by_host):
        mine = by_host[host]
        cells = "".join(f"<td>{sum(fv.bucket(r) == b for r in mine)}</td>" for b in fv.BUCKETS)
        rows.append(f"<tr><td>{escape(fv.one_line(host))}</td>{cells}"
                    f"<td>{fv.compliance_text(fv.compliance(mine))}</td></tr>")
    return (f"<table class='cwh-summary'><tr><th>Host</th>{head}<th>Compliance</th></tr>"
            f"{''.join(rows)}</table>")


def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str],
                                session: pytest.Session) -> None:
    if _audit is None or not _enabled:
        return
    from cwh.report.writers import run_metadata

    records = sorted(_audit.results.values(), key=lambda r: (r["host"], r["control_id"]))
    fail_on = _audit.options.fail_on
    code = exitcodes.decide(records, int(session.exitstatus), fail_on)
    verdict = fv.verdict(code, records, fail_on)
    facts = "".join(f"<li><b>{escape(label)}</b>: {escape(value)}</li>" for label, value in
                    fv.run_facts(run_metadata(_audit, session.config),
                                 len({r['host'] for r in records}), len(records)))
    prefix.append(f"{STYLE}<p class='cwh-verdict'>{escape(verdict.word)}: "
                  f"{escape(verdict.sentence)} Exit code {code}.</p><ul>{facts}</ul>"
                  f"<p>{len(records)} results</p>{_host_table(records)}")
