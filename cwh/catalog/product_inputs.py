"""The inventory variables of the product controls (roles, Automate's ports and MySQL), each with
the check cwh/inventory.py applies before anything connects (None: valid, else why not)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from cwh.catalog.products import products_problem

# Automate's legacy ports (screenconnect.md section 9): closed unless the inventory says the
# server still needs them. Each entry is (protocol, first port, last port).
LEGACY_PORTS: dict[str, tuple[str, int, int]] = {
    "70/tcp": ("TCP", 70, 70),
    "70-74/udp": ("UDP", 70, 74),
    "8002/tcp": ("TCP", 8002, 8002),
    "8002/udp": ("UDP", 8002, 8002),
    "40000-40050/tcp": ("TCP", 40000, 40050),
    "40000-41000/udp": ("UDP", 40000, 41000),
}


def networks_problem(value: Any) -> str | None:
    """A list of CIDR networks (`10.20.0.0/16`, `fd00::/8`)."""
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of networks in CIDR notation, e.g. [10.20.0.0/16]"
    for entry in value:
        if not isinstance(entry, str) or "/" not in entry:
            return f"has {entry!r}: not a network in CIDR notation (address/prefix length)"
        try:
            ipaddress.ip_network(entry.strip(), strict=True)
        except ValueError as exc:
            return f"has {entry!r}: {exc}"
    return None


def parse_networks(value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The validated list as networks (empty when the variable is not set)."""
    return tuple(ipaddress.ip_network(str(v).strip()) for v in value or ())


def _legacy_ports(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"must be a list of legacy port entries ({', '.join(LEGACY_PORTS)})"
    unknown = [v for v in value if v not in LEGACY_PORTS]
    if unknown:
        return f"has {unknown[0]!r}, not one of the guide's legacy ports " \
               f"({', '.join(LEGACY_PORTS)})"
    return None


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _https_url(value: Any) -> str | None:
    if not isinstance(value, str) or urlparse(value).scheme not in ("http", "https") or \
            not urlparse(value).hostname:
        return "must be an http:// or https:// URL with a host"
    return None


PRODUCT_INPUTS: dict[str, Callable[[Any], str | None]] = {
    "cwh_products": products_problem,
    "cwh_mysql_allowed_from": networks_problem,
    "cwh_automate_legacy_ports": _legacy_ports,
    "cwh_remote_access_via_control": _bool,
    "cwh_automate_url": _https_url,
}
