"""Automate's web site in IIS (https on 443), judged from the runner with the same checks as
the ScreenConnect web interface: no Server disclosure, OPTIONS refused, legacy TLS refused, a
valid certificate bound in http.sys.

The ScreenConnect judges ask `runner.web()` for the endpoint; here a view of the same runner
answers with Automate's site instead, so the probes, their caching and their evidence are the
ones CWH-WEB-02/04/05 and CWH-TLS-03 use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from cwh.catalog.model import Control
from cwh.collect.facts import HostFacts
from cwh.judge import web
from cwh.judge.exposure import judge_legacy_tls_refused
from cwh.judge.outcome import combine, to_verdict
from cwh.judge.sslbinding import binding_part
from cwh.judge.verdict import Evidence, Status, Verdict
from cwh.probes.runner import Endpoint, RunnerView

DEFAULT_ORIGIN = "Automate's IIS site, https on 443 (cwh_automate_url sets another URL)"


def automate_endpoint(runner: RunnerView, inputs: Mapping[str, Any]) -> Endpoint:
    """cwh_automate_url when the inventory gives it, else https://<probe address>:443/."""
    url = inputs.get("cwh_automate_url")
    if not url:
        port = 443
        return Endpoint(f"https://{runner.address}:{port}/", "https", runner.address,
                        runner.address, port, runner.connect_port(port), DEFAULT_ORIGIN)
    parts = urlsplit(str(url))
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or runner.address
    return Endpoint(str(url), parts.scheme, host, host, port, runner.connect_port(port),
                    "inventory cwh_automate_url")


class SiteRunner:
    """The runner's view with Automate's site as its web endpoint; everything else (probes,
    their cache, the port map) is the host's own RunnerView."""

    def __init__(self, runner: RunnerView, endpoint: Endpoint) -> None:
        self._runner = runner
        self._endpoint = endpoint

    def web(self) -> Endpoint:
        return self._endpoint

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runner, name)


def _site(runner: RunnerView, inputs: Mapping[str, Any]) -> tuple[Endpoint, Any]:
    endpoint = automate_endpoint(runner, inputs)
    return endpoint, SiteRunner(runner, endpoint)


def judge_site_no_server_disclosure(control: Control, facts: HostFacts,
                                    inputs: Mapping[str, Any], runner: RunnerView) -> Verdict:
    """CWH-CWA-09: the guide's own probe (`curl -H 'Host:' --http1.0 -I`) and a normal GET get
    no Server product or version."""
    _, site = _site(runner, inputs)
    return web.judge_no_server_disclosure(control, facts, inputs, site)


def judge_site_options_refused(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                               runner: RunnerView) -> Verdict:
    """CWH-CWA-10: OPTIONS gets 403/404/405/501 and no list of verbs."""
    _, site = _site(runner, inputs)
    return web.judge_options_refused(control, facts, inputs, site)


def judge_site_legacy_tls_refused(control: Control, facts: HostFacts,
                                  inputs: Mapping[str, Any], runner: RunnerView) -> Verdict:
    """CWH-CWA-11: the site refuses TLS 1.0 and 1.1 (exact-version handshakes, the client's
    own capability proven first)."""
    endpoint, site = _site(runner, inputs)
    if endpoint.scheme != "https":
        return Verdict(Status.NOT_APPLICABLE, f"{endpoint.url} is plain HTTP (no TLS to probe); "
                       "CWH-CWA-12 reports that", observed=endpoint.url,
                       evidence=(Evidence("Automate site", endpoint.describe(), "http"),))
    return judge_legacy_tls_refused(control, facts, inputs, site)


def judge_site_valid_certificate(control: Control, facts: HostFacts, inputs: Mapping[str, Any],
                                 runner: RunnerView) -> Verdict:
    """CWH-CWA-12: the site is HTTPS with a certificate a browser (and an agent) accepts, bound
    in http.sys for its port when the site is on this host."""
    endpoint, _ = _site(runner, inputs)
    if endpoint.scheme != "https":
        return Verdict(Status.OPEN, f"Automate's site is served over plain HTTP ({endpoint.url})",
                       "HTTPS with a valid certificate", endpoint.url,
                       (Evidence("Automate site", endpoint.describe(), "plain HTTP", "HTTPS"),))
    # The ScreenConnect judge's certificate check, on this endpoint.
    certificate, warning = web._certificate_part(runner, endpoint)
    parts = [certificate]
    on_this_host = endpoint.address == runner.address
    if on_this_host:
        parts.append(binding_part(facts, endpoint.port, runner.certificate(endpoint).sha1))
    note = warning or ("" if on_this_host else
                       f"cwh_automate_url points at {endpoint.host}, not at this host: only the "
                       "runner view applies")
    return to_verdict(combine("all", parts), note=note)
