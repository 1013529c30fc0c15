"""Certificates that must be in a LocalMachine store, by thumbprint.

DISA lists each certificate twice (the PowerShell listing and the MMC listing); every thumbprint
must be in both. A SHA-1 thumbprint is 40 hex digits: a longer string that starts with a listed
thumbprint is that thumbprint with a typing error (2019 V3R1 lists DoD Root CA 6 once with a
41st digit); anything else that is not 40 hex digits is refused.
"""

from __future__ import annotations

import re
from datetime import datetime

from cwh.convert.result import Recognised, Refusal
from cwh.convert.text import CheckText

_I = re.I
_STORE = re.compile(r"Get-ChildItem -Path Cert:\\?Localmachine\\(root|disallowed)\b", _I)
_STORES = {"root": "Root", "disallowed": "Disallowed"}
_THUMBPRINT = re.compile(r"^Thumbprint: ([0-9a-f]+)$", _I)
_NOT_AFTER = re.compile(r"^(?:NotAfter|Valid to): (.+)$", _I)
_FIELDS = re.compile(r"^(?:Subject|Issuer|Issued To|Issued By|NotAfter|Valid to): ", _I)
_CONDITIONS = (
    re.compile(r'^If the following certificate "Subject"(?:, "Issuer",)? and "Thumbprint" '
               r"information is not displayed, this is (?:a )?finding\.$", _I),
    re.compile(r'^If the (?:DoD Root CA certificates|certificates?) below (?:are|is) not listed or '
               r'the value for the "Thumbprint" field is not as noted, this is a finding\.$', _I),
)
_EXPIRED_OK = re.compile(r'^If an expired certificate \("Valid to" date\) is not listed in the '
                         r'results, this is not a finding\.$', _I)
_DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y", "%A, %B %d, %Y")


def _date(text: str) -> str | None:
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _canonical(found: list[tuple[int, str]]) -> list[str]:
    """Each listed thumbprint, typing errors mapped to the thumbprint they extend."""
    valid = {hex_.upper() for _, hex_ in found if len(hex_) == 40}
    out = []
    for _, hex_ in found:
        hex_ = hex_.upper()
        if len(hex_) == 40:
            out.append(hex_)
            continue
        extended = [v for v in valid if len(hex_) > 40 and hex_.startswith(v)]
        if len(extended) != 1:
            raise Refusal("a thumbprint that is not 40 hex digits")
        out.append(extended[0])
    return out


def certificate_checks(ct: CheckText) -> Recognised | None:
    store_match = ct.first(_STORE)
    found = [(index, match.group(1)) for index, match in ct.find(_THUMBPRINT)]
    if not store_match or not found:
        return None
    conditions = [c for c in _CONDITIONS if ct.first(c)]
    if not conditions:
        raise Refusal("certificates without the condition that makes them a finding")
    thumbprints = _canonical(found)
    listings = len(conditions)
    for thumbprint in set(thumbprints):
        if thumbprints.count(thumbprint) != listings:
            raise Refusal("the two certificate listings do not name the same thumbprints")
    not_after: dict[str, str] = {}
    for (index, _), thumbprint in zip(found, thumbprints, strict=True):
        for follow in (index + 1, index - 1):
            if 0 <= follow < len(ct.lines) and (date := _NOT_AFTER.match(ct.lines[follow])):
                parsed = _date(date.group(1))
                if parsed and thumbprint not in not_after:
                    not_after[thumbprint] = parsed
    ct.take(*(index for index, _ in found))
    for condition in conditions:
        ct.take_all(condition)
    ct.take_all(_FIELDS)
    check = {"kind": "certificate", "store": _STORES[store_match[1].group(1).lower()],
             "op": "all_present", "thumbprints": sorted(set(thumbprints)),
             "not_after": dict(sorted(not_after.items()))}
    if ct.take_all(_EXPIRED_OK):
        check["expired_absent"] = "compliant"
    return Recognised(checks=[check])
