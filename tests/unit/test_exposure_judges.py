"""Judges that combine the host's facts with what the runner sees, against real local servers
(the lab's listeners) and facts built from the lab images."""

from __future__ import annotations

import dataclasses
import json

import pytest

from cwh import certs
from cwh.catalog.model import load_catalog
from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for
from cwh.inventory import ConnectionSettings, Target
from cwh.judge import judge
from cwh.judge.verdict import Status
from cwh.lab.emulator import Context, encode_document, run_collector
from cwh.lab.image import Image, load_image
from cwh.lab.listeners import TcpListener, TlsSettings, WebEndpoint
from cwh.probes.runner import RunnerView
from cwh.probes.tls import CapabilityObservation

CATALOG = load_catalog()


def facts_for(image: Image, name: str = "h", context: Context | None = None) -> HostFacts:
    request = json.loads(request_for(CATALOG.controls).to_json())
    return HostFacts(name, parse_output(encode_document(run_collector(image, request, context)),
                                        b"", 0))


def target(address: str, **variables) -> Target:
    settings = ConnectionSettings(name="h", address=address, port=5985, scheme="http",
                                  transport="ntlm", user="auditor", password="x")
    return Target("h", (), settings, {"cwh_probe_timeout_sec": 2, **variables})


@pytest.fixture
def legacy_endpoint():
    """A web endpoint still accepting TLS 1.0 (what a missed reboot or a front end looks like)."""
    leaf = certs.issue(["127.0.0.1"])
    endpoint = WebEndpoint("127.0.0.1", 0, tls=TlsSettings(leaf.cert_pem, leaf.key_pem,
                                                           "TLSv1", "TLSv1.3"),
                           server_header=None, options_allowed=False)
    endpoint.start()
    yield endpoint
    endpoint.stop()


def test_registry_right_but_endpoint_accepts_tls10_is_open(legacy_endpoint):
    facts = facts_for(load_image("hardened"))  # SCHANNEL keys say TLS 1.0/1.1 are disabled
    runner = RunnerView(target("127.0.0.1", cwh_web_url=f"https://127.0.0.1:{legacy_endpoint.port}/"),
                        facts)
    verdict = judge(CATALOG["CWH-TLS-03"], facts, {}, runner)
    assert verdict.status is Status.OPEN
    assert "views disagree" in verdict.reason and "registry disables TLSv1" in verdict.reason
    assert any(e.observed == "registry says disabled" for e in verdict.evidence)


def test_refusal_without_client_capability_is_not_reviewed():
    leaf = certs.issue(["127.0.0.1"])
    modern = WebEndpoint("127.0.0.1", 0, tls=TlsSettings(leaf.cert_pem, leaf.key_pem),
                         server_header=None, options_allowed=False)
    modern.start()
    try:
        facts = facts_for(load_image("hardened"))
        runner = RunnerView(target("127.0.0.1", cwh_web_url=f"https://127.0.0.1:{modern.port}/"),
                            facts)
        assert judge(CATALOG["CWH-TLS-03"], facts, {}, runner).status is Status.NOT_A_FINDING
        # The same refusal, but this client could not have spoken TLS 1.0 anyway.
        runner = RunnerView(target("127.0.0.1", cwh_web_url=f"https://127.0.0.1:{modern.port}/"),
                            facts)
        runner.adopt({("capability", v): CapabilityObservation(v, False, "forced by the test")
                      for v in ("TLSv1", "TLSv1.1")})
        verdict = judge(CATALOG["CWH-TLS-03"], facts, {}, runner)
    finally:
        modern.stop()
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "cannot speak" in verdict.reason


def test_domain_joined_host_makes_the_smb_ports_not_applicable():
    image = load_image("drifted")
    joined = Image("joined", image.path, {**image.data, "identity": {
        **image.data["identity"], "part_of_domain": True, "domain": "corp.example"}})
    facts = facts_for(joined)
    runner = RunnerView(target("127.0.0.1"), facts)
    for control in ("CWH-NET-03", "CWH-NET-04", "CWH-NET-05"):
        verdict = judge(CATALOG[control], facts, {}, runner)
        assert verdict.status is Status.NOT_APPLICABLE, control
        assert "corp.example" in verdict.reason


def test_iis_absent_makes_iis_controls_not_applicable_but_not_the_live_checks():
    image = load_image("hardened")
    no_iis = Image("no-iis", image.path, {**image.data, "iis": {"installed": False}})
    facts = facts_for(no_iis)
    for control in ("CWH-WEB-01", "CWH-WEB-03"):
        assert judge(CATALOG[control], facts, {}).status is Status.NOT_APPLICABLE
    runner = RunnerView(target("127.0.0.1"), facts)
    # The live check still runs: nothing listens on 127.0.0.1:8040 here, so it can't pass.
    assert judge(CATALOG["CWH-WEB-04"], facts, {}, runner).status is Status.NOT_REVIEWED


def test_unknown_web_endpoint_is_not_reviewed_not_a_guess():
    image = load_image("hardened")
    no_config = Image("no-config", image.path, {**image.data, "screenconnect": {
        **image.data["screenconnect"], "web_config_text": None}})
    facts = facts_for(no_config)
    runner = RunnerView(target("127.0.0.1"), facts)
    for control in ("CWH-NET-01", "CWH-TLS-03", "CWH-WEB-02", "CWH-WEB-04", "CWH-WEB-05"):
        verdict = judge(CATALOG[control], facts, {}, runner)
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert "endpoint to probe is unknown" in verdict.reason, control


def test_web_port_that_never_answers_http_is_not_reviewed_not_open():
    """TCP gets through but no HTTP answer comes back in time (a loaded runner or network):
    that says nothing about the host, so it is no finding and no pass either."""
    silent = TcpListener("127.0.0.1", 0, idle_timeout=5.0)
    silent.start()
    try:
        facts = facts_for(load_image("hardened"))
        runner = RunnerView(target("127.0.0.1", cwh_port_map={8040: silent.port},
                                   cwh_probe_timeout_sec=0.3), facts)
        verdict = judge(CATALOG["CWH-NET-01"], facts, {}, runner)
    finally:
        silent.stop()
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "timed out" in verdict.reason


def test_certificate_whose_chain_was_never_verified_is_not_reviewed(tmp_path):
    ca = certs.make_ca()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.cert_pem)
    leaf = certs.issue(["127.0.0.1"], ca=ca)
    endpoint = WebEndpoint("127.0.0.1", 0, tls=TlsSettings(leaf.cert_pem, leaf.key_pem),
                           server_header=None, options_allowed=False)
    endpoint.start()
    try:
        # The host's http.sys binding holds this very certificate, as on a hardened server.
        facts = facts_for(load_image("hardened"), context=Context({"web": leaf}))
        view = target("127.0.0.1", cwh_port_map={8040: endpoint.port}, cwh_ca_bundle=str(bundle))
        good = judge(CATALOG["CWH-WEB-05"], facts, {}, RunnerView(view, facts))
        seen = RunnerView(view, facts)
        observed = seen.certificate(seen.web())
        # The same certificate, but the verifying handshake timed out this time.
        unverified = RunnerView(view, facts)
        unverified.adopt({("cert", endpoint.port): dataclasses.replace(
            observed, chain_valid=None,
            chain_error="verification handshake did not finish within the timeout")})
        verdict = judge(CATALOG["CWH-WEB-05"], facts, {}, unverified)
    finally:
        endpoint.stop()
    assert observed.chain_valid is True
    assert good.status is Status.NOT_A_FINDING, good.reason
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "chain not verified" in verdict.reason
