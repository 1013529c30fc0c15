"""What the server exposes: inbound ports and legacy TLS, judged from both views.

The host view (firewall rules and listeners, read over WinRM) says what should happen; the runner
view (real connections) shows what does. Both go into one verdict and its evidence, and when
they disagree the evidence says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.firewall import (
    PROFILES,
    FirewallProfiles,
    firewall_profiles,
    local_ports_include,
    profile_exposure,
    rule_applies,
)
from cwh.judge.outcome import Outcome, combine, to_verdict, unknown
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed
from cwh.probes.runner import LEGACY_VERSIONS, Configured, Endpoint, RunnerView

FIREWALL = "Get-NetFirewallRule/-PortFilter -PolicyStore ActiveStore, inbound (collector)"
PROFILE_SOURCE = ("Get-NetFirewallProfile and Get-NetFirewallSetting -PolicyStore ActiveStore "
                  "(collector)")
LISTENERS = "Get-NetTCPConnection -State Listen (collector)"
RUNNER_TCP = "TCP connect from the runner"
RUNNER_TLS = "TLS handshake from the runner at exactly this version"


def unknown_endpoint(endpoint: Endpoint) -> Verdict | None:
    """Not_Reviewed when the endpoint is only a guess (the host's web.config was not read):
    judging a guessed port or URL could pass the wrong thing."""
    if not endpoint.unknown:
        return None
    return not_reviewed(f"the endpoint to probe is unknown: {endpoint.unknown}",
                        evidence=(Evidence("web.config (collector)", endpoint.describe(),
                                           "not available", raw=endpoint.unknown),))


def unknown_configuration(config: Configured) -> Verdict | None:
    """Not_Reviewed when the port the host is configured with is unknown: the host view would
    judge a guessed port (the runner may still know where to connect)."""
    if not config.unknown:
        return None
    return not_reviewed(f"the {config.key} port the host is configured with is unknown: "
                        f"{config.unknown}",
                        evidence=(Evidence("web.config (collector)", config.key,
                                           "not available", raw=config.unknown),))


def rule_covers_port(rule: Mapping[str, Any], port: int,
                     profiles: tuple[str, ...] = PROFILES) -> bool | None:
    """True for an enabled inbound allow rule whose TCP port filter includes `port` (Any
    counts) and which is in force for one of `profiles`; None when the rule covers the port
    but its state, action or profiles are unreadable.

    Program-scoped rules are counted too: conservative, since a rule the judge ignores could
    be the one that exposes the port. A port entry that cannot be read makes an allow rule in
    force unreadable too (None), never "does not cover".
    """
    if str(rule.get("protocol") or "Any").upper() not in ("TCP", "ANY", "6"):
        return False
    covered = local_ports_include(rule.get("local_ports"), port)
    if covered is False:
        return False
    applies = rule_applies(rule, profiles)
    enabled, action = str(rule.get("enabled")), str(rule.get("action"))
    if enabled not in ("True", "False") or action not in ("Allow", "Block") or applies is None:
        return None
    allows = enabled == "True" and action == "Allow" and applies
    return allows if covered else (None if allows else False)


def _rule_label(rule: Mapping[str, Any]) -> str:
    return f"{rule.get('display_name')} (profiles {rule.get('profiles')}, ports " \
           f"{','.join(map(str, rule.get('local_ports') or ['Any']))})"


def firewall_part(facts: HostFacts, port: int, *, want_open: bool,
                  profiles: FirewallProfiles | None = None) -> Outcome:
    """The allow rules for `port` that are in force for the profiles considered."""
    label = "firewall"
    profiles = profiles or firewall_profiles(facts)
    scope = ", ".join(profiles.considered)
    expected = f"an enabled inbound allow rule for TCP {port}" if want_open else \
        f"no enabled inbound allow rule for TCP {port}"
    try:
        rules = facts.firewall_rules()
    except FactUnavailable as exc:
        return unknown(label, expected, str(exc), Evidence(FIREWALL, f"TCP {port}",
                                                           "not available", expected, str(exc)))
    covers = [(r, rule_covers_port(r, port, profiles.considered)) for r in rules]
    matching = [r for r, c in covers if c is True]
    unreadable = [r for r, c in covers if c is None]
    observed = ("allowed by " + "; ".join(_rule_label(r) for r in matching)) if matching else \
        f"no enabled allow rule among {len(rules)} inbound rules in force for {scope}"
    if unreadable:
        observed += "; unreadable state, action or profiles, or ports: " + \
            "; ".join(map(_rule_label, unreadable))
    evidence = Evidence(FIREWALL, f"TCP {port}, profiles considered: {profiles.why_considered}",
                        observed, expected, compact_json(matching + unreadable, limit=800))
    if matching:
        passed: bool | None = want_open
    else:
        passed = None if unreadable else not want_open
    reason = f"firewall rules covering TCP {port} with an unreadable state, action or " \
        "profiles, or ports that cannot be read" if passed is None else ""
    return Outcome(passed, (evidence,), expected, observed, reason, label=label)


def profiles_closed_part(profiles: FirewallProfiles, shown: str) -> Outcome:
    """The profiles in force are on and block unsolicited inbound traffic by default: else
    every port is open whatever the rules say. `shown` names the ports judged (TCP 8040)."""
    expected = "every profile in force on, DefaultInboundAction Block"
    passed, observed = profile_exposure(profiles)
    evidence = Evidence(PROFILE_SOURCE, f"{shown}, profiles considered: "
                        f"{profiles.why_considered}", observed, expected,
                        profiles.problem or compact_json(list(profiles.raw), limit=600))
    reason = f"the firewall profile state is unknown: {observed}" if passed is None else ""
    return Outcome(passed, (evidence,), expected, observed, reason, label="profiles")


def listener_part(facts: HostFacts, port: int) -> Outcome:
    label, expected = "listener", f"a process listening on TCP {port}"
    try:
        listeners = facts.tcp_listeners()
    except FactUnavailable as exc:
        return unknown(label, expected, str(exc),
                       Evidence(LISTENERS, f"TCP {port}", "not available", expected, str(exc)))
    mine = [x for x in listeners if x.get("port") == port]
    observed = ", ".join(f"{x.get('address')}:{port} by {x.get('process')} (pid {x.get('pid')})"
                         for x in mine) or f"nothing listens on {port}"
    evidence = Evidence(LISTENERS, f"TCP {port}", observed, expected, compact_json(mine))
    return Outcome(bool(mine), (evidence,), expected, observed, label=label)


def reachability_part(runner: RunnerView, endpoint: Endpoint, *, want_open: bool) -> Outcome:
    observation = runner.port(endpoint)
    label = "runner"
    expected = "connection accepted" if want_open else "connection refused or filtered"
    evidence = Evidence(RUNNER_TCP, endpoint.describe(), observation.state, expected,
                        compact_json(observation.to_evidence(), limit=600))
    if observation.state == "error":
        return Outcome(None, (evidence,), expected, observation.state,
                       f"the runner could not probe {endpoint.address}: {observation.detail}",
                       label)
    is_open = observation.state == "open"
    return Outcome(is_open == want_open, (evidence,), expected,
                   f"{observation.state} ({observation.detail})", label=label)


def http_answer_part(runner: RunnerView, endpoint: Endpoint) -> Outcome:
    observation = runner.http(endpoint)
    label, expected = "http", "an HTTP answer"
    evidence = Evidence("HTTP GET from the runner", endpoint.describe(),
                        f"HTTP {observation.status}" if observation.status else
                        f"no answer: {observation.error}", expected,
                        compact_json(observation.to_evidence(), limit=600))
    if observation.inconclusive:
        return unknown(label, expected, f"no HTTP answer ({observation.error})", evidence)
    if observation.status is None:
        return Outcome(False, (evidence,), expected, f"no HTTP answer ({observation.error})",
                       label=label)
    return Outcome(True, (evidence,), expected, f"HTTP {observation.status}", label=label)


def loopback_part(config: Configured) -> Outcome:
    """A listener bound to loopback behind a declared front end needs no inbound rule: only
    the front end on the same machine connects to it."""
    expected = "an enabled inbound allow rule, unless the listener is loopback-only"
    observed = f"loopback-only listener ({config.origin}): no inbound rule needed"
    return Outcome(True, (Evidence("web.config appSettings (collector)", config.key, observed,
                                   expected),), expected, observed, label="firewall")


def judge_inbound_required(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                           runner: RunnerView) -> Verdict:
    """CWH-NET-01/02: the host allows and listens on the port it is configured with, and the
    runner gets through where the inventory says the server is reached (NAT, port forward or
    a declared front end may put that elsewhere)."""
    listener = control.check["listener"]
    if listener == "web":
        config, endpoint = runner.web_config(), runner.web_listener()
    else:
        config, endpoint = runner.relay_config(), runner.relay()
    if (verdict := unknown_endpoint(endpoint) or unknown_configuration(config)) is not None:
        return verdict
    port = config.port
    behind_front_end = listener == "web" and config.loopback and runner.front_end
    parts = [loopback_part(config) if behind_front_end else
             firewall_part(facts, port, want_open=True),
             listener_part(facts, port),
             reachability_part(runner, endpoint, want_open=True)]
    if listener == "web" and parts[-1].passed:
        parts.append(http_answer_part(runner, endpoint))
    outcome = combine("all", parts)
    return to_verdict(outcome, note=_disagreement(parts, config, endpoint))


def _disagreement(parts: list[Outcome], config: Configured, endpoint: Endpoint) -> str:
    host_ok = [p.passed for p in parts if p.label in ("firewall", "listener")]
    runner_ok = [p.passed for p in parts if p.label in ("runner", "http")]
    where = f"port {config.port} from {config.origin}; runner connected to " \
            f"{endpoint.describe()}"
    if all(x is True for x in host_ok) and False in runner_ok:
        return ("views disagree: the host allows and listens, yet the runner did not get "
                "through (network firewall, NAT, or the wrong cwh_probe_address / "
                f"cwh_port_map / cwh_relay_port?); {where}")
    if False in host_ok and all(x is True for x in runner_ok):
        return f"views disagree: reachable from the runner although the host view says not; " \
               f"{where}"
    return where


def judge_port_closed_unless_domain(control: Control, facts: HostFacts,
                                    inputs: Mapping[str, Any], runner: RunnerView) -> Verdict:
    """CWH-NET-03/04/05: on a server outside Active Directory, 135/139/445 are closed."""
    port = int(control.check["port"])
    domain_note = ""
    try:
        identity = facts.identity()
        joined = identity.get("part_of_domain")
        if joined is True:
            return Verdict(Status.NOT_APPLICABLE,
                           f"the server is joined to the domain {identity.get('domain')}; the "
                           "guide closes these ports only on servers outside Active Directory",
                           observed=f"PartOfDomain = True ({identity.get('domain')})",
                           evidence=(Evidence("Win32_ComputerSystem (collector)",
                                              "PartOfDomain", "True"),))
        if joined is not True and joined is not False:
            domain_note = "domain membership unknown"
    except FactUnavailable as exc:
        domain_note = f"domain membership unknown ({exc})"
    profiles = firewall_profiles(facts)
    parts = [firewall_part(facts, port, want_open=False, profiles=profiles),
             profiles_closed_part(profiles, f"TCP {port}"),
             reachability_part(runner, runner.port_endpoint(port), want_open=False)]
    outcome = combine("all", parts)
    if domain_note and outcome.passed is False:
        # A finding only applies outside a domain; without knowing, we cannot say Open.
        return not_reviewed(f"port {port} is exposed but {domain_note}", evidence=outcome.evidence,
                            expected=outcome.expected, observed=outcome.observed)
    return to_verdict(outcome, note=domain_note)


def _registry_view(facts: HostFacts, version: str) -> str:
    """What SCHANNEL's server keys say about a protocol version, for the evidence."""
    protocol = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1"}[version]
    path = ("HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\"
            f"{protocol}\\Server")
    try:
        disabled = facts.registry(path, "DisabledByDefault")
        enabled = facts.registry(path, "Enabled")
    except FactUnavailable as exc:
        return f"registry not available ({exc})"
    if disabled.value == 1 and enabled.value == 0 and enabled.kind == "DWord":
        return "registry says disabled"
    return (f"registry: DisabledByDefault {disabled.describe()}, Enabled {enabled.describe()}")


def legacy_tls_outcome(runner: RunnerView, endpoint: Endpoint,
                       facts: HostFacts | None = None) -> tuple[Outcome, str]:
    """Handshakes at exactly TLS 1.0 and 1.1 fail, and this client proved it can speak them
    (else a failure proves nothing: unknown). With `facts`, the SCHANNEL keys go into the
    evidence and a disagreement into the note."""
    parts = []
    notes = []
    for version in LEGACY_VERSIONS:
        probe = runner.tls_version(endpoint, version)
        capability = runner.capability(version)
        expected = "refused"
        evidence = [
            Evidence(RUNNER_TLS, f"{endpoint.describe()} {version}", probe.outcome, expected,
                     compact_json(probe.to_evidence(), limit=700)),
            Evidence("client self-test against a local legacy-only server", version,
                     "capable" if capability.capable else "NOT capable", "capable",
                     capability.detail),
        ]
        registry = _registry_view(facts, version) if facts is not None else None
        if registry is not None:
            evidence.append(Evidence("SCHANNEL registry (collector)", f"{version} Server",
                                     registry))
        if probe.outcome == "accepted":
            passed: bool | None = False
            observed = f"accepted ({probe.negotiated_version}, {probe.cipher})"
            if registry == "registry says disabled":
                notes.append(f"views disagree: the registry disables {version} but the endpoint "
                             "accepted it (reboot pending, or another TLS stack in front)")
        elif probe.outcome == "refused" and capability.capable:
            passed, observed = True, f"refused ({probe.detail})"
        elif probe.outcome == "refused":
            passed, observed = None, f"refused, but this client cannot speak {version}"
        else:
            passed, observed = None, f"inconclusive ({probe.detail})"
        reason = "" if passed is not None else \
            f"{version}: {observed}; a failed handshake proves nothing unless the client can " \
            f"speak {version} ({capability.detail})"
        parts.append(Outcome(passed, tuple(evidence), expected, observed, reason, version))
    if all(p.passed is not False for p in parts):
        parts.append(_speaks_tls_part(runner, endpoint))
    return combine("all", parts), "; ".join(notes)


def _speaks_tls_part(runner: RunnerView, endpoint: Endpoint) -> Outcome:
    """The endpoint completes a handshake at a version it allows: else a refused legacy
    handshake proves nothing (a port that closes every connection refuses TLS 1.0 too)."""
    cert = runner.certificate(endpoint)
    label, expected = "modern TLS", "a handshake completes at the version the server picks"
    if cert.error:
        return unknown(label, expected, f"no TLS handshake completed at all ({cert.error}): a "
                       "refused legacy handshake proves nothing then",
                       Evidence("TLS handshake from the runner", endpoint.describe(),
                                "not available", expected))
    observed = f"handshake completed at {cert.tls_version}"
    return Outcome(True, (Evidence("TLS handshake from the runner", endpoint.describe(),
                                   observed, expected),), expected, observed, label=label)


def plain_http(endpoint: Endpoint, other: str) -> Verdict:
    return Verdict(Status.NOT_APPLICABLE, f"the web endpoint {endpoint.url} is plain HTTP "
                   f"(no TLS to probe); {other} judge that", observed=endpoint.url,
                   evidence=(Evidence("web endpoint", endpoint.describe(), "http"),))


def judge_legacy_tls_refused(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                             runner: RunnerView) -> Verdict:
    """CWH-TLS-03: handshakes at exactly TLS 1.0 and 1.1 fail, and this client proved it can
    speak them (else a failure proves nothing and the verdict is Not_Reviewed)."""
    endpoint = runner.web()
    if (verdict := unknown_endpoint(endpoint)) is not None:
        return verdict
    if endpoint.scheme != "https":
        return plain_http(endpoint, "CWH-WEB-05 and CWH-SC-03")
    outcome, note = legacy_tls_outcome(runner, endpoint, facts)
    return to_verdict(outcome, note=note)
