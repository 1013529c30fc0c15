"""bench/run.py end to end with tiny settings: it runs the suite and the baseline against lab
hosts, prints sane figures, and leaves nothing behind, also when interrupted."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "run.py"
# 127.43.*.*: away from the demo (127.0.0.11/12), the e2e tests (127.64+) and the bench's own
# default (127.42), so this test can run beside either.
PREFIX = "43"


def _leftovers(marker: str) -> list[str]:
    """Command lines of live processes that mention `marker` (a path only one run uses)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in command:
            found.append(command)
    return found


def _value(output: str, label: str) -> str:
    match = re.search(rf"^{re.escape(label)}\s+(.+)$", output, re.MULTILINE)
    assert match, f"{label!r} missing from:\n{output}"
    return match.group(1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "figures.json"
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, str(BENCH), "--hosts", "3", "--latency-ms", "0", "--workers", "1",
         "--repeat", "1", "--baseline-hosts", "3", "--address-prefix", PREFIX,
         "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    return completed, json.loads(out.read_text()) if out.exists() else None, \
        time.monotonic() - started


def test_the_run_succeeds_and_prints_every_figure(tiny):
    completed, figures, seconds = tiny
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert seconds < 60
    output = completed.stdout
    for label in ("wall time (full profile)", "hosts per second", "WinRM requests per host",
                  "Command actions per host", "per-host collection time",
                  "peak RSS, pytest tree incl. lab", "peak RSS, lab process",
                  "per-host collection time full / half", "per-host wall time full / half",
                  "BASELINE wall time", "BASELINE WinRM requests per host",
                  "ratio requests per host ours/baseline", "ratio per-host time ours/baseline"):
        _value(output, label)
    assert "== targets" in output
    assert figures is not None and figures["figures"]["hosts"] == 3


def test_ours_is_one_command_and_at_most_8_requests_per_host(tiny):
    completed, figures, _ = tiny
    mean, low, high = re.fullmatch(r"mean ([\d.]+), min (\d+), max (\d+)",
                                   _value(completed.stdout, "WinRM requests per host")).groups()
    assert 1 <= int(low) <= float(mean) <= int(high) <= 8
    assert _value(completed.stdout, "Command actions per host") == "min 1, max 1"
    for run in figures["runs"]:  # the half profile too
        assert run["ok"], run
        assert run["requests"]["hosts_seen"] == 3
        assert run["requests"]["commands_min"] == run["requests"]["commands_max"] == 1
        assert run["requests"]["complete_max"] <= 8
        # and the audit was right: no Open on a hardened host but what its image documents
        assert run["statuses"]["hardened"].get("Open", 0) == \
            run["known_deviations"].get("hardened", 0)
        assert run["statuses"]["drifted"]["Open"] > 0


def test_the_baseline_costs_more_requests_than_ours(tiny):
    completed, figures, _ = tiny
    ours = float(re.match(r"mean ([\d.]+)",
                          _value(completed.stdout, "WinRM requests per host")).group(1))
    theirs = float(re.match(r"mean ([\d.]+)", _value(completed.stdout,
                                                     "BASELINE WinRM requests per host")).group(1))
    assert theirs > ours
    baseline = figures["figures"]["baseline"]
    controls = baseline["controls"]
    assert baseline["failures"] == 0
    assert baseline["requests"]["commands_min"] == baseline["requests"]["commands_max"] == controls
    assert figures["figures"]["ratios"]["requests_baseline_over_ours"] >= 10


def test_sane_numbers(tiny):
    _completed, figures, _ = tiny
    full = figures["figures"]["full"]
    assert 0 < full["wall"]["median"] < 60
    assert full["hosts_per_s"]["median"] > 0
    assert full["rss_lab"]["median"] > 10  # MiB: the lab was seen as a child of pytest
    assert full["rss_pytest"]["median"] > 10
    assert full["rss_tree"]["median"] >= full["rss_lab"]["median"]
    assert full["lab_start"]["median"] > 0
    assert figures["machine"]["nproc"] >= 1


def test_ctrl_c_stops_the_labs_and_removes_the_work_directory(tmp_path):
    process = subprocess.Popen(
        [sys.executable, str(BENCH), "--hosts", "4", "--latency-ms", "200", "--workers", "1",
         "--repeat", "1", "--no-half", "--address-prefix", PREFIX],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = process.stdout.readline()
    work = re.search(r"work directory (\S+)", first).group(1)
    deadline = time.monotonic() + 60
    # Interrupt while the suite and its lab are running (the lab writes its request log).
    while not list(Path(work).glob("full-1/reports/lab-requests.jsonl")):
        assert process.poll() is None and time.monotonic() < deadline, first
        time.sleep(0.1)
    assert _leftovers(work), "expected pytest and the lab to be running"
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "interrupted" in output
    assert not Path(work).exists()
    deadline = time.monotonic() + 10
    while _leftovers(work) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _leftovers(work)
