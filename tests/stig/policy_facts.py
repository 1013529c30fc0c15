"""Facts documents for the STIG policy judges' unit tests, shaped as collector.ps1 writes them
(cwh/collect/collector.ps1), and a way to judge one check the way judge_rule does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.catalog.stig_rules import StigRule
from cwh.collect.facts import HostFacts
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, effective_inputs, judge_check

MACHINE = "S-1-5-21-1004336348-1177238915-682003330"
DOMAIN = "S-1-5-21-2222222222-3333333333-4444444444"
FOREST = "S-1-5-21-5555555555-6666666666-7777777777"
ROLE = {"standalone": 2, "member": 3, "dc_other": 4, "dc_pdc": 5}


def identity(role: str = "standalone", **extra: Any) -> dict[str, Any]:
    joined = role != "standalone"
    data = {"computer_name": "SC-TEST", "domain": "corp.example.com" if joined else "WORKGROUP",
            "part_of_domain": joined, "domain_role": ROLE[role], "machine_sid": MACHINE,
            "domain_sid": DOMAIN if joined else None, "forest_root_sid": FOREST if joined
            else None, "sid_errors": {"machine_sid": None, "domain_sid": None,
                                      "forest_root_sid": None}}
    data.update(extra)
    return data


def facts(role: str = "standalone", identity_data: dict[str, Any] | None = None,
          **sections: Any) -> HostFacts:
    """A document with identity and the given sections' data; a section given as a dict with
    `ok` is used as it is (a failed section)."""
    document: dict[str, Any] = {"schema": 1, "sections": {
        "identity": {"ok": True, "data": identity_data or identity(role), "ms": 1}}}
    for name, data in sections.items():
        document["sections"][name] = data if isinstance(data, dict) and "ok" in data else \
            {"ok": True, "data": data, "ms": 1}
    return HostFacts("h", document)


def failed(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error, "error_type": "System.Exception", "ms": 1}


def rule(*checks: Mapping[str, Any], roles: tuple[str, ...] = ("dc", "member", "standalone"),
         kind: str = "registry") -> StigRule:
    return StigRule("Windows_Server_2019_STIG", "V-1", "SV-1r1_rule", "WN19-XX-000010",
                    "medium", roles, kind, tuple(checks))


def judge(check: Mapping[str, Any], host: HostFacts, inputs: Mapping[str, Any] | None = None,
          role: str = "standalone") -> Outcome:
    """One check's outcome as judge_rule computes it (FactUnavailable becomes unknown)."""
    roles = {"standalone": {"standalone"}, "member": {"member"}, "dc_other": {"dc", "dc_other"},
             "dc_pdc": {"dc", "dc_pdc"}}[role]
    context = RuleContext(rule(check), sorted(roles)[0] if role.startswith("dc") else role,
                          frozenset(roles), effective_inputs(dict(inputs or {})))
    return judge_check(check, host, context)


# --- sections -------------------------------------------------------------------------------

def registry(*values: dict[str, Any]) -> dict[str, Any]:
    return {"view": "Registry64", "values": list(values)}


def reg(path: str, name: str, kind: str | None = None, value: Any = None, *,
        key: bool = True, error: str | None = None) -> dict[str, Any]:
    """Read-CwhRegistryValue's answer; kind None: the value is absent."""
    present = key and kind is not None and error is None
    return {"path": path, "name": name, "key_exists": key and error is None,
            "value_exists": present, "kind": kind if present else None,
            "value": value if present else None, "error": error}


def inf(system_access: Mapping[str, Any] | None = None,
        rights: Mapping[str, str] | None = None, extra: str = "") -> str:
    """secedit /export's text: UTF-16 decoded, CRLF, quoted names, `*SID` lists."""
    lines = ["[Unicode]", "Unicode=yes", "[System Access]"]
    base = {"MinimumPasswordAge": 1, "MaximumPasswordAge": 60, "MinimumPasswordLength": 14,
            "PasswordComplexity": 1, "PasswordHistorySize": 24, "LockoutBadCount": 3,
            "ResetLockoutCount": 15, "LockoutDuration": 15,
            "NewAdministratorName": '"Administrator"', "NewGuestName": '"Guest"',
            "ClearTextPassword": 0, "LSAAnonymousNameLookup": 0, "EnableGuestAccount": 0}
    base.update(system_access or {})
    lines += [f"{k} = {v}" for k, v in base.items() if v is not None]
    lines.append("[Privilege Rights]")
    holders = {"SeNetworkLogonRight": "*S-1-5-32-544,*S-1-5-11",
               "SeBackupPrivilege": "*S-1-5-32-544"}
    holders.update(rights or {})
    lines += [f"{k} = {v}" for k, v in holders.items() if v is not None]
    lines += [extra, "[Version]", 'signature="$CHICAGO$"', "Revision=1"]
    return "\r\n".join(line for line in lines if line) + "\r\n"


NOT_MAPPED = ("System.Security.Principal.IdentityNotMappedException",
              'Exception calling "Translate" with "1" argument(s): "Some or all identity '
              'references could not be translated."')


def secedit(text: str, principals: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"command": "secedit /export /areas SECURITYPOLICY USER_RIGHTS",
                            "inf": text}
    if principals is not None:
        data["principals"] = principals
    return data


def holder(entry: str, sid: str | None = None, name: str | None = None,
           error: tuple[str, str] | None = None) -> dict[str, Any]:
    """Resolve-CwhAccount's answer for one entry (error: (type, message))."""
    if entry.startswith("*"):
        sid = entry[1:]
    return {"entry": entry, "sid": sid, "name": name if name else (None if error else entry),
            "error": error[1] if error else None, "error_type": error[0] if error else None}
