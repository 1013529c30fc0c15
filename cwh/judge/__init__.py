"""Judgement: catalog control + host facts (+ the runner's probes) -> Verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import HostFacts
from cwh.judge import (
    automate,
    automate_web,
    exposure,
    external,
    file_acls,
    screenconnect,
    screenconnect_app,
    web,
)
from cwh.judge.accounts import judge_internet_use, judge_separate_admin_accounts
from cwh.judge.policy import judge_policy
from cwh.judge.products import applicability
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
    "machine_key_plaintext": screenconnect_app.judge_machine_key_plaintext,
    "web_config_acl": file_acls.judge_web_config_acl,
    "backups_acl": file_acls.judge_backups_acl,
    "ltshare_acl": file_acls.judge_ltshare_acl,
    "udp_inbound_allowed": automate.judge_udp_inbound_allowed,
    "legacy_udp_closed": automate.judge_legacy_udp_closed,
}
# These also need real connections from the runner.
RUNNER_JUDGES: dict[str, RunnerJudge] = {
    "inbound_required": exposure.judge_inbound_required,
    "port_closed_unless_domain": exposure.judge_port_closed_unless_domain,
    "legacy_tls_refused": exposure.judge_legacy_tls_refused,
    "no_server_disclosure": web.judge_no_server_disclosure,
    "options_refused": web.judge_options_refused,
    "valid_certificate": web.judge_valid_certificate,
    "inbound_allowed": automate.judge_inbound_allowed,
    "mysql_not_exposed": automate.judge_mysql_not_exposed,
    "legacy_tcp_closed": automate.judge_legacy_tcp_closed,
    "rdp_closed": automate.judge_rdp_closed,
    "site_no_server_disclosure": automate_web.judge_site_no_server_disclosure,
    "site_options_refused": automate_web.judge_site_options_refused,
    "site_legacy_tls_refused": automate_web.judge_site_legacy_tls_refused,
    "site_valid_certificate": automate_web.judge_site_valid_certificate,
    **external.JUDGES,  # the exposure audit: the runner's connections alone
}


def method_of(control: Control) -> str | None:
    return control.check.get("method") if isinstance(control.check, Mapping) else None


def needs_runner(control: Control) -> bool:
    return method_of(control) in RUNNER_JUDGES


def judge(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
          runner: RunnerView | None = None) -> Verdict:
    """The verdict, once the host can be judged on the control (a host without host access
    gets only the exposure audit) and the control applies to a product the host runs (else
    Not_Applicable, or Not_Reviewed when that is unknown)."""
    if inputs.get("cwh_access") == "network" and control.handler != external.HANDLER:
        return external.without_host_access(control)
    gate = applicability(control, facts, inputs)
    if gate.verdict is not None:
        return gate.verdict
    return gate.annotate(_judge(control, facts, inputs, runner))


def _judge(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
           runner: RunnerView | None) -> Verdict:
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
