"""ConnectWise Automate's ports (screenconnect.md section 9): 443/TCP, 8484/TCP and 75/UDP
inbound; MySQL 3306 kept off the network; the legacy ports closed unless declared needed; 3389
closed once remote access goes through a Control client.

TCP is judged from the host (firewall rules, profiles, listeners) and from the runner (real
connections); UDP from the host alone, and its evidence says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.catalog.product_inputs import LEGACY_PORTS, parse_networks
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.collect.product_facts import firewall_addresses, udp_listeners
from cwh.judge.address_scope import Network, address_within, runner_source, scope_within
from cwh.judge.automate_web import automate_endpoint
from cwh.judge.exposure import (
    FIREWALL,
    LISTENERS,
    RUNNER_TCP,
    http_answer_part,
    listener_part,
    profiles_closed_part,
    reachability_part,
)
from cwh.judge.firewall import firewall_profiles
from cwh.judge.outcome import Outcome, combine, to_verdict, unknown
from cwh.judge.port_parts import (
    UDP_HOST_ONLY,
    allowed_part,
    closed_part,
    runner_closed_part,
    span_views,
    udp_listener_part,
    udp_note_part,
    with_evidence,
)
from cwh.judge.port_rules import Span, span
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json
from cwh.probes.runner import RunnerView

ADDRESSES = "Get-NetFirewallAddressFilter -PolicyStore ActiveStore (collector)"


def _views_disagree(parts: list[Outcome]) -> str:
    host = [p.passed for p in parts if p.label in ("firewall", "listener")]
    seen = [p.passed for p in parts if p.label in ("runner", "http")]
    if host and all(x is True for x in host) and False in seen:
        return ("views disagree: the host allows and listens, yet the runner did not get "
                "through (network firewall, NAT or the wrong address?)")
    if False in host and seen and all(x is True for x in seen):
        return "views disagree: reachable from the runner although the host view says not"
    return ""


def judge_inbound_allowed(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                          runner: RunnerView) -> Verdict:
    """CWH-CWA-01/02: the host allows and listens on the TCP port, and the runner gets in (on
    443 the site also answers HTTP)."""
    port = int(control.check["port"])
    parts = [allowed_part(facts, span("TCP", port), firewall_profiles(facts)),
             listener_part(facts, port),
             reachability_part(runner, runner.port_endpoint(port), want_open=True)]
    if control.check.get("http") and parts[-1].passed:
        parts.append(http_answer_part(runner, automate_endpoint(runner, inputs)))
    return to_verdict(combine("all", parts), note=_views_disagree(parts))


def judge_udp_inbound_allowed(control: Control, facts: HostFacts,
                              inputs: Mapping[str, Any]) -> Verdict:
    """CWH-CWA-03: the heartbeat port is allowed inbound and something listens on it, judged
    from the host (the only view there is for UDP)."""
    port = int(control.check["port"])
    asked = span("UDP", port)
    parts = [allowed_part(facts, asked, firewall_profiles(facts), _udp_images(facts, port)),
             udp_listener_part(facts, port)]
    outcome = with_evidence(combine("all", parts), udp_note_part([asked]))
    return to_verdict(outcome, note=UDP_HOST_ONLY)


def _udp_images(facts: HostFacts, port: int) -> list[str | None]:
    """The image paths of the processes with a UDP endpoint on `port` (None where Get-Process
    gave none); [None] when the endpoints are unknown, so no program-scoped rule is trusted."""
    try:
        listeners = udp_listeners(facts)
    except FactUnavailable:
        return [None]
    images = [x.get("path") if isinstance(x.get("path"), str) else None
              for x in listeners if x.get("port") == port]
    return images or [None]


# --- the legacy ports and 3389 ----------------------------------------------------------------

def _legacy_spans(protocol: str, inputs: Mapping[str, Any]) -> tuple[list[Span], list[str]]:
    declared = list(inputs.get("cwh_automate_legacy_ports") or ())
    spans = [span(p, low, high) for key, (p, low, high) in LEGACY_PORTS.items()
             if p == protocol and key not in declared]
    return spans, [d for d in declared if LEGACY_PORTS[d][0] == protocol]


def _all_declared(protocol: str, declared: list[str]) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, f"the inventory declares every legacy {protocol} "
                   f"port needed (cwh_automate_legacy_ports: {', '.join(declared)})",
                   observed=", ".join(declared),
                   evidence=(Evidence("inventory cwh_automate_legacy_ports", protocol,
                                      ", ".join(declared)),))


def _declared_note(declared: list[str]) -> str:
    return f"declared needed, so not judged: {', '.join(declared)}" if declared else ""


def _listening(facts: HostFacts, spans: list[Span]) -> Evidence | None:
    """Who listens on the spans' TCP ports (evidence only: the firewall and the runner decide)."""
    try:
        listeners = facts.tcp_listeners()
    except FactUnavailable as exc:
        return Evidence(LISTENERS, ", ".join(s.label() for s in spans), "not available", "",
                        str(exc))
    mine = [x for x in listeners if any(s.low <= x["port"] <= s.high for s in spans)]
    observed = ", ".join(f"{x.get('address')}:{x.get('port')} by {x.get('process')}"
                         for x in mine) or "nothing listens"
    return Evidence(LISTENERS, ", ".join(s.label() for s in spans), observed, "",
                    compact_json(mine))


def judge_legacy_tcp_closed(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                            runner: RunnerView) -> Verdict:
    """CWH-CWA-05: 70, 8002 and 40000-40050/TCP closed, unless the inventory declares them."""
    spans, declared = _legacy_spans("TCP", inputs)
    if not spans:
        return _all_declared("TCP", declared)
    profiles = firewall_profiles(facts)
    shown = ", ".join(s.label() for s in spans)
    parts = [closed_part(facts, spans, profiles), profiles_closed_part(profiles, shown),
             runner_closed_part(runner, [p for s in spans for p in s.ports])]
    listening = _listening(facts, spans)
    outcome = with_evidence(combine("all", parts), *(e for e in (listening,) if e))
    return to_verdict(outcome, note="; ".join(filter(None, (_views_disagree(parts),
                                                            _declared_note(declared)))))


def judge_legacy_udp_closed(control: Control, facts: HostFacts,
                            inputs: Mapping[str, Any]) -> Verdict:
    """CWH-CWA-06: 70-74, 8002 and 40000-41000/UDP closed (host view), unless declared."""
    spans, declared = _legacy_spans("UDP", inputs)
    if not spans:
        return _all_declared("UDP", declared)
    profiles = firewall_profiles(facts)
    shown = ", ".join(s.label() for s in spans)
    parts = [closed_part(facts, spans, profiles), profiles_closed_part(profiles, shown)]
    outcome = with_evidence(combine("all", parts), udp_note_part(spans))
    return to_verdict(outcome, note="; ".join(filter(None, (UDP_HOST_ONLY,
                                                            _declared_note(declared)))))


def judge_rdp_closed(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                     runner: RunnerView) -> Verdict:
    """CWH-CWA-07: once remote access goes through a Control client (cwh_remote_access_via_
    control: true), 3389 is closed: no allow rule for TCP or UDP 3389, and the runner gets
    nothing on TCP 3389."""
    if inputs.get("cwh_remote_access_via_control") is not True:
        return Verdict(Status.NOT_APPLICABLE, "the guide closes 3389 once remote access goes "
                       "through a Control client; the inventory does not say so "
                       "(cwh_remote_access_via_control: true)",
                       observed=f"cwh_remote_access_via_control = "
                                f"{inputs.get('cwh_remote_access_via_control')!r}",
                       evidence=(Evidence("inventory", "cwh_remote_access_via_control",
                                          repr(inputs.get("cwh_remote_access_via_control"))),))
    port = int(control.check.get("port", 3389))
    profiles = firewall_profiles(facts)
    spans = [span("TCP", port), span("UDP", port)]
    parts = [closed_part(facts, spans, profiles),
             profiles_closed_part(profiles, f"TCP/UDP {port}"),
             reachability_part(runner, runner.port_endpoint(port), want_open=False)]
    outcome = with_evidence(combine("all", parts), udp_note_part([spans[1]]))
    return to_verdict(outcome, note="; ".join(filter(None, (
        _views_disagree(parts), f"UDP {port} from the host view only"))))


# --- MySQL ------------------------------------------------------------------------------------

def _mysql_firewall_part(facts: HostFacts, port: int, allowed: tuple[Network, ...],
                         profiles: Any) -> Outcome:
    """No rule lets TCP 3306 in, or (networks declared) every rule that does is scoped to them."""
    asked = span("TCP", port)
    if not allowed:
        return closed_part(facts, [asked], profiles)
    label = "firewall"
    nets = ", ".join(map(str, allowed))
    expected = f"no enabled inbound allow rule for TCP {port} except from {nets}"
    where = f"TCP {port}, profiles considered: {profiles.why_considered}"
    views = span_views(facts, [asked], profiles)
    if isinstance(views, str):
        return unknown(label, expected, views, Evidence(FIREWALL, where, "not available",
                                                        expected, views))
    view = views[0]
    opened, doubtful = view.allowed_by(), view.uncertain_allow()
    if doubtful:
        observed = "unreadable rules may open it: " + "; ".join(m.label() for m in doubtful)
        return unknown(label, expected, observed, Evidence(FIREWALL, where, observed, expected,
                                                           compact_json([m.rule for m in
                                                                         doubtful])))
    if not opened:
        observed = f"no enabled allow rule in force among the {view.rules_read} inbound rules"
        return Outcome(True, (Evidence(FIREWALL, where, observed, expected),), expected,
                       observed, label=label)
    try:
        scopes = firewall_addresses(facts)
    except FactUnavailable as exc:
        observed = f"allowed by {'; '.join(m.label() for m in opened)}; remote addresses not " \
                   f"available ({exc})"
        return unknown(label, expected, observed, Evidence(ADDRESSES, where, observed, expected))
    findings: list[tuple[bool | None, str]] = []
    for match in opened:
        remote = (scopes.get(str(match.rule.get("id", "")).casefold()) or {}).get(
            "remote_addresses")
        within, why = scope_within(remote or [], allowed) if remote is not None else \
            (None, "no address filter answered for this rule")
        findings.append((within, f"{match.label()}: {why}"))
    observed = "; ".join(text for _, text in findings)
    results = [w for w, _ in findings]
    passed = False if False in results else (None if None in results else True)
    evidence = Evidence(f"{FIREWALL}; {ADDRESSES}", where, observed, expected,
                        compact_json([m.rule for m in opened], limit=700))
    return Outcome(passed, (evidence,), expected, observed,
                   observed if passed is None else "", label)


# Process names MySQL's server runs as (Get-Process ProcessName: the image name without .exe).
MYSQL_PROCESSES = frozenset({"mysqld", "mysqld-nt", "mariadbd"})


def mysql_ports(facts: HostFacts, default: int) -> list[int]:
    """The default port and every TCP port a MySQL server process listens on (a my.ini may
    move it off 3306); only the default when the listeners are unknown (the listener part then
    makes the verdict unknown)."""
    try:
        listeners = facts.tcp_listeners()
    except FactUnavailable:
        return [default]
    found = {x["port"] for x in listeners
             if str(x.get("process") or "").casefold() in MYSQL_PROCESSES}
    return sorted(found | {default})


def _mysql_listener_part(facts: HostFacts, ports: list[int]) -> Outcome:
    """Where MySQL listens, reported with the verdict: unknown makes the control unknown."""
    label = "listener"
    shown = ", ".join(map(str, ports))
    expected = f"the bind address of the listener on TCP {shown} (reported)"
    try:
        listeners = facts.tcp_listeners()
    except FactUnavailable as exc:
        return unknown(label, expected, f"the MySQL listener is unknown: {exc}",
                       Evidence(LISTENERS, f"TCP {shown}", "not available", expected, str(exc)))
    mine = [x for x in listeners if x.get("port") in ports]
    if not mine:
        observed = f"nothing listens on {shown} here and no MySQL server process listens " \
                   "anywhere (the database runs on another server?)"
    else:
        def scope(address: str) -> str:
            if address in ("0.0.0.0", "::"):
                return "every interface"
            return "loopback only" if address in ("127.0.0.1", "::1") else "one interface"
        observed = ", ".join(f"{x.get('address')}:{x.get('port')} "
                             f"({scope(str(x.get('address')))}) by {x.get('process')}"
                             for x in mine)
    return Outcome(True, (Evidence(LISTENERS, f"TCP {shown}", observed, expected,
                                   compact_json(mine)),), expected, observed, label=label)


def _mysql_runner_part(runner: RunnerView, port: int, allowed: tuple[Network, ...]) -> Outcome:
    endpoint = runner.port_endpoint(port)
    plain = reachability_part(runner, endpoint, want_open=False)
    if plain.passed is not False or not allowed:
        return plain
    source = runner_source(endpoint.address)
    within = address_within(source, allowed)
    nets = ", ".join(map(str, allowed))
    expected = f"connection refused or filtered, unless the runner is inside {nets}"
    if within is True:
        observed = f"open, and the runner ({source}) is inside the declared {nets}"
    elif within is False:
        observed = f"open from the runner at {source}, outside the declared {nets}"
    else:
        observed = "open, and the runner's own address could not be told"
    evidence = Evidence(RUNNER_TCP, endpoint.describe(), observed, expected,
                        compact_json({"runner_source": source}))
    return Outcome(within, (*plain.evidence, evidence), expected, observed,
                   observed if within is None else "", "runner")


def judge_mysql_not_exposed(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                            runner: RunnerView) -> Verdict:
    """CWH-CWA-04: MySQL is not reachable from the runner nor allowed in by the firewall, except
    from the private network the inventory declares (cwh_mysql_allowed_from); where it listens
    is reported."""
    default = int(control.check.get("port", 3306))
    ports = mysql_ports(facts, default)
    allowed = parse_networks(inputs.get("cwh_mysql_allowed_from"))
    profiles = firewall_profiles(facts)
    parts = [*(_mysql_firewall_part(facts, port, allowed, profiles) for port in ports),
             profiles_closed_part(profiles, "TCP " + ", ".join(map(str, ports))),
             _mysql_listener_part(facts, ports),
             *(_mysql_runner_part(runner, port, allowed) for port in ports)]
    scope = f"allowed only from {', '.join(map(str, allowed))} (cwh_mysql_allowed_from)" \
        if allowed else "no network declared (cwh_mysql_allowed_from): reachable only locally"
    moved = f"MySQL listens on {', '.join(str(p) for p in ports if p != default)}, judged " \
        f"there as on {default}" if len(ports) > 1 else ""
    return to_verdict(combine("all", parts),
                      note="; ".join(filter(None, (scope, moved, _views_disagree(parts)))))
