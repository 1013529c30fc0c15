"""The web interface: IIS request filtering (host view) and what the endpoint answers (runner)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.exposure import unknown_endpoint
from cwh.judge.outcome import Outcome, combine, to_verdict, unknown
from cwh.judge.sslbinding import binding_part
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed
from cwh.parse.iis import (
    IisConfigError,
    RequestFiltering,
    SiteRequestFiltering,
    parse_request_filtering,
)
from cwh.parse.webconfig import ListenUriError, app_setting, parse_listen_uri
from cwh.probes import http
from cwh.probes.runner import RunnerView

APPHOST = "applicationHost.config system.webServer/security/requestFiltering (collector)"
DENIED_STATUSES = (403, 404, 405, 501)


def _request_filtering(facts: HostFacts) -> RequestFiltering | Verdict:
    """The parsed global request filtering, or the verdict when IIS is absent or unreadable."""
    try:
        iis = facts.iis()
    except FactUnavailable as exc:
        return not_reviewed(f"could not tell whether IIS is installed: {exc}")
    if not iis["installed"]:
        return Verdict(Status.NOT_APPLICABLE, "IIS is not installed on this server (the live "
                       "web checks CWH-WEB-02/04 still run)", observed="IIS absent",
                       evidence=(Evidence("W3SVC service and applicationHost.config (collector)",
                                          str(iis.get("config_path")), "absent"),))
    text = iis.get("config_text")
    if not isinstance(text, str):
        return not_reviewed("IIS is installed but applicationHost.config was not read")
    try:
        return parse_request_filtering(text)
    except IisConfigError as exc:
        return not_reviewed(f"applicationHost.config could not be read: {exc}")


def judge_iis_remove_server_header(control: Control, facts: HostFacts,
                                   inputs: Mapping[str, Any]) -> Verdict:
    """CWH-WEB-01: removeServerHeader="true" at server level (absent means IIS's false)."""
    filtering = _request_filtering(facts)
    if isinstance(filtering, Verdict):
        return filtering
    value = filtering.remove_server_header
    observed = {True: 'removeServerHeader="true"', False: 'removeServerHeader="false"',
                None: "removeServerHeader not set (IIS default: false)"}[value]
    if not filtering.found:
        observed = "no server-level requestFiltering element (IIS default: header sent)"
    # A site can turn it back off for itself; that site then sends the header.
    reverted = [s.path for s in filtering.site_overrides if s.remove_server_header is False]
    if reverted:
        observed += "; turned off again for site " + ", ".join(reverted)
    evidence = Evidence(APPHOST, "removeServerHeader", observed, 'removeServerHeader="true"',
                        compact_json(asdict(filtering), limit=600))
    passed = value is True and not reverted
    return to_verdict(Outcome(passed, (evidence,), 'removeServerHeader="true"', observed))


def options_denied(verbs: dict[str, bool], allow_unlisted: bool | None) -> bool:
    """Request filtering's answer for OPTIONS: an explicit entry, else the unlisted default."""
    if "OPTIONS" in verbs:
        return verbs["OPTIONS"] is False
    return allow_unlisted is False


def _site_verbs(server: dict[str, bool], site: SiteRequestFiltering) -> dict[str, bool]:
    """The verb rules in force for a site: inherited ones (unless cleared or removed) + its own."""
    verbs = {} if site.verbs_cleared else dict(server)
    for removed in site.verbs_removed:
        verbs.pop(removed.upper(), None)
    verbs.update({v.name.upper(): v.allowed for v in site.verbs})
    return verbs


def judge_iis_options_denied(control: Control, facts: HostFacts,
                             inputs: Mapping[str, Any]) -> Verdict:
    """CWH-WEB-03: OPTIONS is denied by request filtering at server level."""
    filtering = _request_filtering(facts)
    if isinstance(filtering, Verdict):
        return filtering
    verbs = {v.name.upper(): v.allowed for v in filtering.verbs}
    expected = 'OPTIONS allowed="false" (or unlisted verbs denied without OPTIONS allowed)'
    denied = options_denied(verbs, filtering.allow_unlisted_verbs)
    if "OPTIONS" in verbs:
        observed = f'OPTIONS allowed="{str(verbs["OPTIONS"]).lower()}"'
    elif denied:
        observed = 'OPTIONS unlisted and allowUnlisted="false"'
    else:
        observed = "OPTIONS not denied (no verb rule; unlisted verbs allowed)"
    reopened = [site.path for site in filtering.site_overrides if not options_denied(
        _site_verbs(verbs, site), site.allow_unlisted_verbs if site.allow_unlisted_verbs
        is not None else filtering.allow_unlisted_verbs)]
    if denied and reopened:
        denied = False
        observed += "; allowed again for site " + ", ".join(reopened)
    evidence = Evidence(APPHOST, "verbs", observed, expected,
                        compact_json(asdict(filtering), limit=600))
    return to_verdict(Outcome(denied, (evidence,), expected, observed))


def _http_evidence(what: str, observation: http.HttpObservation, observed: str,
                   expected: str) -> Evidence:
    return Evidence(what, f"{observation.request_line} -> {observation.url}", observed, expected,
                    compact_json(observation.to_evidence(), limit=700))


def _disclosure_part(label: str, what: str, observation: http.HttpObservation,
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


def judge_no_server_disclosure(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                               runner: RunnerView) -> Verdict:
    """CWH-WEB-02: neither a normal request nor the guide's HTTP/1.0 probe without a Host
    header gets a Server header naming a product, or a redirect to an internal address."""
    endpoint = runner.web()
    if (verdict := unknown_endpoint(endpoint)) is not None:
        return verdict
    parts = [
        _disclosure_part("GET /", "HTTP GET from the runner", runner.http(endpoint),
                         endpoint.host),
        _disclosure_part("guide probe", "HEAD over HTTP/1.0 without a Host header (the guide's "
                         "curl -H 'Host:' --http1.0 -I)", runner.http(endpoint, guide_probe=True),
                         endpoint.host),
    ]
    return to_verdict(combine("all", parts), note=f"endpoint from {endpoint.origin}")


def judge_options_refused(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                          runner: RunnerView) -> Verdict:
    """CWH-WEB-04: OPTIONS gets 403/404/405/501 and no Allow/Public list of verbs."""
    endpoint = runner.web()
    if (verdict := unknown_endpoint(endpoint)) is not None:
        return verdict
    observation = runner.http(endpoint, "OPTIONS")
    expected = "403, 404, 405 or 501 without Allow/Public headers"
    if observation.status is None:
        return to_verdict(unknown("OPTIONS", expected, f"no HTTP answer ({observation.error})",
                                  _http_evidence("HTTP OPTIONS from the runner", observation,
                                                 "no answer", expected)))
    methods = http.advertised_methods(observation.headers)
    refused = observation.status in DENIED_STATUSES and not methods
    observed = f"HTTP {observation.status}" + (f", advertises {', '.join(methods)}"
                                               if methods else "")
    evidence = _http_evidence("HTTP OPTIONS from the runner", observation, observed, expected)
    return to_verdict(Outcome(refused, (evidence,), expected, observed),
                      note=f"endpoint from {endpoint.origin}")


def _certificate_part(runner: RunnerView, endpoint: Any) -> tuple[Outcome, str]:
    cert = runner.certificate(endpoint)
    expected = ("chain trusted, name matches, not expired, RSA >= 2048 or EC >= 256")
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
        warning = f"warning: expires in {cert.days_left} days ({cert.not_after})"
    observed = "; ".join(problems) or (f"valid: {cert.subject}, issued by {cert.issuer}, "
                                       f"expires {cert.not_after}, {cert.key_type} {cert.key_bits}")
    evidence = Evidence("TLS handshake from the runner, chain checked against " + cert.trust_store,
                        endpoint.describe(), observed, expected, raw)
    if not problems and cert.chain_valid is None:
        # The leaf looks fine but its chain was never verified (e.g. the second handshake
        # timed out): that is no pass, and no finding either.
        return unknown("certificate", expected, f"chain not verified: {cert.chain_error}",
                       evidence), warning
    return Outcome(not problems, (evidence,), expected, observed, label="certificate"), warning


def judge_valid_certificate(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                            runner: RunnerView) -> Verdict:
    """CWH-WEB-05: the web interface is HTTPS with a certificate a browser would accept; when
    ScreenConnect itself serves TLS (https listener), http.sys must hold the binding."""
    endpoint = runner.web()
    if (verdict := unknown_endpoint(endpoint)) is not None:
        return verdict
    if endpoint.scheme != "https":
        evidence = Evidence("web endpoint", endpoint.describe(), "plain HTTP", "HTTPS")
        return Verdict(Status.OPEN, f"the web interface is served over plain HTTP "
                       f"({endpoint.url})", "HTTPS with a valid certificate", endpoint.url,
                       (evidence,))
    certificate, warning = _certificate_part(runner, endpoint)
    parts = [certificate]
    served_here: bool | None
    try:
        listen = app_setting(facts.screenconnect_settings(), "WebServerListenUri")
        served_here = bool(listen) and parse_listen_uri(listen).scheme == "https"
    except (FactUnavailable, ListenUriError) as exc:
        served_here, why = None, str(exc)
    if served_here:
        thumbprint = runner.certificate(endpoint).sha1
        parts.append(binding_part(facts, endpoint.port, thumbprint))
    elif served_here is None:
        # Unknown whether ScreenConnect itself holds the binding: the host view can't be skipped.
        expected = "the http.sys binding, when ScreenConnect serves TLS itself"
        parts.append(unknown("binding", expected, f"web.config not read ({why})", Evidence(
            "web.config (collector)", "WebServerListenUri", "not available", expected, why)))
    note = warning or ("TLS is terminated in front of ScreenConnect (WebServerListenUri is "
                       "not https); only the runner view applies" if served_here is False
                       else "")
    return to_verdict(combine("all", parts), note=note)
