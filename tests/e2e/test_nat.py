"""NAT, port forwarding and a reverse proxy, through `pytest tests_controls` against the lab:
the host view judges the ports the server is configured with, the runner connects where the
inventory says users reach it, and no case gives a false Open.

The lab plays the network in between: `cwh_lab_port_map` serves the image's ports (the server's
configuration) on other ports, as a router forwarding them would, and each host's public name
(support.example.com) is never resolved: the runner connects to `cwh_probe_address` and sends
the name as SNI and Host header, and the certificate is checked against that name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.audit_run import lab_host, run_audit, write_inventory

IMAGES = Path(__file__).with_name("images")
NAME = "support.example.com"
# The host view's controls, which must agree with the plain hardened host whatever the NAT.
HOST_VIEW = ("CWH-NET-01", "CWH-NET-02", "CWH-NET-03", "CWH-NET-05", "CWH-TLS-03", "CWH-WEB-02",
             "CWH-WEB-04", "CWH-WEB-05", "CWH-SC-03")


def _reached_by_name(image: str, **variables) -> dict:
    """A lab host whose inventory names the public URL and connects to the lab's address."""
    host = lab_host(str(IMAGES / image), **variables)
    host["cwh_probe_address"] = host["ansible_host"]
    return host


def _as_reported() -> dict:
    """The issue as a user met it: cwh_web_url set to the address and port the runner reaches,
    cwh_relay_port to the relay port it reaches (once: WEB-05 Open "no binding for port 443",
    NET-02 Open "nothing listens on 18041")."""
    host = lab_host("hardened", cwh_relay_port=18041)
    host["cwh_web_url"] = f"https://{host['ansible_host']}:443/"
    host["cwh_port_map"] = {**host["cwh_port_map"], 8040: 10443}
    host["cwh_lab_port_map"] = {8040: 10443, 8041: 18041}
    return host


HOSTS = {
    "ref": lambda: lab_host("hardened"),
    "as-reported": _as_reported,
    # 1. Same port: support.example.com:8040 is forwarded to the server's 8040.
    "same-port": lambda: _reached_by_name("nat-named-certificate.yml",
                                          cwh_web_url=f"https://{NAME}:8040/"),
    # 2. Port forward: users open https://support.example.com/ (443), the router forwards it to
    # 8040 on the server, and the relay is published on 18041 (forwarded to 8041).
    "port-forward": lambda: _reached_by_name(
        "nat-named-certificate.yml", cwh_web_url=f"https://{NAME}/", cwh_relay_port=18041,
        # the lab's router: the server's 8040 and 8041 reached on 443 (10443 here) and 18041
        cwh_lab_port_map={8040: 10443, 8041: 18041}),
    # 3. Reverse proxy on 443 (its own certificate) forwarding to ScreenConnect on loopback.
    "reverse-proxy": lambda: _reached_by_name("nat-reverse-proxy.yml",
                                              cwh_web_url=f"https://{NAME}/",
                                              cwh_tls_front_end=True),
    # 4. Another TLS endpoint answers than the one http.sys binds: a finding, both fingerprints.
    "mismatch": lambda: lab_host(str(IMAGES / "cert-mismatch.yml")),
    # ... unless a front end is declared: then its certificate is judged on its own.
    "mismatch-declared": lambda: lab_host(str(IMAGES / "cert-mismatch.yml"),
                                          cwh_tls_front_end=True),
}


@pytest.fixture(scope="module")
def nat(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nat")
    hosts = {name: make() for name, make in HOSTS.items()}
    log = tmp / "web-requests.jsonl"
    run = run_audit(tmp, write_inventory(tmp, hosts), "-m", "stig",
                    env={"CWH_LAB_WEB_LOG": str(log)})
    web = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return run, hosts, web


def _statuses(run, host: str) -> dict[str, str]:
    return {control: r["status"] for control, r in run.by_control(host).items()}


@pytest.mark.parametrize("host", ["as-reported", "same-port", "port-forward", "reverse-proxy"])
def test_each_nat_case_gets_the_verdicts_of_the_plain_server(nat, host):
    run, _, _ = nat
    reference, results = _statuses(run, "ref"), _statuses(run, host)
    assert results == reference, {c: (reference[c], results[c], run.by_control(host)[c]["reason"])
                                  for c in results if results[c] != reference[c]}
    for control in HOST_VIEW:
        assert results[control] == "NotAFinding", run.by_control(host)[control]


@pytest.mark.parametrize("host", ["as-reported", "port-forward"])
def test_the_port_forward_judges_configured_ports_and_probes_reached_ones(nat, host):
    run, _, _ = nat
    results = run.by_control(host)
    # The binding is looked up for the configured 8040, not for the URL's 443.
    assert "no binding for port" not in results["CWH-WEB-05"]["reason"]
    assert "binding port 8040 from web.config WebServerListenUri" in \
        results["CWH-WEB-05"]["reason"]
    # The listener is looked for on the configured 8041; the runner connects to 18041.
    relay = results["CWH-NET-02"]
    assert "nothing listens" not in relay["observed"] and "8041" in relay["observed"]
    assert "inventory cwh_relay_port" in relay["reason"] and ":18041" in relay["reason"]


def test_a_certificate_for_a_name_is_validated_against_it_while_the_runner_uses_an_ip(nat):
    run, hosts, web = nat
    address = hosts["port-forward"]["ansible_host"]
    certificate = run.by_control("port-forward")["CWH-WEB-05"]
    assert certificate["status"] == "NotAFinding", certificate
    assert f"reached at {address}:10443" in certificate["reason"]
    mine = [r for r in web if r["endpoint"] == "port-forward (web)"]
    assert mine, web
    for request in mine:
        assert request["listener"] == f"{address}:10443"
        assert request["sni"] == NAME
        host_headers = [h for h in request["headers"] if h.lower().startswith("host:")]
        assert host_headers in ([f"Host: {NAME}"], []), request  # [] is the guide's probe


def test_a_certificate_other_than_the_bound_one_is_open_with_both_fingerprints(nat):
    run, _, _ = nat
    record = run.by_control("mismatch")["CWH-WEB-05"]
    assert record["status"] == "Open", record
    assert "the runner was served another certificate" in record["reason"]
    fingerprints = [word for word in record["reason"].replace(",", " ").split()
                    if len(word) == 40 and all(c in "0123456789abcdef" for c in word)]
    assert len(set(fingerprints)) == 2, record["reason"]
    others = {c: s for c, s in _statuses(run, "mismatch").items() if c != "CWH-WEB-05"}
    assert others == {c: s for c, s in _statuses(run, "ref").items() if c != "CWH-WEB-05"}


def test_a_declared_front_end_is_judged_on_its_own_certificate(nat):
    run, _, _ = nat
    record = run.by_control("mismatch-declared")["CWH-WEB-05"]
    assert record["status"] == "NotAFinding", record
    assert "judged on its own" in record["reason"]
