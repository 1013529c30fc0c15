"""Whose facts are these? The identity a host reports (computer name, DNS host name, domain,
addresses) compared with what the inventory says the host is.

What the inventory claims, strongest first:
1. `cwh_expected_hostname`: the name the host must report (short or FQDN); it alone decides.
2. `ansible_host`, when it is a name: where the run connected, so the machine answering must
   be that one (the inventory name is then a label, as Ansible aliases are).
3. The inventory name, when it is a name and `ansible_host` is an address.
4. Otherwise the inventory knows the host by address only: the host confirms it when every
   address the inventory gives for it (the inventory name and `ansible_host`) is among its own,
   the one the runner connected to included (no NAT in between). Behind NAT or a port forward,
   or with an `ansible_host` that is some other machine's address, nothing can confirm it, and
   `cwh_expected_hostname` says who to expect.

A name matches when its first label is the computer name or the DNS host name (case does not
matter: NetBIOS names are upper case, DNS names any case). When the name carries a domain and
the host is joined to one, the domains must agree too: `sc01.corp.example` is not `SC01` of
`other.example`. A workgroup host has no DNS domain of its own to compare.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwh.text import printable

EXPECTED_VAR = "cwh_expected_hostname"
ASSET_KEY = "identity_check"  # where a host's asset (results.json "hosts") keeps the check
MAX_NAMES_SHOWN = 10


def as_ip(text: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `text` spells ([v6] brackets and %zone allowed), or None for a name."""
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_address(text.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None


_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def expected_hostname_problem(value: Any) -> str | None:
    """Why `value` cannot be a cwh_expected_hostname (None: it can); inventory validation."""
    if isinstance(value, str) and as_ip(value):
        return ("must be the name the host reports (its computer name or DNS name, e.g. SC01 "
                "or sc01.corp.example.com), not an address")
    labels = value.removesuffix(".").split(".") if isinstance(value, str) else []
    if not labels or len(value) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return ("must be a host name: letters, digits and hyphens in dot-separated labels, "
                "e.g. SC01 or sc01.corp.example.com")
    return None


def _fold(name: Any) -> str:
    return name.strip().rstrip(".").casefold() if isinstance(name, str) else ""


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _strings(value: Any) -> tuple[str, ...]:
    """PowerShell turns a one-element list into a scalar: accept either, keep strings only."""
    items = value if isinstance(value, list) else [value]
    return tuple(str(v).strip() for v in items if isinstance(v, str) and v.strip())


@dataclass(frozen=True)
class Claim:
    """Who the inventory says a host is."""

    host: str
    name: str | None  # the host name to match; None when the inventory has addresses only
    source: str  # where the name comes from, for the evidence
    addresses: tuple[str, ...]  # IP addresses the inventory uses for the host


def claim_for(host: str, address: str, expected: str | None = None) -> Claim:
    addresses = tuple(dict.fromkeys(a for a in (host, address) if as_ip(a)))
    if expected:
        return Claim(host, expected, EXPECTED_VAR, addresses)
    if not as_ip(address):
        return Claim(host, address, "the inventory name" if address == host else "ansible_host",
                     addresses)
    if not as_ip(host):
        return Claim(host, host, "the inventory name", addresses)
    return Claim(host, None, "", addresses)


@dataclass(frozen=True)
class Arrived:
    """Who the facts say they are (the collector's identity section)."""

    computer_name: str | None
    dns_host_name: str | None
    domain: str | None
    part_of_domain: bool
    ip_addresses: tuple[str, ...]
    mac_addresses: tuple[str, ...]

    @classmethod
    def read(cls, identity: Mapping[str, Any]) -> Arrived:
        return cls(_text(identity.get("computer_name")), _text(identity.get("dns_host_name")),
                   _text(identity.get("domain")), identity.get("part_of_domain") is True,
                   _strings(identity.get("ip_addresses")), _strings(identity.get("mac_addresses")))

    @property
    def named(self) -> bool:
        return bool(self.computer_name or self.dns_host_name)

    @property
    def label(self) -> str:
        """How the machine calls itself, for messages: computer name, else DNS host name."""
        return printable(self.computer_name or self.dns_host_name or "(no name)")

    def describe(self) -> str:
        parts = []
        if self.dns_host_name:
            parts.append(f"DNS host name {self.dns_host_name}")
        if self.domain:
            parts.append(f"{'domain' if self.part_of_domain else 'workgroup'} {self.domain}")
        if self.ip_addresses:
            parts.append("addresses " + ", ".join(self.ip_addresses))
        return printable(f"{self.label} ({'; '.join(parts)})" if parts else self.label)

    def machine(self) -> str:
        """What makes two answers the same machine: its name, domain and network cards."""
        name = _fold(self.dns_host_name) or _fold(self.computer_name)
        macs = ",".join(sorted(_fold(m).replace("-", ":") for m in self.mac_addresses))
        return f"{name}|{_fold(self.domain)}|{macs}"

    def owns(self, address: str) -> bool:
        wanted = as_ip(address)
        return wanted is not None and any(as_ip(a) == wanted for a in self.ip_addresses)

    def to_dict(self) -> dict[str, Any]:
        return {"computer_name": self.computer_name, "dns_host_name": self.dns_host_name,
                "domain": self.domain, "part_of_domain": self.part_of_domain,
                "ip_addresses": list(self.ip_addresses),
                "mac_addresses": list(self.mac_addresses)}


def match_name(name: str, arrived: Arrived) -> str | None:
    """Why `name` is not the arrived machine (None: it is)."""
    short, _, suffix = _fold(name).partition(".")
    own = {_fold(n).partition(".")[0] for n in (arrived.computer_name, arrived.dns_host_name)
           if _fold(n)}
    if short not in own:
        return "is neither its computer name nor its DNS host name"
    domain = _fold(arrived.domain)
    if suffix and arrived.part_of_domain and domain and suffix != domain:
        return f"has its short name but the domain {suffix}, not {domain}"
    return None


@dataclass(frozen=True)
class IdentityCheck:
    """The outcome: confirmed or not, what was compared, and whose facts arrived."""

    host: str
    confirmed: bool
    compared: str
    arrived: Arrived | None

    def problem(self) -> str:
        """The one line a host whose identity is not confirmed gets, as its host error."""
        return f"{self.host}: {self.reason('every control is Not_Reviewed')}"

    def reason(self, consequence: str) -> str:
        """Why the identity is not confirmed, what follows (`consequence`) and the way out."""
        if self.arrived is None:
            return f"whose facts these are is unknown: {self.compared}; {consequence}"
        advice = f". If that is the right machine, set {EXPECTED_VAR}: {self.arrived.label}" \
            if self.arrived.named else ""
        return (f"the facts that arrived are those of {self.arrived.describe()}, not confirmed "
                f"as {self.host}: {self.compared}; {consequence}{advice}")

    def to_dict(self) -> dict[str, Any]:
        return {"confirmed": self.confirmed, "compared": self.compared,
                "arrived": self.arrived.to_dict() if self.arrived else None,
                "machine": self.arrived.machine() if self.arrived and self.arrived.named
                else None}


def check_identity(claim: Claim, identity: Mapping[str, Any] | None,
                   unavailable: str | None = None) -> IdentityCheck:
    """Compare the collected identity with the claim; `unavailable` says why there is none."""
    if not isinstance(identity, Mapping):
        return IdentityCheck(claim.host, False, "the facts carry no identity "
                             f"({unavailable or 'the identity section is not an object'})", None)
    arrived = Arrived.read(identity)
    if not arrived.named:
        return IdentityCheck(claim.host, False, "the identity section names no computer and no "
                             "DNS host", arrived)
    if claim.name is not None:
        shown = printable(claim.name)
        problem = match_name(claim.name, arrived)
        if problem:
            return IdentityCheck(claim.host, False, f"{claim.source} {shown} {problem}", arrived)
        return IdentityCheck(claim.host, True, f"{claim.source} {shown} matches the host's "
                             f"own name, {arrived.describe()}", arrived)
    return _check_addresses(claim, arrived)


def _check_addresses(claim: Claim, arrived: Arrived) -> IdentityCheck:
    """A host the inventory knows by address only. Every address the inventory gives for it
    (its name and ansible_host) must be one of the machine's own: the one the runner reached
    proves that no NAT stands between them, the name proves it is the machine meant. One owned
    address proves neither: behind NAT any machine may own a private address that repeats from
    site to site, and an ansible_host pointing at another machine answers for its own address."""
    foreign = [a for a in claim.addresses if not arrived.owns(a)]
    shown = ", ".join(claim.addresses)
    if claim.addresses and not foreign:
        return IdentityCheck(claim.host, True, f"the inventory knows it by address only, and "
                             f"{shown} {'is' if len(claim.addresses) == 1 else 'are'} the "
                             "host's own", arrived)
    own = ", ".join(arrived.ip_addresses) or "none reported"
    return IdentityCheck(claim.host, False, "the inventory knows it by address only ("
                         f"{shown}), and {', '.join(foreign) or shown} is not among the host's "
                         f"own addresses ({own}): NAT or a port forward in between, or an "
                         "address that points at another machine, so the address cannot say "
                         "which machine answered", arrived)


@dataclass(frozen=True)
class SameMachine:
    """Inventory hosts whose facts came from one machine; `confirmed`, those of them whose
    identity check confirmed the facts as theirs."""

    machine: str  # how the machine describes itself
    hosts: tuple[str, ...]
    confirmed: tuple[str, ...] = ()

    @property
    def audited_twice(self) -> bool:
        """Two or more hosts were judged on one machine's facts: at most one of them is the
        machine the inventory means (the others' servers may never have been contacted), so
        the run cannot pass (exit 6), as with any host it did not audit."""
        return len(self.confirmed) > 1

    def line(self) -> str:
        shown = list(self.hosts[:MAX_NAMES_SHOWN])
        more = f" and {len(self.hosts) - len(shown)} more" if len(self.hosts) > len(shown) \
            else ""
        line = (f"same machine: {', '.join(map(printable, shown))}{more} all reached "
                f"{self.machine}: {len(self.hosts)} inventory hosts, one machine")
        if self.audited_twice:
            line += ("; at most one was audited, exit code 6 (one machine per inventory host, "
                     "or --limit the others)")
        return line

    def to_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "hosts": list(self.hosts),
                "confirmed": list(self.confirmed)}


def same_machine(assets: Mapping[str, Mapping[str, Any]]) -> list[SameMachine]:
    """Groups of inventory hosts whose identity checks (each host's asset keeps its
    IdentityCheck.to_dict under ASSET_KEY) name one machine."""
    groups: dict[str, list[str]] = defaultdict(list)
    confirmed: dict[str, list[str]] = defaultdict(list)
    described: dict[str, str] = {}
    for host, asset in assets.items():
        check = asset.get(ASSET_KEY) if isinstance(asset, Mapping) else None
        if not isinstance(check, Mapping) or not check.get("machine"):
            continue
        groups[check["machine"]].append(host)
        if check.get("confirmed") is True:
            confirmed[check["machine"]].append(host)
        described[check["machine"]] = Arrived.read(check.get("arrived") or {}).describe()
    return [SameMachine(described[key], tuple(sorted(hosts)), tuple(sorted(confirmed[key])))
            for key, hosts in sorted(groups.items()) if len(hosts) > 1]


def audited_twice(assets: Mapping[str, Mapping[str, Any]]) -> list[SameMachine]:
    """The machines that two or more inventory hosts were judged on (the gate's exit 6)."""
    return [group for group in same_machine(assets) if group.audited_twice]
