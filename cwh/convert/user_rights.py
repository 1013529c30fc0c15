"""User rights assignments, read twice: once from the Group Policy wording ("If any accounts or
groups other than the following are granted the "Debug programs" user right") with group names,
once from the secedit wording ("If any SIDs other than the following are granted the
"SeDebugPrivilege" user right") with SIDs. Both readings must agree (the display name and the
constant, the names and the SIDs) or the rule is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cwh.convert.principals import Principal, by_name, by_sid, same_principals, sort_principals
from cwh.convert.result import Check, Recognised, Refusal
from cwh.convert.text import CheckText

# Microsoft's display names of the user rights and their constants (secedit [Privilege Rights]).
RIGHTS = {
    "access credential manager as a trusted caller": "SeTrustedCredManAccessPrivilege",
    "access this computer from the network": "SeNetworkLogonRight",
    "act as part of the operating system": "SeTcbPrivilege",
    "add workstations to domain": "SeMachineAccountPrivilege",
    "adjust memory quotas for a process": "SeIncreaseQuotaPrivilege",
    "allow log on locally": "SeInteractiveLogonRight",
    "allow log on through remote desktop services": "SeRemoteInteractiveLogonRight",
    "back up files and directories": "SeBackupPrivilege",
    "bypass traverse checking": "SeChangeNotifyPrivilege",
    "change the system time": "SeSystemtimePrivilege",
    "change the time zone": "SeTimeZonePrivilege",
    "create a pagefile": "SeCreatePagefilePrivilege",
    "create a token object": "SeCreateTokenPrivilege",
    "create global objects": "SeCreateGlobalPrivilege",
    "create permanent shared objects": "SeCreatePermanentPrivilege",
    "create symbolic links": "SeCreateSymbolicLinkPrivilege",
    "debug programs": "SeDebugPrivilege",
    "deny access to this computer from the network": "SeDenyNetworkLogonRight",
    "deny log on as a batch job": "SeDenyBatchLogonRight",
    "deny log on as a service": "SeDenyServiceLogonRight",
    "deny log on locally": "SeDenyInteractiveLogonRight",
    "deny log on through remote desktop services": "SeDenyRemoteInteractiveLogonRight",
    "enable computer and user accounts to be trusted for delegation":
        "SeEnableDelegationPrivilege",
    "force shutdown from a remote system": "SeRemoteShutdownPrivilege",
    "generate security audits": "SeAuditPrivilege",
    "impersonate a client after authentication": "SeImpersonatePrivilege",
    "increase a process working set": "SeIncreaseWorkingSetPrivilege",
    "increase scheduling priority": "SeIncreaseBasePriorityPrivilege",
    "load and unload device drivers": "SeLoadDriverPrivilege",
    "lock pages in memory": "SeLockMemoryPrivilege",
    "log on as a batch job": "SeBatchLogonRight",
    "log on as a service": "SeServiceLogonRight",
    "manage auditing and security log": "SeSecurityPrivilege",
    "modify an object label": "SeRelabelPrivilege",
    "modify firmware environment values": "SeSystemEnvironmentPrivilege",
    "perform volume maintenance tasks": "SeManageVolumePrivilege",
    "profile single process": "SeProfileSingleProcessPrivilege",
    "profile system performance": "SeSystemProfilePrivilege",
    "replace a process level token": "SeAssignPrimaryTokenPrivilege",
    "restore files and directories": "SeRestorePrivilege",
    "shut down the system": "SeShutdownPrivilege",
    "synchronize directory service data": "SeSyncAgentPrivilege",
    "take ownership of files or other objects": "SeTakeOwnershipPrivilege",
}

_WHERE = r"(?P<where> on (?:domain-joined|nondomain-joined) systems)?"
_GUI = (
    ("only", re.compile(r'^If any accounts or groups other than the following are granted the '
                        r'"(?P<name>[^"]+)" (?:user )?right, this is a finding[.:]?$', re.I)),
    ("none", re.compile(r'^If any accounts or groups(?: \(to include administrators\),?)? are '
                        r'(?:granted|defined for) the "(?P<name>[^"]+)" user right' + _WHERE +
                        r', this is a finding\.$', re.I)),
    ("includes", re.compile(r'^If the following accounts or groups are not defined for the '
                            r'"(?P<name>[^"]+)" user right' + _WHERE + r', this is a finding'
                            r'[.:]?$', re.I)),
)
_SIDS = (
    ("only", re.compile(r'^If any SIDs other than the following are granted the '
                        r'"(?P<name>Se\w+)" user right, this is a finding[.:]?$', re.I)),
    ("none", re.compile(r'^If any SIDs are (?:granted|defined for) the (?:"(?P<name>Se\w+)" )?'
                        r'user right' + _WHERE + r', this is a finding\.$', re.I)),
    ("includes", re.compile(r'^If the following SID(?:s|\(s\)) (?:are|is) not defined for the '
                            r'"(?P<name>Se\w+)" user right' + _WHERE + r', this is a finding'
                            r'[.:]?$', re.I)),
)
_HEADING = re.compile(r"^(Domain Systems Only|All Systems):$", re.I)
_NAME_ITEM = re.compile(r"^- (.+)$")
_SID = r"S-1-5-root domain-\d+|S-1-5-domain-\d+|S-1-\d+(?:-\d+)+"
_SID_ITEM = re.compile(rf"^({_SID})(?: \((.+?)\))?(?: or ({_SID})(?: \((.+?)\))?)?$", re.I)
_SEE_NOTE = re.compile(r"\s*\(see Note below\)$", re.I)

_APPLICATION = re.compile(r"^If an application requires this user right, this (?:would not be|is "
                          r"not) a finding\.$", re.I)
_AUDITORS = re.compile(r"^If the organization has an Auditors group, the assignment of this "
                       r"group to the user right would not be a finding\.$", re.I)
_HYPER_V = re.compile(r'^Systems that have the Hyper-V role will also have "Virtual Machines" '
                      r'given this user right \(this may be displayed as "NT Virtual '
                      r'Machine\\Virtual Machines", SID (S-1-5-83-0)\)\. This is not a finding\.$',
                      re.I)
_NOTES = (
    re.compile(r'^Note: These are built-in security groups\. "Local account" is more restrictive '
               r'but may cause issues on servers such as systems that provide failover '
               r'clustering\.$', re.I),
    re.compile(r'^Note: "Local account" is referring to the Windows built-in security group\.$',
               re.I),
)


@dataclass
class Statement:
    """One "If ... this is a finding" sentence with the principals listed under it."""

    op: str
    name: str | None  # display name (GUI) or constant (SID)
    scopes: dict[str, list[Principal]] = field(default_factory=dict)  # all|domain|nondomain


def _scope(where: str | None) -> str:
    if not where:
        return "all"
    return "nondomain" if "nondomain" in where.lower() else "domain"


def _name_principal(text: str) -> Principal:
    text = _SEE_NOTE.sub("", text.strip())
    quoted = re.fullmatch(r'"([^"]+)" or "([^"]+)"', text)
    if quoted:
        return {"any_of": [by_name(quoted.group(1)), by_name(quoted.group(2))]}
    return by_name(text)


def _sid_principal(match: re.Match[str]) -> Principal:
    first = by_sid(match.group(1), (match.group(2) or "").strip('"') or None)
    if match.group(3):
        second = by_sid(match.group(3), (match.group(4) or "").strip('"') or None)
        return {"any_of": [first, second]}
    return first


def _statements(ct: CheckText, patterns: tuple[tuple[str, re.Pattern[str]], ...],
                item: re.Pattern[str], gui: bool) -> list[Statement]:
    out: list[Statement] = []
    for op, pattern in patterns:
        for index, match in list(ct.find(pattern)):
            ct.take(index)
            statement = Statement(op, match.group("name"))
            scope = _scope(match.groupdict().get("where"))
            for follow in range(index + 1, len(ct.lines)):
                line = ct.lines[follow]
                heading = _HEADING.match(line)
                listed = item.match(line)
                if heading:
                    scope = "domain" if heading.group(1).lower().startswith("domain") else "all"
                elif listed:
                    principal = _name_principal(listed.group(1)) if gui else \
                        _sid_principal(listed)
                    statement.scopes.setdefault(scope, []).append(principal)
                else:
                    break
                ct.take(follow)
            if op == "none":
                if statement.scopes:
                    raise Refusal("principals listed under 'assigned to no one'")
                statement.scopes[scope] = []
            elif not statement.scopes:
                raise Refusal("a user right statement lists no principals")
            out.append(statement)
    return out


def _flatten(statements: list[Statement]) -> dict[tuple[str, str], list[Principal]]:
    out: dict[tuple[str, str], list[Principal]] = {}
    for statement in statements:
        for scope, principals in statement.scopes.items():
            if (statement.op, scope) in out:
                raise Refusal("the same user right condition is stated twice")
            out[(statement.op, scope)] = principals
    return out


def _agree(gui: dict[tuple[str, str], list[Principal]],
           sids: dict[tuple[str, str], list[Principal]],
           rule_roles: list[str]) -> dict[tuple[str, str], list[Principal]]:
    """The SID reading, checked against the names. One reconciliation only: a SID sentence
    without "on ... systems" stands for the named sentence that has it (2019 writes "If any SIDs
    are defined for the user right" under "... on nondomain-joined systems"). Conditions for
    roles the rule does not apply to are left out of the comparison and of the result."""
    for (op, scope) in list(sids):
        if (op, scope) not in gui and scope == "all":
            qualified = [key for key in gui if key[0] == op and key not in sids]
            if len(qualified) == 1:
                sids[qualified[0]] = sids.pop((op, scope))
    gui = {key: value for key, value in gui.items() if _roles_for(key[1], rule_roles)}
    sids = {key: value for key, value in sids.items() if _roles_for(key[1], rule_roles)}
    if set(gui) != set(sids):
        raise Refusal("the group names and the SIDs state different conditions")
    for key, principals in gui.items():
        if not same_principals(principals, sids[key]):
            raise Refusal("the group names and the SIDs list different principals")
    return sids


def _sids_alone(ct: CheckText, statements: list[Statement],
                rule_roles: list[str]) -> dict[tuple[str, str], list[Principal]]:
    """2016 V2R10 gives one right by SID only, its group list without a sentence: the list, if
    any, must name the same principals as the single SID condition."""
    conditions = _flatten(statements)
    orphans = [(i, m) for i, m in ct.find(_NAME_ITEM)]
    if orphans:
        if len(conditions) != 1:
            raise Refusal("a group list without its sentence, beside several conditions")
        names = [_name_principal(m.group(1)) for _, m in orphans]
        if not same_principals(names, next(iter(conditions.values()))):
            raise Refusal("the group names and the SIDs list different principals")
        ct.take(*(i for i, _ in orphans))
    return {k: v for k, v in conditions.items() if _roles_for(k[1], rule_roles)}


def _roles_for(scope: str, rule_roles: list[str]) -> list[str]:
    wanted = {"all": rule_roles, "domain": ["dc", "member"], "nondomain": ["standalone"]}[scope]
    return [role for role in rule_roles if role in wanted]


def user_right_checks(ct: CheckText, rule_roles: list[str]) -> Recognised | None:
    """The user right a rule restricts, or None when the text is not about one."""
    gui_statements = _statements(ct, _GUI, _NAME_ITEM, gui=True)
    sid_statements = _statements(ct, _SIDS, _SID_ITEM, gui=False)
    if not sid_statements:
        if gui_statements:
            raise Refusal("a user right stated by name only, without its constant")
        return None
    constants = {s.name for s in sid_statements if s.name}
    if len(constants) != 1:
        raise Refusal("a rule that names more than one user right")
    right = constants.pop()
    if right not in RIGHTS.values():
        raise Refusal("a user right constant the converter does not know")
    if gui_statements:
        displays = {s.name.lower() for s in gui_statements if s.name}
        if len(displays) != 1 or RIGHTS.get(displays.pop()) != right:
            raise Refusal("the user right's name and its constant do not match")
        conditions = _agree(_flatten(gui_statements), _flatten(sid_statements), rule_roles)
    else:
        conditions = _sids_alone(ct, sid_statements, rule_roles)

    extra: list[Principal] = []
    for _index, match in list(ct.find(_HYPER_V)):
        extra.append(by_sid(match.group(1), "Virtual Machines"))
    ct.take_all(_HYPER_V)
    exceptions = bool(ct.take_all(_APPLICATION))
    auditors = bool(ct.take_all(_AUDITORS))
    for note in _NOTES:
        ct.take_all(note)

    checks: list[Check] = []
    inputs: set[str] = set()
    for (op, scope), principals in sorted(conditions.items()):
        roles = _roles_for(scope, rule_roles)
        if not roles:
            continue  # a condition for roles the rule does not apply to
        check: Check = {"kind": "user_right", "right": right, "op": op}
        if op != "none":
            check["principals"] = sort_principals(principals + (extra if op == "only" else []))
        elif extra:
            raise Refusal("an allowed principal for a right assigned to no one")
        if exceptions:
            if op == "includes":
                raise Refusal("an application exception on a right that must include groups")
            check["exceptions_input"] = "cwh_user_right_exceptions"
            inputs.add("cwh_user_right_exceptions")
        if auditors:
            check["also_allowed_input"] = "cwh_auditors_group"
            inputs.add("cwh_auditors_group")
        if roles != rule_roles:
            check["roles"] = roles
        checks.append(check)
    if not checks:
        raise Refusal("no user right condition applies to the rule's roles")
    return Recognised(checks=checks, inputs=inputs)
