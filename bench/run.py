"""Benchmark the audit against a fleet of lab hosts, and against a per-control baseline.

    .venv/bin/python bench/run.py --hosts 200 --latency-ms 50 --workers 2

For each of --repeat runs it writes an inventory of --hosts lab hosts (hardened and drifted
mixed, each on its own 127.x.y.z address, --latency-ms injected into every WinRM request) and
runs the suite the way a user does, in a subprocess:

    python -m pytest tests_controls -m stig --inventory=... --cwh-report-dir=... \\
        --cwh-lab-dir=... [-n WORKERS]

(the suite starts the lab itself, as a child of pytest), then the same with half the profile
(--half-markers). It reads the lab's request log, samples the memory of the pytest process tree
and of the lab, and times the run's phases with a pytest plugin that only observes
(bench/pytest_timing.py). Then, once, the BASELINE (bench/baseline.py): one remote command per
control over a new WinRM connection and shell, the way stock testinfra works, against a lab it
starts itself, on --baseline-hosts hosts. It prints every run, the median and spread, the
ours/baseline ratios and the targets. Everything it creates lives in one temporary directory
that is removed at the end, on error and on Ctrl-C (--keep to keep it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: bench/ is on sys.path, the checkout is not
    sys.path.insert(0, str(REPO))

from bench import fleet, proctree  # noqa: E402
from bench.alone import Alone, run_alone  # noqa: E402
from bench.baseline import run_baseline  # noqa: E402
from bench.lab import terminate_group  # noqa: E402
from bench.pytest_timing import ENV as TIMING_ENV  # noqa: E402
from bench.requests_log import summarize  # noqa: E402
from cwh.errors import CwhError  # noqa: E402

FULL_MARKERS = "stig"  # every guide control and every rule of each host's Windows Server STIG
GUIDE_MARKERS = "guide"  # the guide's 34 controls (the profile measured before the STIG rules)
HALF_MARKERS = "guide and (gpo or password or tls)"
# Exit codes of the suite that mean "the audit ran": 0 clean, 1 findings (drifted hosts), 6
# when the only errors are STIG rules of kinds the suite has no judge for yet (UNJUDGED).
AUDIT_RAN = (0, 1, 6)
UNJUDGED = "the suite has no judge for "
TARGET_REQUESTS_PER_HOST = 8
TARGET_SECONDS = 60.0
TARGET_OWN_MS = 0.6  # the suite's own CPU per test (issue 11 item 10)
TARGET_RSS_MIB = 1024
TARGET_RATIO = 10.0
# Half and full per-host collection time count as "the same" within 20 % or 50 ms (at latency 0
# a host takes a few tens of ms, where scheduling noise alone is that large).
SAME_TIME_TOLERANCE = (0.2, 0.05)


# --- one suite run ----------------------------------------------------------------------------

@dataclass
class SuiteRun:
    label: str  # full or half
    index: int
    hosts: int
    markers: str
    workers: int
    exit_code: int | None = None
    wall: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    requests: dict[str, Any] = field(default_factory=dict)
    collect_median: float | None = None
    collect_max: float | None = None
    gather_span: float | None = None
    rss_mib: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # lab vs pytest tree
    largest_rss_mib: float | None = None  # the kernel's ru_maxrss: the largest single process
    workers_torn_down: int | None = None
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)  # image -> status -> n
    anomalies: list[str] = field(default_factory=list)  # wrong or unevaluated results
    records: int = 0
    selected: int = 0  # the tests the run selected (results.json run.selected)
    controls: int = 0
    error_records: int = 0  # not evaluated, for any reason but UNJUDGED
    unjudged_records: int = 0  # STIG rules of a kind without a judge yet: not a bench failure
    # image -> results that are right though unexpected for the image (fleet.KNOWN_DEVIATIONS)
    known_deviations: dict[str, int] = field(default_factory=dict)
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code in AUDIT_RAN and self.error_records == 0 and \
            not self.anomalies and self.records == self.selected and self.records > 0 and \
            (self.exit_code != 6 or self.unjudged_records > 0)

    @property
    def per_test_ms(self) -> float | None:
        """Wall time without the lab's start, per test (every cost of the run, collection
        included)."""
        return round(1000 * self.audit_wall / self.records, 3) if self.records else None

    @property
    def audit_wall(self) -> float:
        """The run without the lab's own start (which a real fleet does not have)."""
        return self.wall - self.phases.get("lab_start", 0.0)

    @property
    def per_host(self) -> float:
        return self.wall / self.hosts

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "output_tail"}
        data.update(ok=self.ok, audit_wall=round(self.audit_wall, 3),
                    per_host=round(self.per_host, 4), per_test_ms=self.per_test_ms)
        return data


def _phases(marks: dict[str, float], spawned: float, ended: float,
            workers: list[dict[str, float]]) -> dict[str, float]:
    """Seconds per phase of a run, from the observing plugin's wall-clock marks."""
    def span(a: float | None, b: float | None) -> float:
        return round(b - a, 3) if a is not None and b is not None else float("nan")

    collected = marks.get("collection_finish") or max(
        (w.get("collection_finish", 0.0) for w in workers), default=None)
    return {
        "startup": span(spawned, marks.get("configure_start")),  # interpreter, imports
        "lab_start": span(marks.get("configure_start"), marks.get("configure_end")),
        "collection": span(marks.get("configure_end"), collected),  # incl. xdist workers' start
        "to_first_result": span(collected, marks.get("first_report")),
        "tests": span(marks.get("first_report"), marks.get("last_report")),
        # pytest's terminal summary (FAILURES section), junit, html, results.json, checklists
        "reports": span(marks.get("sessionfinish_start"), marks.get("sessionfinish_end")),
        "teardown": span(marks.get("sessionfinish_end"), marks.get("unconfigure_end")),
        "exit": span(marks.get("unconfigure_end"), ended),  # interpreter shutdown
    }


def _wait4(pid: int, box: list) -> None:
    box.append(os.wait4(pid, 0))


def run_suite(work: Path, label: str, index: int, hosts: list[fleet.FleetHost], *,
              markers: str, workers: int, latency_ms: int, lab_dir: Path,
              timeout: float, sample_interval: float, extra: list[str]) -> SuiteRun:
    run_dir = work / f"{label}-{index}"
    inventory = fleet.write_inventory(run_dir / "inventory.yml", hosts, lab_dir=lab_dir,
                                      latency_ms=latency_ms)
    report_dir, timing_dir, tmp_dir = run_dir / "reports", run_dir / "timing", run_dir / "tmp"
    for directory in (timing_dir, tmp_dir):
        directory.mkdir(parents=True)
    command = [sys.executable, "-m", "pytest", "tests_controls", "-m", markers,
               f"--inventory={inventory}", f"--cwh-report-dir={report_dir}",
               f"--cwh-lab-dir={lab_dir}", "-p", "bench.pytest_timing"]
    if workers > 1:
        command += ["-n", str(workers)]
    command += extra
    env = {**os.environ, TIMING_ENV: str(timing_dir),
           "TMPDIR": str(tmp_dir),  # xdist's share directory too: removed with ours
           "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get(
               "PYTHONPATH")])])}
    result = SuiteRun(label, index, len(hosts), markers, workers)
    output = run_dir / "pytest.out"
    with open(output, "wb") as sink:
        spawned = time.time()
        started = time.monotonic()
        # A session of its own, so Ctrl-C reaches only the benchmark, which then interrupts
        # pytest (SIGINT: it runs its teardown and stops its lab) and reaps what is left.
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        sampler = proctree.TreeSampler(process.pid, sample_interval).start()
        box: list = []
        waiter = threading.Thread(target=_wait4, args=(process.pid, box), daemon=True)
        waiter.start()
        try:
            waiter.join(timeout)
            if not box:
                raise TimeoutError(f"{label} run {index} took longer than {timeout:.0f} s")
        except BaseException:
            terminate_group(process, first=signal.SIGINT)
            raise
        finally:
            peaks = sampler.stop()
        result.wall = time.monotonic() - started
        ended = time.time()
    _pid, status, usage = box[0]
    process.returncode = result.exit_code = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # nothing of the run may outlive it
    result.largest_rss_mib = round(usage.ru_maxrss / 1024, 1)
    result.rss_mib = peaks.as_mib()
    result.cpu_seconds = peaks.cpu_seconds()
    result.output_tail = "\n".join(output.read_text(errors="replace").splitlines()[-15:])

    marks = {}
    worker_marks = []
    for path in timing_dir.glob("*.json"):
        data = json.loads(path.read_text())
        if data["process"] == "controller":
            marks = data["marks"]
        else:
            worker_marks.append(data["marks"])
    result.phases = _phases(marks, spawned, ended, worker_marks)
    # xdist gives a worker 5 s after the run to finish its teardown (the shells' Delete).
    result.workers_torn_down = sum(1 for m in worker_marks if "unconfigure_end" in m)

    log = summarize(report_dir / "lab-requests.jsonl", len(hosts))
    result.requests = log.requests()
    times = log.collect_times()
    if times:
        result.collect_median = round(statistics.median(times), 3)
        result.collect_max = round(max(times), 3)
    span = log.span()
    result.gather_span = round(span, 3) if span is not None else None

    with contextlib.suppress(OSError, ValueError, KeyError):
        document = json.loads((report_dir / "results.json").read_text())
        records = document["results"]
        result.records = len(records)
        result.selected = int(document["run"].get("selected") or 0)
        result.controls = len({r["control_id"] for r in records})
        unjudged = [r for r in records if r.get("error") and UNJUDGED in str(r.get("reason"))]
        result.unjudged_records = len(unjudged)
        # A fact that could not be collected: the run was quick for the wrong reason.
        result.error_records = sum(1 for r in records if r.get("error")) - len(unjudged)
        images = {h.name: h.image for h in hosts}
        for record in records:
            image = images.get(record["host"], "?")
            counts = result.statuses.setdefault(image, {})
            counts[record["status"]] = counts.get(record["status"], 0) + 1
            # The lab's images are known: hardened passes every automated control, drifted
            # fails every one. Anything else is a wrong result (or an error), kept for reading.
            unexpected = (image == "hardened" and record["status"] == "Open") or \
                (image == "drifted" and record["status"] == "NotAFinding")
            known = unexpected and (image, record["control_id"]) in fleet.KNOWN_DEVIATIONS
            if known:
                result.known_deviations[image] = result.known_deviations.get(image, 0) + 1
            wrong = unexpected and not known
            kind = "wrong" if wrong else "error" if record.get("error") and \
                UNJUDGED not in str(record.get("reason")) else None
            if kind:
                found = [a for a in result.anomalies if a.startswith(kind)]
                if len(found) < 10:
                    result.anomalies.append(f"{kind}: {record['host']} {record['control_id']} "
                                            f"{record['status']}: {record.get('reason', '')}"
                                            [:400])
    return result


# --- the baseline -----------------------------------------------------------------------------

@dataclass
class Baseline:
    hosts: int
    controls: int
    concurrency: int
    lab_start: float = 0.0
    wall: float = 0.0
    commands: int = 0
    failures: int = 0
    first_failure: str = ""
    requests: dict[str, Any] = field(default_factory=dict)
    collect_median: float | None = None
    collect_max: float | None = None
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # client (us) and lab

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_the_baseline(work: Path, hosts: list[fleet.FleetHost], *, latency_ms: int,
                     lab_dir: Path, concurrency: int) -> Baseline:
    from cwh.catalog.model import load_catalog
    from cwh.inventory import load_inventory

    run_dir = work / "baseline"
    inventory = fleet.write_inventory(run_dir / "inventory.yml", hosts, lab_dir=lab_dir,
                                      latency_ms=latency_ms)
    log_path = run_dir / "lab-requests.jsonl"
    controls = list(load_catalog().controls)  # -m stig selects every control
    from cwh.lab.process import LabServer

    with LabServer(str(inventory), None, lab_dir, log_path, new_session=True) as lab:
        lab.start(timeout=600)
        targets = load_inventory(str(inventory)).targets
        lab_cpu = proctree.cpu_seconds(lab.pid) or 0.0
        own_cpu = _own_cpu()
        outcome = run_baseline(targets, controls, concurrency=concurrency)
        own_cpu = _own_cpu() - own_cpu
        lab_cpu = (proctree.cpu_seconds(lab.pid) or lab_cpu) - lab_cpu
    result = Baseline(len(hosts), len(controls), concurrency, lab_start=lab.start_seconds or 0.0,
                      wall=outcome.wall_seconds, commands=outcome.commands,
                      failures=len(outcome.failures),
                      first_failure=outcome.failures[0] if outcome.failures else "",
                      cpu_seconds={"client": round(own_cpu, 1), "lab": round(lab_cpu, 1)})
    log = summarize(log_path, len(hosts))
    result.requests = log.requests()
    times = log.collect_times()
    if times:
        result.collect_median = round(statistics.median(times), 3)
        result.collect_max = round(max(times), 3)
    return result


# --- figures ----------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": ram_gib,
            "python": platform.python_version(), "kernel": platform.release(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


def _stats(values: list[float]) -> dict[str, float] | None:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return None
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3), "n": len(values)}


def _fmt(stats: dict[str, float] | None, unit: str = "", digits: int = 1) -> str:
    if stats is None:
        return "n/a"
    if stats["n"] == 1 or stats["min"] == stats["max"]:
        return f"{stats['median']:.{digits}f}{unit}"
    return (f"{stats['median']:.{digits}f}{unit} "
            f"[{stats['min']:.{digits}f}-{stats['max']:.{digits}f}]")


def summary(runs: list[SuiteRun], baseline: Baseline | None, args: argparse.Namespace,
            alone: Alone | None = None) -> dict[str, Any]:
    full = [r for r in runs if r.label == "full"]
    half = [r for r in runs if r.label == "half"]
    guide = [r for r in runs if r.label == "guide"]

    def of(selection: list[SuiteRun], attribute: str) -> dict[str, float] | None:
        return _stats([getattr(r, attribute) for r in selection])

    def requests(selection: list[SuiteRun], key: str) -> dict[str, float] | None:
        return _stats([r.requests.get(key) for r in selection])

    def extreme(selection: list[SuiteRun], key: str, pick: Any) -> Any:
        values = [r.requests.get(key) for r in selection if r.requests.get(key) is not None]
        return pick(values) if values else None

    def profile(selection: list[SuiteRun]) -> dict[str, Any]:
        return {
            "controls": selection[0].controls if selection else None,
            "markers": selection[0].markers if selection else None,
            "wall": of(selection, "wall"),
            "audit_wall": of(selection, "audit_wall"),
            "lab_start": _stats([r.phases.get("lab_start") for r in selection]),
            "phases": {name: _stats([r.phases.get(name) for r in selection])
                       for name in (selection[0].phases if selection else {})},
            "hosts_per_s": _stats([r.hosts / r.wall for r in selection]),
            "hosts_per_s_audit": _stats([r.hosts / r.audit_wall for r in selection]),
            "per_host": of(selection, "per_host"),
            "per_host_audit": _stats([r.audit_wall / r.hosts for r in selection]),
            "collect_median": of(selection, "collect_median"),
            "gather_span": of(selection, "gather_span"),
            "requests_mean": requests(selection, "mean"),
            "requests_min": extreme(selection, "min", min),
            "requests_max": extreme(selection, "max", max),
            "deletes_missing": extreme(selection, "deletes_missing", max),
            "complete_mean": requests(selection, "complete_mean"),
            "complete_max": extreme(selection, "complete_max", max),
            "commands_min": extreme(selection, "commands_min", min),
            "commands_max": extreme(selection, "commands_max", max),
            "all_hosts_seen": bool(selection) and all(
                r.requests.get("hosts_seen") == r.hosts for r in selection),
            "rss_tree": _stats([r.rss_mib.get("tree") for r in selection]),
            "rss_pytest": _stats([r.rss_mib.get("pytest") for r in selection]),
            "rss_lab": _stats([r.rss_mib.get("lab") for r in selection]),
            "cpu_pytest": _stats([r.cpu_seconds.get("pytest") for r in selection]),
            "cpu_lab": _stats([r.cpu_seconds.get("lab") for r in selection]),
            "all_ok": all(r.ok for r in selection),
            "tests": _stats([r.records for r in selection]),
            "per_test_ms": _stats([r.per_test_ms for r in selection]),
            "cpu_per_test_ms": _stats([1000 * r.cpu_seconds.get("pytest", 0) / r.records
                                       for r in selection if r.records]),
            # The suite's own CPU per test: its pytest tree's CPU less what pytest alone needs
            # for as many trivial tests with the same workers.
            "own_cpu_per_test_ms": _stats([
                1000 * (r.cpu_seconds.get("pytest", 0) - alone.cpu * r.records / alone.tests)
                / r.records for r in selection if r.records and alone and alone.tests]),
        }

    figures: dict[str, Any] = {
        "hosts": args.hosts, "latency_ms": args.latency_ms, "workers": args.workers,
        "runs": len(full), "pytest_args": args.pytest_args, "full": profile(full),
    }
    if half:
        figures["half"] = profile(half)
    if guide:
        figures["guide"] = profile(guide)
    if alone is not None:
        figures["pytest_alone"] = dict(alone.__dict__, cpu_per_test_ms=round(
            1000 * alone.cpu / alone.tests, 3), wall_per_test_ms=round(
            1000 * alone.wall / alone.tests, 3))
    if baseline is not None:
        ours = figures["full"]["complete_mean"]
        theirs = baseline.requests.get("mean")
        figures["baseline"] = baseline.as_dict()
        per_host_ours = figures["full"]["collect_median"]
        estimate = None
        if baseline.collect_median:
            # The baseline ran on a sample. For the whole fleet at the same concurrency it needs
            # at least the rounds of hosts times a host's time (latency-bound), and at least the
            # CPU it used, scaled to the fleet, spread over every CPU (CPU-bound). A lower bound:
            # contention makes each host slower than in the sample.
            rounds = math.ceil(args.hosts / max(1, baseline.concurrency))
            cpu = sum(baseline.cpu_seconds.values()) * args.hosts / baseline.hosts
            estimate = round(max(rounds * baseline.collect_median, cpu / (os.cpu_count() or 1)),
                             1)
        figures["ratios"] = {
            "requests_ours_over_baseline": round(ours["median"] / theirs, 4)
            if ours and theirs else None,
            "requests_baseline_over_ours": round(theirs / ours["median"], 1)
            if ours and theirs else None,
            "host_time_ours_over_baseline": round(per_host_ours["median"] /
                                                  baseline.collect_median, 4)
            if per_host_ours and baseline.collect_median else None,
            "baseline_fleet_estimate_s": estimate,
            "baseline_measured_on_all_hosts": baseline.hosts == args.hosts,
        }
    return figures


def targets(figures: dict[str, Any]) -> list[tuple[bool | None, str]]:
    full, half = figures["full"], figures.get("half")
    checks: list[tuple[bool | None, str]] = []
    worst = full["complete_max"]
    checks.append((bool(worst) and worst <= TARGET_REQUESTS_PER_HOST and full["all_hosts_seen"]
                   and full["commands_min"] == full["commands_max"] == 1,
                   f"at most {TARGET_REQUESTS_PER_HOST} WinRM requests per host for the whole "
                   f"profile: max {worst} (Delete included), Commands per host "
                   f"{full['commands_min']}..{full['commands_max']}"))
    wall = full["wall"]
    checks.append((wall is not None and wall["max"] < TARGET_SECONDS,
                   f"{figures['hosts']} hosts in under {TARGET_SECONDS:.0f} s: "
                   f"{_fmt(wall, ' s')} (without the lab's own start: "
                   f"{_fmt(full['audit_wall'], ' s')})"))
    own = full.get("own_cpu_per_test_ms")
    checks.append((None if own is None else own["max"] < TARGET_OWN_MS,
                   f"the suite's own CPU per test below {TARGET_OWN_MS} ms: "
                   f"{_fmt(own, ' ms', 3)} ({_fmt(full['cpu_per_test_ms'], ' ms', 3)} in all, "
                   f"pytest alone {figures.get('pytest_alone', {}).get('cpu_per_test_ms')} ms)"
                   if own else "the suite's own CPU per test: pytest alone not measured"))
    rss = full.get("rss_tree")
    checks.append((rss is not None and rss["max"] < TARGET_RSS_MIB,
                   f"peak RSS under {TARGET_RSS_MIB} MiB: {_fmt(rss, ' MiB', 0)} (pytest tree "
                   "incl. lab)"))
    ratios = figures.get("ratios")
    if ratios and ratios["requests_baseline_over_ours"]:
        factor = ratios["requests_baseline_over_ours"]
        checks.append((factor >= TARGET_RATIO, f"at least {TARGET_RATIO:.0f}x fewer requests "
                       f"than the per-control baseline: {factor}x fewer"))
    else:
        checks.append((None, "requests against the baseline: baseline not run"))
    if half and half["collect_median"] and full["collect_median"]:
        a, b = full["collect_median"]["median"], half["collect_median"]["median"]
        ratio = b / a
        relative, absolute = SAME_TIME_TOLERANCE
        checks.append((abs(b - a) <= max(relative * a, absolute),
                       f"per-host time the same for the full profile and half of it: "
                       f"collection {_fmt(full['collect_median'], ' s', 3)} (full) vs "
                       f"{_fmt(half['collect_median'], ' s', 3)} (half), half/full {ratio:.2f}"
                       f" (wall per host, which also counts pytest's per-test work: "
                       f"{_fmt(full['per_host'], ' s', 3)} vs {_fmt(half['per_host'], ' s', 3)})"
                       ))
    else:
        checks.append((None, "full vs half profile: half profile not run"))
    return checks


def _run_line(r: SuiteRun) -> str:
    q, p = r.requests, r.phases
    commands = f"{q.get('commands_min')}-{q.get('commands_max')}" \
        if q.get("commands_min") != q.get("commands_max") else f"{q.get('commands_max')}"
    problem = "" if r.ok else f"  NOT OK (exit {r.exit_code}, {r.records} results, " \
                              f"{r.error_records} not evaluated)"
    return (f"{r.label + ' ' + str(r.index):<7}{r.controls:>4}{r.exit_code!s:>5}{r.wall:>7.1f}"
            f"{p.get('lab_start', 0):>6.1f}{p.get('collection', 0):>6.1f}"
            f"{p.get('tests', 0):>6.1f}{p.get('reports', 0):>6.1f}{p.get('teardown', 0):>6.1f}"
            f"{q.get('mean') or 0:>7.2f}{q.get('min')!s:>4}{q.get('max')!s:>4}"
            f"{q.get('deletes_missing')!s:>6}{commands:>4}{r.collect_median or 0:>7.3f}"
            f"{r.rss_mib.get('pytest', 0):>7.0f}{r.rss_mib.get('lab', 0):>5.0f}"
            f"{r.cpu_seconds.get('pytest', 0):>6.0f}{r.cpu_seconds.get('lab', 0):>5.0f}"
            f"{problem}\n")


def print_report(info: dict[str, Any], runs: list[SuiteRun], baseline: Baseline | None,
                 figures: dict[str, Any]) -> None:
    out = sys.stdout.write
    out("\n== machine\n")
    out(f"{info['nproc']} CPUs ({info['cpu']}), {info['ram_gib']} GiB RAM, Python "
        f"{info['python']}, Linux {info['kernel']}, load average at start "
        f"{' '.join(map(str, info['loadavg_at_start']))}; the lab runs on the same CPUs\n")
    out("\n== runs: seconds (wall; phases: lab start, collection, tests, reports, teardown); "
        "WinRM requests per host (mean, min, max; hosts whose Delete never came; Commands); "
        "per-host collection s; peak RSS MiB and CPU s (pytest tree, lab)\n")
    out(f"{'run':<7}{'ctl':>4}{'exit':>5}{'wall':>7}{'lab':>6}{'coll':>6}{'tests':>6}"
        f"{'rep':>6}{'tear':>6}{'req':>7}{'min':>4}{'max':>4}{'noDel':>6}{'Cmd':>4}"
        f"{'host s':>7}{'RSS':>7}{'lab':>5}{'CPU':>6}{'lab':>5}\n")
    for r in runs:
        out(_run_line(r))
    f = figures["full"]
    out(f"\n== figures: {figures['hosts']} hosts, lab latency {figures['latency_ms']} ms per "
        f"request, {figures['workers']} worker(s), median [min-max] of {figures['runs']} run(s)"
        + (f", pytest {figures['pytest_args']}" if figures["pytest_args"] else "") + "\n")
    lines = [
        ("wall time (full profile)", _fmt(f["wall"], " s")),
        ("  of which the lab's own start", _fmt(f["lab_start"], " s")),
        ("  without the lab's start", _fmt(f["audit_wall"], " s")),
        ("  of which pytest's end of session", _fmt(f["phases"].get("reports"), " s")),
        ("hosts per second", _fmt(f["hosts_per_s"], "", 2)),
        ("hosts per second without the lab's start", _fmt(f["hosts_per_s_audit"], "", 2)),
        ("WinRM requests per host", f"mean {_fmt(f['requests_mean'], '', 2)}, min "
                                    f"{f['requests_min']}, max {f['requests_max']}"),
        ("  hosts whose shell was never deleted", f"{f['deletes_missing']} (worst run)"),
        ("  counting every shell's Delete", f"mean {_fmt(f['complete_mean'], '', 2)}, max "
                                            f"{f['complete_max']}"),
        ("Command actions per host", f"min {f['commands_min']}, max {f['commands_max']}"),
        ("per-host collection time", _fmt(f["collect_median"], " s", 3)),
        ("fleet collection span", _fmt(f["gather_span"], " s")),
        ("peak RSS, pytest tree incl. lab", _fmt(f["rss_tree"], " MiB", 0)),
        ("peak RSS, pytest and workers", _fmt(f["rss_pytest"], " MiB", 0)),
        ("peak RSS, lab process", _fmt(f["rss_lab"], " MiB", 0)),
        ("CPU time, pytest and workers / lab",
         f"{_fmt(f['cpu_pytest'], ' s', 0)} / {_fmt(f['cpu_lab'], ' s', 0)}"),
    ]
    lines += [
        ("tests (host x control or STIG rule)", _fmt(f["tests"], "", 0)),
        ("wall time per test, without the lab's start", _fmt(f["per_test_ms"], " ms", 3)),
        ("CPU per test, pytest and workers", _fmt(f["cpu_per_test_ms"], " ms", 3)),
        ("  of which the suite's own", _fmt(f["own_cpu_per_test_ms"], " ms", 3)),
    ]
    alone = figures.get("pytest_alone")
    if alone:
        lines.append(("pytest alone, as many trivial tests",
                      f"{alone['wall']} s wall, {alone['cpu']} s CPU "
                      f"({alone['cpu_per_test_ms']} ms CPU per test)"))
    guide = figures.get("guide")
    if guide:
        lines += [
            (f"guide profile: {guide['controls']} controls", repr(guide["markers"])),
            ("  wall time", f"{_fmt(guide['wall'], ' s')} (without the lab's start "
                            f"{_fmt(guide['audit_wall'], ' s')})"),
            ("  CPU per test / the suite's own",
             f"{_fmt(guide['cpu_per_test_ms'], ' ms', 3)} / "
             f"{_fmt(guide['own_cpu_per_test_ms'], ' ms', 3)}"),
            ("  peak RSS, pytest tree incl. lab", _fmt(guide["rss_tree"], " MiB", 0)),
            ("  WinRM requests per host", f"mean {_fmt(guide['requests_mean'], '', 2)}, max "
                                          f"{guide['complete_max']}"),
        ]
    half = figures.get("half")
    if half:
        lines += [
            (f"half profile: {half['controls']} controls", repr(half["markers"])),
            ("  wall time", f"{_fmt(half['wall'], ' s')} (without the lab's start "
                            f"{_fmt(half['audit_wall'], ' s')})"),
            ("  WinRM requests per host", f"mean {_fmt(half['requests_mean'], '', 2)}, max "
                                          f"{half['complete_max']} (Delete included), "
                                          f"Commands max {half['commands_max']}"),
            ("per-host collection time full / half",
             f"{_fmt(f['collect_median'], ' s', 3)} / {_fmt(half['collect_median'], ' s', 3)}"),
            ("per-host wall time full / half",
             f"{_fmt(f['per_host'], ' s', 3)} / {_fmt(half['per_host'], ' s', 3)}"),
            ("  without the lab's start",
             f"{_fmt(f['per_host_audit'], ' s', 3)} / {_fmt(half['per_host_audit'], ' s', 3)}"),
        ]
    for label, value in lines:
        out(f"{label:<44}{value}\n")
    if baseline is not None:
        ratios = figures["ratios"]
        q = baseline.requests
        estimate = "measured above" if ratios["baseline_measured_on_all_hosts"] else \
            f"at least {ratios['baseline_fleet_estimate_s']} s (lower bound from the sample)"
        out(f"\n== baseline: one new WinRM connection and shell per control ({baseline.controls}"
            f" controls), {baseline.hosts} hosts, {baseline.concurrency} hosts in flight\n")
        for label, value in [
            ("BASELINE wall time", f"{baseline.wall:.1f} s for {baseline.hosts} hosts (its lab's"
                                   f" start, {baseline.lab_start:.1f} s, not counted)"),
            ("BASELINE WinRM requests per host",
             f"mean {q.get('mean')}, min {q.get('min')}, max {q.get('max')}"),
            ("BASELINE Command actions per host", f"min {q.get('commands_min')}, max "
                                                  f"{q.get('commands_max')}"),
            ("BASELINE per-host collection time", f"{baseline.collect_median} s"),
            ("BASELINE CPU time, client / lab", f"{baseline.cpu_seconds.get('client')} s / "
                                                f"{baseline.cpu_seconds.get('lab')} s"),
            ("BASELINE failed commands", f"{baseline.failures} {baseline.first_failure}"),
            ("ratio requests per host ours/baseline",
             f"{ratios['requests_ours_over_baseline']} (the baseline makes "
             f"{ratios['requests_baseline_over_ours']}x more)"),
            ("ratio per-host time ours/baseline", f"{ratios['host_time_ours_over_baseline']}"),
            (f"collection of all {figures['hosts']} hosts",
             f"ours {_fmt(f['gather_span'], ' s')} measured; baseline {estimate}"),
        ]:
            out(f"{label:<44}{value}\n")
    out("\n== targets\n")
    for ok, text in targets(figures):
        out(f"[{'ok' if ok else 'n/a' if ok is None else 'MISS'}] {text}\n")
    sys.stdout.flush()


# --- main -------------------------------------------------------------------------------------

def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0],
        epilog="Prints the figures; --json writes them too. Exit 0 when every run audited "
               "every host (targets met or not), 1 when a run did not, 130 on Ctrl-C.")
    parser.add_argument("--hosts", type=int, default=200, help="lab hosts (default 200)")
    parser.add_argument("--latency-ms", type=int, default=50,
                        help="latency the lab adds to every WinRM request (default 50)")
    parser.add_argument("--workers", type=int, default=2,
                        help="pytest-xdist processes; 1 runs without -n (default 2)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each profile, for median and spread (default 3)")
    parser.add_argument("--drifted-share", type=float, default=0.5,
                        help="share of drifted hosts, the rest hardened (default 0.5)")
    parser.add_argument("--half-markers", default=HALF_MARKERS,
                        help=f"marker expression of the half profile (default {HALF_MARKERS!r})")
    parser.add_argument("--no-half", action="store_true", help="skip the half-profile runs")
    parser.add_argument("--no-guide", action="store_true",
                        help="skip the guide-profile runs (the 34 controls alone)")
    parser.add_argument("--baseline-hosts", type=int, default=20,
                        help="hosts the per-control baseline runs against (0: all; default 20)")
    parser.add_argument("--baseline-concurrency", type=int, default=None,
                        help="hosts the baseline works on at once (default 32 per worker, as "
                             "many as the suite gathers at once)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline")
    parser.add_argument("--no-alone", action="store_true",
                        help="skip pytest alone (as many trivial tests, for the suite's own "
                             "per-test cost)")
    parser.add_argument("--address-prefix", type=int, default=42,
                        help="hosts live on 127.PREFIX.*.* and up (default 42)")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds one run may take before it is stopped (default 1800)")
    parser.add_argument("--sample-interval", type=float, default=0.2,
                        help="seconds between memory samples (default 0.2)")
    parser.add_argument("--pytest-args", default="",
                        help="more arguments for the suite's pytest, e.g. '--tb=no'")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON here")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (inventories, reports, logs)")
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.workers < 1 or args.repeat < 1 or args.latency_ms < 0:
        parser.error("--hosts, --workers and --repeat must be at least 1, --latency-ms >= 0")
    if args.baseline_concurrency is None:
        args.baseline_concurrency = 32 * args.workers
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)  # cleanup runs as it does for Ctrl-C
    work = Path(tempfile.mkdtemp(prefix="cwh-bench-"))
    lab_dir = work / "lab"
    info = machine()
    runs: list[SuiteRun] = []
    baseline: Baseline | None = None
    alone: Alone | None = None
    block = 0

    def hosts(count: int) -> list[fleet.FleetHost]:
        nonlocal block
        chosen = fleet.plan(count, first_address=block, prefix=args.address_prefix,
                            drifted_share=args.drifted_share)
        block += math.ceil(count / fleet.ADDRESSES_PER_OCTET) * fleet.ADDRESSES_PER_OCTET
        return chosen

    print(f"cwh bench: {args.hosts} lab hosts, latency {args.latency_ms} ms, {args.workers} "
          f"worker(s), {args.repeat} run(s)"
          + (f", pytest {args.pytest_args}" if args.pytest_args else "")
          + f"; work directory {work}", flush=True)
    try:
        profiles = [("full", FULL_MARKERS)] + \
            ([] if args.no_guide else [("guide", GUIDE_MARKERS)]) + \
            ([] if args.no_half else [("half", args.half_markers)])
        for index in range(1, args.repeat + 1):
            for label, markers in profiles:
                run = run_suite(work, label, index, hosts(args.hosts), markers=markers,
                                workers=args.workers, latency_ms=args.latency_ms,
                                lab_dir=lab_dir, timeout=args.timeout,
                                sample_interval=args.sample_interval,
                                extra=shlex.split(args.pytest_args))
                runs.append(run)
                statuses = "; ".join(
                    f"{image}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                    for image, counts in sorted(run.statuses.items()))
                print(f"  {label} run {index}: {run.wall:.1f} s, exit {run.exit_code}, "
                      f"{run.records} results ({statuses}), requests/host max "
                      f"{run.requests.get('max')}"
                      + "".join(f"\n    {a}" for a in
                                [*[a for a in run.anomalies if a.startswith("wrong")][:3],
                                 *[a for a in run.anomalies if a.startswith("error")][:2]]),
                      flush=True)
        if not args.no_alone:
            tests = max((r.records for r in runs if r.label == "full"), default=0)
            if tests:
                print(f"  pytest alone: {tests} trivial tests...", flush=True)
                alone = run_alone(work / "alone", tests, args.workers, timeout=args.timeout)
        if not args.no_baseline:
            count = args.hosts if args.baseline_hosts <= 0 else min(args.baseline_hosts,
                                                                     args.hosts)
            print(f"  baseline: {count} hosts, one connection per control...", flush=True)
            baseline = run_the_baseline(work, hosts(count), latency_ms=args.latency_ms,
                                        lab_dir=lab_dir,
                                        concurrency=args.baseline_concurrency)
        figures = summary(runs, baseline, args, alone)
        print_report(info, runs, baseline, figures)
        if args.json:
            Path(args.json).write_text(json.dumps(
                {"machine": info, "figures": figures, "runs": [r.as_dict() for r in runs],
                 "targets": [{"ok": ok, "text": text} for ok, text in targets(figures)]},
                indent=2, default=str) + "\n")
        return 0 if all(r.ok for r in runs) and (baseline is None or not baseline.failures) \
            else 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the labs and removing the work directory", flush=True)
        return 130
    except (TimeoutError, RuntimeError, CwhError) as exc:
        print(f"ERROR: {exc}", flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
