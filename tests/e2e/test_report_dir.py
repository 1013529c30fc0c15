"""Where the evidence goes: an unusable report directory stops the run before anything
connects (one line, exit 4), and the run does not depend on optional pytest plugins."""

from __future__ import annotations

import json
import os

import pytest

from tests.e2e.audit_run import lab_host, run_audit, write_inventory


def _errors(run) -> list[str]:
    return [line for line in run.output.splitlines() if line.startswith("ERROR")]


def _unusable(tmp_path, kind: str) -> str:
    if kind == "a file":
        path = tmp_path / "reports.txt"
        path.write_text("not a directory\n")
        return str(path)
    if kind == "under a file":
        path = tmp_path / "notes.txt"
        path.write_text("not a directory\n")
        return str(path / "reports")
    if kind == "under /proc":
        return "/proc/cwh-reports"
    if kind == "/proc itself":
        return "/proc"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["a file", "under a file", "under /proc", "/proc itself"])
def test_an_unusable_report_dir_is_one_line_exit_4_before_anything_connects(tmp_path, kind):
    where = _unusable(tmp_path, kind)
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "guide", f"--cwh-report-dir={where}")
    assert run.exit_code == 4, run.output
    errors = _errors(run)
    assert len(errors) == 1 and "--cwh-report-dir" in errors[0] and where in errors[0], \
        run.output
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output
    assert not (tmp_path / "lab").exists(), "the lab was started"  # nothing was contacted


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_a_read_only_report_dir_is_one_line_exit_4(tmp_path):
    where = tmp_path / "ro"
    where.mkdir()
    where.chmod(0o500)
    try:
        inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
        run = run_audit(tmp_path, inventory, "-m", "guide", f"--cwh-report-dir={where}")
    finally:
        where.chmod(0o700)
    assert run.exit_code == 4, run.output
    assert len(_errors(run)) == 1 and "cannot write" in _errors(run)[0], run.output


def test_the_audit_runs_without_the_junitxml_plugin(tmp_path):
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "gpo", "-p", "no:junitxml")
    assert run.exit_code == 0, run.output
    assert {r["status"] for r in run.results} == {"NotAFinding"}
    assert not (run.report_dir / "junit.xml").exists()
    assert (run.report_dir / "manifest.json").is_file()


# --- the review of issue 10, findings 8, 10 and 11 -------------------------------------------

def _bad_port_inventory(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("all:\n  hosts:\n    h: {ansible_host: 127.0.0.1, ansible_port: '0x1761'}\n")
    return path


def test_files_the_suite_did_not_write_survive_failed_runs(tmp_path):
    """Checklists an ISSO keeps in the report directory, another system's HDF file and a
    junit.xml of someone else's: the second of two failed runs deleted all of them."""
    reports = tmp_path / "reports"
    (reports / "hdf").mkdir(parents=True)
    mine = {"sc99-manual-review.ckl": "<CHECKLIST>hand-reviewed by ISSO</CHECKLIST>",
            "sc99-manual.cklb": "{}", "hdf/other-system.json": '{"mine":1}',
            "junit.xml": "notes"}
    for name, text in mine.items():
        (reports / name).write_text(text)
    for _ in range(2):
        run = run_audit(tmp_path, _bad_port_inventory(tmp_path), "-m", "stig")
        assert run.exit_code == 4, run.output
    for name, text in mine.items():
        assert (reports / name).read_text() == text, name


def test_a_good_run_after_a_killed_one_clears_what_the_killed_run_wrote(tmp_path):
    """What an unfinished run began to write is in its run-status.json; the next run removes
    exactly that (a stale host page of a host since removed from the inventory included)."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "hosts").mkdir()
    (reports / "hosts" / "gone.html").write_text("stale")
    (reports / "gone.ckl").write_text("stale")
    (reports / "mine.ckl").write_text("mine")
    (reports / "run-status.json").write_text(json.dumps({
        "run_id": "killed", "state": "running",
        "writes": ["hosts/gone.html", "gone.ckl", "results.json"]}))
    run = run_audit(tmp_path, write_inventory(tmp_path, {"h": lab_host("hardened")}),
                    "-m", "gpo")
    assert run.exit_code == 0, run.output
    assert not (reports / "gone.ckl").exists() and not (reports / "hosts" / "gone.html").exists()
    assert (reports / "mine.ckl").read_text() == "mine"
    status = json.loads((reports / "run-status.json").read_text())
    assert {"results.json", "h.ckl", "h.cklb", "hosts/h.html", "manifest.json"} <= \
        set(status["writes"]), status


def test_symbolic_links_where_the_run_writes_stop_it_before_anything(tmp_path):
    """Links in a shared report directory had the run overwrite files outside it with its
    checklist, pages and JUnit XML, and the manifest silently left those out."""
    reports = tmp_path / "reports"
    (reports / "hosts").mkdir(parents=True)
    victims = {}
    for name in ("h1.ckl", "report.html", "hosts/h1.html", "junit.xml"):
        victim = tmp_path / f"victim-{name.replace('/', '-')}.txt"
        victim.write_text("keep")
        (reports / name).symlink_to(victim)
        victims[name] = victim
    inventory = write_inventory(tmp_path, {"h1": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "stig")
    assert run.exit_code == 4, run.output[-3000:]
    errors = _errors(run)
    assert len(errors) == 1 and "is a symbolic link" in errors[0], run.output
    assert "never writes its reports through a link" in errors[0]
    assert all(v.read_text() == "keep" for v in victims.values())
    assert not (tmp_path / "lab").exists(), "the lab was started"


LINKER = """\
import json
import os
from pathlib import Path


def pytest_runtest_call(item):
    if item.nodeid.endswith("::CWH-GPO-01]"):
        reports = Path(os.environ["CWH_TEST_REPORTS"])
        for name in ("h1.ckl", "junit.xml", "report.html"):
            victim = reports.parent / f"victim-{name}"
            victim.write_text("keep")
            (reports / name).unlink(missing_ok=True)
            (reports / name).symlink_to(victim)
"""


def test_a_link_put_there_during_the_run_is_replaced_never_followed(tmp_path):
    (tmp_path / "linker.py").write_text(LINKER)
    inventory = write_inventory(tmp_path, {"h1": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "gpo", "-p", "linker",
                    env={"PYTHONPATH": str(tmp_path), "CWH_TEST_REPORTS":
                         str(tmp_path / "reports")})
    assert run.exit_code == 0, run.output[-3000:]
    for name in ("h1.ckl", "junit.xml", "report.html"):
        assert (tmp_path / f"victim-{name}").read_text() == "keep", name
        assert not (run.report_dir / name).is_symlink(), name
    manifest = json.loads((run.report_dir / "manifest.json").read_text())
    assert {"h1.ckl", "junit.xml", "report.html"} <= {e["path"] for e in manifest["artifacts"]}


def test_a_file_where_a_report_folder_goes_is_one_line_exit_4(tmp_path):
    """R/hdf a file of notes: every test passed, then a traceback and exit 1 (findings)."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "hdf").write_text("my notes")
    run = run_audit(tmp_path, write_inventory(tmp_path, {"h": lab_host("hardened")}), "-m", "stig")
    assert run.exit_code == 4, run.output[-3000:]
    errors = _errors(run)
    assert len(errors) == 1 and "hdf is a file" in errors[0], run.output
    assert "Traceback" not in run.output
    assert (reports / "hdf").read_text() == "my notes"
    assert not (tmp_path / "lab").exists(), "the lab was started"


# Moves the report directory away and puts a file in its place while the run is under way
# (a rename, so the lab's log lines arriving meanwhile cannot get in the way).
VANISHER = """\
import os
from pathlib import Path


def pytest_runtest_call(item):
    if item.nodeid.endswith("::CWH-GPO-02]"):
        reports = Path(os.environ["CWH_TEST_REPORTS"])
        reports.rename(reports.with_name("moved-away"))
        reports.write_text("x")
"""


@pytest.mark.parametrize("extra", [[], ["--full-trace", "-l"]])
def test_a_report_dir_that_vanishes_mid_run_is_one_line_exit_6(tmp_path, extra):
    (tmp_path / "vanisher.py").write_text(VANISHER)
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "gpo", "-p", "vanisher", *extra,
                    env={"PYTHONPATH": str(tmp_path), "CWH_TEST_REPORTS":
                         str(tmp_path / "reports")})
    assert run.exit_code == 6, run.output[-3000:]
    assert "Traceback" not in run.output and "INTERNALERROR" not in run.output, run.output
    lines = [line for line in run.output.splitlines() if "the reports could not be written" in line]
    assert len(lines) == 1 and lines[0].startswith("ERROR: --cwh-report-dir"), run.output
    assert "lab-only-not-a-secret" not in run.output


# --- the review of issue 10, M3: the gate cannot be switched off ------------------------------

@pytest.mark.parametrize("args, name", [
    (["-p", "no:cwh-results"], "cwh-results"),
    (["-p", "no:cwh-xdist-share", "-n", "2"], "cwh-xdist-share"),
])
def test_blocking_the_suites_own_plugins_is_refused(tmp_path, args, name):
    """-p no:cwh-results removed the results, the reports and the gate: pytest's own exit
    code remained (0 with no reports for a clean host, 1 instead of 6 for an unreachable one).
    Without cwh-xdist-share the controller never learns which tests were selected, so -x
    could not be told from a complete run."""
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "gpo", *args)
    assert run.exit_code == 4, run.output[-3000:]
    errors = _errors(run)
    assert len(errors) == 1 and f"-p no:{name}" in errors[0], run.output
    assert "Traceback" not in run.output
    assert not (tmp_path / "lab").exists(), "the lab was started"
    status = json.loads((run.report_dir / "run-status.json").read_text())
    assert status["state"] == "failed" and status["exit_status"] == 4
