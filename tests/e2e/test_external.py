"""The exposure audit through `pytest tests_controls`: hosts with `cwh_access: network` (no WinRM
variables) audited from the runner alone, pointing at the lab hosts' listeners, beside WinRM
hosts that run the same controls (one run, both views). The lab logs every HTTP request its web
endpoints get, so the probes are seen to stay clear of the setup wizard."""

from __future__ import annotations

import json

import pytest
import yaml

from cwh.catalog.model import load_catalog
from tests.e2e.audit_run import lab_host, loopback, run_audit

CATALOG = load_catalog()
EXTERNAL = {c.id for c in CATALOG.controls if c.handler == "external"}
HOST_SIDE = {c.id for c in CATALOG.controls} - EXTERNAL
LAB_MAP = {135: 10135, 139: 10139, 443: 10443, 445: 10445}
CREDENTIALS = {"ansible_connection": "winrm", "ansible_user": "auditor",
               "ansible_password": "lab-only-not-a-secret",
               "cwh_approved_admins": ["labadmin", "adm-jdoe", "auditor"]}  # the lab's


def network_host(url: str, **variables) -> dict:
    """An exposure-only host: no ansible_user, no password, no WinRM port."""
    return {"cwh_access": "network", "cwh_web_url": url, "cwh_relay_port": 8041,
            "cwh_port_map": LAB_MAP, "cwh_probe_timeout_sec": 2, "cwh_ca_bundle": "lab/ca.pem",
            **variables}


def write(tmp, lab_hosts: dict, exposure_hosts: dict):
    """WinRM credentials only in the lab group's vars: the exposure group has none at all."""
    data = {"all": {"children": {
        "lab": {"vars": CREDENTIALS, "hosts": lab_hosts},
        "exposure": {"hosts": exposure_hosts},
    }}}
    path = tmp / "inventory.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def both_views(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("external")
    legacy, modern = lab_host("drifted"), lab_host("hardened")
    own = loopback()
    exposure = {
        "ext-legacy": network_host(f"https://{legacy['ansible_host']}:443/",
                                   ansible_host=legacy["ansible_host"]),
        "ext-modern": network_host(f"https://{modern['ansible_host']}:8040/",
                                   ansible_host=modern["ansible_host"]),
        # Its own lab image: the lab serves its network side and nothing that speaks WinRM.
        "ext-own-lab": network_host(f"https://{own}:443/", ansible_host=own,
                                    cwh_lab_image="drifted"),
    }
    inventory = write(tmp, {"lab-legacy": legacy, "lab-modern": modern}, exposure)
    log = tmp / "web-requests.jsonl"
    run = run_audit(tmp, inventory, "-m", "guide or external",
                    env={"CWH_LAB_WEB_LOG": str(log)})
    web = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return run, web


@pytest.mark.parametrize("host", ["ext-legacy", "ext-own-lab", "lab-legacy"])
def test_every_exposure_control_is_open_against_the_legacy_listener(both_views, host):
    run, _ = both_views
    results = run.by_control(host)
    for control in sorted(EXTERNAL):
        assert results[control]["status"] == "Open", results[control]


@pytest.mark.parametrize("host", ["ext-modern", "lab-modern"])
def test_every_exposure_control_passes_against_the_modern_listener(both_views, host):
    run, _ = both_views
    results = run.by_control(host)
    for control in sorted(EXTERNAL):
        assert results[control]["status"] == "NotAFinding", results[control]


@pytest.mark.parametrize("host", ["ext-legacy", "ext-modern", "ext-own-lab"])
def test_nothing_host_side_is_judged_without_host_access(both_views, host):
    run, _ = both_views
    results = run.by_control(host)
    assert set(results) == HOST_SIDE | EXTERNAL
    for control in sorted(HOST_SIDE):
        assert results[control]["status"] == "Not_Applicable", results[control]
        assert "no host access" in results[control]["reason"]


def test_each_exposure_verdict_speaks_for_its_vantage_point_only(both_views):
    run, _ = both_views
    for host in ("ext-legacy", "ext-modern", "lab-modern"):
        for control in EXTERNAL:
            record = run.by_control(host)[control]
            assert "only" in record["reason"] and "seen from runner" in record["reason"]
            vantage = record["evidence"][0]
            assert vantage["source"] == "vantage point", record["evidence"]
            assert "speaks for this vantage point only" in vantage["raw"]


def test_the_version_comes_from_what_the_server_discloses(both_views):
    run, _ = both_views
    legacy = run.by_control("ext-legacy")["CWH-EXT-03"]
    assert "Server header: 23.9.7.8804" in legacy["observed"]
    modern = run.by_control("ext-modern")["CWH-EXT-03"]
    assert "Script.ashx: 25.4.16.9293" in modern["observed"]  # no Server header there


def test_no_winrm_connection_to_a_network_only_host(both_views):
    run, _ = both_views
    endpoints = {r["endpoint"] for r in run.lab_requests()}
    assert {"lab-legacy", "lab-modern"} <= endpoints
    assert not endpoints & {"ext-legacy", "ext-modern", "ext-own-lab"}, endpoints
    assert run.document["host_errors"] == {}
    assert run.exit_code == 1, run.output[-2000:]  # findings, and nothing left unevaluated


def test_the_probes_never_request_the_setup_wizard(both_views):
    _, web = both_views
    assert len({r["endpoint"] for r in web}) >= 3, web  # every lab web endpoint was probed
    lines = [r["request_line"] for r in web]
    assert any("Script.ashx" in line for line in lines), lines
    assert not [line for line in lines if "setupwizard" in line.lower()]


def test_the_exposure_audit_is_opt_in_on_winrm_hosts_and_stig_on_network_hosts(tmp_path):
    own = loopback()
    inventory = write(tmp_path, {"winrm": lab_host("hardened")}, {
        "net": network_host(f"https://{own}:8040/", ansible_host=own,
                            cwh_lab_image="hardened")})
    run = run_audit(tmp_path, inventory, "-m", "stig and not stig_rule")
    assert run.exit_code == 0, run.output[-2000:]
    assert set(run.by_control("net")) == HOST_SIDE | EXTERNAL
    assert not set(run.by_control("winrm")) & EXTERNAL
    assert {r["status"] for c, r in run.by_control("net").items() if c in EXTERNAL} == \
        {"NotAFinding"}
    run = run_audit(tmp_path, inventory, "-m", "external")
    assert {(r["host"], r["control_id"]) for r in run.results} == \
        {(host, c) for host in ("net", "winrm") for c in EXTERNAL}
    # Without -m a WinRM host is audited as before: its exposure audit is opt-in.
    # (The host's STIG rules left out, whose verdicts this test is not about.)
    run = run_audit(tmp_path, inventory, "-k", "not test_stig_rule")
    assert run.exit_code == 0, run.output[-2000:]
    assert not set(run.by_control("winrm")) & EXTERNAL
    assert set(run.by_control("net")) == HOST_SIDE | EXTERNAL


def test_a_network_host_without_its_url_stops_before_connecting(tmp_path):
    inventory = write(tmp_path, {}, {"net": {"cwh_access": "network", "ansible_host": loopback()}})
    run = run_audit(tmp_path, inventory, "-m", "external")
    assert run.exit_code == 4, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1 and "host net: cwh_access: network needs cwh_web_url" in errors[0]
