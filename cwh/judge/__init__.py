"""Judgement: catalog control + host facts (+ the runner's probes) -> Verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import HostFacts
from cwh.judge import exposure, external, screenconnect, web
from cwh.judge.accounts import judge_internet_use, judge_separate_admin_accounts
from cwh.judge.policy import judge_policy
from cwh.judge.verdict import Verdict
from cwh.probes.runner import RunnerView

HostJudge = Callable[[Control, HostFacts, Mapping[str, Any]], Verdict]
RunnerJudge = Callable[[Control, HostFacts, Mapping[str, Any], RunnerView], Verdict]

# Controls whose check is not made of catalog conditions name their judge by `method`.
HOST_JUDGES: dict[str, HostJudge] = {
    "local_admins": judge_separate_admin_accounts,
    "internet_apps": judge_internet_use,
    "iis_remove_server_header": web.judge_iis_remove_server_header,
    "iis_options_denied": web.judge_iis_options_denied,
    "services_running": screenconnect.judge_services_running,
    "version_at_least": screenconnect.judge_version_at_least,
    "listener_scheme": screenconnect.judge_listener_scheme,
}
# These also need real connections from the runner.
RUNNER_JUDGES: dict[str, RunnerJudge] = {
    "inbound_required": exposure.judge_inbound_required,
    "port_closed_unless_domain": exposure.judge_port_closed_unless_domain,
    "legacy_tls_refused": exposure.judge_legacy_tls_refused,
    "no_server_disclosure": web.judge_no_server_disclosure,
    "options_refused": web.judge_options_refused,
    "valid_certificate": web.judge_valid_certificate,
    **external.JUDGES,  # the exposure audit: the runner's connections alone
}


def method_of(control: Control) -> str | None:
    return control.check.get("method") if isinstance(control.check, Mapping) else None


def needs_runner(control: Control) -> bool:
    return method_of(control) in RUNNER_JUDGES


def judge(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
          runner: RunnerView | None = None) -> Verdict:
    if inputs.get("cwh_access") == "network" and control.handler != external.HANDLER:
        return external.without_host_access(control)
    if control.handler == "policy":
        return judge_policy(control, facts, inputs)
    method = method_of(control)
    if method in HOST_JUDGES:
        return HOST_JUDGES[method](control, facts, inputs)
    if method in RUNNER_JUDGES:
        if runner is None:
            raise ValueError(f"{control.id} needs the runner's probes")
        return RUNNER_JUDGES[method](control, facts, inputs, runner)
    raise LookupError(f"{control.id}: no judge for method {method!r}")
