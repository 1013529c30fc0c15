"""The exposure audit (CWH-EXT-*): what the runner reaches of a server, judged from its own
connections alone.

No host access is needed, so these are the whole audit of a `cwh_access: network` host (every
other control is Not_Applicable there: it reads the host's configuration, which is never
collected). A WinRM host runs them beside its host controls when they are selected. Each
verdict says, in its evidence and its reason, that it speaks for the runner's vantage point
only: a runner on the Internet sees what the Internet sees, one inside the network sees more.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import HostFacts
from cwh.judge.exposure import (
    http_answer_part,
    legacy_tls_outcome,
    plain_http,
    reachability_part,
    unknown_endpoint,
)
from cwh.judge.outcome import Outcome, combine, to_verdict, unknown
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed
from cwh.judge.web import certificate_part, disclosure_part, options_outcome
from cwh.parse.primitives import dotted_version
from cwh.probes import http
from cwh.probes.runner import Endpoint, RunnerView

HANDLER = "external"
VANTAGE_NOTE = ("judged from this runner's own connections: it speaks for this vantage point "
                "only (another network, the Internet or the LAN, may reach more or less)")


def markers_for(control: Control, network_only: bool) -> tuple[str, ...]:
    """The pytest markers of one host x control. The exposure controls are `external`; on a
    network-only host they are its hardening controls, so `-m stig` selects them there too."""
    if control.handler != HANDLER or network_only:
        return control.markers
    return tuple(m for m in control.markers if m != "stig")


def offered(control: Control, network_only: bool, markexpr: str) -> bool:
    """Whether the run keeps this host x control. A WinRM host's exposure audit is opt-in:
    only a -m expression naming `external` keeps it (and -m then filters as usual), so a run
    without -m audits what it always did, and a verdict that depends on where the runner
    stands is never there unasked."""
    return control.handler != HANDLER or network_only or MARKER in markexpr


MARKER = "external"


def without_host_access(control: Control) -> Verdict:
    """A host-side control on a `cwh_access: network` host: it cannot apply, and it never
    passes."""
    return Verdict(Status.NOT_APPLICABLE,
                   f"no host access (cwh_access: network): {control.id} judges the host's own "
                   "configuration, which is never collected for this host; the CWH-EXT-* "
                   "controls judge what the runner reaches",
                   observed="cwh_access: network",
                   evidence=(Evidence("inventory", "cwh_access", "network",
                                      raw="no WinRM connection is made to this host"),))


def vantage_evidence(runner: RunnerView) -> Evidence:
    return Evidence("vantage point", f"runner {socket.gethostname()} -> {runner.address}",
                    "this runner only", raw=VANTAGE_NOTE)


def _seen_from_runner(runner: RunnerView, verdict: Verdict) -> Verdict:
    return dataclasses.replace(
        verdict, evidence=(vantage_evidence(runner), *verdict.evidence),
        reason=f"{verdict.reason}; seen from runner {socket.gethostname()} only")


def _endpoint_or_verdict(runner: RunnerView) -> Endpoint | Verdict:
    endpoint = runner.web()
    return unknown_endpoint(endpoint) or endpoint


def judge_external_legacy_tls(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                              runner: RunnerView) -> Verdict:
    """CWH-EXT-01: the URL users open refuses TLS 1.0 and 1.1 (and this client could speak
    them, else a refusal proves nothing)."""
    endpoint = _endpoint_or_verdict(runner)
    if isinstance(endpoint, Verdict):
        return _seen_from_runner(runner, endpoint)
    if endpoint.scheme != "https":
        return _seen_from_runner(runner, plain_http(endpoint, "CWH-EXT-05"))
    outcome, _ = legacy_tls_outcome(runner, endpoint)
    return _seen_from_runner(runner, to_verdict(outcome, note=endpoint.describe()))


def _stack_headers_part(observation: http.HttpObservation) -> Outcome:
    expected = "no X-Powered-By, X-AspNet-Version or X-AspNetMvc-Version"
    if observation.status is None:
        return unknown("stack headers", expected, f"no HTTP answer ({observation.error})",
                       Evidence("HTTP GET from the runner", observation.url, "no answer",
                                expected))
    found = [(n, v) for n, v in http.disclosure_headers(observation.headers)
             if n.lower() != "server"]
    observed = "; ".join(f"{n}: {v}" for n, v in found) or "none"
    evidence = Evidence("HTTP GET from the runner", f"{observation.request_line} -> "
                        f"{observation.url}", observed, expected)
    return Outcome(not found, (evidence,), expected, observed, label="stack headers")


def _script_note(observation: http.HttpObservation) -> str:
    disclosed = http.script_product_version(observation.body) if observation.status == 200 \
        else None
    if not disclosed:
        return ""
    return (f"the login page's {http.SCRIPT_PATH} names productVersion {disclosed[0]!r}, as "
            "ScreenConnect serves it to every visitor (no header setting removes it; "
            "CWH-EXT-03 judges the version)")


def judge_external_disclosure(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                              runner: RunnerView) -> Verdict:
    """CWH-EXT-02: no Server header naming a product (a normal request and the guide's HTTP/1.0
    probe), no stack headers, no redirect to an internal address."""
    endpoint = _endpoint_or_verdict(runner)
    if isinstance(endpoint, Verdict):
        return _seen_from_runner(runner, endpoint)
    page = runner.http(endpoint)
    parts = [
        disclosure_part("GET /", "HTTP GET from the runner", page, endpoint.host),
        disclosure_part("guide probe", "HEAD over HTTP/1.0 without a Host header (the guide's "
                        "curl -H 'Host:' --http1.0 -I)", runner.http(endpoint, guide_probe=True),
                        endpoint.host),
        _stack_headers_part(page),
    ]
    notes = [n for n in (_script_note(runner.script(endpoint)), endpoint.describe()) if n]
    return _seen_from_runner(runner, to_verdict(combine("all", parts), note="; ".join(notes)))


def _server_version(observation: http.HttpObservation) -> str | None:
    """The version text after `ScreenConnect/` in the Server header, build suffix dropped."""
    for value in observation.header_values("Server"):
        for product, version in http.product_tokens(value):
            if product.lower() == "screenconnect" and version:
                return version.split("-", 1)[0]
    return None


def _disclosed_versions(runner: RunnerView, endpoint: Endpoint,
                        expected: str) -> tuple[list[tuple[str, str]], list[Evidence], list[str]]:
    """(where, version text) the server discloses, the evidence, and why a source said nothing
    (no answer at all)."""
    found: list[tuple[str, str]] = []
    evidence: list[Evidence] = []
    silent: list[str] = []
    page = runner.http(endpoint)
    if page.status is None:
        silent.append(f"GET / got no answer ({page.error})")
    else:
        server = ", ".join(page.header_values("Server")) or "no Server header"
        evidence.append(Evidence("HTTP GET from the runner: the Server header", page.url,
                                 server, expected, compact_json(page.to_evidence(), limit=500)))
        if (text := _server_version(page)) is not None:
            found.append(("Server header", text))
    script = runner.script(endpoint)
    if script.status is None:
        silent.append(f"GET {http.SCRIPT_PATH} got no answer ({script.error})")
    else:
        disclosed = http.script_product_version(script.body) if script.status == 200 else None
        observed = f"productVersion {disclosed[0]!r}" if disclosed else \
            f"HTTP {script.status}, no productVersion in the {len(script.body)} bytes read"
        evidence.append(Evidence(f"HTTP GET {http.SCRIPT_PATH} from the runner (the script the "
                                 "login page loads)", script.url, observed, expected,
                                 disclosed[1] if disclosed else
                                 compact_json(script.to_evidence(), limit=500)))
        if disclosed:
            found.append((http.SCRIPT_PATH, disclosed[0]))
    return found, evidence, silent


def judge_external_version(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                           runner: RunnerView) -> Verdict:
    """CWH-EXT-03: every ScreenConnect version the server discloses (the Server header, the
    productVersion of the Script.ashx the login page loads) is at least the minimum. Only what
    the server discloses to any visitor is read: no exploit request, no setup wizard."""
    endpoint = _endpoint_or_verdict(runner)
    if isinstance(endpoint, Verdict):
        return _seen_from_runner(runner, endpoint)
    minimum = str(control.check["minimum"])
    floor = dotted_version(minimum) or ()
    expected = f"ScreenConnect >= {minimum} wherever a version is disclosed"
    found, evidence, silent = _disclosed_versions(runner, endpoint, expected)
    parsed = [(where, text, dotted_version(text)) for where, text in found]
    below = [(w, t) for w, t, v in parsed if v is not None and v[:len(floor)] < floor]
    garbled = [(w, t) for w, t, v in parsed if v is None]
    observed = "; ".join(f"{w}: {t}" for w, t in found) or "no version disclosed"
    if below:
        return _seen_from_runner(runner, Verdict(
            Status.OPEN, f"expected {expected}, observed {observed}: vulnerable to "
            "CVE-2024-1709 / CVE-2024-1708", expected, observed, tuple(evidence)))
    if garbled:
        return _seen_from_runner(runner, not_reviewed(
            "the disclosed version " + ", ".join(f"{t!r} ({w})" for w, t in garbled) +
            " is not a dotted version", evidence=tuple(evidence), expected=expected,
            observed=observed))
    if parsed:
        versions = {t for _, t, _ in parsed}
        note = "" if len(versions) == 1 else "; the sources name different versions, all " \
            "at or above the minimum"
        return _seen_from_runner(runner, Verdict(
            Status.NOT_A_FINDING, f"observed {observed}{note}", expected, observed,
            tuple(evidence)))
    if len(silent) == 2:
        return _seen_from_runner(runner, not_reviewed(
            "; ".join(silent), evidence=tuple(evidence), expected=expected))
    return _seen_from_runner(runner, not_reviewed(
        "the server discloses no ScreenConnect version (no ScreenConnect/<version> Server "
        f"header, no productVersion in {http.SCRIPT_PATH}): only host access (CWH-SC-02) can "
        "tell", error=False, evidence=tuple(evidence), expected=expected, observed=observed))


def judge_external_options(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                           runner: RunnerView) -> Verdict:
    """CWH-EXT-04: OPTIONS gets 403/404/405/501 and no Allow/Public list of verbs."""
    endpoint = _endpoint_or_verdict(runner)
    if isinstance(endpoint, Verdict):
        return _seen_from_runner(runner, endpoint)
    return _seen_from_runner(runner, to_verdict(options_outcome(runner, endpoint),
                                                note=endpoint.describe()))


def judge_external_certificate(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                               runner: RunnerView) -> Verdict:
    """CWH-EXT-05: HTTPS with a certificate a browser accepts for the URL's name, with more than
    cwh_cert_warn_days left."""
    endpoint = _endpoint_or_verdict(runner)
    if isinstance(endpoint, Verdict):
        return _seen_from_runner(runner, endpoint)
    if endpoint.scheme != "https":
        return _seen_from_runner(runner, Verdict(
            Status.OPEN, f"the web interface is served over plain HTTP ({endpoint.url})",
            "HTTPS with a valid certificate", endpoint.url,
            (Evidence("web endpoint", endpoint.describe(), "plain HTTP", "HTTPS"),)))
    outcome, _ = certificate_part(runner, endpoint, expiring_is_finding=True)
    return _seen_from_runner(runner, to_verdict(outcome, note=endpoint.describe()))


def judge_external_ports_closed(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                                runner: RunnerView) -> Verdict:
    """CWH-EXT-06: 135, 139 and 445 refuse or drop the runner's connection. Domain membership
    is unknown without host access, and from this vantage point it does not matter: a port
    this runner reaches is exposed to the networks the runner stands for."""
    parts = [dataclasses.replace(reachability_part(runner, runner.port_endpoint(int(port)),
                                                   want_open=False), label=f"TCP {port}")
             for port in control.check["ports"]]
    return _seen_from_runner(runner, to_verdict(combine("all", parts)))


def judge_external_reachable(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                             runner: RunnerView) -> Verdict:
    """CWH-EXT-07: the URL users open accepts a connection and answers HTTP, and the relay port
    accepts a connection. A relay port nobody declared that does not answer proves nothing."""
    endpoint = _endpoint_or_verdict(runner)
    if isinstance(endpoint, Verdict):
        return _seen_from_runner(runner, endpoint)
    web = dataclasses.replace(reachability_part(runner, endpoint, want_open=True), label="web")
    parts = [web]
    if web.passed:
        parts.append(dataclasses.replace(http_answer_part(runner, endpoint), label="web HTTP"))
    relay = runner.relay()
    if relay.unknown:
        expected = "connection accepted"
        parts.append(unknown("relay", expected, f"the relay port is unknown: {relay.unknown}",
                             Evidence("web.config (collector)", "RelayListenUri",
                                      "not available", expected, relay.unknown)))
    else:
        part = dataclasses.replace(reachability_part(runner, relay, want_open=True),
                                   label="relay")
        if part.passed is False and relay.assumed:
            part = dataclasses.replace(part, passed=None, unknown_reason=(
                f"relay {relay.describe()}: {part.observed}; {relay.assumed}: declare "
                "cwh_relay_port"))
        parts.append(part)
    return _seen_from_runner(runner, to_verdict(combine("all", parts),
                                                note=f"web {endpoint.describe()}"))


JUDGES = {
    "external_legacy_tls": judge_external_legacy_tls,
    "external_disclosure": judge_external_disclosure,
    "external_version": judge_external_version,
    "external_options": judge_external_options,
    "external_certificate": judge_external_certificate,
    "external_ports_closed": judge_external_ports_closed,
    "external_reachable": judge_external_reachable,
}
