"""The HTML pages, without a browser: safe and distinct host file names, the verdict in words,
no Python reprs, escaping, the Content-Security-Policy, colours that pass WCAG AA, and what
report.html holds for small and large runs."""

from __future__ import annotations

import base64
import hashlib
import re

import lxml.html
import pytest

from cwh.report import exitcodes
from cwh.report import fleet_view as fv
from cwh.report.hostfiles import host_file_stems
from cwh.report.pages import TEMPLATES, render_pages
from cwh.report.palette import (
    COLOURS,
    GRAPHIC_PAIRS,
    TEXT_PAIRS,
    contrast,
)
from tests.browser.synthetic import fleet_document

SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
HOSTILE = "<script>alert(1)</script>"


# --- file names -------------------------------------------------------------------------------

def test_host_pages_are_named_like_the_hosts_other_files_and_never_shared():
    """IPs and FQDNs that differ only after the last dot, names differing only in case, names
    that are no file name: each host its own page, linked from the index."""
    hosts = ["10.0.0.1", "10.0.0.2", "10.0.0.10", "web01.example.com", "web01.example.org",
             "Web01.example.com", "a/b", "a_b", "../etc/passwd", "con", HOSTILE]
    pages = render_pages(_document([_record(h, "Open") for h in hosts]), 1)
    stems = host_file_stems(hosts)
    names = [p for p in pages if p != "report.html"]
    assert sorted(names) == sorted(f"hosts/{stems[h]}.html" for h in hosts)
    assert len({n.casefold() for n in names}) == len(hosts)
    assert all(SAFE.match(n.removeprefix("hosts/")) for n in names)
    assert "hosts/10.0.0.1.html" in names and "hosts/web01.example.org.html" in names
    for name in names:
        assert f'href="{name}"' in pages["report.html"]


# --- words ------------------------------------------------------------------------------------

def _record(host: str, status: str, severity: str = "high", **extra) -> dict:
    cat = {"high": "CAT I", "medium": "CAT II", "low": "CAT III"}[severity]
    return {"host": host, "control_id": "CWH-X-01", "title": "A title", "area": "gpo",
            "status": status, "severity": severity, "cat": cat, "stig_ids": [],
            "stig_refs": [], "expected": "DWord = 1", "observed": "DWord 0", "reason": "r",
            "requirement": "", "evidence": [], "error": extra.pop("error", False),
            "waiver": None, **extra}


@pytest.mark.parametrize(("records", "fail_on", "word", "phrase"), [
    ([_record("a", "NotAFinding")], "cat3", "Compliant", "Every one of 1 results"),
    ([_record("a", "Open"), _record("b", "NotAFinding")], "cat3", "Findings",
     "1 open finding at any severity on 1 of 2 hosts"),
    ([_record("a", "Open", "low")], "cat2", "Compliant", "1 open below the threshold"),
    ([_record("a", "Not_Reviewed", error=True), _record("a", "Open")], "cat3", "Incomplete",
     "1 result on 1 of 1 hosts could not be evaluated"),
    ([], "cat3", "Nothing audited", "No control ran"),
])
def test_the_verdict_says_in_words_what_the_exit_code_says(records, fail_on, word, phrase):
    code = exitcodes.decide(records, 0, fail_on)
    verdict = fv.verdict(code, records, fail_on)
    assert (verdict.word, verdict.code) == (word, code)
    assert phrase in verdict.sentence


def test_run_facts_are_words_not_python_reprs():
    facts = dict(fv.run_facts({"hosts": ["a", "b"], "waivers": None, "benchmarks": [],
                               "markers": "", "fail_on": "cat2", "started": "x",
                               "suite_version": "1", "catalog_version": "2"}, 2, 68))
    text = " ".join(facts.values())
    for repr_like in ("['", "None", "[]", "{'"):
        assert repr_like not in text
    assert facts["Waivers"].startswith("none") and facts["Controls selected"] == "all controls"
    assert facts["Hosts"] == "2 hosts, 68 results"


def test_compliance_counts_not_reviewed_against_and_not_applicable_not_at_all():
    records = [_record("a", "NotAFinding"), _record("a", "Not_Reviewed"),
               _record("a", "Not_Applicable")]
    assert fv.compliance(records) == 50
    assert fv.compliance_text(99.6) == "99.6%" and fv.compliance_text(100) == "100%"
    assert fv.compliance([_record("a", "Not_Applicable")]) is None


# --- pages ------------------------------------------------------------------------------------

def _document(records: list[dict], hosts: dict | None = None) -> dict:
    return {"run": {"fail_on": "cat3", "catalog_version": "2026.11.1", "hosts": sorted(
        {r["host"] for r in records})}, "hosts": hosts or {}, "host_errors": {},
            "results": records}


def test_hostile_host_strings_are_text_on_every_page():
    record = _record(HOSTILE, "Open", observed=HOSTILE, title=HOSTILE,
                     evidence=[{"source": HOSTILE, "location": '"><img src=x onerror=alert(1)>',
                                "observed": HOSTILE, "expected": "", "raw": HOSTILE}])
    pages = render_pages(_document([record], {HOSTILE: {"os": HOSTILE, "domain": HOSTILE}}),
                         1)
    assert len(pages) == 2
    for name, text in pages.items():
        assert "<script>alert" not in text and "<img src=x" not in text, name
        tree = lxml.html.fromstring(text)
        assert [s.text for s in tree.iter("script")] and all(
            "alert" not in (s.text or "") for s in tree.iter("script"))
        assert not [el for el in tree.iter() if isinstance(el.tag, str) and el.tag == "img"]
        assert HOSTILE in tree.text_content(), name


def test_the_policy_allows_exactly_the_pages_own_style_and_script():
    text = render_pages(_document([_record("a", "Open")]), 1)["report.html"]
    tree = lxml.html.fromstring(text)
    policy = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in policy
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        [element] = tree.iter(tag)
        digest = base64.b64encode(hashlib.sha256(element.text.encode()).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", text)  # nothing fetched


def test_small_runs_show_every_row_on_report_html_large_runs_only_the_index():
    document = fleet_document(hosts=4, controls=30)
    small = render_pages(document, 1, inline_limit=120)
    large = render_pages(document, 1, inline_limit=119)
    assert small["report.html"].count('<tr class="result') == 120
    assert large["report.html"].count('<tr class="result') == 0
    assert large["report.html"].count('<tr class="fleet-host"') == 4
    assert "more than the 119 this page shows inline" in large["report.html"]
    for pages in (small, large):
        hosts = [p for p in pages if p.startswith("hosts/")]
        assert len(hosts) == 4
        assert all(pages[p].count('<tr class="result') == 30 for p in hosts)
        for host in hosts:  # the index links every host page
            assert f'href="{host}"' in pages["report.html"]


def test_failing_rows_carry_expected_and_observed_in_the_row_not_only_the_evidence():
    record = _record("a", "Open", expected="DWord = 1", observed="DWord 0x91 (145)")
    text = render_pages(_document([record]), 1)["hosts/a.html"]
    row = lxml.html.fromstring(text).xpath("//tr[contains(@class, 'result')]")[0]
    cells = [c.text_content() for c in row.xpath("./td[@class='eo']")]
    assert cells == ["DWord = 1", "DWord 0x91 (145)"]
    assert row.xpath(".//summary")[0].text_content() == "A title"


# --- colours ----------------------------------------------------------------------------------

def test_text_colours_pass_wcag_aa_and_chart_colours_non_text_contrast():
    for foreground, background in TEXT_PAIRS:
        assert contrast(COLOURS[foreground], COLOURS[background]) >= 4.5, (foreground, background)
    for foreground, background in GRAPHIC_PAIRS:
        assert contrast(COLOURS[foreground], COLOURS[background]) >= 3, foreground


def test_the_stylesheet_uses_only_the_palette_and_no_small_print():
    css = (TEMPLATES / "report.css").read_text()
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(", css)  # colours: var(--...)
    assert set(re.findall(r"var\(--([a-z-]+)\)", css)) <= set(COLOURS)
    sizes = [float(s) for s in re.findall(r"font(?:-size)?:[^;}]*?(\d+(?:\.\d+)?)px", css)]
    assert sizes and min(sizes) >= 14


def test_the_row_escape_is_markupsafes():
    from markupsafe import escape

    from cwh.report.rows import e

    for text in (HOSTILE, '"><img src=x onerror=alert(1)>', "a & b 'c'", "plain", "", "]]>"):
        assert e(text) == str(escape(text))


def test_a_killed_runs_host_pages_are_cleared_by_the_next_run(tmp_path):
    from cwh.report.rundir import RunDir

    killed = RunDir.open(tmp_path)  # never finished: no manifest lists the pages it wrote,
    killed.will_write(["report.html", "hosts/sc01.html"])  # but its status says what it began
    (tmp_path / "hosts").mkdir()
    (tmp_path / "hosts" / "sc01.html").write_text("stale")
    (tmp_path / "hosts" / "notes.html").write_text("someone's own page")
    RunDir.open(tmp_path)
    assert not (tmp_path / "hosts" / "sc01.html").exists()
    assert (tmp_path / "hosts" / "notes.html").read_text() == "someone's own page"


def test_pytest_html_writes_only_when_asked_and_never_over_report_html(tmp_path):
    from types import SimpleNamespace

    from cwh.report import html

    audit = SimpleNamespace(report_dir=tmp_path)
    config = SimpleNamespace(option=SimpleNamespace(htmlpath=None))
    html.configure(config, audit)
    assert config.option.htmlpath is None and not html._enabled
    config.option.htmlpath = str(tmp_path / "report.html")
    html.configure(config, audit)
    assert config.option.htmlpath == str((tmp_path / "pytest-html.html").resolve())
    assert html._enabled
    config.option.htmlpath = str(tmp_path / "mine.html")
    html.configure(config, audit)
    assert config.option.htmlpath == str(tmp_path / "mine.html")
    html.configure(SimpleNamespace(option=SimpleNamespace(htmlpath=None)), audit)  # as it was
