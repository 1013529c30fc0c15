"""Domain controllers: the LDAP idle limit, user shares on the directory database's volume, the
domain controller's own certificate, and the rule DISA makes a permanent finding."""

from __future__ import annotations

import re

from cwh.convert.result import Recognised, Refusal
from cwh.convert.text import CheckText

_I = re.I

_LDAP_IDLE = re.compile(r'^If the value for MaxConnIdleTime is greater than "(\d+)" \(5 minutes\) '
                        r"or is not specified, this is a finding\.$", _I)
_LDAP_IDLE_DSQUERY = re.compile(r'^If the results do not specify a "MaxConnIdleTime" or it has a '
                                r'value greater than "(\d+)" \(5 minutes\), this is a finding\.$',
                                _I)


def ldap_idle_checks(ct: CheckText) -> Recognised | None:
    """The directory's Default Query Policy: MaxConnIdleTime set and at most N seconds."""
    first, second = ct.first(_LDAP_IDLE), ct.first(_LDAP_IDLE_DSQUERY)
    if not first:
        return None
    if not second or first[1].group(1) != second[1].group(1):
        raise Refusal("the LDAP idle limit is not stated the same way twice")
    ct.take(first[0], second[0])
    return Recognised(checks=[{"kind": "ldap_policy", "name": "MaxConnIdleTime", "op": "at_most",
                               "value": int(first[1].group(1)), "absent": "finding"}])


_PERMANENT = re.compile(r"^If the server is acting as a domain controller, this is a finding\.$",
                        _I)
_PERMANENT_NOTES = tuple(re.compile(p, _I) for p in (
    r"^This requirement is not applicable for Member Servers\.$",
    r"^Note: This requirement is a permanent finding for server 2016 domain controllers per DOD "
    r"CIO Memo",
))


def permanent_finding_checks(ct: CheckText) -> Recognised | None:
    """"If the server is acting as a domain controller, this is a finding": Open on every DC."""
    found = ct.first(_PERMANENT)
    if not found:
        return None
    ct.take(found[0])
    for note in _PERMANENT_NOTES:
        ct.take_all(note)
    return Recognised(checks=[{"kind": "constant", "result": "finding"}], roles=["dc"])


_NTDS_PARAMETERS = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters"
_SHARES = tuple(re.compile(p, _I) for p in (
    r'^Note the directory locations in the values for "DSA Database file"\.$',
    r"^Note the logical drive\(s\) or file system partition for any organization-created data "
    r"shares\.$",
    r"^Ignore system shares \(e\.g\., NETLOGON, SYSVOL, and administrative shares ending in \$\)\. "
    r"User shares that are hidden \(ending with \$\) (?:should|must) not be ignored\.$",
))
_SHARES_FINDING = re.compile(r"^If user shares are located on the same logical partition as the "
                             r"directory server data files, this is a finding\.$", _I)


def user_share_volume_checks(ct: CheckText) -> Recognised | None:
    """No user share on the volume of the directory database file."""
    found = ct.first(_SHARES_FINDING)
    if not found:
        return None
    if not all(ct.first(p) for p in _SHARES):
        raise Refusal("user shares and the directory volume in a form the converter does not "
                      "read")
    ct.take(found[0])
    for pattern in _SHARES:
        ct.take_all(pattern)
    return Recognised(checks=[{
        "kind": "shares", "op": "none_on_volume_of",
        "path_from_registry": {"path": _NTDS_PARAMETERS, "name": "DSA Database file"},
        "exclude_names": ["NETLOGON", "SYSVOL"], "exclude_administrative": True}])


_DC_CERTIFICATE = re.compile(r"^If no certificate for the domain controller exists in the right "
                             r"pane, this is a finding\.$", _I)


def dc_certificate_checks(ct: CheckText) -> Recognised | None:
    """A certificate issued to the domain controller in LocalMachine\\My."""
    found = ct.first(_DC_CERTIFICATE)
    if not found:
        return None
    if not ct.has(r"^Select and expand the Personal entry in the left pane\.$"):
        raise Refusal("a domain controller certificate without the store it is in")
    ct.take(found[0])
    return Recognised(checks=[{"kind": "certificate", "store": "My",
                               "op": "any_issued_to_host"}])
