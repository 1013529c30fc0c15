"""Parts of the port controls for any protocol: what the firewall rules in force, the profiles,
the listeners and the runner's connections say about a port or a range of ports.

TCP is judged from both views. UDP is judged from the host view only and every UDP part says
so: nothing answers a UDP datagram it does not expect, so a connection attempt proves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.collect.product_facts import dynamic_ports, firewall_addresses, udp_listeners
from cwh.judge.exposure import FIREWALL, RUNNER_TCP
from cwh.judge.firewall import FirewallProfiles, profile_exposure
from cwh.judge.outcome import Outcome, unknown
from cwh.judge.port_rules import RuleMatch, Span, SpanView, keyword_ports, span_view
from cwh.judge.verdict import Evidence, compact_json
from cwh.probes.runner import RunnerView

UDP_LISTENERS = "Get-NetUDPEndpoint (collector)"
UDP_HOST_ONLY = ("UDP is judged from the host view only (firewall rules, profiles, UDP "
                 "endpoints): a UDP port cannot be proven open by connecting to it, so no "
                 "runner-side result is claimed")
_PROBE_WORKERS = 16


def _labels(matches: Iterable[RuleMatch]) -> str:
    return "; ".join(m.label() + (f" [{m.ambiguous}]" if m.ambiguous else "") for m in matches)


def _scoped(matches: Iterable[RuleMatch]) -> str:
    return "; ".join(m.scoped_label() for m in matches)


def _raw(matches: Iterable[RuleMatch]) -> str:
    return compact_json([m.rule for m in matches], limit=900)


def span_views(facts: HostFacts, spans: Iterable[Span],
               profiles: FirewallProfiles) -> list[SpanView] | str:
    """The rules' view of each span, or why the rules could not be read. Without the rules'
    address filters, no Block rule is known to close a port for everyone."""
    try:
        rules = facts.firewall_rules()
    except FactUnavailable as exc:
        return str(exc)
    try:
        scopes: dict | None = firewall_addresses(facts)
    except FactUnavailable:
        scopes = None
    keywords = keyword_ports(dynamic_ports(facts))
    return [span_view(rules, s, profiles.considered, scopes, keywords) for s in spans]


def program_matches(program: str, image: str | None) -> bool | None:
    """Whether a rule's program is the process image `image` (case-insensitive, as Windows
    compares paths). A program written with an environment variable (%SystemRoot%/...) is
    unknown when the rest of it fits, since the variable's value on the host is not read."""
    rule = program.strip().casefold()
    if image is None or not image.strip():
        return None
    path = image.strip().casefold()
    if rule == path:
        return True
    if rule.startswith("%") and "%" in rule[1:]:
        tail = rule[rule.index("%", 1) + 1:]
        return None if path.endswith(tail) else False
    return False


def _for_listeners(view: SpanView, images: list[str | None]) -> tuple[SpanView, list[RuleMatch]]:
    """The view with only the Allow rules that let traffic in for one of the listening
    processes: program Any or one of their images, service and interface type Any. A rule whose
    fit cannot be told becomes ambiguous; one for another program is dropped (and returned)."""
    kept, doubtful, other = [], [], []
    for match in view.allows:
        rule = match.rule
        narrow = [f"{name} {rule.get(key)}" for key, name in (("service", "service"),
                                                            ("interface_type", "interface type"))
                  if str(rule.get(key) or "").strip().upper() != "ANY"]
        program = rule.get("program")
        if not isinstance(program, str) or not program.strip():
            doubtful.append(replace(match, ambiguous="its program was not read"))
            continue
        fits = True if program.strip().upper() == "ANY" else \
            _any_true([program_matches(program, i) for i in images])
        if fits is False:
            other.append(match)
        elif fits is None or narrow:
            shown = ", ".join(map(str, images))
            why = "applies only to " + "; ".join(narrow) if narrow else \
                f"program {program} may or may not be the listener's ({shown})"
            doubtful.append(replace(match, ambiguous=why))
        else:
            kept.append(match)
    return replace(view, allows=kept, ambiguous=view.ambiguous + doubtful), other


def _any_true(results: list[bool | None]) -> bool | None:
    return True if True in results else (None if None in results or not results else False)


def allowed_part(facts: HostFacts, asked: Span, profiles: FirewallProfiles,
                 listener_images: list[str | None] | None = None) -> Outcome:
    """An enabled inbound Allow rule in force opens the port and no Block rule closes it. With
    `listener_images` (UDP, where no runner view catches a rule for the wrong program), only a
    rule that lets traffic in for one of those processes counts."""
    label, port = "firewall", asked.low
    expected = f"an enabled inbound allow rule for {asked.label()}, not overridden by a block rule"
    if listener_images is not None:
        expected += ", for the listening program (or every program)"
    where = f"{asked.label()}, profiles considered: {profiles.why_considered}"
    views = span_views(facts, [asked], profiles)
    if isinstance(views, str):
        return unknown(label, expected, views, Evidence(FIREWALL, where, "not available",
                                                        expected, views))
    view, elsewhere = views[0], []
    if listener_images is not None:
        view, elsewhere = _for_listeners(view, listener_images)
    blocking = [m for m in view.blocks if port in m.ports and m.universal is True]
    if port in view.allowed:
        doubtful = [m for m in view.uncertain_block() if port in m.ports or not m.ports]
        partial = view.partial_blocks(port)
        unknown_scope = [m for m in partial if m.universal is None]
        observed = "allowed by " + _labels(view.allowed_by())
        passed: bool | None = None if doubtful or unknown_scope else True
        if doubtful:
            observed += "; a rule that may block it is unreadable: " + _labels(doubtful)
        if unknown_scope:
            observed += ("; block rules whose scope was not read may close it: " +
                         _scoped(unknown_scope))
        elif partial:
            observed += "; closed for some traffic only by " + _scoped(partial)
        matches = view.allowed_by() + doubtful + partial
    elif blocking:
        passed, observed, matches = False, "blocked by " + _labels(blocking), blocking
        if view.allows:
            observed = f"allowed by {_labels(view.allows)}, but {observed}"
            matches = view.allows + blocking
    elif view.uncertain_allow():
        passed, matches = None, view.uncertain_allow()
        observed = "no rule is known to allow it; unreadable: " + _labels(matches)
    else:
        # As CWH-NET-01: the port must be allowed by a rule of its own. A profile that lets
        # every port in opens it too, but only until that profile is fixed (CWH-STIG-06).
        exposing, _ = profile_exposure(profiles)
        passed, matches = False, []
        observed = f"no enabled allow rule in force among the {view.rules_read} inbound rules"
        if exposing is False:
            observed += ("; reachable only because a profile in force lets every port in "
                         "(CWH-STIG-06), and closed again once that is fixed")
        if elsewhere:
            observed += ("; allow rules for another program than the listener's "
                         f"({', '.join(map(str, listener_images or []))}) let nothing in for "
                         "it: " + _labels(elsewhere))
            matches = elsewhere
    reason = f"{asked.label()}: {observed}" if passed is None else ""
    evidence = Evidence(FIREWALL, where, observed, expected, _raw(matches))
    return Outcome(passed, (evidence,), expected, observed, reason, label)


def closed_part(facts: HostFacts, spans: list[Span], profiles: FirewallProfiles) -> Outcome:
    """No enabled inbound Allow rule in force opens any port of the spans (Block rules that
    cover an allowed port close it again)."""
    label = "firewall"
    shown = ", ".join(s.label() for s in spans)
    expected = f"no enabled inbound allow rule for {shown}"
    where = f"{shown}, profiles considered: {profiles.why_considered}"
    views = span_views(facts, spans, profiles)
    if isinstance(views, str):
        return unknown(label, expected, views, Evidence(FIREWALL, where, "not available",
                                                        expected, views))
    opened = [(v, m) for v in views for m in v.allowed_by()]
    doubtful = [m for v in views for m in v.uncertain_allow()]
    closers = [(v, m) for v in views for m in v.blocks
               if m.universal is True and any(m.ports & a.ports for a in v.allows)]
    narrow = [m for v in views for m in v.blocks if m.universal is not True
              and any(m.ports & (a.ports - v.blocked) for a in v.allows)]
    if opened:
        passed: bool | None = False
        observed = "; ".join(f"{v.asked.protocol} {_ports(m.ports - v.blocked)} allowed by "
                             f"{m.label()}" for v, m in opened)
        if narrow:
            observed += ("; not closed for everyone by block rules that apply to some traffic "
                         "only, or whose scope was not read: " + _scoped(narrow))
    elif doubtful:
        passed, observed = None, "unreadable rules may open it: " + _labels(doubtful)
    else:
        passed = True
        observed = f"no enabled allow rule in force among the {views[0].rules_read} inbound rules"
        closed = [a for v in views for a in v.allows]
        if closed:
            observed = (f"allowed by {_labels(closed)}, but closed for everyone by "
                        f"{_labels(m for _, m in closers)}")
    evidence = Evidence(FIREWALL, where, observed, expected,
                        _raw([m for _, m in opened] + doubtful + narrow
                             + [m for _, m in closers]))
    reason = f"{shown}: {observed}" if passed is None else ""
    return Outcome(passed, (evidence,), expected, observed, reason, label)


def _ports(ports: Iterable[int]) -> str:
    """[70, 71, 72, 8002] -> "70-72, 8002"."""
    ordered, runs = sorted(ports), []
    for port in ordered:
        if runs and port == runs[-1][1] + 1:
            runs[-1][1] = port
        else:
            runs.append([port, port])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)




def udp_listener_part(facts: HostFacts, port: int) -> Outcome:
    label, expected = "listener", f"a process with a UDP endpoint on {port}"
    try:
        listeners = udp_listeners(facts)
    except FactUnavailable as exc:
        return unknown(label, expected, str(exc), Evidence(UDP_LISTENERS, f"UDP {port}",
                                                           "not available", expected, str(exc)))
    mine = [x for x in listeners if x.get("port") == port]
    observed = ", ".join(f"{x.get('address')}:{port} by {x.get('process')} (pid {x.get('pid')})"
                         for x in mine) or f"no UDP endpoint on {port}"
    return Outcome(bool(mine), (Evidence(UDP_LISTENERS, f"UDP {port}", observed, expected,
                                         compact_json(mine)),), expected, observed, label=label)


def udp_note_part(spans: list[Span]) -> Evidence:
    """The evidence entry that says why no runner-side UDP result exists."""
    return Evidence("runner", ", ".join(s.label() for s in spans), "not probed", "",
                    UDP_HOST_ONLY)


def runner_closed_part(runner: RunnerView, ports: list[int]) -> Outcome:
    """No TCP connection from the runner is accepted on any of the ports (probed side by side,
    each once per run)."""
    label, expected = "runner", "every connection refused or filtered"
    endpoints = [runner.port_endpoint(p) for p in ports]
    with ThreadPoolExecutor(min(_PROBE_WORKERS, len(endpoints))) as pool:
        observations = list(pool.map(runner.port, endpoints))
    # Ports as the host has them configured (the probe may connect elsewhere: cwh_port_map).
    by_state: dict[str, list[int]] = {"open": [], "refused": [], "filtered": [], "error": []}
    for endpoint, observation in zip(endpoints, observations, strict=True):
        by_state.setdefault(observation.state, []).append(endpoint.port)
    opened, failed = by_state["open"], by_state["error"]
    mapped = {e.port: e.connect_port for e in endpoints if e.connect_port != e.port}
    where = f"{runner.address}, TCP {_ports(ports)}" + \
        (f" (connected to {', '.join(f'{a}->{b}' for a, b in mapped.items())} per "
         "cwh_port_map)" if mapped else "")
    summary = ", ".join(f"{len(v)} {s}" for s, v in by_state.items() if v)
    raw = compact_json([o.to_evidence() for o in observations
                        if o.state in ("open", "error")] or {"ports": len(observations),
                                                             "states": summary}, limit=900)
    if opened:
        observed = f"accepted on {_ports(opened)} ({summary})"
        passed: bool | None = False
    elif failed:
        detail = next(o.detail for o in observations if o.state == "error")
        observed = f"could not probe {_ports(failed)}: {detail}"
        passed = None
    else:
        passed, observed = True, f"no connection accepted ({summary})"
    evidence = Evidence(RUNNER_TCP, where, observed, expected, raw)
    return Outcome(passed, (evidence,), expected, observed,
                   observed if passed is None else "", label)


def with_evidence(outcome: Outcome, *extra: Evidence) -> Outcome:
    """The outcome with evidence that informs without deciding."""
    return replace(outcome, evidence=(*outcome.evidence, *extra))
