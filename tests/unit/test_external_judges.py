"""The exposure audit's judges (CWH-EXT-*) and WEB-05's certificate comparison, against the lab's
real listeners on loopback: what the runner reaches decides, and nothing passes on a guess."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives import hashes

from cwh import certs
from cwh.catalog.model import load_catalog
from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for
from cwh.inventory import ConnectionSettings, Target
from cwh.judge import judge
from cwh.judge.external import markers_for, offered
from cwh.judge.verdict import Status
from cwh.lab.emulator import Context, encode_document, run_collector
from cwh.lab.image import load_image
from cwh.lab.listeners import TcpListener, TlsSettings, WebEndpoint
from cwh.probes.runner import RunnerView

CATALOG = load_catalog()
EXTERNAL = [c for c in CATALOG.controls if c.handler == "external"]
NOTHING = HostFacts("n", {"sections": {}, "host_access": "network"})


def network_target(url: str, **variables) -> Target:
    settings = ConnectionSettings(name="n", address="127.0.0.1", port=0, scheme="",
                                  transport="", user="")
    return Target("n", (), settings, {"cwh_access": "network", "cwh_web_url": url,
                                      "cwh_probe_timeout_sec": 2, **variables})


@pytest.fixture
def endpoint(request):
    """A lab web endpoint; parametrize with a dict of WebEndpoint keywords."""
    options = {"tls": None, "server_header": None, "options_allowed": False,
               **getattr(request, "param", {})}
    web = WebEndpoint("127.0.0.1", 0, **options)
    web.start()
    yield web
    web.stop()


def external(control_id: str, web: WebEndpoint, **variables):
    target = network_target(web.url, **variables)
    return judge(CATALOG[control_id], NOTHING, dict(target.vars), RunnerView(target, NOTHING))


def test_exposure_controls_carry_stig_only_on_network_hosts():
    for control in EXTERNAL:
        assert "stig" in markers_for(control, True) and "external" in markers_for(control, True)
        assert "stig" not in markers_for(control, False)
        assert "external" in markers_for(control, False)
    assert markers_for(CATALOG["CWH-GPO-01"], True) == CATALOG["CWH-GPO-01"].markers


@pytest.mark.parametrize(("markexpr", "winrm"), [("", False), ("stig", False), ("cat1", False),
                                                 ("external", True), ("stig or external", True),
                                                 ("not external", True)])
def test_a_winrm_hosts_exposure_audit_is_opt_in(markexpr, winrm):
    """Kept only when -m names it (-m then filters: `not external` drops it again)."""
    for control in EXTERNAL:
        assert offered(control, False, markexpr) is winrm
        assert offered(control, True, markexpr)
    assert offered(CATALOG["CWH-NET-01"], False, "")


def test_every_host_side_control_is_not_applicable_without_host_access(endpoint):
    target = network_target(endpoint.url)
    runner = RunnerView(target, NOTHING)
    for control in CATALOG.controls:
        if control.handler == "external":
            continue
        verdict = judge(control, NOTHING, dict(target.vars), runner)
        assert verdict.status is Status.NOT_APPLICABLE, control.id
        assert "no host access" in verdict.reason
    assert list(endpoint.requests) == []  # and nothing was probed for them


@pytest.mark.parametrize("endpoint", [{"server_header": "ScreenConnect/23.9.7.8804-1"}],
                         indirect=True)
def test_a_version_below_the_floor_in_the_server_header_is_open(endpoint):
    verdict = external("CWH-EXT-03", endpoint)
    assert verdict.status is Status.OPEN and "Server header: 23.9.7.8804" in verdict.observed
    assert verdict.evidence[0].source == "vantage point"


@pytest.mark.parametrize("endpoint", [{"product_version": "24.1.3.8840"}], indirect=True)
def test_the_login_script_version_alone_can_pass(endpoint):
    verdict = external("CWH-EXT-03", endpoint)
    assert verdict.status is Status.NOT_A_FINDING, verdict.reason
    assert verdict.observed == "Script.ashx: 24.1.3.8840"


@pytest.mark.parametrize("endpoint", [{"server_header": "ScreenConnect/25.4.16.9293-7",
                                       "product_version": "23.9.7.8804"}], indirect=True)
def test_any_source_below_the_floor_makes_it_open(endpoint):
    assert external("CWH-EXT-03", endpoint).status is Status.OPEN


@pytest.mark.parametrize("endpoint", [{"server_header": "ScreenConnect/23.9.7a"},
                                      {"product_version": "<script>"}], indirect=True)
def test_a_disclosed_version_that_is_no_version_is_not_reviewed(endpoint):
    verdict = external("CWH-EXT-03", endpoint)
    assert verdict.status is Status.NOT_REVIEWED and verdict.error
    assert "is not a dotted version" in verdict.reason


def test_no_disclosed_version_is_not_reviewed_and_no_error(endpoint):
    verdict = external("CWH-EXT-03", endpoint)
    assert verdict.status is Status.NOT_REVIEWED and not verdict.error
    assert "only host access (CWH-SC-02) can tell" in verdict.reason


def test_nothing_answering_is_never_a_pass():
    target = network_target("https://127.0.0.1:9/")
    runner = RunnerView(target, NOTHING)
    for control in EXTERNAL:
        verdict = judge(control, NOTHING, dict(target.vars), runner)
        assert verdict.status is not Status.NOT_A_FINDING or control.id == "CWH-EXT-06", \
            (control.id, verdict.reason)


def test_an_undeclared_relay_port_that_does_not_answer_proves_nothing(endpoint):
    # Nothing listens on 127.0.0.1:8041 here.
    verdict = external("CWH-EXT-07", endpoint)
    assert verdict.status is Status.NOT_REVIEWED, verdict.reason
    assert "declare cwh_relay_port" in verdict.reason
    declared = external("CWH-EXT-07", endpoint, cwh_relay_port=9)
    assert declared.status is Status.OPEN


@pytest.mark.parametrize("endpoint", [{"options_allowed": True}], indirect=True)
def test_plain_http_is_open_for_the_certificate_and_not_applicable_for_tls(endpoint):
    assert external("CWH-EXT-05", endpoint).status is Status.OPEN
    assert external("CWH-EXT-01", endpoint).status is Status.NOT_APPLICABLE
    assert external("CWH-EXT-04", endpoint).status is Status.OPEN


def test_a_certificate_about_to_expire_is_a_finding_from_outside(tmp_path):
    ca = certs.make_ca()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.cert_pem)
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    leaf = certs.issue(["127.0.0.1"], ca=ca, not_after=soon)
    web = WebEndpoint("127.0.0.1", 0, tls=TlsSettings(leaf.cert_pem, leaf.key_pem),
                      server_header=None, options_allowed=False)
    with web:
        verdict = external("CWH-EXT-05", web, cwh_ca_bundle=str(bundle))
    assert verdict.status is Status.OPEN and "expires in 9 days" in verdict.reason


# --- WEB-05: the certificate users get against the one http.sys binds ---------------------------

def facts_with(context: Context) -> HostFacts:
    request = json.loads(request_for(CATALOG.controls).to_json())
    return HostFacts("h", parse_output(encode_document(run_collector(
        load_image("hardened"), request, context)), b"", 0))


@pytest.mark.parametrize(("front_end", "status"), [(False, Status.OPEN),
                                                   (True, Status.NOT_A_FINDING)])
def test_another_certificate_than_the_bound_one(tmp_path, front_end, status):
    ca = certs.make_ca()
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(ca.cert_pem)
    bound, served = (certs.issue(["127.0.0.1"], ca=ca, key_type="ec", key_size=256)
                     for _ in range(2))
    web = WebEndpoint("127.0.0.1", 0, tls=TlsSettings(served.cert_pem, served.key_pem),
                      server_header=None, options_allowed=False)
    facts = facts_with(Context({"web": bound}))  # http.sys binds `bound` to 0.0.0.0:8040
    with web:
        settings = ConnectionSettings(name="h", address="127.0.0.1", port=5985, scheme="http",
                                      transport="ntlm", user="auditor", password="x")
        target = Target("h", (), settings, {"cwh_port_map": {8040: web.port},
                                            "cwh_ca_bundle": str(bundle),
                                            "cwh_tls_front_end": front_end})
        verdict = judge(CATALOG["CWH-WEB-05"], facts, {}, RunnerView(target, facts))
    assert verdict.status is status, verdict.reason
    assert bound.certificate.fingerprint(hashes.SHA1()).hex() in verdict.reason
    if front_end:
        assert "judged on its own" in verdict.reason
    else:
        assert "the runner was served another certificate" in verdict.reason


def test_a_port_that_speaks_no_tls_at_all_does_not_pass_for_refusing_legacy_tls():
    """A hung front end that closes every connection 'refuses' TLS 1.0 as well: that proves
    nothing until a handshake at some version completes."""
    silent = TcpListener("127.0.0.1", 0, idle_timeout=0.2)
    with silent:
        target = network_target(f"https://127.0.0.1:{silent.port}/")
        runner = RunnerView(target, NOTHING)
        verdict = judge(CATALOG["CWH-EXT-01"], NOTHING, dict(target.vars), runner)
        facts = facts_with(Context({}))
        settings = ConnectionSettings(name="h", address="127.0.0.1", port=5985, scheme="http",
                                      transport="ntlm", user="auditor", password="x")
        host = Target("h", (), settings, {"cwh_web_url": f"https://127.0.0.1:{silent.port}/"})
        tls03 = judge(CATALOG["CWH-TLS-03"], facts, {}, RunnerView(host, facts))
    for result in (verdict, tls03):
        assert result.status is Status.NOT_REVIEWED, result.reason
        assert "no TLS handshake completed at all" in result.reason
