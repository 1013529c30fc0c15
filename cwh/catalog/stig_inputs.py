"""The organization-defined values (`cwh_` inventory variables) the rule data reads.

`default` is what the judge uses when the inventory does not set the variable: DISA's own bound
where it gives one, the strict reading for documented exceptions (none documented), and
`REQUIRED` where nothing honest can be assumed: the rule is then Not_Reviewed, naming the
variable. docs/stig-rules.md describes each; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REQUIRED = object()  # no default: Not_Reviewed until the inventory sets it


@dataclass(frozen=True)
class Input:
    name: str
    type: str  # bool | string | list of strings | list of principals | mapping
    default: Any
    meaning: str


INPUTS = {i.name: i for i in (
    Input("cwh_approved_admins", "list of principals", REQUIRED,
          "accounts and groups approved as members of Administrators besides the built-in "
          "Administrator"),
    Input("cwh_allowlisting_product", "bool", False,
          "an application allowlisting product other than AppLocker is in use (documented)"),
    Input("cwh_antivirus_services", "list of strings", ["WinDefend"],
          "service names of the antivirus in use; one of them must be running"),
    Input("cwh_application_accounts", "list of strings", REQUIRED,
          "names of manually managed application and service accounts ([] when none exist)"),
    Input("cwh_auditors_group", "list of principals", [],
          "the organization's Auditors group, allowed to manage auditing and the security log"),
    Input("cwh_backup_operators", "list of principals", REQUIRED,
          "members of Backup Operators verified as dedicated backup accounts"),
    Input("cwh_certificate_files", "list of strings", [],
          "full paths of .p12/.pfx files documented as required by a server application"),
    Input("cwh_classified", "bool", False,
          "the system is on a classified network (rules for unclassified systems are NA)"),
    Input("cwh_documented_inactive_accounts", "list of strings", [],
          "accounts reviewed, deemed required and documented although inactive for 35 days"),
    Input("cwh_events_to_audit_server", "bool", False,
          "events are written directly to an audit server (event log sizes are NA)"),
    Input("cwh_external_password_filter", "bool", False,
          "an external password filter enforcing all four character types requires "
          "complexity to be disabled (documented)"),
    Input("cwh_ftp_server", "bool", False,
          "the server has the documented role of an FTP server"),
    Input("cwh_legal_notice_caption", "string", None,
          "an organization-defined logon banner title, accepted besides DoD's two titles"),
    Input("cwh_legal_notice_text", "string", "DoD banner",
          "the logon banner text; by default DoD's, compared by its SHA-256 (default_sha256)"),
    Input("cwh_removable_storage_audit_exempt", "bool", False,
          "a virtual machine or NAS system where removable storage auditing may be Not "
          "Configured (documented)"),
    Input("cwh_smartcard_removal_exception", "bool", False,
          "the smart card removal option is off by documented policy (sessions are locked by "
          "hand)"),
    Input("cwh_third_party_firewall", "bool", False,
          "a host-based firewall other than Windows Defender Firewall is installed and enabled"),
    Input("cwh_time_sources", "list of strings", REQUIRED,
          "approved (DoD) NTP servers; standalone systems and the PDC emulator must use one"),
    Input("cwh_user_right_exceptions", "mapping", {},
          "user right constant -> principals documented as required by an application"),
)}


def required(name: str) -> bool:
    return INPUTS[name].default is REQUIRED
