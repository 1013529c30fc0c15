"""Advanced audit policy: "Account Logon >> Credential Validation - Success" with "If the system
does not audit the following, this is a finding", read into the subcategory's GUID.

The GUIDs are Microsoft's: the Audit_* constants of ntsecapi.h, also listed on
https://learn.microsoft.com/en-us/windows/win32/secauthz/auditing-constants and in [MS-GPAC]
(https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-gpac/77878370-0712-47cd-997d-b07053429f6d);
the OVAL Windows schema's auditeventpolicysubcategories documentation pairs each with its Group
Policy path. tests/convert/test_audit.py holds several against those sources.
`auditpol /get /category:* /r` reports them, so a localized Windows is read by GUID, never by
name.
"""

from __future__ import annotations

import re

from cwh.convert.result import Recognised, Refusal
from cwh.convert.text import CheckText

_BASE = "-69AE-11D9-BED3-505054503030}"
# English subcategory name (as auditpol writes it) -> (category, GUID)
SUBCATEGORIES: dict[str, tuple[str, str]] = {name: (category, "{0CCE" + code + _BASE) for
                                             category, entries in {
    "System": {"Security State Change": "9210", "Security System Extension": "9211",
               "System Integrity": "9212", "IPsec Driver": "9213",
               "Other System Events": "9214"},
    "Logon/Logoff": {"Logon": "9215", "Logoff": "9216", "Account Lockout": "9217",
                     "IPsec Main Mode": "9218", "IPsec Quick Mode": "9219",
                     "IPsec Extended Mode": "921A", "Special Logon": "921B",
                     "Other Logon/Logoff Events": "921C", "Network Policy Server": "9243",
                     "User / Device Claims": "9247", "Group Membership": "9249"},
    "Object Access": {"File System": "921D", "Registry": "921E", "Kernel Object": "921F",
                      "SAM": "9220", "Certification Services": "9221",
                      "Application Generated": "9222", "Handle Manipulation": "9223",
                      "File Share": "9224", "Filtering Platform Packet Drop": "9225",
                      "Filtering Platform Connection": "9226",
                      "Other Object Access Events": "9227", "Detailed File Share": "9244",
                      "Removable Storage": "9245", "Central Policy Staging": "9246"},
    "Privilege Use": {"Sensitive Privilege Use": "9228", "Non Sensitive Privilege Use": "9229",
                      "Other Privilege Use Events": "922A"},
    "Detailed Tracking": {"Process Creation": "922B", "Process Termination": "922C",
                          "DPAPI Activity": "922D", "RPC Events": "922E",
                          "Plug and Play Events": "9248", "Token Right Adjusted Events": "924A"},
    "Policy Change": {"Audit Policy Change": "922F", "Authentication Policy Change": "9230",
                      "Authorization Policy Change": "9231",
                      "MPSSVC Rule-Level Policy Change": "9232",
                      "Filtering Platform Policy Change": "9233",
                      "Other Policy Change Events": "9234"},
    "Account Management": {"User Account Management": "9235",
                           "Computer Account Management": "9236",
                           "Security Group Management": "9237",
                           "Distribution Group Management": "9238",
                           "Application Group Management": "9239",
                           "Other Account Management Events": "923A"},
    "DS Access": {"Directory Service Access": "923B", "Directory Service Changes": "923C",
                  "Directory Service Replication": "923D",
                  "Detailed Directory Service Replication": "923E"},
    "Account Logon": {"Credential Validation": "923F",
                      "Kerberos Service Ticket Operations": "9240",
                      "Other Account Logon Events": "9241",
                      "Kerberos Authentication Service": "9242"},
}.items() for name, code in entries.items()}

_SETTING = re.compile(r"^(?P<category>[A-Za-z/ ]+?) >> (?P<sub>.+?) - "
                      r"(?P<what>Success and Failure|Success|Failure)$", re.I)
_FINDING = re.compile(r"^(?:Compare the \"?AuditPol\"? settings with the following\.? )?If the "
                      r"system does not audit the following, this is a finding[.:]?$", re.I)


def subcategory(category: str, name: str) -> tuple[str, str]:
    """(auditpol name, GUID). Group Policy spells subcategories "Audit X" where auditpol says
    "X" ("Audit Audit Policy Change"); one such prefix is dropped when that names a known one."""
    lookup = {n.lower(): n for n in SUBCATEGORIES}
    key = name.strip().lower()
    if key not in lookup and key.startswith("audit ") and key[6:] in lookup:
        key = key[6:]
    if key not in lookup:
        raise Refusal("an audit subcategory the converter does not know")
    canonical = lookup[key]
    known_category, guid = SUBCATEGORIES[canonical]
    if known_category.lower() != category.strip().lower():
        raise Refusal("an audit subcategory under a category it does not belong to")
    return canonical, guid


def audit_checks(ct: CheckText) -> Recognised | None:
    """The audit subcategory and Success/Failure a rule requires, or None."""
    settings = list(ct.find(_SETTING))
    if not settings:
        return None
    if not ct.first(_FINDING):
        raise Refusal("an audit setting without the condition that makes it a finding")
    ct.take_all(_FINDING)
    checks = []
    for index, match in settings:
        name, guid = subcategory(match.group("category"), match.group("sub"))
        what = match.group("what").lower()
        include = ["Success", "Failure"] if "and" in what else [what.capitalize()]
        checks.append({"kind": "audit_policy", "subcategory": name, "guid": guid,
                       "include": include})
        ct.take(index)
    return Recognised(checks=checks)
