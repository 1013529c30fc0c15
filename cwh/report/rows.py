"""One result as a table row: control ID and title, STIG IDs, severity, status, expected and
observed in the row itself, and the evidence in a <details> under the title.

Rows are the bulk of every page (50,000 on a 200-host run of the full profile), so they are
built here with f-strings rather than in a Jinja2 template, which costs five times as much per
row. Every value that comes from a record goes through `e`, which escapes exactly what
markupsafe.escape does (& < > " ') without making a Markup object per value; the only
unescaped values are from fixed sets (bucket names, CAT keys).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup

from cwh.report import fleet_view as fv

CELL_LIMIT = 400  # expected / observed as the row shows them (the evidence keeps the rest)
RAW_LIMIT = 4000  # a raw excerpt in the evidence (results.json has everything)
CAT_KEY = {"CAT I": "cat1", "CAT II": "cat2", "CAT III": "cat3"}
COLUMNS = ("Control", "Title", "STIG ID", "Severity", "Status", "Expected", "Observed")
_WIDTH = {"Host": "w-host", "Control": "w-cid", "Title": "w-ttl", "STIG ID": "w-stig",
          "Severity": "w-sev", "Status": "w-st"}


def e(text: str) -> str:
    """Text as HTML text or a quoted attribute value."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _clip(text: str, limit: int) -> tuple[str, bool]:
    return (text, False) if len(text) <= limit else (text[:limit] + "…", True)


def _details(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    refs = "; ".join(f"{fv.one_line(r.get('benchmark'))} {fv.one_line(r.get('vuln_id'))} "
                     f"{fv.one_line(r.get('stig_id'))}" for r in record.get("stig_refs") or ())
    source = fv.one_line(f"{record.get('source') or ''}: {record.get('guide_section') or ''}")
    details = [("Reason", fv.one_line(record.get("reason"))),
               ("Requirement", fv.one_line(record.get("requirement"))),
               ("STIG", refs or "no STIG rule for this OS"),
               ("Source", source.strip(": ")),
               ("Fix", fv.one_line(record.get("fix"))),
               ("Checked", fv.one_line(record.get("checked_at")))]
    waiver = record.get("waiver")
    if waiver:
        expired = " EXPIRED: the finding counts again" if waiver.get("expired") else ""
        details.append(("Waiver", fv.one_line(
            f"{waiver.get('id', '')}: {waiver.get('justification', '')} (approved by "
            f"{waiver.get('approver', '')}, {waiver.get('ticket', '')}, expires "
            f"{waiver.get('expires', '')}){expired}")))
    return [(k, v) for k, v in details if v]


def _evidence(items: Iterable[Mapping[str, Any]]) -> str:
    rows = []
    for item in items:
        raw, cut = _clip(fv.shown(item.get("raw")), RAW_LIMIT)
        rows.append(f"<tr><td>{e(fv.one_line(item.get('source')))}</td>"
                    f"<td>{e(fv.one_line(item.get('location')))}</td>"
                    f"<td>{e(fv.one_line(item.get('observed')))}</td>"
                    f"<td>{e(fv.one_line(item.get('expected')))}</td></tr>")
        if raw:
            note = "\n[cut here: results.json has the whole excerpt]" if cut else ""
            rows.append(f'<tr><td colspan="4"><pre>{e(raw)}{note}</pre></td></tr>')
    if not rows:
        return ""
    return ("<table><thead><tr><th>Read with</th><th>Where</th><th>Observed</th>"
            f"<th>Expected</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def row_html(record: Mapping[str, Any], with_host: bool) -> str:
    bucket = fv.bucket(record)
    host = e(fv.one_line(record["host"]))
    cat = fv.one_line(record.get("cat"))
    area = e(fv.one_line(record.get("area")))
    expected, expected_cut = _clip(fv.one_line(record.get("expected")), CELL_LIMIT)
    # A result that could not be judged may have observed nothing: its reason says why.
    observed, observed_cut = _clip(fv.one_line(record.get("observed") or (
        record.get("reason") if record.get("status") != "NotAFinding" else "")), CELL_LIMIT)
    cut = ' <span class="note">(cut: the evidence has all)</span>' \
        if expected_cut or observed_cut else ""
    stig = ", ".join(f'<span class="nw">{e(fv.one_line(s))}</span>'
                     for s in record.get("stig_ids") or ()) or "none"
    details = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in _details(record))
    control = e(fv.one_line(record["control_id"]))
    title = e(fv.one_line(record.get("title"))) or control
    return (
        f'<tr class="result s-{bucket}" data-host="{host}" '
        f'data-cat="{CAT_KEY.get(cat, "cat")}" data-status="{bucket}" data-area="{area}">'
        + (f"<td>{host}</td>" if with_host else "")
        + f'<th scope="row" class="cid">{control}</th>'
        f'<td class="ttl"><details><summary>{title}</summary><div class="evidence">'
        f'<dl class="facts">{details}</dl>{_evidence(record.get("evidence") or ())}</div>'
        f'</details></td><td class="stig">{stig}</td>'
        f"<td>{e(cat)} ({e(fv.one_line(record.get('severity')))})</td>"
        f'<td><span class="badge b-{bucket}">{e(fv.status_text(record))}</span></td>'
        f'<td class="eo">{e(expected)}</td><td class="eo">{e(observed)}{cut}</td></tr>\n')


def results_table(records: Iterable[Mapping[str, Any]], with_host: bool) -> Markup:
    columns = ("Host", *COLUMNS) if with_host else COLUMNS
    head = "".join(f'<th scope="col" class="{_WIDTH.get(c, "")}">{c}</th>' for c in columns)
    body = "".join(row_html(r, with_host) for r in records)
    return Markup(f'<div class="scroll"><table id="results"><thead><tr>{head}</tr></thead>'
                  f"<tbody>\n{body}</tbody></table></div>")
