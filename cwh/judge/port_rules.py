"""Windows Firewall rules read for any protocol and port range: which ports of a span (TCP 443,
UDP 70-74, TCP 40000-40050) the inbound rules in force allow, block, or leave unknown.

A rule is matched on its protocol (TCP, UDP, Any, or the IANA numbers 6 and 17), its local
ports (single ports, ranges, `Any`, and the keywords Windows uses for fixed ports), its state,
action and profiles. A Block rule wins over an Allow rule for the ports both cover, as in
Windows Firewall. Whatever cannot be read exactly makes the rule *ambiguous*, and an ambiguous
rule that could decide the answer makes it unknown (Not_Reviewed), never a pass:
- a protocol the collector did not give, or one not written as a name or a number;
- a port entry that is not a number, a range or a known keyword;
- a keyword for ports Windows assigns at run time (`RPC`, `Teredo`, ...), for any span above
  1024: the dynamic port range can be configured to start anywhere above 1024;
- an unreadable Enabled, Action or Profile.

A Block rule closes a port for everyone only when every scope field the collector reads is
`Any`: its remote and local addresses (Get-NetFirewallAddressFilter), its program
(Get-NetFirewallApplicationFilter), its service (Get-NetFirewallServiceFilter) and its interface
type (Get-NetFirewallInterfaceTypeFilter). Windows Defender Firewall itself writes Block rules
for one program (when a user dismisses its "blocked some features of this app" prompt); such a
rule stops only that program's traffic. One scoped in any of these ways, or whose scope was not
read, closes nothing for the others: it never turns an allowed port into a closed one, and where
a port must be open it leaves the answer unknown unless its scope is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cwh.judge.firewall import PROFILES, rule_applies

# Keywords with a fixed port (Get-NetFirewallPortFilter LocalPort), by protocol.
FIXED_KEYWORDS = {"RPCEPMAP": ("TCP", 135), "IPHTTPSIN": ("TCP", 443), "IPHTTPSOUT": ("TCP", 443)}
_PROTOCOL_NUMBERS = {"6": "TCP", "17": "UDP"}
_OTHER_PROTOCOLS = {"ICMPV4", "ICMPV6", "IGMP", "GRE", "L2TP", "IPV6", "IPV6-ROUTE",
                    "IPV6-FRAG", "IPV6-NOXT", "IPV6-OPTS", "VRRP", "PGM", "HOPOPT"}
DYNAMIC_FLOOR = 1025  # Windows' dynamic port range never starts lower


@dataclass(frozen=True)
class Span:
    """A protocol and a range of ports asked about."""

    protocol: str  # TCP or UDP
    low: int
    high: int

    @property
    def ports(self) -> range:
        return range(self.low, self.high + 1)

    def label(self) -> str:
        ports = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return f"{self.protocol} {ports}"


def span(protocol: str, low: int, high: int | None = None) -> Span:
    return Span(protocol.upper(), low, low if high is None else high)


def rule_protocol(rule: Mapping[str, Any]) -> str | None:
    """TCP, UDP, ANY, OTHER (a protocol that is neither), or None when unreadable."""
    value = rule.get("protocol")
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().upper()
    if text in ("TCP", "UDP", "ANY"):
        return text
    if text in _PROTOCOL_NUMBERS:
        return _PROTOCOL_NUMBERS[text]
    if text in _OTHER_PROTOCOLS or (text.isdigit() and text.isascii() and int(text) <= 255):
        return "OTHER"
    return None


def port_coverage(rule: Mapping[str, Any], asked: Span) -> tuple[set[int], str]:
    """(ports of the span the rule's local ports cover, why the coverage is ambiguous or "")."""
    entries = [str(p).strip() for p in rule.get("local_ports") or ["Any"]]
    covered: set[int] = set()
    for entry in entries:
        upper = entry.upper()
        if upper == "ANY":
            return set(asked.ports), ""
        if upper in FIXED_KEYWORDS:
            protocol, port = FIXED_KEYWORDS[upper]
            if protocol == asked.protocol and asked.low <= port <= asked.high:
                covered.add(port)
            continue
        low_text, dash, high_text = entry.partition("-")
        bounds = [low_text.strip(), high_text.strip()] if dash else [entry]
        if all(b.isascii() and b.isdigit() for b in bounds):
            low, high = int(bounds[0]), int(bounds[-1])
            if not 0 <= low <= high <= 65535:
                return covered, f"local port {entry!r} is not a port or a range"
            covered.update(p for p in asked.ports if low <= p <= high)
            continue
        if entry.isalpha() and entry.isascii():
            if asked.high >= DYNAMIC_FLOOR:
                return covered, (f"local port keyword {entry!r} stands for ports Windows assigns "
                                 "at run time (any port above 1024 once the dynamic range is "
                                 "configured)")
            continue
        return covered, f"local port {entry!r} is not a port, a range or a known keyword"
    return covered, ""


@dataclass(frozen=True)
class RuleMatch:
    rule: Mapping[str, Any]
    ports: frozenset[int]  # the span's ports it covers (those known)
    ambiguous: str = ""  # why it may cover more, or its state is unknown
    universal: bool | None = None  # applies to all traffic on its ports (None: unknown)
    scope: str = ""  # what narrows it, or which of its scope fields were not read

    def label(self) -> str:
        ports = ",".join(map(str, self.rule.get("local_ports") or ["Any"]))
        return f"{self.rule.get('display_name')} ({self.rule.get('protocol') or 'protocol ?'} " \
               f"{ports}, profiles {self.rule.get('profiles')}, {self.rule.get('action')})"

    def scoped_label(self) -> str:
        """The label with what narrows the rule (or what of its scope is unknown)."""
        return self.label() + (f" [{self.scope}]" if self.scope else "")


@dataclass
class SpanView:
    """What the rules in force say about every port of a span."""

    asked: Span
    allows: list[RuleMatch] = field(default_factory=list)
    blocks: list[RuleMatch] = field(default_factory=list)
    ambiguous: list[RuleMatch] = field(default_factory=list)  # might allow (or block)
    rules_read: int = 0

    @property
    def blocked(self) -> set[int]:
        """Ports a Block rule closes for every address."""
        return {p for m in self.blocks if m.universal is True for p in m.ports}

    def partial_blocks(self, port: int) -> list[RuleMatch]:
        """Block rules on the port that close it for some addresses, or for unknown ones."""
        return [m for m in self.blocks if port in m.ports and m.universal is not True]

    @property
    def allowed(self) -> set[int]:
        """Ports an Allow rule opens and no Block rule closes."""
        return {p for m in self.allows for p in m.ports} - self.blocked

    def allowed_by(self) -> list[RuleMatch]:
        blocked = self.blocked
        return [m for m in self.allows if m.ports - blocked]

    def uncertain_allow(self) -> list[RuleMatch]:
        """Ambiguous rules that may allow ports no Block rule closes."""
        return [m for m in self.ambiguous if m.rule.get("action") != "Block"]

    def uncertain_block(self) -> list[RuleMatch]:
        return [m for m in self.ambiguous if m.rule.get("action") != "Allow"]


def _state(rule: Mapping[str, Any], considered: tuple[str, ...]) -> tuple[bool | None, str]:
    """(in force and enabled: True/False/None, why unknown)."""
    enabled, action = str(rule.get("enabled")), str(rule.get("action"))
    applies = rule_applies(rule, considered)
    if enabled not in ("True", "False"):
        return None, f"Enabled is {rule.get('enabled')!r}"
    if action not in ("Allow", "Block"):
        return None, f"Action is {rule.get('action')!r}"
    if enabled == "False":
        return False, ""
    if applies is None:
        return None, f"Profile is {rule.get('profiles')!r}"
    return applies, ""


# The rule fields (as the collector names them) that narrow a rule to some of the traffic.
SCOPE_FIELDS = (("program", "program"), ("service", "service"),
                ("interface_type", "interface type"))
_ADDRESS_FIELDS = (("remote_addresses", "remote address"), ("local_addresses", "local address"))


def rule_scope(rule: Mapping[str, Any],
               scopes: Mapping[str, Mapping[str, list[str]]] | None) -> tuple[bool | None, str]:
    """(True: the rule applies to all traffic on its ports; False: to some only; None: not
    known), and what narrows it or which fields were not read."""
    narrowed, unread = [], []
    for key, name in SCOPE_FIELDS:
        value = rule.get(key)
        if not isinstance(value, str) or not value.strip():
            unread.append(name)
        elif value.strip().upper() != "ANY":
            narrowed.append(f"{name} {value.strip()}")
    address = None if scopes is None else scopes.get(str(rule.get("id", "")).casefold())
    for key, name in _ADDRESS_FIELDS:
        values = [a.strip() for a in (address or {}).get(key) or []]
        if not values:
            unread.append(name)
        elif [v.upper() for v in values] != ["ANY"]:
            narrowed.append(f"{name} {', '.join(values)}")
    if narrowed:
        return False, "applies only to " + "; ".join(narrowed)
    if unread:
        return None, f"its {', '.join(unread)} not read"
    return True, ""


def span_view(rules: Iterable[Mapping[str, Any]], asked: Span,
              considered: tuple[str, ...] = PROFILES,
              scopes: Mapping[str, Mapping[str, list[str]]] | None = None) -> SpanView:
    """The rules' view of `asked`; `scopes` (rule id, casefolded -> its address filter) and the
    rule's own program, service and interface type tell a Block rule that closes a port for
    everyone from one that closes it for some."""
    view = SpanView(asked)
    for rule in rules:
        view.rules_read += 1
        protocol = rule_protocol(rule)
        if protocol in ("OTHER",) or (protocol in ("TCP", "UDP") and protocol != asked.protocol):
            continue
        ports, why = port_coverage(rule, asked)
        if not ports and not why:
            continue
        if protocol is None:  # its ports touch the span, but which protocol it opens is unknown
            why = f"protocol {rule.get('protocol')!r} not readable"
            ports = set()
        active, state_why = _state(rule, considered)
        if active is False:
            continue
        universal, scope = rule_scope(rule, scopes)
        match = RuleMatch(rule, frozenset(ports), why or state_why, universal, scope)
        if match.ambiguous:
            view.ambiguous.append(match)
        elif rule.get("action") == "Allow":
            view.allows.append(match)
        else:
            view.blocks.append(match)
    return view
