"""python -m cwh.report.merge: slices of a fleet's audit merged into one report directory."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from cwh.report.merge import MANIFEST, main, verify
from cwh.report.rundir import STATUS
from cwh.report.writers import sha256_of, write_json, write_manifest
from tests.e2e.audit_run import REPO, lab_host, run_audit, write_inventory


def record(host: str, control: str, status: str = "NotAFinding", severity: str = "medium",
           error: bool = False) -> dict:
    return {"host": host, "control_id": control, "status": status, "severity": severity,
            "error": error, "waiver": None}


def seal(directory: Path, files: list[Path]) -> None:
    """The manifest a finished run writes: `files` and its run-status.json, under its run id."""
    status = directory / STATUS
    run_id = json.loads(status.read_text())["run_id"]
    write_manifest(directory, [*files, status], run_id)


def make_slice(directory: Path, records: list[dict], *, started: str = "2026-11-01T10:00:00+00:00",
               markers: str = "stig", host_errors: dict | None = None, exit_status: int = 0,
               selected: int | None = None, hosts: list[str] | None = None,
               hdf: bool = False) -> Path:
    """A report directory the way a run leaves it: results.json, checklists, its status and a
    manifest, all under one run id."""
    hosts = hosts or sorted({r["host"] for r in records})
    run_id = uuid.uuid4().hex
    written = [write_json(directory / "results.json", {
        "run": {"run_id": run_id, "suite_version": "0.1.0", "catalog_version": "2026.11.1",
                "markers": markers,
                "inventory": f"/inv/{directory.name}.yml", "started": started, "hosts": hosts,
                "exit_status": exit_status,
                "selected": len(records) if selected is None else selected},
        "hosts": {h: {"host": h, "os_version": "2022"} for h in hosts},
        "host_errors": host_errors or {}, "results": records})]
    for host in hosts:
        for suffix in (".ckl", ".cklb"):
            path = directory / f"{host}{suffix}"
            path.write_text(f"{directory.name} {host} {suffix}\n")
            written.append(path)
    if hdf:
        for host in hosts:
            mine = [r for r in records if r["host"] == host]
            written.append(write_json(directory / "hdf" / f"{host}.json", {
                "profiles": [{"name": "cwh-guide", "title": "guide", "version": "2026.11.1",
                              "controls": [{"id": r["control_id"],
                                            "results": [{"status": r["status"]}]}
                                           for r in mine],
                              "groups": [{"id": "g", "controls": [r["control_id"]
                                                                  for r in mine]}]}],
                "passthrough": {"cwh": {"nist": "no NIST tags", "status_precedence": []}}}))
    junit = directory / "junit.xml"
    junit.write_text("<testsuites/>\n")
    write_json(directory / STATUS, {"run_id": run_id, "state": "finished", "started": started,
                                    "exit_status": exit_status})
    seal(directory, [*written, junit])
    return directory


@pytest.fixture
def two_slices(tmp_path):
    a = make_slice(tmp_path / "hardened", [record("h1", "CWH-GPO-01"), record("h1", "CWH-TLS-01")])
    b = make_slice(tmp_path / "drifted", [record("d1", "CWH-GPO-01", "Open"),
                                          record("d1", "CWH-TLS-01", "Open", "high")],
                   started="2026-11-01T09:00:00+00:00")
    return a, b


def test_disjoint_slices_merge_into_one_verifiable_report(tmp_path, two_slices, capsys):
    out = tmp_path / "fleet"
    assert main([str(out), *map(str, two_slices)]) == 0
    merged = json.loads((out / "results.json").read_text())
    assert [(r["host"], r["control_id"]) for r in merged["results"]] == [
        ("d1", "CWH-GPO-01"), ("d1", "CWH-TLS-01"), ("h1", "CWH-GPO-01"), ("h1", "CWH-TLS-01")]
    run = merged["run"]
    assert run["merged"] is True and run["hosts"] == ["d1", "h1"]
    assert run["started"] == "2026-11-01T09:00:00+00:00"  # the earliest slice
    assert [s["name"] for s in run["slices"]] == ["01-hardened", "02-drifted"]
    for piece, source in zip(run["slices"], two_slices, strict=True):
        # each slice's own run metadata is kept, with where it came from
        assert piece["run"] == json.loads((source / "results.json").read_text())["run"]
        assert piece["source"] == str(source.resolve())
    assert set(merged["hosts"]) == {"d1", "h1"}
    # one checklist per host at the top, every slice's artifacts kept as they were
    assert (out / "h1.ckl").read_text() == "hardened h1 .ckl\n"
    assert (out / "d1.cklb").read_text() == "drifted d1 .cklb\n"
    for piece in ("01-hardened", "02-drifted"):
        assert (out / "slices" / piece / "junit.xml").exists()
        verify(out / "slices" / piece)  # still matches the manifest its run wrote
    listed = verify(out)  # and the merged manifest covers every file the merge wrote
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {MANIFEST}
    assert set(listed) == on_disk
    assert "merged 2 slices: 2 hosts, 4 results" in capsys.readouterr().out


def test_the_merge_writes_the_pages_and_the_hdf_files_and_lists_them(tmp_path, capsys):
    a = make_slice(tmp_path / "a", [record("h1", "CWH-GPO-01"), record("h1", "CWH-TLS-01")],
                   hdf=True)
    b = make_slice(tmp_path / "b", [record("d1", "CWH-GPO-01", "Open", "high")], hdf=True)
    out = tmp_path / "fleet"
    assert main([str(out), str(a), str(b), "--fail-on", "cat1"]) == 1
    listed = set(verify(out))
    assert {"report.html", "hosts/h1.html", "hosts/d1.html", "hdf/h1.json", "hdf/d1.json",
            "results.hdf.json"} <= listed
    assert (out / "hdf" / "h1.json").read_bytes() == (a / "hdf" / "h1.json").read_bytes()
    fleet = json.loads((out / "results.hdf.json").read_text())
    assert [(p["name"], [c["id"] for c in p["controls"]]) for p in fleet["profiles"]] == [
        ("cwh-guide@d1", ["CWH-GPO-01@d1"]), ("cwh-guide@h1", ["CWH-GPO-01@h1", "CWH-TLS-01@h1"])]
    assert fleet["passthrough"]["cwh"]["hosts"] == ["d1", "h1"]
    report = (out / "report.html").read_text()
    # the fleet's verdict under the merge's gate, and what the slices were run with
    assert "Findings" in report and "(--fail-on cat1)" in report
    assert "/inv/a.yml, /inv/b.yml" in report and "catalog 2026.11.1" in report
    assert "Scan error" not in (out / "hosts" / "h1.html").read_text()


def test_a_host_split_between_slices_keeps_each_slices_hdf_apart(tmp_path):
    gpo = make_slice(tmp_path / "gpo", [record("h1", "CWH-GPO-01")], markers="stig and gpo",
                     hdf=True)
    tls = make_slice(tmp_path / "tls", [record("h1", "CWH-TLS-01", "Open")],
                     markers="stig and tls", hdf=True)
    out = tmp_path / "fleet"
    assert main([str(out), str(gpo), str(tls)]) == 0
    assert not (out / "hdf" / "h1.json").exists()  # two partial files: neither is the host's
    assert (out / "slices" / "01-gpo" / "hdf" / "h1.json").exists()
    fleet = json.loads((out / "results.hdf.json").read_text())
    assert [p["name"] for p in fleet["profiles"]] == ["cwh-guide@h1 [01-gpo]",
                                                      "cwh-guide@h1 [02-tls]"]
    assert fleet["passthrough"]["cwh"]["split_hosts"] == ["h1"]
    assert (out / "hosts" / "h1.html").exists()  # the page shows both slices' records
    assert "CWH-TLS-01" in (out / "hosts" / "h1.html").read_text()


def test_slices_without_hdf_files_merge_without_a_fleet_hdf(tmp_path, two_slices):
    out = tmp_path / "fleet"
    assert main([str(out), *map(str, two_slices)]) == 0
    assert (out / "report.html").exists() and not (out / "results.hdf.json").exists()


def test_the_same_host_and_control_in_two_slices_is_refused(tmp_path, two_slices, capsys):
    again = make_slice(tmp_path / "again", [record("h1", "CWH-TLS-01", "Open")])
    out = tmp_path / "fleet"
    assert main([str(out), *map(str, two_slices), str(again)]) == 4
    error = capsys.readouterr().err
    assert "h1 x CWH-TLS-01 is in 01-hardened and 03-again" in error
    assert not out.exists()  # nothing written


def test_a_host_split_by_marker_merges_and_keeps_both_checklists(tmp_path, capsys):
    gpo = make_slice(tmp_path / "gpo", [record("h1", "CWH-GPO-01")], markers="stig and gpo")
    tls = make_slice(tmp_path / "tls", [record("h1", "CWH-TLS-01", "Open")],
                     markers="stig and tls",
                     host_errors={"h1": "h1: read timed out"})
    out = tmp_path / "fleet"
    assert main([str(out), str(gpo), str(tls)]) == 0
    merged = json.loads((out / "results.json").read_text())
    assert len(merged["results"]) == 2
    assert not (out / "h1.ckl").exists()  # two partial checklists: none is "the" checklist
    assert (out / "slices" / "01-gpo" / "h1.ckl").exists()
    assert (out / "slices" / "02-tls" / "h1.ckl").exists()
    assert merged["host_errors"] == {"h1": "[02-tls] h1: read timed out"}
    assert {s["run"]["markers"] for s in merged["run"]["slices"]} == {"stig and gpo",
                                                                       "stig and tls"}


def test_an_altered_slice_is_refused(tmp_path, two_slices, capsys):
    a, b = two_slices
    (b / "d1.ckl").write_text("edited after the run\n")
    assert main([str(tmp_path / "fleet"), str(a), str(b)]) == 4
    assert "d1.ckl does not match the SHA-256" in capsys.readouterr().err


def test_a_lab_log_that_changed_after_the_run_is_refused_like_any_artifact(tmp_path, capsys):
    piece = tmp_path / "lab"
    piece.mkdir()
    log = piece / "lab-requests.jsonl"
    log.write_text('{"action": "Command"}\n')
    make_slice(piece, [record("h1", "CWH-GPO-01")])
    seal(piece, [piece / n for n in ("results.json", "h1.ckl", "lab-requests.jsonl")])
    with log.open("a") as handle:
        handle.write('{"action": "Delete"}\n')
    assert main([str(tmp_path / "fleet"), str(piece)]) == 4
    assert "lab-requests.jsonl does not match the SHA-256" in capsys.readouterr().err


@pytest.mark.parametrize("ending, expected", [
    ({"exit_status": 2}, "the run ended with exit code 2 (interrupted)"),
    ({"selected": 34}, "1 results for 34 selected tests"),
    ({"hosts": ["h1", "h2"]}, "no result for h2"),
])
def test_an_incomplete_slice_is_merged_but_fails_the_gate(tmp_path, capsys, ending, expected):
    """A slice stopped after one test must not let the fleet pass (its absent results are
    not findings, so the gate alone would say 0)."""
    done = make_slice(tmp_path / "done", [record("d1", "CWH-GPO-01")])
    partial = make_slice(tmp_path / "partial", [record("h1", "CWH-GPO-01")], **ending)
    out = tmp_path / "fleet"
    assert main([str(out), str(done), str(partial), "--fail-on", "cat3"]) == 6
    assert f"INCOMPLETE 02-partial: {expected}" in capsys.readouterr().out
    merged = json.loads((out / "results.json").read_text())
    assert [s["complete"] for s in merged["run"]["slices"]] == [True, False]
    # merged again as a slice of a larger merge, it still counts as incomplete
    assert main([str(tmp_path / "world"), str(out), "--fail-on", "cat3"]) == 6


@pytest.mark.parametrize("ending, expected", [
    ({"exit_status": 5}, "the run ended with exit code 5 (nothing selected)"),
    ({"exit_status": 0}, "no result for h2"),  # selected 0 while its inventory had a host
])
def test_a_slice_that_audited_nothing_is_incomplete(tmp_path, capsys, ending, expected):
    """A slice that selected no test for its hosts (-m "stig and not stig", exit 5) merged
    as complete: the fleet gate passed with one slice's hosts never audited."""
    done = make_slice(tmp_path / "done", [record("d1", "CWH-GPO-01")])
    empty = make_slice(tmp_path / "empty", [], hosts=["h2"], selected=0, **ending)
    out = tmp_path / "fleet"
    assert main([str(out), str(done), str(empty), "--fail-on", "cat3"]) == 6
    printed = capsys.readouterr().out
    assert f"INCOMPLETE 02-empty: {expected}" in printed, printed
    assert "INCOMPLETE 02-empty: no result for h2" in printed
    merged = json.loads((out / "results.json").read_text())
    assert [s["complete"] for s in merged["run"]["slices"]] == [True, False]


def test_a_real_slice_that_selected_nothing_fails_the_fleet_gate(tmp_path):
    """The review's reproduction: `hard` audited, `drift` sliced with an expression that
    selects nothing (exit 5); merged with --fail-on, the fleet exited 0."""
    hosts = {"hard": lab_host("hardened"), "drift": lab_host("drifted")}
    runs = []
    # (guide: the hardened image's STIG rules have two Open findings, its guide controls none)
    for name, markers in (("hard", "guide"), ("drift", "guide and not guide")):
        where = tmp_path / name
        where.mkdir()
        runs.append(run_audit(where, write_inventory(where, hosts), "-m", markers,
                              "--limit", name))
    assert [run.exit_code for run in runs] == [0, 5], [run.output[-2000:] for run in runs]
    completed = subprocess.run(
        [sys.executable, "-m", "cwh.report.merge", str(tmp_path / "fleet"),
         *(str(run.report_dir) for run in runs), "--fail-on", "cat3"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 6, completed.stdout + completed.stderr
    assert "INCOMPLETE 02-reports: the run ended with exit code 5 (nothing selected)" in \
        completed.stdout
    assert "INCOMPLETE 02-reports: no result for drift" in completed.stdout


def test_a_slice_from_before_completion_was_recorded_is_incomplete(tmp_path, capsys):
    piece = make_slice(tmp_path / "old", [record("h1", "CWH-GPO-01")])
    document = json.loads((piece / "results.json").read_text())
    del document["run"]["exit_status"], document["run"]["selected"]
    write_json(piece / "results.json", document)
    seal(piece, [piece / "results.json"])
    assert main([str(tmp_path / "fleet"), str(piece), "--fail-on", "cat3"]) == 6
    assert "does not say how the run ended" in capsys.readouterr().out


def test_complete_merges_merge_again(tmp_path, two_slices):
    out = tmp_path / "fleet"
    assert main([str(out), str(two_slices[0])]) == 0
    assert main([str(tmp_path / "world"), str(out), "--fail-on", "cat3"]) == 0


@pytest.mark.parametrize("trick", ["dotdot", "absolute", "symlink"])
def test_manifest_paths_cannot_reach_outside_the_slice(tmp_path, capsys, trick):
    piece = make_slice(tmp_path / "evil" / "s", [record("h1", "CWH-GPO-01")])
    manifest = json.loads((piece / MANIFEST).read_text())
    victim = tmp_path / "victim.ckl"
    victim.write_text("outside\n")
    if trick == "dotdot":
        path = "../../victim.ckl"
    elif trick == "absolute":
        path = str(victim)
    else:
        (piece / "link").symlink_to(tmp_path)
        path = "link/victim.ckl"
    manifest["artifacts"].append({"path": path, "sha256": sha256_of(victim)})
    write_json(piece / MANIFEST, manifest)
    out = tmp_path / "a" / "b" / "fleet"
    assert main([str(out), str(piece)]) == 4
    assert path in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil", "victim.ckl"]


def test_a_result_with_an_unknown_severity_is_refused(tmp_path, capsys):
    piece = make_slice(tmp_path / "s", [record("h1", "CWH-GPO-01", severity="urgent")])
    assert main([str(tmp_path / "fleet"), str(piece), "--fail-on", "cat3"]) == 4
    assert "severity 'urgent'" in capsys.readouterr().err


@pytest.mark.parametrize("problem, message", [
    ("no_manifest", "no manifest.json"),
    ("not_a_dir", "not a directory"),
    ("bad_results", "not a results.json"),
])
def test_unusable_inputs_are_refused(tmp_path, two_slices, capsys, problem, message):
    a, _ = two_slices
    if problem == "no_manifest":
        (a / MANIFEST).unlink()
    elif problem == "not_a_dir":
        a = tmp_path / "missing"
    else:
        write_json(a / "results.json", {"results": "nope"})
        seal(a, [a / "results.json"])
    assert main([str(tmp_path / "fleet"), str(a)]) == 4
    assert message in capsys.readouterr().err


def test_output_must_be_new_empty_or_an_earlier_merge(tmp_path, two_slices, capsys):
    out = tmp_path / "fleet"
    assert main([str(out), *map(str, two_slices)]) == 0
    # merging again into the same place replaces the earlier merge, leaving nothing stale
    assert main([str(out), str(two_slices[0])]) == 0
    assert not (out / "d1.ckl").exists() and not (out / "slices" / "02-drifted").exists()
    assert [r["host"] for r in json.loads((out / "results.json").read_text())["results"]] == \
        ["h1", "h1"]
    verify(out)
    # a directory holding anything else is left alone
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main([str(other), str(two_slices[0])]) == 4
    assert (other / "notes.txt").read_text() == "mine"
    # and the output may not be inside an input (or the other way round)
    assert main([str(two_slices[0] / "merged"), str(two_slices[0])]) == 4
    assert "overlaps" in capsys.readouterr().err


@pytest.mark.parametrize("records, fail_on, code", [
    ([record("h", "C1")], "cat3", 0),
    ([record("h", "C1", "Open", "low")], "cat3", 1),
    ([record("h", "C1", "Open", "low")], "cat2", 0),
    ([record("h", "C1", "Not_Reviewed", error=True), record("h", "C2", "Open", "high")],
     "cat1", 6),
])
def test_fail_on_gates_the_merged_results(tmp_path, records, fail_on, code):
    piece = make_slice(tmp_path / "s", records)
    assert main([str(tmp_path / "out"), str(piece), "--fail-on", fail_on]) == code


def test_slices_of_real_runs_merge_to_what_one_run_reports(tmp_path):
    """Two CI jobs each audit one group (--limit); merged, they equal one run of the fleet:
    the same records, checklists, HDF files and pages."""
    hosts = {"hard": lab_host("hardened"), "drift": lab_host("drifted", transport="basic")}

    def audit(name: str, *args: str):
        where = tmp_path / name  # its own inventory, lab state and reports, like a CI job
        where.mkdir()
        return run_audit(where, write_inventory(where, hosts), "-m", "stig", *args)

    whole = audit("whole")
    slices = [audit(name, "--limit", name) for name in ("hard", "drift")]
    for run in (whole, *slices):
        assert run.exit_code in (0, 1), run.output
    out = tmp_path / "fleet"
    completed = subprocess.run(
        [sys.executable, "-m", "cwh.report.merge", str(out),
         *(str(s.report_dir) for s in slices), "--fail-on", "cat3"],
        cwd=REPO, capture_output=True, text=True, timeout=60)
    assert completed.returncode == whole.exit_code == 1, completed.stdout + completed.stderr
    merged = json.loads((out / "results.json").read_text())

    def essence(records):
        return sorted((r["host"], r["control_id"], r["status"], r["severity"]) for r in records)

    assert essence(merged["results"]) == essence(whole.results)
    assert set(merged["hosts"]) == {"hard", "drift"}
    assert (out / "hard.ckl").exists() and (out / "drift.cklb").exists()
    assert [s["run"]["hosts"] for s in merged["run"]["slices"]] == [["hard"], ["drift"]]
    listed = set(verify(out))
    assert {"report.html", "hosts/hard.html", "hosts/drift.html", "hdf/hard.json",
            "hdf/drift.json", "results.hdf.json"} <= listed
    assert listed == {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {MANIFEST}
    # each host's HDF file is the slice's own, byte for byte
    for host, piece in (("hard", slices[0]), ("drift", slices[1])):
        assert (out / "hdf" / f"{host}.json").read_bytes() == \
            (piece.report_dir / "hdf" / f"{host}.json").read_bytes()
    # the fleet HDF holds what the single run's does: every host's profiles kept apart
    assert _hdf_essence(out / "results.hdf.json") == \
        _hdf_essence(whole.report_dir / "results.hdf.json")
    # the pages: the fleet's verdict and each host's header, as the single run shows them
    report = (out / "report.html").read_text()
    assert "Findings" in report and 'href="hosts/hard.html"' in report and \
        'href="hosts/drift.html"' in report
    for host in ("hard", "drift"):
        page, single = ((d / "hosts" / f"{host}.html").read_text() for d in (out,
                                                                          whole.report_dir))
        assert _header(page) == _header(single), host
        assert re.search(r"Windows_Server_20\d\d_STIG V\dR\d", _header(page)), host


def _hdf_essence(path: Path) -> list:
    """Profile names and versions, control ids and each result's status."""
    document = json.loads(path.read_text())
    return [(p["name"], p["version"], [(c["id"], [r["status"] for r in c["results"]])
                                       for c in p["controls"]]) for p in document["profiles"]]


def _header(page: str) -> str:
    return page[page.index('<section class="host"'):page.index("</section>")]


def test_results_from_another_run_are_refused_even_when_the_hashes_agree(tmp_path, capsys):
    """Someone puts another run's results.json in and re-hashes the manifest: the run ids of
    results.json, manifest.json and run-status.json no longer agree."""
    a = make_slice(tmp_path / "a", [record("h1", "CWH-GPO-01")])
    b = make_slice(tmp_path / "b", [record("h1", "CWH-GPO-01", "Open")])
    (a / "results.json").write_bytes((b / "results.json").read_bytes())
    seal(a, [a / "results.json", a / "h1.ckl"])
    assert main([str(tmp_path / "fleet"), str(a)]) == 4
    error = capsys.readouterr().err
    assert "come from different runs" in error and "stale" in error


@pytest.mark.parametrize("state, message", [
    ({"state": "running"}, "did not finish"),
    ({"state": "failed", "exit_status": 4, "error": "inventory x.yml: nope"},
     "the last run into it failed (exit 4: inventory x.yml: nope)"),
    (None, "no readable run-status.json"),
])
def test_a_slice_whose_last_run_did_not_finish_is_refused(tmp_path, capsys, state, message):
    piece = make_slice(tmp_path / "s", [record("h1", "CWH-GPO-01")])
    status = piece / STATUS
    if state is None:  # a directory written before runs recorded their status
        status.unlink()
        write_manifest(piece, [piece / "results.json", piece / "h1.ckl"])
    else:
        write_json(status, {**json.loads(status.read_text()), **state})
    assert main([str(tmp_path / "fleet"), str(piece)]) == 4
    assert message in capsys.readouterr().err
    assert not (tmp_path / "fleet").exists()


def test_a_merged_directory_is_a_finished_run_of_its_own(tmp_path, two_slices):
    out = tmp_path / "fleet"
    assert main([str(out), *map(str, two_slices)]) == 0
    status = json.loads((out / STATUS).read_text())
    manifest = json.loads((out / MANIFEST).read_text())
    results = json.loads((out / "results.json").read_text())
    assert status["state"] == "finished"
    assert status["run_id"] == manifest["run_id"] == results["run"]["run_id"]
    for piece, source in zip(results["run"]["slices"], two_slices, strict=True):
        assert piece["run"]["run_id"] == json.loads((source / STATUS).read_text())["run_id"]


def test_one_machine_audited_under_two_names_in_two_slices_is_reported(tmp_path, capsys):
    check = {"confirmed": True, "compared": "...", "machine": "sc01|corp.example|00:15:5d:0a:1e:0b",
             "arrived": {"computer_name": "SC01", "dns_host_name": "sc01",
                         "domain": "corp.example", "part_of_domain": True}}
    a = make_slice(tmp_path / "a", [record("sc01", "CWH-GPO-01")])
    b = make_slice(tmp_path / "b", [record("sc01.corp.example", "CWH-GPO-01")])
    for piece, host in ((a, "sc01"), (b, "sc01.corp.example")):
        document = json.loads((piece / "results.json").read_text())
        document["hosts"][host]["identity_check"] = check
        write_json(piece / "results.json", document)
        seal(piece, [piece / "results.json"])
    out = tmp_path / "fleet"
    assert main([str(out), str(a), str(b)]) == 0
    merged = json.loads((out / "results.json").read_text())
    assert merged["same_machine"] == [{"machine": "SC01 (DNS host name sc01; domain corp.example)",
                                       "hosts": ["sc01", "sc01.corp.example"],
                                       "confirmed": ["sc01", "sc01.corp.example"]}]
    printed = capsys.readouterr().out
    assert "same machine: sc01, sc01.corp.example all reached SC01" in printed
    assert "at most one was audited, exit code 6" in printed
    # the gate says what the run says: one machine judged as two hosts was audited once at most
    assert merged["run"]["exit_status"] == 6
    assert main([str(tmp_path / "gated"), str(a), str(b), "--fail-on", "cat3"]) == 6
