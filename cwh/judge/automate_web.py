"""Automate's web site in IIS (https on 443), judged from the runner with the checks the
ScreenConnect web interface gets (CWH-WEB-02/04/05, CWH-TLS-03): no Server disclosure, OPTIONS
refused, legacy TLS refused, a valid certificate, and the one http.sys binds to the site's port
being the one the runner is served (unless a TLS front end is declared, as for ScreenConnect).
The same outcome functions judge both sites; only the endpoint differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cwh.catalog.model import Control
from cwh.collect.facts import HostFacts
from cwh.judge.exposure import legacy_tls_outcome, plain_http
from cwh.judge.outcome import combine, to_verdict
from cwh.judge.sslbinding import binding_part
from cwh.judge.verdict import Evidence, Status, Verdict
from cwh.judge.web import (
    bound_certificate,
    certificate_part,
    disclosure_outcome,
    disclosure_part,
    options_outcome,
    same_certificate_part,
)
from cwh.probes.runner import Endpoint, RunnerView

GUIDE_PATH = "/aspnet_client"  # the directory the guide's curl probe asks for, without its slash
SITE_PORT = 443  # where the guide has Automate's site (IIS binding https *:443)
DEFAULT_ORIGIN = "Automate's IIS site, https on 443 (cwh_automate_url sets another URL)"


def automate_endpoint(runner: RunnerView, inputs: Mapping[str, Any]) -> Endpoint:
    """cwh_automate_url (reached at cwh_probe_address when set) or https://<probe address>/;
    the port through cwh_port_map either way."""
    url = inputs.get("cwh_automate_url")
    if not url:
        return Endpoint(f"https://{runner.address}:{SITE_PORT}/", "https", runner.address,
                        runner.address, SITE_PORT, runner.connect_port(SITE_PORT),
                        DEFAULT_ORIGIN)
    parts = urlsplit(str(url))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or runner.address
    probe_address = inputs.get("cwh_probe_address")
    origin = "inventory cwh_automate_url" + \
        (f", reached at cwh_probe_address {probe_address}" if probe_address else "")
    return Endpoint(str(url), parts.scheme, host, str(probe_address or host), port,
                    runner.connect_port(port), origin)


def judge_site_no_server_disclosure(control: Control, facts: HostFacts,
                                    inputs: Mapping[str, Any], runner: RunnerView) -> Verdict:
    """CWH-CWA-09: neither a normal GET nor the guide's probe (`curl -H 'Host:' --http1.0 -I`),
    to / and to /aspnet_client as the guide sends it, gets a Server header naming a product, or
    a redirect to an internal address."""
    endpoint = automate_endpoint(runner, inputs)
    directory = disclosure_part(
        "guide probe /aspnet_client", f"HEAD {GUIDE_PATH} over HTTP/1.0 without a Host header "
        "(the guide's curl -H 'Host:' https://localhost/aspnet_client --http1.0 -I: IIS puts its "
        "own address in the redirect it makes for a directory asked without its slash)",
        runner.http(endpoint, guide_probe=True, path=GUIDE_PATH), endpoint.host)
    return to_verdict(combine("all", [disclosure_outcome(runner, endpoint), directory]),
                      note=f"endpoint from {endpoint.origin}")


def judge_site_options_refused(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                               runner: RunnerView) -> Verdict:
    """CWH-CWA-10: OPTIONS gets 403/404/405/501 and no list of verbs."""
    endpoint = automate_endpoint(runner, inputs)
    return to_verdict(options_outcome(runner, endpoint), note=f"endpoint from {endpoint.origin}")


def judge_site_legacy_tls_refused(control: Control, facts: HostFacts,
                                  inputs: Mapping[str, Any], runner: RunnerView) -> Verdict:
    """CWH-CWA-11: the site refuses TLS 1.0 and 1.1 (exact-version handshakes, the client's
    own capability proven first), the SCHANNEL keys in the evidence."""
    endpoint = automate_endpoint(runner, inputs)
    if endpoint.scheme != "https":
        return plain_http(endpoint, "CWH-CWA-12")
    outcome, note = legacy_tls_outcome(runner, endpoint, facts)
    return to_verdict(outcome, note=note)


def judge_site_valid_certificate(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                                 runner: RunnerView) -> Verdict:
    """CWH-CWA-12: the site is HTTPS with a certificate a browser (and an agent) accepts; the
    host binds a certificate to 443 in http.sys, and it is the one the runner is served."""
    endpoint = automate_endpoint(runner, inputs)
    if endpoint.scheme != "https":
        return Verdict(Status.OPEN, f"Automate's site is served over plain HTTP ({endpoint.url})",
                       "HTTPS with a valid certificate", endpoint.url,
                       (Evidence("Automate site", endpoint.describe(), "plain HTTP", "HTTPS"),))
    certificate, warning = certificate_part(runner, endpoint)
    port, origin = binding_port(runner, endpoint)
    parts = [certificate, binding_part(facts, port, None)]
    bound = bound_certificate(facts, port)
    served = runner.certificate(endpoint).sha1
    notes = [warning] if warning else []
    if bound and served and not runner.front_end:
        parts.append(same_certificate_part(runner, endpoint, bound, port))
    elif bound and served and served.lower() != bound:
        notes.append(f"the declared front end (cwh_tls_front_end) serves its own certificate "
                     f"(sha1 {served.lower()}; http.sys binds {bound} to port {port}), judged on "
                     "its own")
    notes += [f"binding port {port} from {origin}", f"runner connected to {endpoint.describe()}"]
    return to_verdict(combine("all", parts), note="; ".join(notes))


def binding_port(runner: RunnerView, endpoint: Endpoint) -> tuple[int, str]:
    """The port whose http.sys binding IIS serves the site with, and where that came from: the
    URL's port when the runner reaches IIS itself; the guide's 443 behind a declared TLS front
    end (the URL then names the front end's port, not IIS's)."""
    if runner.front_end:
        return SITE_PORT, ("the guide's IIS binding (https *:443): the URL reaches the declared "
                           "front end (cwh_tls_front_end)")
    return endpoint.port, f"the site's URL ({endpoint.origin})"
