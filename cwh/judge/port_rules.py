"""Windows Firewall rules read for any protocol and port range: which ports of a span (TCP 443,
UDP 70-74, TCP 40000-40050) the inbound rules in force allow, block, or leave unknown.

A rule is matched on its protocol (TCP, UDP, Any, or the IANA numbers 6 and 17), its local
ports (single ports, ranges, `Any`, and the keywords Windows uses for fixed ports), its state,
action and profiles. A Block rule wins over an Allow rule for the ports both cover, as in
Windows Firewall. Whatever cannot be read exactly makes the rule *ambiguous*, and an ambiguous
rule that could decide the answer makes it unknown (Not_Reviewed), never a pass:
- a protocol the collector did not give, or one not written as a name or a number;
- a port entry that is not a number, a range or a known keyword;
- a keyword for ports Windows assigns at run time, for any span above 1024, unless the host
  said what it stands for (`keyword_ports`): `RPC` is the TCP dynamic port range (Get-NetTCPSetting)
  when RPC's own ports are not configured (HKLM\\SOFTWARE\\Microsoft\\Rpc\\Internet), `Teredo` UDP
  3544 and the Teredo client's port (an ephemeral port from the UDP dynamic range, or the
  configured client port); the other keywords (PlayToDiscovery, mDNS, ...) stay unknown;
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


TEREDO_PORT = 3544  # the Teredo client's static port (multicast discovery, RFC 4380)


@dataclass(frozen=True)
class KeywordPorts:
    """What the run-time keywords stand for on the host: (low, high) ranges, or None with why
    not (then a keyword reaching above 1024 is ambiguous)."""

    rpc: tuple[tuple[int, int], ...] | None = None  # TCP
    teredo: tuple[tuple[int, int], ...] | None = None  # UDP
    rpc_why: str = "the dynamic port ranges were not read"
    teredo_why: str = "the dynamic port ranges were not read"


def _ranges(entries: Any, what: str) -> tuple[tuple[tuple[int, int], ...] | None, str]:
    if not isinstance(entries, list) or not entries:
        return None, f"the {what} dynamic port range was not answered"
    found = []
    for entry in entries:
        start = entry.get("start") if isinstance(entry, dict) else None
        count = entry.get("count") if isinstance(entry, dict) else None
        if not (isinstance(start, int) and isinstance(count, int) and start >= 1
                and count >= 1 and start + count - 1 <= 65535) \
                or isinstance(start, bool) or isinstance(count, bool):
            return None, f"the {what} dynamic port range is malformed: {entry!r}"
        found.append((start, start + count - 1))
    return tuple(sorted(set(found))), ""


def keyword_ports(answer: Mapping[str, Any] | None) -> KeywordPorts:
    """KeywordPorts from the collector's dynamic_ports answer (None: not collected)."""
    if not isinstance(answer, Mapping):
        return KeywordPorts()
    if answer.get("error"):
        why = f"the dynamic port ranges could not be read ({answer['error']})"
        return KeywordPorts(rpc_why=why, teredo_why=why)
    tcp, tcp_why = _ranges(answer.get("tcp"), "TCP")
    udp, udp_why = _ranges(answer.get("udp"), "UDP")
    rpc, rpc_why = tcp, tcp_why
    internet = answer.get("rpc_internet")
    if not isinstance(internet, Mapping) or internet.get("error") or \
            not isinstance(internet.get("key_exists"), bool):
        rpc, rpc_why = None, ("whether RPC's own port range is configured (HKLM\\SOFTWARE\\"
                              "Microsoft\\Rpc\\Internet) was not read")
    elif internet["key_exists"]:
        rpc, rpc_why = None, ("RPC's own port range is configured (HKLM\\SOFTWARE\\Microsoft\\"
                              "Rpc\\Internet), which this check does not read")
    teredo, teredo_why = udp, udp_why
    client = None
    for value in answer.get("teredo_client_port") or [None]:
        if not isinstance(value, Mapping) or value.get("error"):
            teredo, teredo_why = None, "the Teredo client port setting was not read"
            break
        if value.get("value_exists"):
            port = value.get("value")
            if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
                teredo, teredo_why = None, f"the Teredo client port is {port!r}"
                break
            client = port or client
    if teredo is not None and client:
        teredo = ((client, client),)
    if teredo is not None:
        teredo = tuple(sorted(set(teredo) | {(TEREDO_PORT, TEREDO_PORT)}))
    return KeywordPorts(rpc, teredo, rpc_why, teredo_why)


_RUNTIME_KEYWORDS = {"RPC": ("TCP", "rpc"), "TEREDO": ("UDP", "teredo")}


def port_coverage(rule: Mapping[str, Any], asked: Span,
                  keywords: KeywordPorts | None = None) -> tuple[set[int], str]:
    """(ports of the span the rule's local ports cover, why the coverage is ambiguous or "")."""
    keywords = keywords or KeywordPorts()
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
        if upper in _RUNTIME_KEYWORDS:
            protocol, name = _RUNTIME_KEYWORDS[upper]
            ranges = getattr(keywords, name)
            if protocol != asked.protocol:
                continue  # Windows takes the keyword only on a rule of its own protocol
            if ranges is not None:
                covered.update(p for p in asked.ports if any(a <= p <= b for a, b in ranges))
                continue
            if asked.high >= DYNAMIC_FLOOR or asked.low <= TEREDO_PORT <= asked.high:
                return covered, (f"local port keyword {entry!r} stands for ports Windows assigns "
                                 f"at run time, and {getattr(keywords, name + '_why')}")
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
              scopes: Mapping[str, Mapping[str, list[str]]] | None = None,
              keywords: KeywordPorts | None = None) -> SpanView:
    """The rules' view of `asked`; `scopes` (rule id, casefolded -> its address filter) and the
    rule's own program, service and interface type tell a Block rule that closes a port for
    everyone from one that closes it for some."""
    view = SpanView(asked)
    for rule in rules:
        view.rules_read += 1
        protocol = rule_protocol(rule)
        if protocol in ("OTHER",) or (protocol in ("TCP", "UDP") and protocol != asked.protocol):
            continue
        ports, why = port_coverage(rule, asked, keywords)
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
