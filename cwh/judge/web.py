"""The web interface: IIS request filtering (host view) and what the endpoint answers (runner)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.exposure import unknown_endpoint
from cwh.judge.iis_effective import PathFiltering, effective_filtering
from cwh.judge.iis_sources import IisConfiguration, iis_configuration
from cwh.judge.outcome import Outcome, combine, to_verdict, unknown
from cwh.judge.sslbinding import binding_part, chosen_binding
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json
from cwh.probes import http
from cwh.probes.runner import Endpoint, RunnerView

APPHOST = ("system.webServer/security/requestFiltering in applicationHost.config and the sites' "
           "web.config files (collector)")
DENIED_STATUSES = (403, 404, 405, 501)


def _raw(config: IisConfiguration, limit: int = 700) -> str:
    return compact_json({"server": config.server.as_evidence(),
                         "levels": [asdict(level) for level in config.levels],
                         "web_configs_read": list(config.web_configs)}, limit=limit)


def _elsewhere(paths: list[PathFiltering]) -> str:
    return ", ".join(f"{p.path} ({'; '.join(p.sources)})" for p in paths)


def judge_iis_remove_server_header(control: Control, facts: HostFacts,
                                   inputs: Mapping[str, Any]) -> Verdict:
    """CWH-WEB-01: removeServerHeader="true" at server level (absent means IIS's false), and
    no site, application or folder turns it off again."""
    config = iis_configuration(facts)
    if isinstance(config, Verdict):
        return config
    filtering = config.server
    value = filtering.remove_server_header
    observed = {True: 'removeServerHeader="true"', False: 'removeServerHeader="false"',
                None: "removeServerHeader not set (IIS default: false)"}[value]
    if not filtering.found:
        observed = "no server-level requestFiltering element (IIS default: header sent)"
    paths = effective_filtering(filtering, config.levels)
    # A lower level can turn it back off for itself; that site then sends the header.
    reverted = [p for p in paths if p.path and not p.remove_server_header]
    if reverted:
        observed += "; turned off again for site " + _elsewhere(reverted)
    evidence = Evidence(APPHOST, "removeServerHeader", observed, 'removeServerHeader="true"',
                        _raw(config))
    passed = value is True and not reverted
    return to_verdict(Outcome(passed, (evidence,), 'removeServerHeader="true"', observed),
                      note=_read_note(config))


def _read_note(config: IisConfiguration) -> str:
    return f"also read: {len(config.web_configs)} web.config file(s)" if config.web_configs \
        else "no site has a web.config"


def judge_iis_options_denied(control: Control, facts: HostFacts,
                             inputs: Mapping[str, Any]) -> Verdict:
    """CWH-WEB-03: OPTIONS is denied by request filtering at server level, and no site,
    application or folder allows it again."""
    config = iis_configuration(facts)
    if isinstance(config, Verdict):
        return config
    filtering = config.server
    expected = 'OPTIONS allowed="false" (or unlisted verbs denied without OPTIONS allowed)'
    paths = effective_filtering(filtering, config.levels)
    denied = paths[0].options_denied
    option = filtering.verb("OPTIONS")
    if option is not None:
        observed = f'OPTIONS allowed="{str(option.allowed).lower()}"'
    elif denied:
        observed = 'OPTIONS unlisted and allowUnlisted="false"'
    else:
        observed = "OPTIONS not denied (no verb rule; unlisted verbs allowed)"
    reopened = [p for p in paths[1:] if not p.options_denied]
    if denied and reopened:
        denied = False
        observed += "; allowed again for site " + _elsewhere(reopened)
    evidence = Evidence(APPHOST, "verbs", observed, expected, _raw(config))
    return to_verdict(Outcome(denied, (evidence,), expected, observed), note=_read_note(config))


def _http_evidence(what: str, observation: http.HttpObservation, observed: str,
                   expected: str) -> Evidence:
    return Evidence(what, f"{observation.request_line} -> {observation.url}", observed, expected,
                    compact_json(observation.to_evidence(), limit=700))


def disclosure_part(label: str, what: str, observation: http.HttpObservation,
                    probed_host: str) -> Outcome:
    expected = "no Server product/version, no internal address in Location"
    if observation.status is None:
        reason = f"{label}: no HTTP answer ({observation.error})"
        return unknown(label, expected, reason,
                       _http_evidence(what, observation, "no answer", expected))
    disclosed = http.server_disclosure(observation.headers)
    leaks = http.leaked_internal_addresses(observation.headers, probed_host)
    problems = []
    if disclosed:
        problems.append(f"Server: {disclosed}")
    if leaks:
        problems.append("internal address in Location/Content-Location: " + ", ".join(leaks))
    observed = "; ".join(problems) or f"HTTP {observation.status}, no Server header disclosure"
    return Outcome(not problems, (_http_evidence(what, observation, observed, expected),),
                   expected, observed, label=label)


def disclosure_outcome(runner: RunnerView, endpoint: Endpoint) -> Outcome:
    """Neither a normal request nor the guide's HTTP/1.0 probe without a Host header gets a
    Server header naming a product, or a redirect to an internal address."""
    return combine("all", [
        disclosure_part("GET /", "HTTP GET from the runner", runner.http(endpoint),
                         endpoint.host),
        disclosure_part("guide probe", "HEAD over HTTP/1.0 without a Host header (the guide's "
                         "curl -H 'Host:' --http1.0 -I)", runner.http(endpoint, guide_probe=True),
                         endpoint.host),
    ])


def judge_no_server_disclosure(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                               runner: RunnerView) -> Verdict:
    """CWH-WEB-02: no Server header naming a product, no redirect to an internal address."""
    endpoint = runner.web()
    if (verdict := unknown_endpoint(endpoint)) is not None:
        return verdict
    return to_verdict(disclosure_outcome(runner, endpoint),
                      note=f"endpoint from {endpoint.origin}")


def options_outcome(runner: RunnerView, endpoint: Endpoint) -> Outcome:
    """OPTIONS gets 403/404/405/501 and no Allow/Public list of verbs."""
    observation = runner.http(endpoint, "OPTIONS")
    expected = "403, 404, 405 or 501 without Allow/Public headers"
    if observation.status is None:
        return unknown("OPTIONS", expected, f"no HTTP answer ({observation.error})",
                       _http_evidence("HTTP OPTIONS from the runner", observation, "no answer",
                                      expected))
    methods = http.advertised_methods(observation.headers)
    refused = observation.status in DENIED_STATUSES and not methods
    observed = f"HTTP {observation.status}" + (f", advertises {', '.join(methods)}"
                                               if methods else "")
    evidence = _http_evidence("HTTP OPTIONS from the runner", observation, observed, expected)
    return Outcome(refused, (evidence,), expected, observed)


def judge_options_refused(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                          runner: RunnerView) -> Verdict:
    """CWH-WEB-04: OPTIONS gets 403/404/405/501 and no Allow/Public list of verbs."""
    endpoint = runner.web()
    if (verdict := unknown_endpoint(endpoint)) is not None:
        return verdict
    return to_verdict(options_outcome(runner, endpoint),
                      note=f"endpoint from {endpoint.origin}")


def certificate_part(runner: RunnerView, endpoint: Endpoint, *,
                     expiring_is_finding: bool = False) -> tuple[Outcome, str]:
    """The certificate the runner is served, judged as a browser would (and, with
    expiring_is_finding, less than cwh_cert_warn_days left counts too); with a warning to note
    when it expires soon but that is no finding."""
    cert = runner.certificate(endpoint)
    expected = "chain trusted, name matches, not expired, RSA >= 2048 or EC >= 256"
    if expiring_is_finding:
        expected += f", more than {cert.warn_days} days left"
    raw = compact_json(cert.to_evidence(), limit=900)
    if cert.error:
        return unknown("certificate", expected, f"no certificate fetched: {cert.error}",
                       Evidence("TLS handshake from the runner", endpoint.describe(),
                                "not available", expected, raw)), ""
    problems = []
    if cert.chain_valid is False:
        problems.append(f"chain not trusted ({cert.chain_error})")
    if not cert.hostname_matches:
        problems.append(f"name {endpoint.host} not in {', '.join(cert.sans) or 'no SAN'}")
    if cert.expired:
        problems.append(f"expired on {cert.not_after}")
    if cert.not_yet_valid:
        problems.append(f"not valid before {cert.not_before}")
    if not cert.key_strong_enough:
        problems.append(f"weak key {cert.key_type} {cert.key_bits}")
    warning = ""
    if not problems and cert.expiring_soon:
        if expiring_is_finding:
            problems.append(f"expires in {cert.days_left} days ({cert.not_after})")
        else:
            warning = f"warning: expires in {cert.days_left} days ({cert.not_after})"
    observed = "; ".join(problems) or (f"valid: {cert.subject}, issued by {cert.issuer}, "
                                       f"expires {cert.not_after}, {cert.key_type} {cert.key_bits}"
                                       f", sha1 {cert.sha1}")
    evidence = Evidence("TLS handshake from the runner, chain checked against " + cert.trust_store,
                        endpoint.describe(), observed, expected, raw)
    if not problems and cert.chain_valid is None:
        # The leaf looks fine but its chain was never verified (e.g. the second handshake
        # timed out): that is no pass, and no finding either.
        return unknown("certificate", expected, f"chain not verified: {cert.chain_error}",
                       evidence), warning
    return Outcome(not problems, (evidence,), expected, observed, label="certificate"), warning


def bound_certificate(facts: HostFacts, port: int) -> str | None:
    """The SHA-1 thumbprint http.sys binds to `port`, when the host's bindings say so
    unambiguously (binding_part judges and explains every other case)."""
    try:
        registry, netsh = facts.ssl_binding_sources()
    except FactUnavailable:
        return None
    chosen = chosen_binding(registry, netsh, port)
    if isinstance(chosen, str) or chosen[0] is None:
        return None
    return chosen[0].cert_hash.lower() or None


def same_certificate_part(runner: RunnerView, endpoint: Endpoint, bound: str,
                          port: int) -> Outcome:
    """The runner is served the certificate http.sys binds to the listener's port. Another
    certificate means another TLS endpoint answers the URL (a proxy nobody declared, a NAT rule
    pointing elsewhere, another server): the host's binding is then not what users get, so
    this is a finding (Open), with both fingerprints, never a note."""
    cert = runner.certificate(endpoint)
    label = "same certificate"
    expected = f"the certificate http.sys binds to port {port} (sha1 {bound})"
    served = (cert.sha1 or "").lower()
    source = "http.sys binding (collector) and the TLS handshake from the runner"
    if served == bound:
        observed = f"the runner was served the bound certificate (sha1 {served})"
        return Outcome(True, (Evidence(source, endpoint.describe(), observed, expected),),
                       expected, observed, label=label)
    observed = (f"the runner was served another certificate: sha1 {served} (sha256 "
                f"{cert.sha256}, {cert.subject}) where http.sys binds sha1 {bound} to port "
                f"{port}: a proxy or another server answers {endpoint.url}; declare "
                "cwh_tls_front_end: true if a front end terminates TLS, else check "
                "cwh_probe_address / cwh_port_map")
    return Outcome(False, (Evidence(source, endpoint.describe(), observed, expected),),
                   expected, observed, label=label)


def judge_valid_certificate(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                            runner: RunnerView) -> Verdict:
    """CWH-WEB-05: the web interface is HTTPS with a certificate a browser would accept; when
    ScreenConnect itself serves TLS (https listener), http.sys holds the binding for the port
    it is configured with, and (no front end declared) that is the certificate users get."""
    endpoint = runner.web()
    if (verdict := unknown_endpoint(endpoint)) is not None:
        return verdict
    if endpoint.scheme != "https":
        evidence = Evidence("web endpoint", endpoint.describe(), "plain HTTP", "HTTPS")
        return Verdict(Status.OPEN, f"the web interface is served over plain HTTP "
                       f"({endpoint.url})", "HTTPS with a valid certificate", endpoint.url,
                       (evidence,))
    certificate, warning = certificate_part(runner, endpoint)
    parts = [certificate]
    config = runner.web_config()
    notes = [warning] if warning else []
    if config.unknown:
        # Unknown whether ScreenConnect itself holds the binding: the host view can't be skipped.
        expected = "the http.sys binding, when ScreenConnect serves TLS itself"
        parts.append(unknown("binding", expected, f"web.config not read ({config.unknown})",
                             Evidence("web.config (collector)", "WebServerListenUri",
                                      "not available", expected, config.unknown)))
    elif config.scheme == "https":
        parts.append(binding_part(facts, config.port, None))
        bound = bound_certificate(facts, config.port)
        served = runner.certificate(endpoint).sha1
        if bound and served and not runner.front_end:
            parts.append(same_certificate_part(runner, endpoint, bound, config.port))
        elif bound and served and served.lower() != bound:
            notes.append(f"the declared front end (cwh_tls_front_end) serves its own certificate "
                         f"(sha1 {served.lower()}; http.sys binds {bound} to port {config.port}),"
                         " judged on its own")
        notes.append(f"binding port {config.port} from {config.origin}")
    else:
        notes.append("TLS is terminated in front of ScreenConnect (WebServerListenUri is not "
                     "https); only the runner view applies")
    notes.append(f"runner connected to {endpoint.describe()}")
    return to_verdict(combine("all", parts), note="; ".join(notes))
