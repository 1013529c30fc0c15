"""The pytest plugin: options, fixtures and hooks that wire inventory -> connection -> facts ->
judgement -> evidence -> reports.

Loaded by the top-level conftest.py. It acts only when the run includes tests_controls/, so the
project's own tests (tests/) run without an inventory, a lab or reports.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from cwh.audit import AUDIT_KEY, Audit, Options, build_audit
from cwh.cases import VERDICT_KEY, Case, ControlCase, RuleCase, apply_outcome
from cwh.collect.needs_policy import host_requests
from cwh.doctor import run_doctor
from cwh.errors import CwhError
from cwh.gather import Gatherer
from cwh.inventory import check_files
from cwh.judge.external import offered
from cwh.judge.verdict import not_reviewed
from cwh.lab.process import LabServer
from cwh.report import cci, exitcodes, junit
from cwh.report.collector import ResultCollector, asset_of
from cwh.report.exitcodes import FAIL_ON
from cwh.report.record import build_no_benchmark_record, build_record, build_rule_record
from cwh.report.rule_text import rule_title
from cwh.report.rundir import RUNNING, RunDir
from cwh.selection import (
    NO_BENCHMARK_ID,
    any_rule_selected,
    fact_request,
    guide_markers,
    marker_filter,
    probes_for,
    rule_markers,
    selected_rules,
    stand_in_markers,
)
from cwh.transport.backend import register
from cwh.usage_guard import guard_parse

CONTROLS_DIR = "tests_controls"
CASE_PARAM = "cwh_case"
NO_HOST_ACCESS = ("no host access (cwh_access: network): the host's STIG rules judge its own "
                  "configuration, which is never collected for this host")
RUN_DIR_KEY = pytest.StashKey[RunDir]()


# --- options ----------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser, pluginmanager: Any) -> None:
    group = parser.getgroup("cwh", "ScreenConnect hardening audit")
    group.addoption("--inventory", default=None, metavar="PATH",
                    help="Ansible-style YAML inventory (default: ini cwh_inventory, the lab)")
    group.addoption("--limit", default=None, metavar="PATTERN",
                    help="hosts or groups to audit: comma separated names or globs, !excludes")
    group.addoption("--waivers", default=None, metavar="FILE",
                    help="YAML file of accepted findings (control, hosts, justification, "
                         "approver, ticket, expires)")
    group.addoption("--fail-on", default="cat3", choices=tuple(FAIL_ON),
                    help="lowest severity whose findings fail the run (default cat3: any)")
    group.addoption("--stig-xccdf", action="append", default=[], metavar="FILE",
                    help="DISA XCCDF benchmark (file or folder, repeatable): checklists then "
                         "carry every rule of it with its full text")
    group.addoption("--cci-list", default=None, metavar="FILE",
                    help="DISA's CCI list (U_CCI_List.xml): HDF controls get tags.nist from it")
    group.addoption("--cwh-doctor", action="store_true", default=False,
                    help="check that every host can be audited (name, port, TLS, login, "
                         "rights), print one line per host, and stop")
    group.addoption("--cwh-report-dir", default=None, metavar="DIR",
                    help="where reports go (default: ini cwh_report_dir, 'reports')")
    group.addoption("--cwh-lab", default="auto", choices=("auto", "off"),
                    help="auto: start the lab for hosts with cwh_lab_image; off: it is running")
    group.addoption("--cwh-lab-dir", default=None, metavar="DIR",
                    help="lab state (CA and certificates), default .cwh-lab")
    parser.addini("cwh_inventory", "default inventory", default="inventory/lab.yml")
    parser.addini("cwh_report_dir", "default report directory", default="reports")
    parser.addini("cwh_stig_xccdf", "DISA XCCDF benchmarks to use by default", type="paths",
                  default=[])
    # A command line pytest refuses must not leave the last run's evidence looking current.
    guard_parse(parser, pluginmanager, CONTROLS_DIR, _VALUE_OPTIONS)


# The options above that take a value: a refused command line is read without argparse.
_VALUE_OPTIONS = ("--inventory", "--limit", "--waivers", "--fail-on", "--stig-xccdf",
                  "--cci-list", "--cwh-report-dir", "--cwh-lab", "--cwh-lab-dir")


def _audits(config: pytest.Config) -> bool:
    """True when the run collects tests_controls (explicitly, by testpaths, or by a parent)."""
    controls = (config.rootpath / CONTROLS_DIR).resolve()
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::", 1)[0]).resolve()
        if path == controls or controls in path.parents or path in controls.parents:
            return True
    return False


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _options(config: pytest.Config) -> Options:
    root = config.rootpath

    def under_root(value: str | Path) -> Path:
        path = Path(value)
        return path if path.is_absolute() else root / path

    inventory = config.getoption("inventory") or config.getini("cwh_inventory")
    xccdf = [str(under_root(p)) for p in config.getoption("stig_xccdf")] + \
        [str(p) for p in config.getini("cwh_stig_xccdf")]
    return Options(
        inventory=str(under_root(inventory)),
        limit=config.getoption("limit"),
        hosts=config.getoption("hosts", default=None),
        report_dir=under_root(config.getoption("cwh_report_dir") or
                              config.getini("cwh_report_dir")),
        lab_dir=under_root(config.getoption("cwh_lab_dir") or ".cwh-lab"),
        lab=config.getoption("cwh_lab"),
        waivers=str(under_root(config.getoption("waivers"))) if config.getoption("waivers")
        else None,
        fail_on=config.getoption("fail_on"),
        stig_xccdf=xccdf,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """--cwh-doctor: the preflight instead of a run."""
    if not config.getoption("cwh_doctor"):
        return None
    register()
    try:
        audit = build_audit(_options(config))
        _start_lab(audit)
    except (CwhError, pytest.UsageError) as exc:
        print(f"ERROR: {exc}")
        return exitcodes.USAGE_ERROR
    try:
        findings = run_doctor(audit.targets.values())
    finally:
        if audit.lab is not None:
            audit.lab.stop()
    for finding in findings:
        print(finding.line())
    failed = sum(not f.ok for f in findings)
    print(f"{len(findings) - failed} of {len(findings)} hosts ready to audit")
    return exitcodes.SCAN_ERROR if failed else exitcodes.OK


def _marker_filter(config: pytest.Config) -> Any:
    expression = config.getoption("markexpr")
    try:
        return marker_filter(expression)
    except Exception as exc:  # pytest's ParseError: the message pytest itself would give
        raise pytest.UsageError(f"Wrong expression passed to '-m': {expression}: {exc}") \
            from None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    register()
    if not _audits(config) or config.option.help:
        return
    options = _options(config)
    run_dir = None
    try:
        if not _is_worker(config) and not config.option.collectonly:
            # First of all (before the inputs are read, the lab starts or anything connects):
            # the directory is usable, the previous run's reports are gone and it says that
            # this run is under way, so however this run ends nothing stale looks current.
            run_dir = RunDir.open(options.report_dir)
            config.stash[RUN_DIR_KEY] = run_dir
        audit = build_audit(options)
        audit.selects = _marker_filter(config)
        if not _is_worker(config):
            cci.configure(config)  # a bad --cci-list is a usage error: nothing is contacted
    except (CwhError, pytest.UsageError) as exc:
        if run_dir is not None:
            run_dir.fail(exitcodes.USAGE_ERROR, str(exc))
        raise pytest.UsageError(str(exc)) from None
    config.stash[AUDIT_KEY] = audit
    _spare_the_collector(config)
    if config.option.tbstyle == "auto":
        # A finding is no Python error: its evidence is in the reports, and the -ra summary
        # names each one. pytest's traceback section would repeat every reason and costs time
        # quadratic in the number of findings (3,300 findings: 47 s at 200 hosts).
        config.option.tbstyle = "no"
    if _is_worker(config):
        shared = config.workerinput.get("cwh_share_dir")
        # A worker on another machine (--tx ssh=...) cannot see the controller's directory:
        # it then gathers its hosts itself (correct, one more round trip per such worker).
        audit.share_dir = Path(shared) if shared and Path(shared).is_dir() else None
        _start_gathering(audit)
        return
    if config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses", None):
        from cwh import xdist_share

        audit.share_dir = Path(tempfile.mkdtemp(prefix="cwh-share-"))
        _register_or_refuse(config, run_dir, xdist_share, "cwh-xdist-share",
                            "under xdist the controller learns from it which tests were "
                            "selected, so a run stopped early could pass")
    # `-p no:junitxml` removes the option along with the plugin. --collect-only writes no
    # report: it would overwrite the last run's junit.xml and report.html behind its manifest.
    if config.pluginmanager.hasplugin("junitxml") and not config.option.xmlpath and \
            run_dir is not None:
        config.option.xmlpath = str(audit.report_dir / "junit.xml")
    junit.configure(config)
    _register_or_refuse(config, run_dir, ResultCollector(audit, config, run_dir), "cwh-results",
                        "it records the results, writes the reports and sets the exit code")
    if config.pluginmanager.hasplugin("html") and run_dir is not None:
        from cwh.report import html

        html.configure(config, audit)
        config.pluginmanager.register(html, "cwh-html")
    if run_dir is not None:
        # What this run will write besides its reports, recorded before a byte is written
        # (the files other plugins write, the lab's request log): the next run removes these
        # and nothing else (cwh/report/rundir.py).
        lab_log = [audit.report_dir / "lab-requests.jsonl"] if audit.options.lab == "auto" \
            and any(t.lab_image for t in audit.targets.values()) else []
        others = [getattr(config.option, o, None) for o in ("xmlpath", "htmlpath")]
        run_dir.will_write([*lab_log, *(Path(v) for v in others if v)])
    try:
        # --collect-only too: which STIG rule tests a host has follows from its facts, so
        # collection contacts each host once (and writes nothing: no run directory, no log).
        _start_lab(audit, request_log=run_dir is not None)
    except pytest.UsageError as exc:
        if run_dir is not None:
            run_dir.fail(exitcodes.USAGE_ERROR, str(exc))
        raise
    _start_gathering(audit)


def _spare_the_collector(config: pytest.Config) -> None:
    """pytest runs gc.collect() at the end of every run, for unraisable exceptions a test
    leaves behind; over a fleet run's heap (50,000 items, records and reports) that pass alone
    took 8 % of the run. The audit's tests leave none: skip it, as pytest's own pytester does."""
    try:
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:  # another pytest: keep its default
        return
    config.stash[gc_collect_iterations_key] = 0


def _start_gathering(audit: Audit) -> None:
    """Gather every host now, before collection, with one request covering everything the -m
    expression can select (cwh/selection.py); nothing when it can select nothing."""
    request = fact_request(audit.catalog, audit.releases.by_benchmark, audit.selects)
    if not (any(audit.selects(guide_markers(c)) for c in audit.catalog.controls) or
            any_rule_selected(audit.releases.by_benchmark, audit.selects)):
        return
    # Each host's own inventory values (an antivirus service, accounts in a user right's
    # exceptions) add to its request: without them those rules are Not_Reviewed for want of
    # facts nobody asked for.
    rules = [r for release in audit.releases.by_benchmark.values()
             for r in selected_rules(release, audit.selects)]
    requests = host_requests(request, rules, {n: t.vars for n, t in audit.targets.items()})
    audit.gatherer = Gatherer(audit.targets.values(), requests, share_dir=audit.share_dir)
    audit.gatherer.start()


def _register_or_refuse(config: pytest.Config, run_dir: RunDir | None, plugin: Any, name: str,
                        why: str) -> None:
    """Register one of the suite's own plugins; `-p no:<name>` blocks it silently (pluggy then
    returns None), and without some of them the run's exit code would be pytest's, not the
    gate's: that is a usage error, before anything is contacted."""
    if config.pluginmanager.register(plugin, name) is not None:
        return
    message = f"-p no:{name}: the audit cannot run without its plugin {name} ({why})"
    if run_dir is not None:
        run_dir.fail(exitcodes.USAGE_ERROR, message)
    raise pytest.UsageError(message)


def _start_lab(audit: Audit, request_log: bool = True) -> None:
    lab_targets = [t for t in audit.targets.values() if t.lab_image]
    if lab_targets and audit.options.lab == "auto":
        audit.lab = LabServer(audit.inventory_path, ",".join(t.name for t in lab_targets),
                              audit.options.lab_dir,
                              audit.report_dir / "lab-requests.jsonl" if request_log else None)
        try:
            audit.lab.start()
        except CwhError as exc:
            raise pytest.UsageError(f"lab: {exc}") from None
    try:
        for target in audit.targets.values():
            check_files(audit.inventory_path, target)
    except CwhError as exc:
        if audit.lab:
            audit.lab.stop()
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    _heap["audit"] = False
    run_dir = config.stash.get(RUN_DIR_KEY, None)
    if run_dir is not None and run_dir.state == RUNNING:
        run_dir.fail(None, "the run stopped before it wrote its reports")
    audit = config.stash.get(AUDIT_KEY, None)
    if audit is None:
        return
    if audit.gatherer is not None:
        audit.gatherer.close()
    if audit.lab is not None:
        audit.lab.stop()
    if audit.share_dir is not None and not _is_worker(config):
        shutil.rmtree(audit.share_dir, ignore_errors=True)


# --- collection -------------------------------------------------------------------------------

_MARKS: dict[tuple[str, ...], list[Any]] = {}


def _marks(names: tuple[str, ...]) -> list[Any]:
    """The mark decorators for these marker names, made once (50,000 tests share a few dozen)."""
    if names not in _MARKS:
        _MARKS[names] = [getattr(pytest.mark, name) for name in names]
    return _MARKS[names]


def _guide_params(audit: Audit, handler: str) -> list[Any]:
    controls = audit.catalog.for_handler(handler)
    return [pytest.param((name, control.id), id=f"{name}::{control.id}",
                         marks=_marks(guide_markers(control, audit.targets[name].network_only)))
            for name in sorted(audit.targets) for control in controls]


def choose_release(audit: Audit, name: str) -> None:
    """The host's benchmark, from the OS its facts report (waits for them), or why none."""
    assert audit.gatherer is not None
    if audit.targets[name].network_only:
        audit.no_benchmark[name] = NO_HOST_ACCESS
        return
    facts = audit.gatherer.facts(name)
    if not facts.ok:
        audit.no_benchmark[name] = f"no facts, so no benchmark: {facts.error}"
        return
    release = audit.releases.for_os(facts.os_version)
    audit.host_releases[name] = release
    if release is None:
        known = ", ".join(f"{r.os_version} ({r.benchmark_id} {r.short_version})"
                          for r in audit.releases.by_benchmark.values())
        audit.no_benchmark[name] = (f"{name} reports {facts.os_summary()}, which no Windows "
                                    f"Server STIG release of the suite covers ({known})")


def _rule_params(audit: Audit) -> list[Any]:
    """Each host's rules of its own benchmark that -m selects (the same answer pytest gives,
    so nothing pytest would deselect is made), or one stand-in test when it has none."""
    if audit.gatherer is None or not any_rule_selected(audit.releases.by_benchmark,
                                                       audit.selects):
        return []
    stand_in = stand_in_markers(audit.releases.by_benchmark, audit.selects)
    params = []
    for name in sorted(audit.targets):
        choose_release(audit, name)
        release = audit.host_releases.get(name)
        if release is None:
            if stand_in is not None:
                params.append(pytest.param((name, NO_BENCHMARK_ID),
                                           id=f"{name}::{NO_BENCHMARK_ID}", marks=_marks(stand_in)))
            continue
        for rule in release.rules:
            markers = rule_markers(rule)
            if audit.selects(markers):
                params.append(pytest.param((name, rule.stig_id), id=f"{name}::{rule.stig_id}",
                                           marks=_marks(markers)))
    return params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if CASE_PARAM not in metafunc.fixturenames:
        return
    audit = metafunc.config.stash.get(AUDIT_KEY, None)
    handler = metafunc.definition.get_closest_marker("cwh_handler")
    if audit is not None and handler is not None:
        params = _guide_params(audit, handler.args[0])
    elif audit is not None and metafunc.definition.get_closest_marker("cwh_stig_rules"):
        params = _rule_params(audit)
    else:
        params = []
    metafunc.parametrize(CASE_PARAM, params, indirect=True)


def _case_of(item: pytest.Item) -> tuple[str, str] | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(CASE_PARAM) if callspec else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A WinRM host's exposure audit is opt-in (cwh/judge/external.py, `offered`): deselected
    unless the -m expression names it."""
    audit = config.stash.get(AUDIT_KEY, None)
    if audit is None:
        return
    markexpr = config.getoption("markexpr") or ""
    keep, drop = [], []
    for item in items:
        case = _case_of(item)
        wanted = case is None or case[1] not in audit.catalog or offered(
            audit.catalog[case[1]], audit.targets[case[0]].network_only, markexpr)
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the probes the selected tests need (the facts are being gathered already)."""
    audit = session.config.stash.get(AUDIT_KEY, None)
    if audit is None:
        return
    cases = [(item.nodeid, case) for item in session.items if (case := _case_of(item))]
    audit.selected = [nodeid for nodeid, _ in cases]
    # What exists now (tens of thousands of items, the facts) lives to the end: the collector's
    # full passes need not scan it again and again.
    _settle_heap()
    _heap["audit"] = True
    if audit.gatherer is not None and not session.config.option.collectonly:
        audit.gatherer.start_probes(probes_for(audit.catalog, [c for _, c in cases]))


# --- the heap ---------------------------------------------------------------------------------

# Every result lives to the end of the run (records, reports, evidence), so each of Python's
# full collections scanned a heap that only grows: 10 % of a fleet run's CPU. Every so many
# tests, and before the reports are written, the garbage made since the last time is collected
# and what is left is frozen: later collections scan only what is new. Nothing is leaked: the
# collection just before each freeze frees every cycle among the objects it freezes.
SETTLE_EVERY = 1000
_heap = {"tests": 0, "audit": False}  # "audit": a run of tests_controls is under way


def _settle_heap() -> None:
    _heap["tests"] = 0
    gc.collect()
    gc.freeze()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_collection(session: pytest.Session) -> Any:
    """No cyclic collection while the items are made (each full pass scanned every item made so
    far); pytest_collection_finish collects once and freezes them."""
    if session.config.stash.get(AUDIT_KEY, None) is None or not gc.isenabled():
        return (yield)
    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    if not _heap["audit"]:
        return  # the project's own tests: their heap is left to Python
    _heap["tests"] += 1
    if _heap["tests"] >= SETTLE_EVERY:
        _settle_heap()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    if session.config.stash.get(AUDIT_KEY, None) is not None:
        _settle_heap()


# --- the fixture tests use --------------------------------------------------------------------

@pytest.fixture
def cwh_case(request: pytest.FixtureRequest) -> Case:
    audit = request.config.stash[AUDIT_KEY]
    host, control_id = request.param
    target = audit.targets[host]
    if control_id in audit.catalog:
        return ControlCase(audit, target, audit.catalog[control_id], request.node)
    return RuleCase(audit, target, control_id, request.node)


# --- results ----------------------------------------------------------------------------------

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Attach the result record (plain data, so it crosses to the xdist controller)."""
    report = yield
    _attach_result(item, call, report)
    return report


def _attach_result(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> None:
    case = _case_of(item)
    audit = item.config.stash.get(AUDIT_KEY, None)
    if case is None or audit is None:
        return
    # pytest copies every keyword of the item into each of its three reports and the terminal
    # keeps them all: at 50,000 tests that alone is a few hundred MB, and what xdist serializes
    # for every report. Nothing reads them for the audit's tests (markers select at collection).
    report.keywords = {}
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    host, control_id = case
    verdict = item.stash.get(VERDICT_KEY, None)
    if verdict is None:
        problem = call.excinfo.exconly().splitlines()[0] if call.excinfo else "no verdict"
        verdict = not_reviewed(f"the check did not complete: {problem}")
    facts = audit.gatherer.facts(host) if audit.gatherer else None
    report.cwh_result = _record(audit, host, control_id, verdict, facts, report)
    if report.when == "call" and call.excinfo is None:
        apply_outcome(report, item, verdict, report.cwh_result["waiver"])
    if host not in audit.assets_sent:
        # Once per host and process: the controller keeps the fullest, and 250 copies per host
        # would cross from every xdist worker for nothing.
        audit.assets_sent.add(host)
        report.cwh_asset = asset_of(audit.targets[host], facts,
                                    audit.gatherer.identity(host) if audit.gatherer else None)
        if facts is not None and facts.error:
            report.cwh_host_error = facts.error
    # No user_properties: junitxml would write them inside <testcase>, which xunit2 forbids;
    # cwh/report/junit.py names the case after the host and control instead.


def _record(audit: Audit, host: str, control_id: str, verdict: Any, facts: Any,
            report: pytest.TestReport) -> dict[str, Any]:
    waiver = audit.waiver_record(host, control_id) if verdict.status == "Open" else None
    common = dict(host=host, verdict=verdict, os_version=facts.os_version if facts else None,
                  os_summary=facts.os_summary() if facts else "unknown", nodeid=report.nodeid,
                  duration=report.duration)
    if control_id in audit.catalog:
        return build_record(control=audit.catalog[control_id], waiver=waiver, **common)
    release = audit.host_releases.get(host)
    if release is None:
        return build_no_benchmark_record(control_id=control_id, **common)
    rule = audit.releases.rule(release.benchmark_id, control_id)
    text = audit.benchmarks.get(release.benchmark_id)
    xccdf = text.rules.get(rule.vuln_id) if text is not None else None
    return build_rule_record(
        rule=rule, release=release, waiver=waiver,
        # One line: a few of DISA's titles carry line breaks.
        title=" ".join(xccdf.title.split()) if xccdf is not None and xccdf.title
        else rule_title(rule),
        same_check=audit.same_check.get((rule.benchmark_id, rule.stig_id), []), **common)
