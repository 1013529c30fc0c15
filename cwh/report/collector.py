"""The controller's side of a run: gather every record (from xdist workers too), write the
reports, set the exit code, print the summary."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.identity import ASSET_KEY, audited_twice
from cwh.inventory import Target
from cwh.report import exitcodes
from cwh.report.checklist import forget_evidence_texts
from cwh.report.rundir import RunDir
from cwh.report.terminal import summary_lines
from cwh.report.writers import write_reports
from cwh.text import printable

if TYPE_CHECKING:
    from cwh.audit import Audit

NOT_SELECTED = ("{host}: not audited: no selected control ran for this inventory host (-k, "
                "-m, --deselect or test IDs left it out; --limit is how to leave hosts out)")


def asset_of(target: Target, facts: HostFacts | None,
             identity_check: dict[str, Any] | None = None) -> dict[str, Any]:
    """What checklists say about the machine (ASSET / target_data), from its facts, and how
    its identity compared with the inventory (results.json keeps it)."""
    asset: dict[str, Any] = {"host": target.name, "address": target.connection.address,
                             "role": target.var("cwh_role"), "marking": target.var("cwh_marking")}
    if identity_check is not None:
        asset[ASSET_KEY] = identity_check
    if facts is None:
        return asset
    try:
        identity = facts.identity()
    except FactUnavailable:
        identity = {}
    dns_name = identity.get("dns_host_name")
    domain = identity.get("domain")
    asset.update({
        "hostname": identity.get("computer_name"),
        "fqdn": f"{dns_name}.{domain}" if dns_name and identity.get("part_of_domain") and domain
        else dns_name,
        "ip_addresses": [str(x) for x in as_list(identity.get("ip_addresses"))],
        "mac_addresses": [str(x) for x in as_list(identity.get("mac_addresses"))],
        "domain": domain,
        "part_of_domain": identity.get("part_of_domain"),
        "domain_role": identity.get("domain_role"),
        "os": facts.os_summary(),
        "os_version": facts.os_version,
        # What went wrong around a collection whose document still arrived (a non-zero exit
        # code, stderr): no verdict depends on it, but whoever reads the report must see it.
        "warnings": facts.warnings,
    })
    return asset


def _unlink_links(report_dir: Path, config: pytest.Config) -> None:
    """junitxml and pytest-html open their file and follow a link there: one put in the report
    directory during the run (the run refused any at its start) is removed just before they
    write, so they write the run's own file and never through a link."""
    root = Path(os.path.abspath(report_dir))
    for option in ("xmlpath", "htmlpath"):
        value = getattr(config.option, option, None)
        path = Path(os.path.abspath(value)) if value else None
        if path is not None and root in path.parents and path.is_symlink():
            path.unlink()


class ResultCollector:
    def __init__(self, audit: Audit, config: pytest.Config, run_dir: RunDir | None) -> None:
        self.audit = audit
        self.config = config
        self.run_dir = run_dir  # None for --collect-only, which writes nothing
        self.written: list[Path] = []
        self.report_error = ""

    # Last, so the terminal reporter has filed the report already (see below).
    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, "cwh_result", None)
        if record is None:
            self._forget_passed_phase(report)
            return
        self.audit.results[(record["host"], record["control_id"])] = record
        asset = getattr(report, "cwh_asset", None)
        if asset and len(asset) > len(self.audit.assets.get(record["host"], {})):
            self.audit.assets[record["host"]] = asset
        host_error = getattr(report, "cwh_host_error", None)
        if host_error:
            self.audit.host_errors[record["host"]] = host_error

    def _forget_passed_phase(self, report: pytest.TestReport) -> None:
        """The terminal keeps every report, the passed setup and teardown of each test too
        (under the category "", which it never shows): two per test, a hundred MB for a fleet
        run's 50,000 tests. They count for nothing; let them go."""
        if report.when == "call" or not report.passed:
            return
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        kept = getattr(terminal, "stats", {}).get("")
        if kept and kept[-1] is report:
            kept.pop()

    def records(self) -> list[dict[str, Any]]:
        return sorted(self.audit.results.values(), key=lambda r: (r["host"], r["control_id"]))

    def not_evaluated(self) -> list[str]:
        """Selected tests without a result: the run stopped early (-x, --maxfail, Ctrl-C) or a
        worker crashed. Their controls were never judged, so they are not findings either."""
        reported = {r["nodeid"] for r in self.audit.results.values()}
        return [nodeid for nodeid in self.audit.selected if nodeid not in reported]

    # A wrapper, so this runs after every plugin's sessionfinish (pytest-html and junitxml write
    # their files there and the manifest must hash them), yet before the terminal summary.
    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Any:
        if self.run_dir is not None:
            _unlink_links(self.run_dir.path, self.config)
        outcome = yield
        if self.run_dir is None:
            return
        failed = outcome.exception if isinstance(outcome.exception, OSError) else None
        if failed is not None:  # junitxml or pytest-html could not write into the directory
            outcome.force_result(None)
        records, missing = self.records(), self.not_evaluated()
        # Hosts never audited count as the fleet merge counts them: an inventory host without
        # any result (every selected test ran, so -k or a deselection left it out), or one
        # machine whose facts two confirmed hosts were judged on.
        dropped = exitcodes.hosts_without_results(self.audit.targets, records) \
            if records and not missing else []
        for host in dropped:
            self.audit.host_errors.setdefault(host, NOT_SELECTED.format(host=host))
        unaudited = len(dropped) + len(audited_twice(self.audit.assets))
        status = exitcodes.decide(records, int(session.exitstatus), self.audit.options.fail_on,
                                  len(missing), unaudited=unaudited)
        try:
            if failed is not None:
                raise failed
            self.written = write_reports(self.audit, self.run_dir, records, self.config,
                                         status, missing)
        except OSError as exc:
            # The evidence is incomplete, not the findings: one line and exit 6, never a
            # traceback and never 1 (the directory vanished, a file took a folder's place).
            where = f": {exc.filename}" if exc.filename else ""
            self.report_error = (f"--cwh-report-dir {self.run_dir.path}: the reports could not "
                                 f"be written ({exc.strerror or exc}{where}); the run's evidence "
                                 "is incomplete, exit code 6")
            self.run_dir.fail(exitcodes.SCAN_ERROR, self.report_error)
            if status not in (exitcodes.INTERNAL_ERROR, exitcodes.USAGE_ERROR):
                status = exitcodes.SCAN_ERROR
        finally:
            forget_evidence_texts()
        session.exitstatus = status

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.config.option.collectonly:
            return
        terminalreporter.section("ScreenConnect hardening audit")
        for line in summary_lines(self.audit, self.records(), self.written,
                                  self.not_evaluated()):
            terminalreporter.write_line(line)
        if self.report_error:
            terminalreporter.write_line(f"ERROR: {printable(self.report_error)}")
