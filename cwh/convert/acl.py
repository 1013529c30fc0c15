"""File, directory and registry permissions the STIG lists: the system drive, Program Files, the
Windows directory, three HKLM keys, the event log files, Event Viewer, the AD database files and
SYSVOL. Each recogniser names the object from DISA's exact wording and reads its ACEs."""

from __future__ import annotations

import re

from cwh.convert.acl_parse import (
    FILE_RIGHTS,
    REGISTRY_RIGHTS,
    Ace,
    canonical,
    dedupe,
    icacls_ace,
    list_aces,
    table_ace,
)
from cwh.convert.principals import TRUSTED_INSTALLER, by_sid
from cwh.convert.result import Check, Recognised, Refusal
from cwh.convert.text import CheckText

_I = re.I
_NOT_RESTRICTIVE = re.compile(r"^If (?:the )?permissions (?:for the \"(?P<file>[\w.]+)\" file )?"
                              r"are not as restrictive as the (?:default permissions listed "
                              r"below|following), this is a finding[.:]?$", _I)
_ON_EACH_FILE = re.compile(r"^If the permissions on each file are not as restrictive as the "
                           r"following, this is a finding[.:]?$", _I)
_LAYOUT = tuple(re.compile(p, _I) for p in (
    r'^Type - "Allow" for all$', r'^Inherited from - "None" for all$',
    r"^Principal - Access - Applies to$", r"^Default permissions:$",
    r"^Successfully processed 1 files; Failed processing 0 files$",
    r"^The following results (?:must|should) be displayed(?: for each when entered)?:$",
    r"^\(I\) - permission inherited from parent container$", r"^\(F\) - full access$",
    r"^\(RX\) - Read & execute$",
))
_NONPRIVILEGED = re.compile(
    r"^Review the permissions for the (?P<what>system drive's root directory \(usually C:\\\)|"
    r"program file directories \(Program Files and Program Files \[x86\]\)|Windows installation "
    r"directory \(usually C:\\Windows\))\. Non-?privileged groups such as Users or Authenticated "
    r"Users must not have greater than \"Read & execute\" permissions(?: except where noted as "
    r"defaults)?\. \(?Individual accounts must not be used to assign permissions\.\)?$", _I)
_DIRECTORIES = {
    "system drive's root directory (usually c:\\)": ["%SystemDrive%\\"],
    "program file directories (program files and program files [x86])":
        ["%ProgramFiles%", "%ProgramFiles(x86)%"],
    "windows installation directory (usually c:\\windows)": ["%SystemRoot%"],
}


def _take_layout(ct: CheckText) -> None:
    for pattern in _LAYOUT:
        ct.take_all(pattern)


def _table(ct: CheckText, start: int = 0, end: int | None = None) -> list[Ace]:
    aces = []
    for index in range(start, len(ct.lines) if end is None else end):
        if index in ct.taken:
            continue
        ace = table_ace(ct.lines[index])
        if ace:
            aces.append(ace)
            ct.take(index)
    return aces


def _icacls(ct: CheckText, container: bool) -> list[Ace]:
    aces = []
    for index, line in enumerate(ct.lines):
        if index not in ct.taken and (ace := icacls_ace(line, container)):
            aces.append(ace)
            ct.take(index)
    return aces


def _with_not_inherited(aces: list[Ace]) -> list[Ace]:
    return [{**ace, "inherited": False} for ace in aces]


def directory_checks(ct: CheckText) -> Recognised | None:
    """C:\\, Program Files and the Windows directory: a table and icacls output that agree."""
    found = ct.first(_NONPRIVILEGED)
    if not found:
        return None
    paths = _DIRECTORIES[found[1].group("what").lower()]
    if not ct.first(_NOT_RESTRICTIVE):
        raise Refusal("directory permissions without the condition that makes them a finding")
    ct.take(found[0])
    ct.take_all(_NOT_RESTRICTIVE)
    _take_layout(ct)
    table = _table(ct)
    icacls = _icacls(ct, container=True)
    if not table or not icacls:
        raise Refusal("directory permissions without both the table and the icacls listing")
    if canonical(table, FILE_RIGHTS) != canonical(icacls, FILE_RIGHTS):
        raise Refusal("the permission table and the icacls listing disagree")
    if not ct.has(r'^Inherited from - "None" for all$'):
        raise Refusal("directory permissions without their inheritance")
    ct.take_all(r"^(?:c:\\|\\Program Files and \\Program Files \(x86\)|\\Windows|c:\\windows|"
                r"c:\\program files \(c:\\program files \(x86\)\))$")
    aces = dedupe(_with_not_inherited(table))
    return Recognised(checks=[{"kind": "acl", "target": "directory", "path": path,
                               "mode": "at_most", "aces": aces} for path in paths])


_HKLM_INTRO = re.compile(r"^Review the registry permissions for the keys of the "
                         r"HKEY_LOCAL_MACHINE hive noted below\.$", _I)
_HKLM_KEY = re.compile(r"^HKEY_LOCAL_MACHINE\\(SECURITY|SOFTWARE|SYSTEM)$", _I)
_HKLM_NONPRIVILEGED = re.compile(r"^If any non-?privileged groups such as Everyone, Users, or "
                                 r"Authenticated Users have greater than Read permission, this is "
                                 r"a finding\.$", _I)
_HKLM_NOTES = tuple(re.compile(p, _I) for p in (
    r"^Other examples under the noted keys may also be sampled\. There may be some instances "
    r"where non-?privileged groups have greater than Read permission\.$",
    r"^If the defaults have not been changed, these are not a finding\.$",
))
_HKLM_EXTRA_SID = re.compile(r"^Microsoft has given Read permission to the SOFTWARE and SYSTEM "
                             r"registry keys in Windows Server 20\d\d to the following SID, this "
                             r"is currently not a finding\.$", _I)


def hklm_checks(ct: CheckText) -> Recognised | None:
    """HKLM\\SECURITY, \\SOFTWARE and \\SYSTEM: one table per key."""
    if not ct.first(_HKLM_INTRO):
        return None
    keys = list(ct.find(_HKLM_KEY))
    if len(keys) != 3 or not ct.first(_NOT_RESTRICTIVE) or not ct.first(_HKLM_NONPRIVILEGED):
        raise Refusal("registry key permissions in a form the converter does not read")
    ct.take_all(_HKLM_INTRO)
    ct.take_all(_NOT_RESTRICTIVE)
    ct.take_all(_HKLM_NONPRIVILEGED)
    for note in _HKLM_NOTES:
        ct.take_all(note)
    extra: list[Ace] = []
    for index, _ in list(ct.find(_HKLM_EXTRA_SID)):
        sid_line = ct.lines[index + 1]
        extra.append({"principal": by_sid(sid_line), "rights": "Read", "type": "Allow"})
        ct.take(index, index + 1)
    _take_layout(ct)
    checks = []
    bounds = [index for index, _ in keys] + [len(ct.lines)]
    for (index, match), end in zip(keys, bounds[1:], strict=True):
        ct.take(index)
        aces = _table(ct, index + 1, end)
        if not aces:
            raise Refusal("a registry key without its permissions")
        canonical(aces, REGISTRY_RIGHTS)  # every right must exist on a registry key
        if match.group(1).upper() in ("SOFTWARE", "SYSTEM"):
            aces = aces + extra
        checks.append({"kind": "acl", "target": "registry", "path": "HKLM\\" +
                       match.group(1).upper(), "mode": "at_most",
                       "aces": dedupe(_with_not_inherited(aces))})
    return Recognised(checks=checks)


_LOG_LOCATION = re.compile(r'^The default location is the "%SystemRoot%\\System32\\winevt\\Logs" '
                           r"folder\. However, the logs may have been moved to another folder\.$",
                           _I)
_LOG_NAMES = {"application.evtx": "Application", "security.evtx": "Security",
              "system.evtx": "System"}


def event_log_checks(ct: CheckText) -> Recognised | None:
    """Application.evtx, Security.evtx, System.evtx where the EventLog service keeps them."""
    found = next(((i, m) for i, m in ct.find(_NOT_RESTRICTIVE) if m.group("file")), None)
    if not found or not ct.first(_LOG_LOCATION):
        return None
    log = _LOG_NAMES.get(found[1].group("file").lower())
    if log is None:
        raise Refusal("an event log file the converter does not know")
    ct.take(found[0])
    ct.take_all(_LOG_LOCATION)
    aces: list[Ace] = []
    for index in range(found[0] + 1, len(ct.lines)):
        listed = list_aces(ct.lines[index])
        if not listed:
            break
        aces.extend(listed)
        ct.take(index)
    if not aces:
        raise Refusal("an event log file without its permissions")
    canonical(aces, FILE_RIGHTS)
    return Recognised(checks=[{
        "kind": "acl", "target": "file", "mode": "at_most", "aces": dedupe(aces),
        "path": f"%SystemRoot%\\System32\\winevt\\Logs\\{log}.evtx",
        "path_from_registry": {"path": f"HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\"
                                       f"{log}", "name": "File"}}])


_EVENTVWR = re.compile(r'^If any groups or accounts other than TrustedInstaller have "Full '
                       r'control" or "Modify" permissions, this is a finding\.$', _I)
_EVENTVWR_FILE = re.compile(r'^View the permissions on "Eventvwr\.exe"\.$', _I)
_DEFAULTS_SATISFY = re.compile(r"^The default permissions (?:below|noted below) "
                               r"(?:satisfy|meet) this requirement[.:]?$", _I)


def event_viewer_checks(ct: CheckText) -> Recognised | None:
    """Eventvwr.exe: nobody but TrustedInstaller may hold Modify (or Full control)."""
    found = ct.first(_EVENTVWR)
    if not found or not ct.first(_EVENTVWR_FILE):
        return None
    ct.take(found[0])
    ct.take_all(_EVENTVWR_FILE)
    if ct.take_all(_DEFAULTS_SATISFY):
        for index, line in enumerate(ct.lines):
            if index not in ct.taken and (listed := list_aces(line)):
                allowed = [a for a in listed if a["principal"].get("sid") != TRUSTED_INSTALLER]
                if any(a["rights"] in ("Modify", "FullControl") for a in allowed):
                    raise Refusal("DISA's default permissions break the rule they illustrate")
                ct.take(index)
    return Recognised(checks=[{
        "kind": "acl", "target": "file", "path": "%SystemRoot%\\System32\\Eventvwr.exe",
        "mode": "holders", "rights": "Modify",
        "principals": [{"sid": TRUSTED_INSTALLER, "name": "TrustedInstaller"}]}])


_NTDS_VALUES = re.compile(r'^Navigate to "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services'
                          r'\\NTDS\\Parameters"\.$', _I)
_NTDS_DEFAULT = re.compile(r"^By default, they will be \\Windows\\NTDS\.$", _I)
_NTDS_PARAMETERS = "HKLM\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters"


def ntds_checks(ct: CheckText) -> Recognised | None:
    """The AD database and log files, in the directories the NTDS parameters name."""
    found = ct.first(_ON_EACH_FILE)
    if not found or not ct.first(_NTDS_VALUES) or not ct.first(_NTDS_DEFAULT):
        return None
    ct.take(found[0])
    ct.take_all(_NTDS_VALUES)
    ct.take_all(_NTDS_DEFAULT)
    ct.take_all(r"^If the locations are different, the following will need to be run for each\.$")
    aces = _icacls(ct, container=False)
    if not aces:
        raise Refusal("the AD database files without their permissions")
    _take_layout(ct)
    return Recognised(checks=[{
        "kind": "acl", "target": "directory_files", "path": "%SystemRoot%\\NTDS",
        "paths_from_registry": [
            {"path": _NTDS_PARAMETERS, "name": "DSA Database file", "use": "parent"},
            {"path": _NTDS_PARAMETERS, "name": "Database log files path", "use": "value"}],
        "mode": "at_most", "aces": dedupe(aces)}])


_SYSVOL_LEVEL = re.compile(r"^By default, this will be \\Windows\\SYSVOL\\sysvol\. For this "
                           r"requirement, permissions will be verified at the first SYSVOL "
                           r"directory level\.$", _I)
_SYSVOL_STANDARD = re.compile(r'^If any standard user accounts or groups have greater than "Read '
                              r'& execute" permissions, this is a finding\.$', _I)


def sysvol_checks(ct: CheckText) -> Recognised | None:
    """The SYSVOL directory (the parent of the SYSVOL share's path)."""
    found = ct.first(_SYSVOL_LEVEL)
    if not found or not ct.first(_SYSVOL_STANDARD) or not ct.first(_DEFAULTS_SATISFY):
        return None
    ct.take(found[0])
    ct.take_all(_SYSVOL_STANDARD)
    ct.take_all(_DEFAULTS_SATISFY)
    aces = _icacls(ct, container=True)
    if not aces:
        raise Refusal("SYSVOL without its permissions")
    canonical(aces, FILE_RIGHTS)
    _take_layout(ct)
    # the defaults "meet this requirement", so no ACE beyond them is judged acceptable
    check: Check = {"kind": "acl", "target": "directory", "path": "%SystemRoot%\\SYSVOL",
                    "path_from_share": {"name": "SYSVOL", "use": "parent"},
                    "mode": "at_most", "aces": dedupe(aces)}
    return Recognised(checks=[check])
