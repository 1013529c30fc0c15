"""`pytest --cwh-doctor` checks the probe targets: the URL host resolves, the web and relay ports
answer where the inventory says the server is reached, an https URL completes a handshake. One
line per problem; a `cwh_access: network` host is checked for these only."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.e2e.audit_run import REPO, lab_host, loopback
from tests.e2e.test_external import CREDENTIALS, network_host


def doctor(tmp_path, lab_hosts: dict, exposure_hosts: dict):
    data = {"all": {"children": {"lab": {"vars": CREDENTIALS, "hosts": lab_hosts},
                                 "exposure": {"hosts": exposure_hosts}}}}
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(yaml.safe_dump(data, sort_keys=False))
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--cwh-doctor", "-p", "no:cacheprovider",
         f"--inventory={inventory}", f"--cwh-lab-dir={tmp_path / 'lab'}"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    lines: dict[str, list[str]] = {}
    for line in completed.stdout.splitlines():
        if line.startswith(("OK ", "FAIL ", "WARN ")):
            lines.setdefault(line.split(":", 1)[0].split()[-1], []).append(line)
    return completed, lines


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("doctor")
    modern, legacy = lab_host("hardened"), lab_host("drifted")
    good, wrong, plain, elsewhere = (modern["ansible_host"], loopback(), loopback(),
                                     loopback())
    exposure = {
        "net-good": network_host(f"https://{good}:8040/", ansible_host=good),
        "net-no-dns": network_host("https://support.example.invalid/"),
        "net-wrong-address": network_host(f"https://{good}:8040/", ansible_host=wrong,
                                          cwh_probe_address=wrong),
        "net-wrong-port": network_host(f"https://{good}:8049/", ansible_host=good),
        "net-not-https": network_host(f"https://{plain}:8040/", ansible_host=plain,
                                      cwh_lab_image=str(tmp / "plain.yml")),
    }
    (tmp / "plain.yml").write_text(yaml.safe_dump({"extends": "hardened", "network": [
        {"port": 8040, "serve": "web", "server_header": None, "options_allowed": False},
        {"port": 8041, "serve": "tcp"}]}))
    # The lab serves a host's listeners where its inventory says the runner reaches them, so a
    # wrong target for a WinRM host is a URL pointing at an address where nothing listens.
    lab = {"lab-modern": modern, "lab-legacy": legacy,
           "lab-wrong-url": lab_host("hardened", cwh_web_url=f"https://{elsewhere}:8040/")}
    return doctor(tmp, lab, exposure)


def test_a_reachable_network_host_is_ready_with_what_was_reached(checked):
    _, lines = checked
    [line] = lines["net-good"]
    assert line.startswith("OK ") and "network only (cwh_access: network), no WinRM" in line
    assert "(TLSv1.3)" in line and ":8041 open" in line


@pytest.mark.parametrize(("host", "words"), [
    ("net-no-dns", ("cannot resolve 'support.example.invalid'", "cwh_probe_address")),
    ("net-wrong-address", ("nothing answers at", "check cwh_probe_address")),
    ("net-wrong-port", (":8049/ refused", "cwh_web_url / cwh_probe_address / cwh_port_map")),
    ("net-not-https", ("TLS handshake failed", "scheme of cwh_web_url")),
])
def test_a_wrong_probe_target_is_one_actionable_line(checked, host, words):
    _, lines = checked
    [line] = lines[host]
    assert line.startswith("FAIL "), line
    for word in words:
        assert word in line, line


def test_winrm_hosts_are_ready_and_warned_about_their_probe_targets(checked):
    completed, lines = checked
    assert [line[:4] for line in lines["lab-modern"]] == ["OK  "]
    wrong = lines["lab-wrong-url"]
    assert wrong[0].startswith("OK ") and "local administrator" in wrong[0]
    assert len(wrong) == 2 and wrong[1].startswith("WARN ") and ":8040/ refused" in wrong[1]
    assert "check cwh_web_url / cwh_probe_address / cwh_port_map" in wrong[1]
    relay = lines["lab-legacy"]  # its Relay service is stopped: a warning, not a failure
    assert relay[0].startswith("OK ") and relay[1].startswith("WARN ") and "relay" in relay[1]
    assert "4 of 8 hosts ready to audit" in completed.stdout
    assert completed.returncode == 6
    assert "Traceback" not in completed.stdout + completed.stderr
