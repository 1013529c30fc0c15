"""Protections on the host and its time source: antivirus, the host firewall, application
allowlisting, certificate files left on disk, the Windows Time client, unresolvable SIDs in
user rights."""

from __future__ import annotations

import re

from cwh.convert.applicability import input_check
from cwh.convert.result import Recognised, Refusal
from cwh.convert.text import CheckText

_I = re.I

_ANTIVIRUS = re.compile(r"^If there is no anti-?virus solution installed on the system, this is a "
                        r"finding\.$", _I)
_DEFENDER_QUERY = re.compile(r'get-service \| where \{\$_\.DisplayName -Like "\*Defender\*"\}', _I)


def antivirus_checks(ct: CheckText) -> Recognised | None:
    """An antivirus service runs: Microsoft Defender (WinDefend, the one DISA looks for first) by
    default, or the services the organization names."""
    found = ct.first(_ANTIVIRUS)
    if not found:
        return None
    if not ct.has(_DEFENDER_QUERY.pattern):
        raise Refusal("an antivirus requirement without the services DISA looks for")
    ct.take(found[0])
    return Recognised(checks=[{"kind": "service", "names_input": "cwh_antivirus_services",
                               "match": "any", "state": "Running"}],
                      inputs={"cwh_antivirus_services"})


_FIREWALL = re.compile(r"^If a host-based firewall is not installed and enabled on the system, "
                       r"this is a finding\.$", _I)
_FIREWALL_STIG = re.compile(r"^The configuration requirements will be determined by the "
                            r"applicable firewall STIG\.$", _I)


def firewall_checks(ct: CheckText) -> Recognised | None:
    """Windows Defender Firewall on in every profile, or a documented third-party firewall."""
    found = ct.first(_FIREWALL)
    if not found:
        return None
    ct.take(found[0])
    ct.take_all(_FIREWALL_STIG)
    return Recognised(checks=[{"kind": "firewall_profiles",
                               "profiles": ["Domain", "Private", "Public"], "enabled": True},
                              input_check("cwh_third_party_firewall")],
                      combine="any", inputs={"cwh_third_party_firewall"})


_NT5DS = re.compile(r'^If the value for "Type" under "NTP Client" is not "NT5DS", this is a '
                    r'finding\.$', _I)
_DOMAIN_JOINED = re.compile(r"^Domain-joined systems \(excluding the domain controller with the "
                            r"PDC emulator role\):$", _I)
_NTP = re.compile(r'^If systems are configured with a "Type" of "NTP", including standalone or '
                  r'nondomain-joined systems and the domain controller with the PDC Emulator '
                  r'role, and do not have a DoD time server defined for "NTPServer", this is a '
                  r'finding\.$', _I)


def time_source_checks(ct: CheckText, rule_roles: list[str]) -> Recognised | None:
    """NT5DS on domain members and non-PDC domain controllers; NTP with an approved (DoD) server
    on standalone systems and the PDC emulator (domain_role 5)."""
    nt5ds = ct.first(_NT5DS)
    if not nt5ds:
        return None
    if not ct.first(_DOMAIN_JOINED) or not ct.first(_NTP):
        raise Refusal("a time source requirement in a form the converter does not read")
    ct.take(nt5ds[0])
    ct.take_all(_DOMAIN_JOINED)
    ct.take_all(_NTP)
    ct.take_all(r"^Other systems:$")
    if rule_roles != ["dc", "member", "standalone"]:
        raise Refusal("a time source rule with narrowed roles")
    return Recognised(checks=[
        {"kind": "time_source", "type": "NT5DS", "roles": ["dc_other", "member"]},
        {"kind": "time_source", "type": "NTP", "servers_input": "cwh_time_sources",
         "roles": ["dc_pdc", "standalone"]},
    ], inputs={"cwh_time_sources"})


_UNRESOLVED = re.compile(r"^If any unresolved SIDs exist and are not for currently valid accounts "
                         r"or groups, this is a finding\.$", _I)
_UNRESOLVED_NOTES = tuple(re.compile(p, _I) for p in (
    r"^Review each User Right listed for any unresolved SIDs to determine whether they are valid, "
    r"such as due to being temporarily disconnected from the domain\.",
))


def orphaned_sid_checks(ct: CheckText) -> Recognised | None:
    """Every SID holding a user right resolves to an account or group on the host."""
    if not ct.first(_UNRESOLVED) or not ct.has(r"/areas USER_RIGHTS"):
        return None
    ct.take_all(_UNRESOLVED)
    for note in _UNRESOLVED_NOTES:
        ct.take_all(note)
    return Recognised(checks=[{"kind": "user_rights_sids", "op": "all_resolve"}])


_ALLOWLISTING = re.compile(r"^If an application allowlisting program is not in use on the "
                           r"system, this is a finding\.$", _I)
_APPLOCKER = re.compile(r"^AppLocker is an allowlisting application built ?in ?to Windows Server\. "
                        r"A deny-by-default implementation is initiated by enabling any AppLocker "
                        r"rules within a category, only allowing what is specified by defined "
                        r"rules\.$", _I)
_APPLOCKER_NOTES = tuple(re.compile(p, _I) for p in (
    r"^Verify the operating system employs a deny-all, permit-by-exception policy to allow the "
    r"execution of authorized software programs\.$",
    r"^Configuration of allowlisting applications will vary by the program\.$",
))


def allowlisting_checks(ct: CheckText) -> Recognised | None:
    """AppLocker enforcing rules in at least one category (DISA: "enabling any AppLocker rules
    within a category" makes it deny-by-default), or another allowlisting product the
    organization documents."""
    found = ct.first(_ALLOWLISTING)
    if not found:
        return None
    if not ct.first(_APPLOCKER) or not ct.has(r"Get-AppLockerPolicy -Effective"):
        raise Refusal("an allowlisting requirement without DISA's description of AppLocker")
    ct.take(found[0])
    ct.take_all(_APPLOCKER)
    for note in _APPLOCKER_NOTES:
        ct.take_all(note)
    return Recognised(checks=[{"kind": "applocker", "op": "enforced"},
                              input_check("cwh_allowlisting_product")],
                      combine="any", inputs={"cwh_allowlisting_product"})


_CERT_FILES = re.compile(r"^Search all drives for (\*\.\w+) and (\*\.\w+) files\.$", _I)
_CERT_FILES_FINDING = re.compile(r"^If any files with these extensions exist, this is a "
                                 r"finding\.$", _I)
_CERT_FILES_EXCEPTION = re.compile(
    r"^This does not apply to server-based applications that have a requirement for \.p12 "
    r"certificate files or Adobe PreFlight certificate files\. Some applications create files "
    r"with extensions of \.p12 that are not certificate installation files\. Removal of "
    r"non-?certificate installation files from systems is not required\. These must be "
    r"documented with the (?:ISSO|Information System Security Officer \(ISSO\))\.$", _I)


def certificate_file_checks(ct: CheckText) -> Recognised | None:
    """No *.p12 or *.pfx file on any local drive, except the ones the organization documents."""
    found = ct.first(_CERT_FILES)
    if not found:
        return None
    if not ct.first(_CERT_FILES_FINDING) or not ct.first(_CERT_FILES_EXCEPTION):
        raise Refusal("certificate files in a form the converter does not read")
    ct.take(found[0])
    ct.take_all(_CERT_FILES_FINDING)
    ct.take_all(_CERT_FILES_EXCEPTION)
    patterns = sorted(p.lower() for p in found[1].groups())
    return Recognised(checks=[{"kind": "files", "scope": "local_drives", "patterns": patterns,
                               "op": "none", "exceptions_input": "cwh_certificate_files"}],
                      inputs={"cwh_certificate_files"})
