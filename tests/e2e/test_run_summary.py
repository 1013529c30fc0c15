"""What a run tells the user about itself, through `pytest tests_controls` against the lab: each
host's collection warnings (a collector that exited non-zero after a complete document, issue
10 item 15) wherever the user looks, the report directory in one line, and skip lines that
name the tests. One audit run serves every test here."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from tests.e2e.audit_run import lab_machine, run_audit, write_inventory

# The lab's exit_nonzero fault: the complete document, then exit code 1 and "Exception: boom".
WARNING = re.compile(r"the collector exited with code 1 after writing a complete facts "
                     r"document .*stderr: Exception: boom")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("summary")
    hosts = {"clean": lab_machine(tmp, "hardened", 1),
             "warned": lab_machine(tmp, "hardened", 2, cwh_lab_fault="exit_nonzero"),
             # CLIXML progress records on stderr with exit 0 say nothing: no warning
             "progress": lab_machine(tmp, "hardened", 3, cwh_lab_fault="stderr_progress")}
    return run_audit(tmp, write_inventory(tmp, hosts), "-m", "stig")


def _summary(run) -> list[str]:
    lines = run.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "ScreenConnect hardening audit" in line)
    end = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    return lines[start + 1:end]


def test_a_hosts_warnings_are_in_results_json_and_its_verdicts_stay_what_the_facts_say(run):
    assert run.exit_code == 0, run.output  # hardened passes; a warning alone is no finding
    hosts = run.document["hosts"]
    [warning] = hosts["warned"]["warnings"]
    assert WARNING.search(warning), warning
    assert hosts["clean"]["warnings"] == [] and hosts["progress"]["warnings"] == []
    assert run.document["host_errors"] == {}
    # A warning is no finding and no pass-maker: every verdict is the clean host's.
    # (The reasons differ where the runner reached each host at its own address, with the
    # certificate the lab made for that address.)
    def verdicts(host):
        return {c: (r["status"], r["error"]) for c, r in run.by_control(host).items()}

    clean = verdicts("clean")
    assert len(clean) > 300 and verdicts("warned") == clean
    assert not [r for r in run.by_control("warned").values() if "exited" in r["reason"]]


def test_the_summary_has_one_warning_line_per_host_with_warnings(run):
    summary = _summary(run)
    warned = [line for line in summary if line.startswith("warning: warned: ")]
    assert len(warned) == 1 and WARNING.search(warned[0]), summary
    assert not [line for line in summary if line.startswith(("warning: clean", "warning: prog"))]


def test_the_host_page_header_shows_the_warning(run):
    page = (run.report_dir / "hosts" / "warned.html").read_text()
    header = page[page.index('<section class="host"'):page.index("</section>")]
    assert "Collection warning" in header and "exited with code 1" in header
    assert "Collection warning" not in (run.report_dir / "hosts" / "clean.html").read_text()


def test_the_checklists_target_comment_carries_the_warning(run):
    ckl = ET.parse(run.report_dir / "warned.ckl").getroot()
    assert WARNING.search(ckl.findtext("ASSET/TARGET_COMMENT") or "")
    assert "collector" not in (ET.parse(run.report_dir / "clean.ckl").getroot()
                               .findtext("ASSET/TARGET_COMMENT") or "")
    cklb = json.loads((run.report_dir / "warned.cklb").read_text())
    assert WARNING.search(cklb["target_data"]["comments"])


def test_the_summary_names_the_report_directory_in_one_line_not_every_file(run):
    summary = _summary(run)
    assert not [line for line in summary if line.startswith("wrote ")], summary
    [line] = [line for line in summary if line.startswith("reports: ")]
    assert str(run.report_dir) in line
    # counts by kind, each matching the files on disk
    assert "3 host pages" in line and "3 checklists (.ckl)" in line and \
        "3 checklists (.cklb)" in line and "3 host HDF files" in line, line
    on_disk = [p for p in run.report_dir.rglob("*") if p.is_file()]
    assert f"{len(on_disk)} files" in line, (line, sorted(map(str, on_disk)))


def test_skip_lines_name_the_test_not_the_runner(run):
    """-ra (pytest.ini addopts): a skip line points at the test, as pytest.mark.skip's do,
    never at the suite's own code (cwh/...)."""
    skipped = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED ")]
    assert skipped, run.stdout
    for line in skipped:
        assert re.match(r"SKIPPED \[\d+\] tests_controls/test_\w+\.py:\d+: Not_(Reviewed|"
                        r"Applicable): ", line), line
    assert "cwh/" not in "\n".join(skipped)
