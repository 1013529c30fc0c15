"""The directory kinds (docs/stig-rules.md), judged on domain controllers: `ldap_policy` (a limit
of the Default Query Policy's lDAPAdminLimits, read over LDAP without the AD module) and
`shares` (no user share on the volume of the AD database).

The Default Query Policy is the one DISA reads; when the domain controller or its site is
assigned another query policy, that one is in force and the answer is unknown, never the
default's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.compare import compare
from cwh.judge.stig.system_facts import OVER_WINRM, compact, entries, section
from cwh.judge.verdict import Evidence
from cwh.parse.primitives import ascii_int

SPECIAL_SHARE = 0x80000000  # Win32_Share.Type: a share Windows creates (C$, ADMIN$, IPC$)
DISK_SHARE = 0


def ldap_limits(facts: HostFacts) -> tuple[dict[str, str], dict[str, Any]]:
    """lDAPAdminLimits of the Default Query Policy, name (lower case) -> value text."""
    data = section(facts, "ldap_policy")
    if data.get("domain_controller") is not True:
        raise FactUnavailable("the host did not answer as a domain controller, so its LDAP "
                              "query policy was not read")
    if data.get("error"):
        raise FactUnavailable(f"reading the query policy failed: {data['error']}")
    for key in ("dc_query_policy", "site_query_policy"):
        assigned = [str(v) for v in as_list(data.get(key)) if str(v).strip()]
        if assigned:
            raise FactUnavailable(f"another query policy is assigned ({key}: "
                                  f"{', '.join(assigned)}), so the Default Query Policy is not "
                                  "the one in force")
    if "limits" not in data:
        raise FactUnavailable("the answer holds no lDAPAdminLimits")
    limits: dict[str, str] = {}
    for entry in as_list(data.get("limits")):
        name, sep, value = str(entry).partition("=")
        if not sep or not name.strip():
            raise FactUnavailable(f"lDAPAdminLimits holds {entry!r}, not Name=Value")
        key = name.strip().lower()
        if key in limits and limits[key] != value.strip():
            raise FactUnavailable(f"lDAPAdminLimits names {name.strip()} twice with different "
                                  "values: contradictory")
        limits[key] = value.strip()
    return limits, data


@check_judge("ldap_policy")
def judge_ldap_policy(check: Mapping[str, Any], facts: HostFacts,
                      context: RuleContext) -> Outcome:
    limits, data = ldap_limits(facts)
    name = str(check.get("name"))
    location = f"{data.get('policy_dn') or 'Default Query Policy'} lDAPAdminLimits {name}"
    source = f"LDAP ({OVER_WINRM})"
    raw = compact(as_list(data.get("limits")))
    if name.lower() not in limits:
        absent = check.get("absent", "finding")
        expected = f"{name} set"
        evidence = Evidence(source, location, "not specified", expected, raw)
        return Outcome(absent == "compliant", (evidence,), expected, "not specified", "", name)
    value = ascii_int(limits[name.lower()])
    if value is None:
        raise FactUnavailable(f"{name}={limits[name.lower()]!r} is not a number")
    comparison = compare(check, value)
    evidence = Evidence(source, location, str(value), comparison.expected, raw)
    return Outcome(comparison.passed, (evidence,), comparison.expected, f"{name}={value}",
                   comparison.note if comparison.passed is None else "", name)


def _volume_of(path: str, mounts: list[tuple[str, str]]) -> str | None:
    """The volume (DeviceID) holding `path`: the longest mount path it lies under."""
    lowered = path.strip().lower().rstrip("\\") + "\\"
    best = max((m for m in mounts if lowered.startswith(m[0])), key=lambda m: len(m[0]),
               default=None)
    return best[1] if best else None


@check_judge("shares")
def judge_shares(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    data = section(facts, "shares")
    shares = entries(data, "shares", "share")
    mounts = [(str(v.get("name", "")).lower().rstrip("\\") + "\\", str(v.get("device_id")))
              for v in entries(data, "volumes", "volume")
              if isinstance(v.get("name"), str) and not str(v["name"]).startswith("\\\\?\\")]
    found = check.get("path_from_registry") or {}
    value = facts.registry(str(found.get("path")), str(found.get("name")))
    if not value.value_exists or not isinstance(value.value, str) or not value.value.strip():
        raise FactUnavailable(f"{value.location} is {value.describe()}: where the directory "
                              "database is cannot be told")
    database = value.value.strip()
    database_volume = _volume_of(database, mounts)
    if database_volume is None:
        raise FactUnavailable(f"the volume of {database} is not among the host's volumes")
    excluded = {str(n).lower() for n in check.get("exclude_names") or ()}
    expected = f"no share other than {', '.join(sorted(excluded))} and the administrative " \
               f"shares on the volume of {database}"
    failing, unknown, listed = [], [], []
    for share in shares:
        name, path, kind = share.get("name"), share.get("path"), share.get("type")
        if not isinstance(name, str) or isinstance(kind, bool) or not isinstance(kind, int):
            raise FactUnavailable(f"a share without a name or type: {compact(share)}")
        listed.append(f"{name} ({path})")
        if kind & 0xFF != DISK_SHARE or name.lower() in excluded:
            continue
        if kind & SPECIAL_SHARE and check.get("exclude_administrative"):
            continue
        volume = _volume_of(str(path or ""), mounts) if path else None
        if volume is None:
            unknown.append(f"{name}: the volume of {path!r} is not known")
        elif volume == database_volume:
            failing.append(f"{name} ({path})")
    source = f"Win32_Share and Win32_Volume ({OVER_WINRM})"
    observed = "; ".join(listed) or "no shares"
    if failing:
        text = f"on the database volume: {'; '.join(failing)}"
        return Outcome(False, (Evidence(source, "shares", text, expected, observed),), expected,
                       text, "", "shares")
    if unknown:
        reason = "; ".join(unknown)
        return Outcome(None, (Evidence(source, "shares", "not available", expected, reason),),
                       expected, "not available", reason, "shares")
    return Outcome(True, (Evidence(source, "shares", observed, expected),), expected, observed, "",
                   "shares")
