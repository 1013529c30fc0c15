"""Why a rule stays manual, in one sentence of our own, when no recogniser reads its text."""

from __future__ import annotations

import re

_REASONS = (
    (r"HKEY_CURRENT_USER",
     "a per-user (HKCU) registry value; the collector reads HKLM only"),
    (r"Active Directory Users and Computers|dsa\.msc|Group Policy Management|gpmc\.msc|ldp\.exe",
     "needs permissions, auditing or contents of Active Directory objects, which are not "
     "collected"),
    (r"Internet Information Services \(IIS\) Manager",
     "needs the configuration of the FTP sites in IIS, which is not collected"),
    (r"Search all drives",
     "needs a search of every drive for certificate files"),
    (r"Printers & scanners|Devices and Printers",
     "needs the permissions of shared printers, which are not collected"),
    (r"Shared Folders >> Shares",
     "needs a judgement of which groups require access to each share"),
    (r"Get-AppLockerPolicy",
     "the allowlisting program may be any product; its policy needs review"),
    (r"LAPS",
     "needs the LAPS policy and its operational log, which the text does not name as values"),
    (r"Server Manager|Programs and Features",
     "needs a judgement of which roles and applications a domain controller requires"),
    (r"net share",
     "needs the volumes of user shares compared with the directory database's"),
    (r"temporary user account|emergency administrator account",
     "needs the organization to identify its temporary or emergency accounts and their dates"),
    (r"MMC|Personal entry",
     "needs the domain controller's certificate and its issuer, which the text does not name"),
    (r"User Principal Name|UPN",
     "needs the organization's user principal name format"),
    (r"separate accounts? for administrative (functions|duties)|separate administrative account",
     "needs to know which accounts belong to the same person"),
    (r"monitored for unauthorized changes",
     "the file integrity monitoring may be any product; its baselines need review"),
    (r"information at rest|data at rest",
     "depends on which data needs protection at rest, which the organization decides"),
    (r"ISSO|ISSM|organization|documented|policy|process|network diagram|data owner|"
     r"classification|interconnected",
     "procedural: depends on the organization's policy, documentation or process"),
)


def manual_reason(text: str) -> str:
    for pattern, reason in _REASONS:
        if re.search(pattern, text, re.I):
            return reason
    return "the check text is in a form the converter does not read"
