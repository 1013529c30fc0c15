"""What the policy kinds of STIG checks need collected: registry values, the security policy
(secedit), the advanced audit policy, Windows features, services by name, the firewall profiles
and the Windows Time client's configuration (docs/stig-rules.md, "Check kinds").

Most of it is known from the check alone. Two kinds also name inventory values: a service
check's `names_input` (which antivirus) and a user right's principals from `exceptions_input` or
`also_allowed_input` (accounts by name, translated to SIDs on the host). `add_inventory_needs`
adds those for one host's inputs, and `host_requests` gives every host the shared request plus
its own additions; without them only the input's default is requested, and a name that was not
collected is judged unknown (a Not_Reviewed nobody needed), never ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from cwh.catalog.stig_inputs import INPUTS, REQUIRED
from cwh.catalog.stig_rules import StigRule
from cwh.collect.needs import needs
from cwh.collect.request import FactRequest

# The Windows Time client's Type and NtpServer: the service's own values, and the Group Policy
# values that take their place when set (what `w32tm /query /configuration` shows as "(Policy)").
W32TIME_LOCAL = r"HKLM\SYSTEM\CurrentControlSet\Services\W32Time\Parameters"
W32TIME_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\W32Time\Parameters"
W32TIME_VALUES = ("Type", "NtpServer")
_SID_PREFIX = "S-1-"


@needs("registry")
def _registry(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("registry")
    request.registry.add((str(check["path"]), str(check["name"])))


@needs("account_policy", "user_right", "user_rights_sids")
def _secedit(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("secedit")  # the export, with every right's holders translated


@needs("audit_policy")
def _audit_policy(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("audit_policy")


@needs("feature")
def _feature(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("features")
    request.features.add(str(check["name"]))


@needs("service")
def _service(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("service_states")
    names = [check["name"]] if check.get("name") else []
    spec = INPUTS.get(str(check.get("names_input")))
    if spec is not None and spec.default is not REQUIRED:
        names += list(spec.default or ())
    for name in names:
        request.want("service_names", str(name))


@needs("firewall_profiles")
def _firewall_profiles(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("firewall_profiles")


@needs("time_source")
def _time_source(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("registry")
    for path in (W32TIME_LOCAL, W32TIME_POLICY):
        for name in W32TIME_VALUES:
            request.registry.add((path, name))


def account_names(value: Any) -> list[str]:
    """The account names (not SIDs) among an inventory list of principals."""
    items = value if isinstance(value, (list, tuple)) else [value] if value else []
    return [str(item) for item in items
            if isinstance(item, str) and not item.upper().startswith(_SID_PREFIX)]


def add_inventory_needs(request: FactRequest, rules: Iterable[StigRule],
                        inputs: Mapping[str, Any]) -> None:
    """What one host's inventory values add to its request: the services its names_input
    lists, and the account names its principal inputs hold (translated on the host)."""
    for rule in rules:
        for check in rule.all_checks():
            kind = check.get("kind")
            if kind == "service" and check.get("names_input"):
                for name in inputs.get(str(check["names_input"])) or ():
                    request.sections.add("service_states")
                    request.want("service_names", str(name))
            if kind == "user_right":
                names = account_names(inputs.get(str(check.get("also_allowed_input"))))
                exceptions = inputs.get(str(check.get("exceptions_input")))
                if isinstance(exceptions, Mapping):
                    names += account_names(exceptions.get(check.get("right")))
                for name in names:
                    request.sections.add("account_sids")
                    request.want("account_names", name)


def _inventory_checks(rules: Iterable[StigRule]) -> list[StigRule]:
    """The rules with a check that names an inventory value whose items must be collected."""
    return [rule for rule in rules if any(
        (c.get("kind") == "service" and c.get("names_input")) or
        (c.get("kind") == "user_right" and (c.get("also_allowed_input") or
                                            c.get("exceptions_input")))
        for c in rule.all_checks())]


def host_requests(request: FactRequest, rules: Iterable[StigRule],
                  inputs_by_host: Mapping[str, Mapping[str, Any]]) -> dict[str, FactRequest]:
    """Each host's request: the shared `request` plus what that host's own inventory values
    add for the selected `rules` (add_inventory_needs). A host whose values add nothing gets
    the shared request itself, and hosts whose additions are the same share one copy, so a
    fleet with one group-level list still builds (and serializes) one request."""
    relevant = _inventory_checks(rules)
    shared: dict[str, FactRequest] = {}
    requests: dict[str, FactRequest] = {}
    for host, inputs in inputs_by_host.items():
        extra = FactRequest(sections=set())
        add_inventory_needs(extra, relevant, inputs)
        if not extra.items:
            requests[host] = request
            continue
        key = repr(sorted((name, sorted(items)) for name, items in extra.items.items()))
        if key not in shared:
            own = copy.deepcopy(request)
            own.sections |= extra.sections
            for name, items in extra.items.items():
                for item in items:
                    own.want(name, item)
            shared[key] = own
        requests[host] = shared[key]
    return requests
