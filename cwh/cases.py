"""One test's subject: a host x guide control (ControlCase) or a host x STIG rule of the host's
benchmark (RuleCase); both judge, record the verdict and turn it into the pytest outcome."""

from __future__ import annotations

from typing import Any

import pytest

from cwh.audit import Audit
from cwh.catalog.model import Control
from cwh.catalog.stig_rules import Release, StigRule
from cwh.collect.facts import HostFacts
from cwh.inventory import Target
from cwh.inventory_vars import SECRET_VARS
from cwh.judge import judge, needs_runner
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Evidence, Status, Verdict, not_reviewed
from cwh.probes.runner import RunnerView
from cwh.text import printable
from cwh.transport.backend import host_for

VERDICT_KEY = pytest.StashKey[Verdict]()


class Case:
    """What every test subject has: the audit, the target and the pytest item."""

    control_id: str

    def __init__(self, audit: Audit, target: Target, item: pytest.Item) -> None:
        self.audit = audit
        self.target = target
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
    def inputs(self) -> dict[str, Any]:
        return {k: v for k, v in self.target.vars.items()
                if k.startswith("cwh_") and k not in SECRET_VARS}

    def judge(self) -> Verdict:
        raise NotImplementedError

    def conclude(self, verdict: Verdict) -> None:
        """Record the verdict; the plugin turns it into the pytest outcome when it makes the
        call's report (apply_outcome), without raising: pytest's exception and traceback
        machinery for 40,000 findings and skips is most of a large run's cost."""
        self.item.stash[VERDICT_KEY] = verdict


def outcome_of(verdict: Verdict, waiver: dict[str, Any] | None) -> tuple[str, str]:
    """(pytest outcome, message): passed, failed (Open, or Not_Reviewed for an error), xfailed
    (Open under an unexpired waiver) or skipped (Not_Applicable, Not_Reviewed awaiting review)."""
    if verdict.status is Status.NOT_A_FINDING:
        return "passed", ""
    reason = printable(verdict.reason)
    if verdict.status is Status.OPEN:
        if waiver and not waiver["expired"]:
            return "xfailed", (f"Open, waived ({waiver['id']}, approved by "
                               f"{waiver['approver']}, until {waiver['expires']}): {reason}")
        expired = f" (waiver {waiver['id']} expired on {waiver['expires']})" if waiver else ""
        return "failed", f"Open{expired}: {reason}"
    if verdict.status is Status.NOT_APPLICABLE:
        return "skipped", f"Not_Applicable: {reason}"
    if verdict.error:
        return "failed", f"Not_Reviewed: {reason}"
    return "skipped", f"Not_Reviewed: {reason}"


def apply_outcome(report: pytest.TestReport, item: pytest.Item, verdict: Verdict,
                  waiver: dict[str, Any] | None) -> None:
    """Set the call report's outcome from the verdict, as pytest.fail/skip/xfail would."""
    outcome, message = outcome_of(verdict, waiver)
    if outcome == "passed":
        return
    if outcome == "failed":
        report.outcome, report.longrepr = "failed", message
    elif outcome == "xfailed":
        report.outcome, report.longrepr = "skipped", None
        report.wasxfail = message  # type: ignore[attr-defined]
    else:
        path, lineno, _ = item.location
        report.outcome = "skipped"
        report.longrepr = (str(path), (lineno or 0) + 1, f"Skipped: {message}")


class ControlCase(Case):
    """One host x guide control: the facts, the probes, the judgement."""

    def __init__(self, audit: Audit, target: Target, control: Control, item: pytest.Item):
        super().__init__(audit, target, item)
        self.control = control
        self.control_id = control.id

    @property
    def runner(self) -> RunnerView:
        """What the runner sees of this host over real connections."""
        assert self.audit.gatherer is not None
        return self.audit.gatherer.runner(self.target.name)

    def judge(self) -> Verdict:
        runner = self.runner if needs_runner(self.control) else None
        return judge(self.control, self.facts, self.inputs, runner)


class RuleCase(Case):
    """One host x STIG rule of the host's benchmark, or (rule None) the test standing for all
    of them when the host has no benchmark."""

    def __init__(self, audit: Audit, target: Target, control_id: str, item: pytest.Item):
        super().__init__(audit, target, item)
        self.control_id = control_id
        self.release: Release | None = audit.host_releases.get(target.name)
        self.rule: StigRule | None = audit.releases.rule(self.release.benchmark_id, control_id) \
            if self.release is not None else None

    def judge(self) -> Verdict:
        if self.rule is None and self.target.network_only:
            return Verdict(Status.NOT_APPLICABLE, self.audit.no_benchmark.get(
                self.target.name, "no host access (cwh_access: network)"),
                observed="cwh_access: network",
                evidence=(Evidence("inventory", "cwh_access", "network",
                                   raw="no WinRM connection is made to this host"),))
        if self.rule is None:
            return not_reviewed(self.audit.no_benchmark.get(
                self.target.name, "no Windows Server STIG release was chosen for this host"))
        return judge_rule(self.rule, self.facts, self.inputs)
