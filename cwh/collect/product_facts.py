"""Readers for the product sections of a host's facts document (products, udp_listeners,
firewall_addresses), in the manner of HostFacts' own accessors: each raises
FactUnavailable when the fact could not be collected or its answer is malformed, and never
returns a default that could read as compliant."""

from __future__ import annotations

from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list, unique_entries


def _object(facts: HostFacts, name: str) -> dict[str, Any]:
    data = facts.section(name)
    if not isinstance(data, dict):
        raise FactUnavailable(f"the '{name}' section is not an object: {type(data).__name__}")
    return data


def product_paths(facts: HostFacts) -> list[dict[str, Any]]:
    """[{path, expanded, exists: True/False/None, error}] for the paths the request named."""
    paths = as_list(_object(facts, "products").get("paths"))
    if not all(isinstance(p, dict) and isinstance(p.get("path"), str) for p in paths):
        raise FactUnavailable("the product path answer is malformed")
    return paths


def udp_listeners(facts: HostFacts) -> list[dict[str, Any]]:
    listeners = as_list(_object(facts, "udp_listeners").get("listeners"))
    if not listeners or not all(isinstance(x, dict) for x in listeners):
        # A Windows server always has UDP endpoints (123, 500, 5353 ...): empty means broken.
        raise FactUnavailable("the UDP endpoint list is empty or malformed")
    garbled = [x.get("port") for x in listeners
               if not isinstance(x.get("port"), int) or isinstance(x.get("port"), bool)]
    if garbled:
        raise FactUnavailable(f"the UDP endpoint list holds ports that are not port numbers: "
                              f"{garbled[:5]!r}")
    return listeners


def firewall_addresses(facts: HostFacts) -> dict[str, dict[str, list[str]]]:
    """Rule InstanceID -> {remote_addresses, local_addresses}. A rule listed twice with
    different addresses makes the answer untrustworthy."""
    filters = as_list(_object(facts, "firewall_addresses").get("filters"))
    if not filters or not all(isinstance(f, dict) and isinstance(f.get("id"), str)
                              for f in filters):
        raise FactUnavailable("the firewall address filter list is empty or malformed")
    return unique_entries(((entry["id"].casefold(), entry["id"],
                            {key: [str(a) for a in as_list(entry.get(key))]
                             for key in ("remote_addresses", "local_addresses")})
                           for entry in filters), "the address filter of firewall rule")


def dynamic_ports(facts: HostFacts) -> dict[str, Any] | None:
    """The firewall_rules section's dynamic_ports answer (the dynamic port ranges and what the
    run-time port keywords stand for), None when the collector gave none; the judge reads it."""
    try:
        data = _object(facts, "firewall_rules")
    except FactUnavailable:
        return None
    answer = data.get("dynamic_ports")
    return answer if isinstance(answer, dict) else None
