"""The pytest plugin: options, fixtures and hooks that wire inventory -> connection -> facts ->
judgement -> evidence -> reports.

Loaded by the top-level conftest.py. It acts only when the run includes tests_controls/, so the
project's own tests (tests/) run without an inventory, a lab or reports.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from cwh.audit import AUDIT_KEY, Audit, Options, build_audit
from cwh.catalog.model import Control
from cwh.collect.facts import HostFacts
from cwh.collect.request import FactRequest
from cwh.doctor import run_doctor
from cwh.errors import CwhError
from cwh.gather import Gatherer
from cwh.inventory import SECRET_VARS, Target, check_files
from cwh.judge import judge, needs_runner
from cwh.judge.external import markers_for, offered
from cwh.judge.verdict import Status, Verdict, not_reviewed
from cwh.lab.process import LabServer
from cwh.probes.runner import RunnerView
from cwh.report import cci, exitcodes, junit
from cwh.report.collector import ResultCollector, asset_of
from cwh.report.exitcodes import FAIL_ON
from cwh.report.record import build_record
from cwh.report.rundir import RUNNING, RunDir
from cwh.text import printable
from cwh.transport.backend import host_for, register
from cwh.usage_guard import guard_parse

CONTROLS_DIR = "tests_controls"
CASE_PARAM = "cwh_case"
VERDICT_KEY = pytest.StashKey[Verdict]()
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
        if not _is_worker(config):
            cci.configure(config)  # a bad --cci-list is a usage error: nothing is contacted
    except (CwhError, pytest.UsageError) as exc:
        if run_dir is not None:
            run_dir.fail(exitcodes.USAGE_ERROR, str(exc))
        raise pytest.UsageError(str(exc)) from None
    config.stash[AUDIT_KEY] = audit
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
            _start_lab(audit)
        except pytest.UsageError as exc:
            run_dir.fail(exitcodes.USAGE_ERROR, str(exc))
            raise


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


def _start_lab(audit: Audit) -> None:
    lab_targets = [t for t in audit.targets.values() if t.lab_image]
    if lab_targets and audit.options.lab == "auto":
        audit.lab = LabServer(audit.inventory_path, ",".join(t.name for t in lab_targets),
                              audit.options.lab_dir, audit.report_dir / "lab-requests.jsonl")
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

def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if CASE_PARAM not in metafunc.fixturenames:
        return
    audit = metafunc.config.stash.get(AUDIT_KEY, None)
    marker = metafunc.definition.get_closest_marker("cwh_handler")
    if audit is None or marker is None:
        metafunc.parametrize(CASE_PARAM, [], ids=[], indirect=True)
        return
    controls = audit.catalog.for_handler(marker.args[0])
    params = [
        pytest.param((name, control.id), id=f"{name}::{control.id}",
                     marks=[getattr(pytest.mark, m) for m in
                            markers_for(control, audit.targets[name].network_only)])
        for name in sorted(audit.targets)
        for control in controls
    ]
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
        wanted = case is None or offered(audit.catalog[case[1]],
                                         audit.targets[case[0]].network_only, markexpr)
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start collecting every selected host's facts (one round trip each) and its probes."""
    audit = session.config.stash.get(AUDIT_KEY, None)
    if audit is None:
        return
    audit.selected = [item.nodeid for item in session.items if _case_of(item)]
    if session.config.option.collectonly:
        return
    wanted: dict[str, FactRequest] = defaultdict(FactRequest)
    probes: dict[str, set[str]] = defaultdict(set)
    for item in session.items:
        case = _case_of(item)
        if case:
            control = audit.catalog[case[1]]
            wanted[case[0]].add_control(control)
            if isinstance(control.check, dict):
                probes[case[0]].update(control.check.get("probes", ()))
    audit.gatherer = Gatherer([audit.targets[n] for n in wanted], dict(wanted), dict(probes),
                              audit.share_dir)
    audit.gatherer.start()


# --- the fixture tests use --------------------------------------------------------------------

class ControlCase:
    """One host x control: the facts, the judgement and the pytest outcome."""

    def __init__(self, audit: Audit, target: Target, control: Control, item: pytest.Item):
        self.audit = audit
        self.target = target
        self.control = control
        self.item = item

    @property
    def host(self) -> Any:
        """The testinfra Host for this target (PowerShell over WinRM)."""
        return host_for(self.target.connection)

    @property
    def facts(self) -> HostFacts:
        assert self.audit.gatherer is not None
        return self.audit.gatherer.facts(self.target.name)

    @property
    def runner(self) -> RunnerView:
        """What the runner sees of this host over real connections."""
        assert self.audit.gatherer is not None
        return self.audit.gatherer.runner(self.target.name)

    @property
    def inputs(self) -> dict[str, Any]:
        return {k: v for k, v in self.target.vars.items()
                if k.startswith("cwh_") and k not in SECRET_VARS}

    def judge(self) -> Verdict:
        runner = self.runner if needs_runner(self.control) else None
        return judge(self.control, self.facts, self.inputs, runner)

    def conclude(self, verdict: Verdict) -> None:
        """Record the verdict and turn it into the pytest outcome."""
        self.item.stash[VERDICT_KEY] = verdict
        if verdict.status is Status.NOT_A_FINDING:
            return
        reason = printable(verdict.reason)
        if verdict.status is Status.OPEN:
            waiver = self.audit.waiver_record(self.target.name, self.control.id)
            if waiver and not waiver["expired"]:
                pytest.xfail(f"Open, waived ({waiver['id']}, approved by {waiver['approver']}, "
                             f"until {waiver['expires']}): {reason}")
            expired = f" (waiver {waiver['id']} expired on {waiver['expires']})" if waiver else ""
            pytest.fail(f"Open{expired}: {reason}", pytrace=False)
        if verdict.status is Status.NOT_APPLICABLE:
            pytest.skip(f"Not_Applicable: {reason}")
        if verdict.error:
            pytest.fail(f"Not_Reviewed: {reason}", pytrace=False)
        pytest.skip(f"Not_Reviewed: {reason}")


@pytest.fixture
def cwh_case(request: pytest.FixtureRequest) -> ControlCase:
    audit = request.config.stash[AUDIT_KEY]
    host, control_id = request.param
    return ControlCase(audit, audit.targets[host], audit.catalog[control_id], request.node)


# --- results ----------------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Attach the result record (plain data, so it crosses to the xdist controller)."""
    outcome = yield
    report = outcome.get_result()
    case = _case_of(item)
    audit = item.config.stash.get(AUDIT_KEY, None)
    if case is None or audit is None:
        return
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    host, control_id = case
    verdict = item.stash.get(VERDICT_KEY, None)
    if verdict is None:
        problem = call.excinfo.exconly().splitlines()[0] if call.excinfo else "no verdict"
        verdict = not_reviewed(f"the check did not complete: {problem}")
    facts = audit.gatherer.facts(host) if audit.gatherer else None
    waiver = audit.waiver_record(host, control_id) if verdict.status is Status.OPEN else None
    record = build_record(
        host=host, control=audit.catalog[control_id], verdict=verdict,
        os_version=facts.os_version if facts else None,
        os_summary=facts.os_summary() if facts else "unknown",
        nodeid=report.nodeid, duration=report.duration, waiver=waiver)
    report.cwh_result = record
    report.cwh_asset = asset_of(audit.targets[host], facts,
                                audit.gatherer.identity(host) if audit.gatherer else None)
    if facts is not None and facts.error:
        report.cwh_host_error = facts.error
    # No user_properties: junitxml would write them inside <testcase>, which xunit2 forbids;
    # cwh/report/junit.py names the case after the host and control instead.
