"""The checklist's target data (CKL ASSET, CKLB target_data): who the host is, from the facts
the plugin gathered, kept to what Heimdall and STIG Manager accept."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cwh.report.xml_text import one_line

ROLES = ("None", "Workstation", "Member Server", "Domain Controller")
# Win32_ComputerSystem.DomainRole: 0/1 workstation, 2/3 server, 4/5 domain controller.
ROLE_BY_DOMAIN_ROLE = {0: "Workstation", 1: "Workstation", 2: "Member Server",
                       3: "Member Server", 4: "Domain Controller", 5: "Domain Controller"}
HOST_NAME_LIMIT = 255  # STIG Manager rejects longer host names
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.I)
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{2,59})$", re.I)
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?)(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}$", re.I)


@dataclass(frozen=True)
class Asset:
    """The checklist's target data (CKL ASSET, CKLB target_data)."""

    host_name: str  # never empty
    ip_addresses: tuple[str, ...] = ()  # every valid, routable address, as reported
    mac_addresses: tuple[str, ...] = ()
    host_fqdn: str = ""  # a valid FQDN or IP, or empty (Heimdall rejects anything else)
    role: str = "None"
    marking: str = ""
    asset_type: str = "Computing"
    tech_area: str = "Windows OS"
    target_comment: str = ""
    target_key: str = ""
    web_or_database: bool = False
    web_db_site: str = ""
    web_db_instance: str = ""
    inventory_name: str = ""  # the inventory's name for the host; stable ids derive from it

    @property
    def host_ip(self) -> str:
        """One address (the first IPv4, else the first): Heimdall's CKL reader up to at least
        hdf-converters 2.11.1 rejects a list in HOST_IP; the others go in TARGET_COMMENT."""
        return next((ip for ip in self.ip_addresses if ":" not in ip),
                    self.ip_addresses[0] if self.ip_addresses else "")

    @property
    def host_mac(self) -> str:
        return self.mac_addresses[0] if self.mac_addresses else ""


def valid_fqdn(name: str) -> bool:
    """validator.js isFQDN with its defaults, as Heimdall applies it (ASCII labels, a TLD)."""
    if not name or len(name) > 253 or name.endswith("."):
        return False
    labels = name.split(".")
    return len(labels) >= 2 and all(_LABEL.match(lbl) for lbl in labels) \
        and bool(_TLD.match(labels[-1]))


def _ips(values: Any) -> tuple[str, ...]:
    found: list[str] = []
    for value in _as_list(values):
        text = str(value).strip().split("%", 1)[0]  # drop an IPv6 zone id (fe80::1%12)
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if ip.is_loopback or ip.is_unspecified or ip.is_link_local or ip.is_multicast:
            continue
        if str(ip) not in found:
            found.append(str(ip))
    return tuple(found)


def _macs(values: Any) -> tuple[str, ...]:
    found: list[str] = []
    for value in _as_list(values):
        text = str(value).strip()
        if not _MAC.match(text):
            continue
        digits = re.sub(r"[:-]", "", text).upper()
        if digits in ("000000000000", "FFFFFFFFFFFF"):
            continue
        mac = ":".join(digits[i:i + 2] for i in range(0, 12, 2))
        if mac not in found:
            found.append(mac)
    return tuple(found)


def _as_list(values: Any) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, str):
        return re.split(r"[\s,;]+", values)
    if isinstance(values, Iterable):
        return list(values)
    return [values]


def _role(role: str | None, domain_role: Any) -> str:
    if role:
        wanted = " ".join(str(role).split()).lower()
        for known in ROLES:
            if known.lower() == wanted:
                return known
    try:
        return ROLE_BY_DOMAIN_ROLE.get(int(domain_role), "None")
    except (TypeError, ValueError):
        return "None"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def asset_from(host: str, asset: dict | None, role: str | None = None,
               marking: str | None = None) -> Asset:
    """Target data from the facts the plugin gathered (possibly None or partial).

    HOST_NAME is the host's own name, else the inventory name (never empty). Only valid,
    routable IPs and real MACs are kept, because Heimdall rejects the file otherwise; HOST_IP and
    HOST_MAC get one each (see Asset.host_ip), the rest are named in TARGET_COMMENT. HOST_FQDN is
    the reported FQDN when it is a valid one, else the host name when that is a valid FQDN or an
    IP, else empty: Heimdall rejects a bare host name there (validator.js isFQDN needs a TLD).
    ROLE is `role` (inventory cwh_role) when it names a CKL role, else from domain_role.
    """
    facts = asset if isinstance(asset, Mapping) else {}
    inventory_name = one_line(host) or "unknown-host"
    host_name = (one_line(facts.get("hostname")) or inventory_name)[:HOST_NAME_LIMIT]
    fqdn = one_line(facts.get("fqdn")).lower().removesuffix(".")
    if not valid_fqdn(fqdn):
        fqdn = next((name for name in (host_name.lower(), inventory_name.lower())
                     if valid_fqdn(name) or _ips([name])), "")
    os_name = one_line(facts.get("os"))
    domain = one_line(facts.get("domain"))
    partial = Asset(host_name=host_name, ip_addresses=_ips(facts.get("ip_addresses")),
                    mac_addresses=_macs(facts.get("mac_addresses")))
    others = [a for a in (*partial.ip_addresses, *partial.mac_addresses)
              if a not in (partial.host_ip, partial.host_mac)]
    comment = "; ".join(part for part in (
        os_name,
        f"domain {domain}" if facts.get("part_of_domain") and domain else
        (f"workgroup {domain}" if domain else ""),
        f"inventory name {inventory_name}" if inventory_name.lower() != host_name.lower() else "",
        f"other addresses {', '.join(others)}" if others else "",
        *(f"collection warning: {one_line(w)}" for w in _listed(facts.get("warnings"))),
    ) if part)
    return Asset(
        host_name=host_name,
        ip_addresses=partial.ip_addresses,
        mac_addresses=partial.mac_addresses,
        host_fqdn=fqdn,
        role=_role(role, facts.get("domain_role")),
        marking=one_line(marking),
        target_comment=comment,
        inventory_name=inventory_name,
    )
