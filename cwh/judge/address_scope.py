"""Whether a firewall rule's remote addresses (Get-NetFirewallAddressFilter RemoteAddress, as
PowerShell prints them) lie within the networks the inventory allows.

Windows writes an address, a subnet (`10.0.0.0/255.0.0.0` or `/8`), a range (`10.0.0.1-10.0.0.9`)
or a keyword. `Any` is never within a private network. The other keywords (LocalSubnet,
Intranet, Internet, DNS, DHCP, WINS, DefaultGateway, ...) stand for addresses only the host
knows at run time: they are unknown here, never "within".
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(text: str) -> Network | tuple[Network, Network] | None:
    """A subnet or address as a network, a range as its two ends, None when not an address."""
    low, dash, high = text.partition("-")
    try:
        if dash:
            return ipaddress.ip_network(low.strip()), ipaddress.ip_network(high.strip())
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _inside(net: Network, allowed: Iterable[Network]) -> bool:
    return any(net.version == a.version and net.subnet_of(a) for a in allowed)  # type: ignore[arg-type]


def scope_within(addresses: list[str], allowed: tuple[Network, ...]) -> tuple[bool | None, str]:
    """(True: every remote address lies within `allowed`; False: one does not; None: one is a
    keyword whose addresses are unknown), and what was found."""
    if not addresses:
        return None, "no remote address answered"
    unknown = []
    for entry in addresses:
        text = entry.strip()
        if text.upper() == "ANY":
            return False, "remote address Any (every address)"
        parsed = _network(text)
        if parsed is None:
            unknown.append(text)
            continue
        ends = parsed if isinstance(parsed, tuple) else (parsed,)
        # A range lies within when both ends fall in the same allowed network.
        if isinstance(parsed, tuple):
            inside = any(all(_inside(end, (a,)) for end in ends) for a in allowed)
        else:
            inside = _inside(parsed, allowed)
        if not inside:
            return False, f"remote address {text} is outside {', '.join(map(str, allowed))}"
    if unknown:
        return None, (f"remote address {', '.join(unknown)} names addresses only the host knows "
                      "(a keyword such as LocalSubnet)")
    return True, f"remote addresses {', '.join(addresses)} within {', '.join(map(str, allowed))}"


def runner_source(address: str) -> str | None:
    """The runner's own address towards `address` (the route's source; no packet is sent)."""
    try:
        infos = socket.getaddrinfo(address, 9, type=socket.SOCK_DGRAM)
        family, _, _, _, target = infos[0]
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect(target)
            return str(probe.getsockname()[0])
    except (OSError, IndexError):
        return None


def address_within(address: str | None, allowed: tuple[Network, ...]) -> bool | None:
    if address is None:
        return None
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    return any(ip.version == a.version and ip in a for a in allowed)
