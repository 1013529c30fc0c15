"""The HTML pages people read: report.html (the run's verdict, the fleet index and, for runs up
to INLINE_LIMIT results, every result with filters) and one page per host, hosts/<host>.html.

Each page is one self-contained file (styles, script and chart inline; nothing fetched) that
stays small whatever the fleet: a host page holds one host's results, and report.html holds
one row per host once a run is larger than INLINE_LIMIT. The templates (cwh/report/templates)
escape every value (Jinja2 autoescape), and a Content-Security-Policy lets only the page's own
script run, so a string from a host or the inventory can never become markup or code.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from cwh.report import fleet_view as fv
from cwh.report.palette import css_variables
from cwh.report.rows import CAT_KEY, results_table

TEMPLATES = Path(__file__).with_name("templates")
REPORT = "report.html"
HOSTS_DIR = "hosts"
# Above this many results report.html is the fleet index only (measured: docs/performance.md).
INLINE_LIMIT = 1000


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.globals.update(BUCKETS=fv.BUCKETS, BUCKET_LABEL=fv.BUCKET_LABEL, CATS=fv.CATS,
                       CAT_KEY=CAT_KEY)
    return env


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@lru_cache(maxsize=1)
def _assets() -> tuple[str, str, str]:
    """(style, script, Content-Security-Policy): only this exact style and script may apply."""
    css = css_variables() + (TEMPLATES / "report.css").read_text(encoding="utf-8")
    script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    policy = (f"default-src 'none'; style-src 'sha256-{_sha256(css)}'; "
              f"script-src 'sha256-{_sha256(script)}'; img-src data:; base-uri 'none'; "
              "form-action 'none'")
    return css, script, policy


def _filters(records: list[dict[str, Any]], hosts: list[fv.HostView] | None) -> dict[str, Any]:
    cats = {r.get("cat") for r in records}
    buckets = {fv.bucket(r) for r in records}
    return {"hosts": [h.name for h in hosts] if hosts else [],
            "cats": [c for c in fv.CATS if c in cats],
            "buckets": [b for b in fv.BUCKETS if b in buckets],
            "areas": sorted({fv.one_line(r.get("area")) for r in records})}


def _render(template: str, **values: Any) -> str:
    css, script, policy = _assets()
    return _environment().get_template(template).render(
        css=Markup(css), script=Markup(script), policy=policy, **values)


def render_host_page(host: fv.HostView, run_facts: list[tuple[str, str]],
                     run_verdict: fv.Verdict) -> str:
    return _render("host.html.j2", host=host, table=results_table(host.records, False),
                   total=len(host.records), filters=_filters(host.records, None),
                   run_facts=run_facts,
                   run_verdict=run_verdict, index=f"../{REPORT}")


def render_report(hosts: list[fv.HostView], records: list[dict[str, Any]],
                  run_facts: list[tuple[str, str]], run_verdict: fv.Verdict,
                  inline_limit: int = INLINE_LIMIT) -> str:
    inline = len(records) <= inline_limit
    table = results_table((r for h in hosts for r in h.records), True) if inline else ""
    return _render("report.html.j2", hosts=hosts, table=table, inline=inline,
                   inline_limit=inline_limit, total=len(records),
                   filters=_filters(records, hosts) if inline else None,
                   controls=fv.control_rows(records), run_facts=run_facts,
                   run_verdict=run_verdict)


def render_pages(document: Mapping[str, Any], exit_code: int,
                 versions: Mapping[str, str] | None = None,
                 inline_limit: int = INLINE_LIMIT) -> dict[str, str]:
    """Every page of a run, by path relative to the report directory. `document` has the shape
    of results.json (run, hosts, host_errors, results); `versions` names each DISA benchmark's
    version (from --stig-xccdf) by benchmark id."""
    run = document.get("run") or {}
    records = list(document.get("results") or [])
    fail_on = str(run.get("fail_on") or "cat3")
    hosts = fv.host_views(records, document.get("hosts") or {}, document.get("host_errors") or {},
                          run_code=exit_code, fail_on=fail_on, versions=versions or {},
                          catalog_version=str(run.get("catalog_version") or ""),
                          hosts=run.get("hosts") or ())
    facts = fv.run_facts(run, len(hosts), len(records))
    run_verdict = fv.verdict(exit_code, records, fail_on)
    pages = {REPORT: render_report(hosts, records, facts, run_verdict, inline_limit)}
    for host in hosts:
        pages[host.page] = render_host_page(host, facts, run_verdict)
    return pages


def write_pages(report_dir: Path, document: Mapping[str, Any], exit_code: int,
                versions: Mapping[str, str] | None = None,
                inline_limit: int = INLINE_LIMIT) -> list[Path]:
    """Write report.html and hosts/*.html; returns the files written."""
    written = []
    pages = render_pages(document, exit_code, versions, inline_limit)
    for relative, text in pages.items():
        path = report_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def benchmark_versions(benchmarks: Mapping[str, Any]) -> dict[str, str]:
    """'V2R1 (Release: 1 Benchmark Date: ...)' per benchmark id, from parsed XCCDF files."""
    return {bid: fv.one_line(f"{b.short_version} ({b.release_info})" if b.release_info
                             else b.short_version) for bid, b in benchmarks.items()}

