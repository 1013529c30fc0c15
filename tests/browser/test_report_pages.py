"""The HTML pages of a real lab run, read in headless Chromium: titles and expected/observed in
every row, per-host headers, the verdict with its exit code, filters that work, links from the
fleet index to each host's page, readable text, and no script from a hostile host running.

Set CWH_SCREENSHOTS=DIR to keep the screenshots (README, "Outputs", says what they show);
otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from cwh.report import exitcodes
from cwh.report import fleet_view as fv
from cwh.report.hostfiles import host_file_stems
from tests.browser.chromium import page, read_pages, unavailable
from tests.e2e.audit_run import AuditRun, lab_host, run_audit, write_inventory

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))

FAULT_IMAGES = Path(__file__).resolve().parents[1] / "faults" / "images"
HOSTILE_HOST = "f-hostile-identity"
# Two names that differ only in case: their pages (like their checklists) must not share a
# file on a case-insensitive file system.
UPPER_HOST = "Lab-Drifted.Example.COM"
LOWER_TWIN = "lab-drifted.example.com"
WAIVED = ("lab-drifted", "CWH-GPO-02")
FAST = {"ansible_winrm_read_timeout_sec": 3, "ansible_winrm_operation_timeout_sec": 2,
        "cwh_command_timeout_sec": 3}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> AuditRun:
    tmp = tmp_path_factory.mktemp("browser-run")
    waivers = tmp / "waivers.yml"
    waivers.write_text(yaml.safe_dump({"waivers": [{
        "id": "W-7", "control": WAIVED[1], "hosts": [WAIVED[0]], "approver": "J. Smith (ISSO)",
        "justification": "AutoPlay stays until the kiosk is replaced", "ticket": "CHG-7",
        "expires": (dt.date.today() + dt.timedelta(days=365)).isoformat()}]}))
    inventory = write_inventory(tmp, {
        "lab-hardened": lab_host("hardened"),
        "lab-drifted": lab_host("drifted"),
        UPPER_HOST: lab_host("drifted"),
        LOWER_TWIN: lab_host("drifted"),
        # as the fault corpus has them: hardened hosts whose answers carry markup
        HOSTILE_HOST: lab_host("hardened",
                               cwh_lab_image=str(FAULT_IMAGES / "hostile-identity.yml")),
        "f-hostile-evidence": lab_host("hardened",
                                       cwh_lab_image=str(FAULT_IMAGES / "hostile-evidence.yml")),
        "down": lab_host("hardened", cwh_lab_fault="refuse", **FAST),
    })
    # The guide's controls: report.html inlines every result (and its filters) up to 1,000
    # results, which the full STIG profile of seven hosts passes.
    result = run_audit(tmp, inventory, "-m", "guide", "--waivers", str(waivers), timeout=240)
    assert (result.report_dir / "report.html").is_file(), result.output[-3000:]
    return result


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    wanted = os.environ.get("CWH_SCREENSHOTS")
    directory = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _host_page(run: AuditRun, host: str) -> Path:
    stems = host_file_stems(sorted({r["host"] for r in run.results}))
    return run.report_dir / "hosts" / f"{stems[host]}.html"


def _expected_visible(run: AuditRun, keep) -> int:
    return sum(1 for r in run.results if keep(r))


@pytest.fixture(scope="module")
def report(run, shots):
    """report.html read once, with every filter clicked in turn."""
    present = sorted({fv.bucket(r) for r in run.results})
    actions = [
        {"name": "hide Not a finding",
         "steps": [{"click": "input[name=status][value=NotAFinding]"}],
         "screenshot": str(shots / "report-filtered-no-passes.png")},
        {"name": "show all", "steps": [{"click": "#filters-reset"}]},
        {"name": "host lab-drifted", "steps": [{"select": "select[name=host]",
                                                "value": "lab-drifted"}]},
        {"name": "and no CAT I", "steps": [{"click": "input[name=cat][value=cat1]"}]},
        {"name": "show all again", "steps": [{"click": "#filters-reset"}]},
        {"name": "no gpo area", "steps": [{"click": "input[name=area][value=gpo]"}]},
        {"name": "only waived", "steps": [{"click": "#filters-reset"}] + [
            {"click": f"input[name=status][value={b}]"} for b in present if b != "Waived"]},
        {"name": "search", "steps": [{"click": "#filters-reset"},
                                     {"fill": "input[name=q]", "value": "cwh-tls-01"}]},
    ]
    [result] = read_pages([page(run.report_dir / "report.html", actions=actions, rows=True,
                                readability=True, bodyText=True,
                                screenshot=str(shots / "report-top.png"))])
    return result


def test_the_verdict_is_in_words_with_the_runs_exit_code(run, report):
    assert run.exit_code == 6, run.output[-2000:]  # the host that refuses makes it incomplete
    assert run.document["run"]["exit_status"] == 6
    assert report["shown"]["verdict"].startswith("Incomplete")
    assert "exit code 6" in report["shown"]["verdict"]
    assert "could not be evaluated" in report["shown"]["verdict"]
    assert report["shown"]["title"].startswith("Incomplete")


def test_every_row_shows_its_title_and_failing_rows_show_expected_and_observed(run, report):
    rows = {(r["host"], r["control"]): r for r in report["rowsShown"]}
    assert len(rows) == len(run.results) == report["shown"]["rows"]
    for record in run.results:
        row = rows[(record["host"], record["control_id"])]
        assert row["title"] == record["title"], row
        assert not row["detailsOpen"]
        if record["status"] in ("Open", "Not_Reviewed") and record["observed"]:
            assert row["expectedVisible"] and row["observedVisible"]
            assert row["observed"].startswith(fv.one_line(record["observed"])[:60]), row
            assert row["expected"].startswith(fv.one_line(record["expected"])[:60]), row
    waived = rows[WAIVED]
    assert waived["status"] == "Waived"


def test_each_host_has_a_header_with_its_facts_counts_and_chart(run, report):
    sections = {s["host"]: s for s in report["shown"]["hostSections"]}
    assert set(sections) == {r["host"] for r in run.results}
    drifted = sections["lab-drifted"]["text"]
    asset = run.document["hosts"]["lab-drifted"]
    for fact in (asset["os"], "build 17763", asset["address"], "standalone server",
                 "Windows_Server_2019_STIG", "IIS_10-0_Server_STIG", "catalog 2026"):
        assert fact in drifted, fact
    mine = [r for r in run.results if r["host"] == "lab-drifted"]
    counts = Counter(fv.bucket(r) for r in mine)
    assert f"compliance {fv.compliance_text(fv.compliance(mine))}".lower() in drifted.lower()
    for bucket_name, n in counts.items():
        assert f"{fv.BUCKET_LABEL[bucket_name]} {n}" in drifted, bucket_name
    for cat in fv.CATS:  # the counts table: one row per CAT
        open_here = sum(1 for r in mine if r["cat"] == cat and fv.bucket(r) == "Open")
        assert re.search(rf"^{cat}\t{open_here}\t", drifted, re.M), cat
    assert sections["lab-drifted"]["bars"] == len(counts)
    assert "Scan error" in sections["down"]["text"]
    assert "Incomplete (exit code 6" in sections["down"]["text"]
    assert "Compliant (exit code 0" in sections["lab-hardened"]["text"]


def test_filters_by_status_host_cat_area_and_text_show_the_right_rows(run, report):
    results = run.results
    shown = {a["name"]: a["shown"] for a in report["actions"]}
    assert report["shown"]["filtersShown"] and report["shown"]["visibleRows"] == len(results)
    assert shown["hide Not a finding"]["visibleRows"] == _expected_visible(
        run, lambda r: fv.bucket(r) != "NotAFinding")
    assert shown["show all"]["visibleRows"] == len(results)
    drifted = shown["host lab-drifted"]
    assert drifted["visibleByHost"] == {"lab-drifted": _expected_visible(
        run, lambda r: r["host"] == "lab-drifted")}
    assert [s["host"] for s in drifted["hostSections"]] == ["lab-drifted"]
    assert shown["and no CAT I"]["visibleRows"] == _expected_visible(
        run, lambda r: r["host"] == "lab-drifted" and r["cat"] != "CAT I")
    assert shown["show all again"]["visibleRows"] == len(results)
    assert shown["no gpo area"]["visibleRows"] == _expected_visible(
        run, lambda r: r["area"] != "gpo")
    assert shown["only waived"]["visibleRows"] == 1
    assert shown["search"]["visibleRows"] == _expected_visible(
        run, lambda r: r["control_id"] == "CWH-TLS-01")
    assert shown["search"]["shownCount"] == (
        f"Showing {shown['search']['visibleRows']} of {len(results)} results")


def test_no_python_reprs_and_no_pytest_outcomes_on_the_page(report):
    text = report["bodyText"]
    for repr_like in ("['", "None", "[]", "{'", "Expected failures", "tests took", "XFailed"):
        assert repr_like not in text, repr_like


def test_text_is_readable_wcag_aa_and_no_small_print(report):
    readability = report["readability"]
    assert readability["contrast"] >= 4.5, readability
    assert readability["font"] >= 14, readability


def test_hostile_strings_are_shown_as_text_and_no_script_of_theirs_runs(run, report, shots):
    hostile = _host_page(run, HOSTILE_HOST)
    [host] = read_pages([page(hostile, bodyText=True, screenshot=str(shots / "host-hostile.png"),
                              actions=[{"name": "open the evidence", "steps": [
                                  {"click": "tr.result.s-Open .ttl summary"}]}])])
    for result in (report, host):
        assert result["dialogs"] == [] and result["pageErrors"] == [], result["url"]
        assert result["csp"] == [] and result["consoleErrors"] == [], result["url"]
        assert result["requests"] == [], result["url"]  # nothing fetched: self-contained
    assert "<script>alert(1)</script>" in host["bodyText"]
    assert '"><img src=x onerror=alert(1)>' in host["bodyText"]
    assert "<script>alert(1)</script>" in report["bodyText"]


def test_the_fleet_index_links_every_host_page_and_each_page_holds_that_host(run, report, shots):
    fleet = {row["host"]: row for row in report["shown"]["fleetRows"]}
    hosts = sorted({r["host"] for r in run.results})
    assert sorted(fleet) == hosts
    stems = {row["href"] for row in fleet.values()}
    assert len(stems) == len(hosts)  # distinct files, also for the upper-case twin
    twins = [fleet[h]["href"] for h in (UPPER_HOST, LOWER_TWIN)]
    assert twins[0].lower() != twins[1].lower()
    for host in (UPPER_HOST, LOWER_TWIN):  # each page named like the host's checklist
        stem = _host_page(run, host).stem
        assert fleet[host]["href"] == f"hosts/{stem}.html"
        assert (run.report_dir / f"{stem}.ckl").is_file()
    pages = read_pages([page(run.report_dir / row["href"], rows=True, bodyText=True,
                             screenshot=str(shots / f"host-{i}.png") if i < 2 else None,
                             actions=[{"name": "only open", "steps": [
                                 {"click": f"input[name=status][value={b}]"}
                                 for b in fv.BUCKETS if b != "Open"
                                 and any(fv.bucket(r) == b for r in run.results
                                         if r["host"] == host)]}])
                        for i, (host, row) in enumerate(sorted(fleet.items()))])
    for (host, _row), result in zip(sorted(fleet.items()), pages, strict=True):
        mine = [r for r in run.results if r["host"] == host]
        assert result["shown"]["rows"] == len(mine), host
        assert {r["host"] for r in result["rowsShown"]} == {host}
        assert [s["host"] for s in result["shown"]["hostSections"]] == [host]
        code = exitcodes.decide(mine, 0, "cat3")
        assert result["shown"]["verdict"].startswith(fv.verdict(code, mine).word), host
        assert f"exit code {code}" in result["shown"]["verdict"], host
        assert result["actions"][0]["shown"]["visibleRows"] == sum(
            1 for r in mine if fv.bucket(r) == "Open"), host
        assert result["dialogs"] == [] and result["requests"] == [] and result["csp"] == []
        assert "fleet index" in result["bodyText"]
