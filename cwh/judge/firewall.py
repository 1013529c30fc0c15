"""Windows Firewall as it decides an unsolicited inbound TCP connection: the profiles in force,
each one's state and default inbound action, and the allow rules that apply to those profiles.

A profile that is off, or whose DefaultInboundAction is Allow, lets every port in whatever the
allow rules say. `NotConfigured` in the ActiveStore (which merges Group Policy and the local
store) means that no store sets the value, so Windows' built-in default applies: the firewall
on, inbound Block (INetFwPolicy2 and the Firewall CSP document both defaults).

Which profiles are in force comes from `Get-NetFirewallSetting -PolicyStore ActiveStore`
(ActiveProfile, one per network category the host is connected to). When it is unknown, every
profile is considered: an inactive profile that exposes a port is then reported, never ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, same_name

PROFILES = ("Domain", "Private", "Public")
_ON = {"True": True, "False": False, "NotConfigured": True}
_BLOCKS = {"Block": True, "Allow": False, "NotConfigured": True}


def canonical_profile(name: Any) -> str | None:
    """"public" -> "Public"; None for anything that is not one of the three profiles. Names
    are compared through the key the facts' contradiction check groups them by, so two entries
    the judge would read as one profile are never let through as two."""
    key = same_name(str(name))
    return next((profile for profile in PROFILES if same_name(profile) == key), None)


def parse_profile_list(text: Any) -> frozenset[str] | None:
    """A Profile flags value as PowerShell prints it ("Any", "Domain, Private") -> the profiles
    it names; None when it is empty or names something else (unreadable)."""
    if not isinstance(text, str) or not text.strip():
        return None
    names = [part.strip() for part in text.split(",")]
    if [n.lower() for n in names] == ["any"]:
        return frozenset(PROFILES)
    profiles = [canonical_profile(n) for n in names]
    if None in profiles:
        return None
    return frozenset(p for p in profiles if p)


# Keywords Get-NetFirewallPortFilter (and the COM API, in its spelling) prints in a TCP rule's
# LocalPort instead of numbers, with the TCP ports each stands for. RPCEPMap is the endpoint
# mapper (135). RPC is the dynamic ports the RPC runtime hands to RPC servers, matched when a
# connection arrives: a port another listener owns (SMB, NetBIOS, the endpoint mapper, a web
# server) is never one of them. IPHTTPSIn is the IP-HTTPS listener, 443. The rest are UDP
# keywords that cover no TCP port. Anything else is unknown, never "does not cover".
_TCP_PORT_KEYWORDS: dict[str, tuple[int, int] | None] = {
    "any": (0, 65535), "rpcepmap": (135, 135), "rpc-epmap": (135, 135), "rpc": None,
    "iphttpsin": (443, 443), "iphttps": (443, 443), "iptlsin": (443, 443),
    "playtodiscovery": None, "ply2disc": None, "teredo": None, "mdns": None, "dhcp": None,
}
_PORT_DIGITS = frozenset("0123456789")


def _port_number(text: str) -> int | None:
    """A port as Windows writes it: ASCII digits only (int() also takes fullwidth and
    Arabic-Indic digits and '4_4', and str.isdigit() takes superscripts, which int() refuses),
    0 to 65535."""
    if not text or not set(text) <= _PORT_DIGITS or len(text) > 5:
        return None
    number = int(text)
    return number if number <= 65535 else None


def port_entry_span(entry: object) -> tuple[int, int] | str | None:
    """One LocalPort entry as the TCP ports it covers: (low, high); None for a known keyword
    that covers no fixed TCP port; "unreadable" for anything Windows does not write."""
    if not isinstance(entry, str) or not entry.isascii():
        return "unreadable"
    text = entry.strip()
    if text.lower() in _TCP_PORT_KEYWORDS:
        return _TCP_PORT_KEYWORDS[text.lower()]
    low_text, dash, high_text = text.partition("-")
    low, high = _port_number(low_text), _port_number(high_text) if dash else None
    if low is not None and not dash:
        return low, low
    if low is not None and high is not None and low <= high:
        return low, high
    return "unreadable"


def local_ports_include(entries: Iterable[object] | None, port: int) -> bool | None:
    """Whether a rule's LocalPort entries cover TCP `port`: True when one does, whatever the
    others say; None when none does but one cannot be read (it may be the port); False only
    when every entry was read. No entries means Any. The COM API and netsh write a list in one
    string ("80,443"): each part must be readable."""
    listed = list(entries) if entries is not None else []
    if not listed:
        return True
    unreadable = False
    for entry in listed:
        parts = entry.split(",") if isinstance(entry, str) else [entry]
        for part in parts:
            span = port_entry_span(part)
            if span == "unreadable":
                unreadable = True
            elif span is not None and span[0] <= port <= span[1]:
                return True
    return None if unreadable else False


@dataclass(frozen=True)
class ProfileState:
    """One profile as the ActiveStore reports it (strings exactly as Windows printed them)."""

    name: str
    enabled: str
    default_inbound_action: str

    @property
    def on(self) -> bool | None:
        return _ON.get(self.enabled)

    @property
    def blocks_by_default(self) -> bool | None:
        return _BLOCKS.get(self.default_inbound_action)

    @property
    def exposes_every_port(self) -> bool | None:
        """True when unsolicited inbound traffic is let in whatever the rules say; None when
        the state or the action is unreadable."""
        if self.on is False:
            return True
        if self.on is None or self.blocks_by_default is None:
            return None
        return not self.blocks_by_default

    def describe(self) -> str:
        enabled = {"NotConfigured": "NotConfigured (Windows' default: on)"}.get(
            self.enabled, self.enabled or "unreadable")
        action = {"NotConfigured": "NotConfigured (Windows' default: Block)"}.get(
            self.default_inbound_action, self.default_inbound_action or "unreadable")
        return f"{self.name}: Enabled {enabled}, DefaultInboundAction {action}"


@dataclass(frozen=True)
class FirewallProfiles:
    """The profiles the judge considers, with their state; `problem` says what was unknown."""

    considered: tuple[str, ...]
    states: Mapping[str, ProfileState]
    why_considered: str
    problem: str = ""  # the profile states could not be read at all
    raw: tuple[Mapping[str, Any], ...] = ()


def firewall_profiles(facts: HostFacts) -> FirewallProfiles:
    """What the collector said about the profiles, never raising: unknowns are in `problem`
    (the states) and `why_considered` (the active profiles)."""
    try:
        raw, (active_text, active_error) = facts.firewall_profiles(), \
            facts.firewall_active_profile()
    except FactUnavailable as exc:
        return FirewallProfiles(PROFILES, {}, "all profiles (the profile answer is unusable)",
                                problem=str(exc))
    states: dict[str, ProfileState] = {}
    for entry in raw:
        name = canonical_profile(entry.get("name"))
        if name is not None:
            states[name] = ProfileState(name, str(entry.get("enabled") or ""),
                                        str(entry.get("default_inbound_action") or ""))
    active = parse_profile_list(active_text)
    if active:
        considered = tuple(p for p in PROFILES if p in active)
        why = f"the active profile{'s' if len(considered) > 1 else ''} " \
              f"(ActiveProfile {active_text})"
    else:
        unknown = active_error or f"ActiveProfile {active_text!r} not understood"
        considered, why = PROFILES, f"all profiles (the active one is unknown: {unknown})"
    return FirewallProfiles(considered, states, why, raw=tuple(raw))


def profile_exposure(profiles: FirewallProfiles) -> tuple[bool | None, str]:
    """(False: a considered profile lets every port in; None: unknown; True: all block by
    default) and the observed text."""
    if profiles.problem:
        return None, f"profile state not available ({profiles.problem})"
    missing = [p for p in profiles.considered if p not in profiles.states]
    states = [profiles.states[p] for p in profiles.considered if p in profiles.states]
    exposing = [s for s in states if s.exposes_every_port is True]
    unreadable = [s for s in states if s.exposes_every_port is None]
    observed = "; ".join(s.describe() for s in states)
    if missing:
        observed += f"; {', '.join(missing)}: not in the answer"
    if exposing:
        return False, "every port open through " + "; ".join(s.describe() for s in exposing)
    if missing or unreadable:
        return None, observed
    return True, observed


def rule_applies(rule: Mapping[str, Any], considered: tuple[str, ...]) -> bool | None:
    """Whether a rule is in force for one of the considered profiles; None when its profile
    list is unreadable."""
    profiles = parse_profile_list(rule.get("profiles"))
    if profiles is None:
        return None
    return bool(profiles & set(considered))
