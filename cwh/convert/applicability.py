"""Where a rule applies and when it is Not_Applicable: roles from "This applies to domain
controllers" and its variants, Not_Applicable conditions (Server Core, classified systems, an FTP
server, a rule that another rule makes redundant), and the documented exceptions that DISA says
are not a finding (read as `input` checks an organization sets in its inventory)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cwh.convert.result import Check, Refusal
from cwh.convert.text import CheckText

ROLES = ("dc", "member", "standalone")

_I = re.I
_ROLE_SENTENCES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^This (?:applies to|requirement is applicable to) domain controllers[.,;] "
                r"(?:it is NA for other systems|a separate version applies to other systems)\.?$",
                _I), ("dc",)),
    (re.compile(r"^This applies to member servers and standalone or nondomain-joined systems"
                r"[.,;] (?:it is NA for domain controllers|a separate version applies to domain "
                r"controllers)\.$", _I), ("member", "standalone")),
    (re.compile(r"^This applies to member servers(?: only)?[.,;] (?:For domain controllers and "
                r"standalone or nondomain-joined systems, this is NA|A separate version applies "
                r"to domain controllers)\.$", _I), ("member",)),
    (re.compile(r"^For domain controllers and standalone or nondomain-joined systems, this is "
                r"NA\.$", _I), ("member",)),
    (re.compile(r"^(?:This requirement is applicable to domain-joined systems\. )?For standalone "
                r"or nondomain-joined systems, this is NA\.$", _I), ("dc", "member")),
)

_SERVER_CORE = (
    re.compile(r"^UAC requirements are NA for Server Core installations \(this is (?:the )?"
               r"default installation option for Windows Server 20\d\d versus Server with "
               r"Desktop Experience\)( as well as Nano Server)?\.$", _I),
    re.compile(r"^This is not applicable for Windows Core Editions\.?()$", _I),
)
_AUDIT_SERVER = re.compile(r"^If the system is configured to write events directly to an audit "
                           r"server, this is NA\.$", _I)
_UNCLASSIFIED = re.compile(
    r"^(?:This is applicable to unclassified systems(?:; for other systems, this is NA|\. It is "
    r"NA for others)|(?:The )?certificates and thumbprints referenced below apply to unclassified "
    r"systems; refer to PKE documentation for other networks|Verify the .+ (?:are|is) installed "
    r"on unclassified systems as (?:an )?Untrusted Certificates?)\.$", _I)
_FTP_ROLE = re.compile(r"^If the server has the role of an FTP server, this is NA\.$", _I)
_FTP_ROLE_NOTE = re.compile(r"^If the system has the role of an FTP server, this must be "
                            r"documented with the (?:ISSO|Information System Security Officer "
                            r"\(ISSO\))\.$", _I)
_FTP_ABSENT = re.compile(r"^If FTP is not installed on the system, this is NA\.$", _I)
_OTHER_RULES = re.compile(
    r"if ((?:WN\d\d-\d\d-\d{6}|V-\d+)(?: and (?:WN\d\d-\d\d-\d{6}|V-\d+))*) (?:is|are) "
    r"configured, this is NA\.$", _I)
_SMB_METHODS = re.compile(r"^Different methods are available to disable SMBv1 on Windows "
                          r"(?:Server )?20\d\d[.,]", _I)

_EXCEPTIONS: tuple[tuple[re.Pattern[str], str, tuple[re.Pattern[str], ...]], ...] = (
    (re.compile(r"^Note: If an external password filter is in use that enforces all four "
                r"character types and requires this setting to be set to \"Disabled\", this "
                r"would not be considered a finding\. If this setting does not affect the use of "
                r"an external password filter, it must be enabled for fallback purposes\.$", _I),
     "cwh_external_password_filter", ()),
    (re.compile(r"^If configuring this on servers causes issues, such as terminating users' remote "
                r"sessions, and the organization has a policy in place that any other sessions on "
                r"the servers, such as administrative console logons, are manually locked or "
                r"logged off when unattended or not in use, this would be acceptable\.(?: This "
                r"must be documented with the (?:ISSO|Information System Security Officer "
                r"\(ISSO\))\.)?$", _I), "cwh_smartcard_removal_exception", ()),
    (re.compile(r"^Virtual machines or systems that use network attached storage may generate "
                r"excessive audit events for secondary virtual drives or the network attached "
                r"storage when this setting is enabled\. This may be set to Not Configured in "
                r"such cases and would not be a finding\.$", _I),
     "cwh_removable_storage_audit_exempt", ()),
)


@dataclass
class Applicability:
    roles: list[str] = field(default_factory=lambda: list(ROLES))
    not_applicable_if: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[Check] = field(default_factory=list)  # `input` checks: compliant if set
    inputs: set[str] = field(default_factory=set)
    other_rules: list[str] = field(default_factory=list)  # resolved by the release pass


def input_check(name: str, value: Any = True) -> Check:
    return {"kind": "input", "input": name, "equals": value}


def read_roles(ct: CheckText) -> list[str]:
    """The roles a rule applies to; all three when no sentence narrows them."""
    found: list[tuple[str, ...]] = []
    for pattern, roles in _ROLE_SENTENCES:
        for index, _ in list(ct.find(pattern)):
            ct.take(index)
            found.append(roles)
    if len(set(found)) > 1:
        raise Refusal("the text names the rule's roles in two different ways")
    return list(found[0]) if found else list(ROLES)


def _input_condition(name: str, reason: str) -> dict[str, Any]:
    return {"checks": [input_check(name)], "reason": reason}


def read_applicability(ct: CheckText) -> Applicability:
    """Roles, Not_Applicable conditions and documented exceptions; consumes their sentences."""
    out = Applicability(roles=read_roles(ct))
    for pattern in _SERVER_CORE:
        for index, match in list(ct.find(pattern)):
            ct.take(index)
            types = ["Server Core", "Nano Server"] if match.group(1) else ["Server Core"]
            out.not_applicable_if.append({
                "checks": [{"kind": "os", "property": "installation_type", "op": "one_of",
                            "values": types}],
                "reason": "the requirement does not apply to " + " or ".join(types)})
    if ct.take_all(_AUDIT_SERVER):
        out.not_applicable_if.append(_input_condition(
            "cwh_events_to_audit_server", "events are written directly to an audit server"))
        out.inputs.add("cwh_events_to_audit_server")
    if ct.take_all(_UNCLASSIFIED):
        out.not_applicable_if.append(_input_condition(
            "cwh_classified", "the requirement applies to unclassified systems only"))
        out.inputs.add("cwh_classified")
    if ct.take_all(_FTP_ROLE):
        ct.take_all(_FTP_ROLE_NOTE)
        out.not_applicable_if.append(_input_condition(
            "cwh_ftp_server", "the server has the documented role of an FTP server"))
        out.inputs.add("cwh_ftp_server")
    if ct.take_all(_FTP_ABSENT):
        out.not_applicable_if.append({
            "checks": [{"kind": "feature", "name": "Web-Ftp-Service", "installed": False}],
            "reason": "FTP is not installed"})
    for index, match in list(ct.find(_OTHER_RULES)):
        if not _SMB_METHODS.search(ct.lines[index]):
            raise Refusal("another rule makes this one NA in a form the converter does not read")
        ct.take(index)
        out.other_rules.extend(re.split(r" and ", match.group(1)))
    for pattern, name, notes in _EXCEPTIONS:
        if ct.take_all(pattern):
            for note in notes:
                ct.take_all(note)
            out.exceptions.append(input_check(name))
            out.inputs.add(name)
    return out
