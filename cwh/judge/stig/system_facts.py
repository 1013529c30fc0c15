"""Reading the collector's sections for the STIG's system kinds (collector.ps1: acls,
certificate_stores, local_accounts, group_members, device_guard, firmware, tpm, volumes,
ldap_policy, applocker, file_search, shares): every reader checks the shape it needs and raises
FactUnavailable, naming what is missing or malformed, instead of returning a default.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.judge.stig.principals import sid_context
from cwh.parse.primitives import windows_utc
from cwh.parse.sddl import DomainSids

OVER_WINRM = "collector over WinRM"


def section(facts: HostFacts, name: str) -> dict[str, Any]:
    data = facts.section(name)
    if not isinstance(data, dict):
        raise FactUnavailable(f"the '{name}' section is not an object: {type(data).__name__}")
    return data


def entries(data: dict[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    """A list of objects in a section (PowerShell may have unrolled a one-element list)."""
    if key not in data:
        raise FactUnavailable(f"the answer has no {what} list ('{key}')")
    found = as_list(data.get(key))
    if not all(isinstance(item, dict) for item in found):
        raise FactUnavailable(f"the {what} list is malformed: {compact(found)}")
    return found


def collected_at(data: dict[str, Any], name: str) -> dt.datetime:
    """When the host answered (its own clock, the one its timestamps were written with)."""
    moment = windows_utc(data.get("collected_at"))
    if moment is None:
        raise FactUnavailable(f"the '{name}' section does not say when it was read "
                              f"({data.get('collected_at')!r})")
    return moment


def compact(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def one(found: Sequence[dict[str, Any]], what: str) -> dict[str, Any]:
    """The single answer for one item; two different answers are a contradiction."""
    if not found:
        raise FactUnavailable(f"{what} was not in the collector's answer")
    shapes = {json.dumps(f, sort_keys=True, default=str) for f in found}
    if len(shapes) > 1:
        raise FactUnavailable(f"{what} is answered {len(found)} times with different data: "
                              f"contradictory, not trusted ({compact(list(found))})")
    return found[0]


def domain_sids(facts: HostFacts) -> DomainSids:
    """The account-domain SIDs SDDL aliases such as LA or DA stand on (None where unknown)."""
    try:
        known = sid_context(facts)
    except FactUnavailable:
        return DomainSids()
    return DomainSids(known.machine_sid, known.domain_sid, known.forest_root_sid)


def acl_answer(facts: HostFacts, item: Sequence[str]) -> tuple[dict[str, Any], bool | None]:
    """The `acls` answer for one request item (cwh/collect/needs_system.py acl_item) and whether
    the collector ran as a 64-bit process (a 32-bit one sees System32 redirected)."""
    data = section(facts, "acls")
    wanted = list(item)
    found = [e for e in entries(data, "entries", "ACL") if e.get("item") == wanted]
    bits = data.get("process_64bit")
    return one(found, f"the ACL of {item[1]}"), bits if isinstance(bits, bool) else None


def host_fqdn(facts: HostFacts) -> str | None:
    """The host's fully qualified DNS name from the identity section (None when unknown)."""
    identity = facts.identity()
    host, domain = identity.get("dns_host_name"), identity.get("domain")
    if not isinstance(host, str) or not host.strip():
        return None
    host = host.strip().rstrip(".")
    if "." in host or identity.get("part_of_domain") is not True:
        return host.lower()
    if not isinstance(domain, str) or not domain.strip():
        return None
    return f"{host}.{domain.strip().rstrip('.')}".lower()
