"""Principals of the rule data (docs/stig-rules.md, "Principals") as the SIDs they stand for on
one host. Judges compare SIDs only, never names (names are localized and can be spoofed).

`{"sid": ...}` is itself; `{"domain_rid": 512}` needs the host's domain SID, `{"forest_rid": 519}`
the forest root domain's, `{"machine_rid": 500}` the host's own account database SID (the
domain's on a DC). The collector reports these in the identity section (`machine_sid`,
`domain_sid`, `forest_root_sid`); one that is missing makes the principal unresolvable, which a
judge must treat as unknown, never as "not present".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts

_DOMAIN_SID = re.compile(r"S-1-5-21-[0-9]{1,10}-[0-9]{1,10}-[0-9]{1,10}")
_SID = re.compile(r"S-1-[0-9]{1,13}(?:-[0-9]{1,10}){0,15}")


@dataclass(frozen=True)
class SidContext:
    """The host's account-domain SIDs, each None when the collector could not tell it."""

    machine_sid: str | None
    domain_sid: str | None
    forest_root_sid: str | None


def _domain_sid(value: Any) -> str | None:
    return value.upper() if isinstance(value, str) and _DOMAIN_SID.fullmatch(value.upper()) \
        else None


def sid_context(facts: HostFacts) -> SidContext:
    """The SIDs of the identity section; FactUnavailable when the section is missing."""
    identity = facts.identity()
    return SidContext(_domain_sid(identity.get("machine_sid")),
                      _domain_sid(identity.get("domain_sid")),
                      _domain_sid(identity.get("forest_root_sid")))


def is_sid(text: Any) -> bool:
    return isinstance(text, str) and bool(_SID.fullmatch(text.upper()))


def principal_sids(principal: Mapping[str, Any], context: SidContext) -> frozenset[str]:
    """Every SID the principal accepts (any_of: several); FactUnavailable when one cannot be
    resolved on this host."""
    if "any_of" in principal:
        sids: set[str] = set()
        for option in principal["any_of"]:
            sids |= principal_sids(option, context)
        return frozenset(sids)
    if "sid" in principal:
        sid = str(principal["sid"]).upper()
        if not is_sid(sid):
            raise FactUnavailable(f"rule data names {principal['sid']!r}, which is not a SID")
        return frozenset({sid})
    for key, base, what in (("domain_rid", context.domain_sid, "the host's domain"),
                            ("forest_rid", context.forest_root_sid, "the forest root domain"),
                            ("machine_rid", context.machine_sid, "the host's own accounts")):
        if key in principal:
            if base is None:
                raise FactUnavailable(f"the SID of {what} was not collected, so "
                                      f"{describe(principal)} cannot be told apart")
            return frozenset({f"{base}-{int(principal[key])}"})
    raise FactUnavailable(f"rule data has a principal the suite cannot read: {dict(principal)}")


def describe(principal: Mapping[str, Any]) -> str:
    """A principal for evidence: its English name and what identifies it."""
    name = principal.get("name")
    if "any_of" in principal:
        return " or ".join(describe(p) for p in principal["any_of"])
    for key, label in (("sid", ""), ("domain_rid", "domain RID "), ("forest_rid",
                                                                   "forest root RID "),
                       ("machine_rid", "local RID ")):
        if key in principal:
            ident = f"{label}{principal[key]}"
            return f"{name} ({ident})" if name else ident
    return str(dict(principal))
