"""What a STIG rule's checks need collected: each check kind adds its sections and items to the
host's FactRequest, so one remote execution gathers exactly what the selected rules need.

Kinds register here through `needs(kind)`; a kind nobody registered adds nothing, and its
judge (or its absence) then reports the check Not_Reviewed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from cwh.catalog.stig_rules import StigRule
from cwh.collect.request import FactRequest

NeedsFunction = Callable[[Mapping[str, Any], FactRequest], None]
NEEDS: dict[str, NeedsFunction] = {}
# Modules that register what their kinds need (each imports `needs` from here).
NEEDS_MODULES: tuple[str, ...] = ("needs_policy",)
NEEDS_MODULES += ("needs_system",)  # acl, certificate, accounts, ... (the STIG's system kinds)


def needs(*kinds: str) -> Callable[[NeedsFunction], NeedsFunction]:
    def register(function: NeedsFunction) -> NeedsFunction:
        for kind in kinds:
            if kind in NEEDS:
                raise ValueError(f"two needs functions for STIG check kind {kind!r}")
            NEEDS[kind] = function
        return function
    return register


def add_rule(request: FactRequest, rule: StigRule) -> None:
    """Add what the rule's checks and Not_Applicable conditions need to the request."""
    request.sections.add("identity")  # the host's role decides whether the rule applies
    if rule.manual and not rule.not_applicable_if:
        return
    for check in rule.all_checks():
        function = NEEDS.get(str(check.get("kind")))
        if function is not None:
            function(check, request)


for _module in NEEDS_MODULES:
    importlib.import_module(f"cwh.collect.{_module}")
