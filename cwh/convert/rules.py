"""One XCCDF rule -> one rule record: the recognisers in order, the first that reads the text
wins; a refusal, an unread condition or no recogniser at all makes the rule manual."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cwh.catalog.xccdf import Rule
from cwh.convert import accounts, acl, dc_checks, host_checks, system
from cwh.convert.account_policy import account_policy_checks
from cwh.convert.applicability import Applicability, read_applicability
from cwh.convert.audit import audit_checks
from cwh.convert.certificates import certificate_checks
from cwh.convert.manual import manual_reason
from cwh.convert.registry import registry_checks
from cwh.convert.result import Recognised, Refusal
from cwh.convert.text import CheckText
from cwh.convert.user_rights import user_right_checks

Record = dict[str, Any]
Recogniser = Callable[[CheckText, list[str]], Recognised | None]


def _plain(function: Callable[[CheckText], Recognised | None]) -> Recogniser:
    return lambda ct, _roles: function(ct)


# Specific shapes first: Device Guard's text carries a registry block that is not the
# requirement, so it must be read before the registry recogniser sees it.
RECOGNISERS: tuple[Recogniser, ...] = (
    _plain(dc_checks.permanent_finding_checks),
    _plain(system.device_guard_checks),
    _plain(acl.directory_checks), _plain(acl.hklm_checks), _plain(acl.event_log_checks),
    _plain(acl.event_viewer_checks), _plain(acl.ntds_checks), _plain(acl.sysvol_checks),
    _plain(certificate_checks), _plain(audit_checks), _plain(system.feature_checks),
    _plain(system.os_build_checks), _plain(system.firmware_checks), _plain(system.tpm_checks),
    _plain(system.volume_checks),
    user_right_checks,
    _plain(account_policy_checks), _plain(host_checks.orphaned_sid_checks),
    _plain(accounts.builtin_admin_password_checks), _plain(accounts.krbtgt_password_checks),
    _plain(accounts.application_password_checks), _plain(accounts.password_required_checks),
    _plain(accounts.password_expires_checks), _plain(accounts.inactive_account_checks),
    _plain(accounts.smartcard_checks), accounts.administrators_checks,
    _plain(accounts.backup_operators_checks),
    _plain(host_checks.antivirus_checks), _plain(host_checks.firewall_checks),
    _plain(host_checks.allowlisting_checks), _plain(host_checks.certificate_file_checks),
    host_checks.time_source_checks, _plain(dc_checks.ldap_idle_checks),
    _plain(dc_checks.user_share_volume_checks), _plain(dc_checks.dc_certificate_checks),
    _plain(registry_checks),
)

EXPANDED_ROLES = {"dc": {"dc", "dc_pdc", "dc_other"}, "member": {"member"},
                  "standalone": {"standalone"}}


def _identity(rule: Rule) -> Record:
    return {"vuln_id": rule.vuln_id, "rule_id": rule.rule_id, "stig_id": rule.stig_id,
            "severity": rule.severity}


def _kind(checks: list[dict[str, Any]]) -> str:
    kinds = {check["kind"] for check in checks if check["kind"] != "input"}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _check_roles(found: Recognised, roles: list[str]) -> None:
    allowed = set().union(*(EXPANDED_ROLES[role] for role in roles))
    for check in found.checks:
        if not set(check.get("roles", [])) <= allowed:
            raise Refusal("part of the rule is for a role the rule does not apply to")


def _with_exceptions(found: Recognised, applicability: Applicability) -> Recognised:
    if not applicability.exceptions:
        return found
    if len(found.checks) != 1 or found.combine != "all":
        raise Refusal("a documented exception on a rule with several checks")
    found.checks = found.checks + applicability.exceptions
    found.combine = "any"
    return found


def recognise(ct: CheckText, roles: list[str]) -> Recognised | None:
    for recogniser in RECOGNISERS:
        found = recogniser(ct, roles)
        if found is not None:
            return found
    return None


def convert_rule(rule: Rule) -> Record:
    """The rule record (docs/stig-rules.md); `other_rules` is left for the release pass."""
    record = _identity(rule)
    ct = CheckText.of(rule.check_content)
    applicability = Applicability()
    try:
        applicability = read_applicability(ct)
        found = recognise(ct, applicability.roles)
        if found is None:
            return _manual(record, applicability, manual_reason(rule.check_content))
        roles = found.roles or applicability.roles
        _check_roles(found, roles)
        found = _with_exceptions(found, applicability)
        unread = ct.unread_conditions()
        if unread:
            return _manual(record, applicability, "a condition in the check text that no "
                                                  f"recogniser reads (line {unread[0] + 1})")
    except Refusal as refusal:
        return _manual(record, applicability, refusal.reason)
    record.update(roles=roles, kind=_kind(found.checks), checks=found.checks,
                  combine=found.combine,
                  inputs=sorted(found.inputs | applicability.inputs),
                  not_applicable_if=found.not_applicable_if + applicability.not_applicable_if,
                  manual_reason=None)
    if applicability.other_rules:
        record["other_rules"] = applicability.other_rules
    return record


def _manual(record: Record, applicability: Applicability, reason: str) -> Record:
    record.update(roles=applicability.roles, kind="manual", checks=[], combine="all",
                  inputs=sorted(applicability.inputs),
                  not_applicable_if=applicability.not_applicable_if, manual_reason=reason)
    return record
