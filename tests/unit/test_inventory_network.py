"""`cwh_access: network`: hosts audited from the runner alone, with no WinRM variables needed,
and the combinations that cannot work refused with the file, host and key named."""

from __future__ import annotations

import textwrap

import pytest

from cwh.errors import ConfigError
from cwh.inventory import load_inventory


def load(tmp_path, text: str):
    path = tmp_path / "hosts.yml"
    path.write_text(textwrap.dedent(text))
    return path, load_inventory(path, environ={"PUBLIC_IP": "203.0.113.10"})


def test_a_network_host_needs_no_winrm_variables(tmp_path):
    _, inventory = load(tmp_path, """\
        all:
          hosts:
            sc-public:
              cwh_access: network
              cwh_web_url: https://support.example.com/
              ansible_host: "{{ lookup('env', 'PUBLIC_IP') }}"
        """)
    [target] = inventory.targets
    assert target.network_only and target.connection.address == "203.0.113.10"
    assert target.connection.user == "" and target.connection.password == ""


def test_group_credentials_and_other_connections_do_not_matter(tmp_path):
    _, inventory = load(tmp_path, """\
        all:
          vars: {ansible_user: auditor, ansible_password: x, ansible_port: 5986}
          hosts:
            sc01: {}
            edge: {cwh_access: network, cwh_web_url: "https://support.example.com/",
                   ansible_connection: local}
        """)
    targets = {t.name: t for t in inventory.targets}
    assert not targets["sc01"].network_only and targets["edge"].network_only
    assert targets["edge"].connection.port == 0


def test_only_network_hosts_is_enough(tmp_path):
    _, inventory = load(tmp_path, """\
        all:
          hosts:
            a: {cwh_access: network, cwh_web_url: "https://a.example.com/"}
        """)
    assert [t.name for t in inventory.targets] == ["a"]


@pytest.mark.parametrize(("variables", "message"), [
    ("cwh_access: network", "host edge: cwh_access: network needs cwh_web_url"),
    ("cwh_access: network\n      cwh_web_url: https://e/\n      cwh_expected_hostname: SC01",
     "host edge: cwh_expected_hostname needs host access (WinRM)"),
    ("cwh_access: network\n      cwh_web_url: https://e/\n      cwh_lab_fault: refuse",
     "host edge: cwh_lab_fault needs host access"),
    ("cwh_access: ssh", "host edge: cwh_access must be one of winrm, network"),
    ("cwh_acess: network", "did you mean cwh_access"),
    ("cwh_lab_port_map: {8040: nope}", "cwh_lab_port_map has an invalid entry"),
])
def test_combinations_that_cannot_work_stop_the_run(tmp_path, variables, message):
    text = "all:\n  vars: {ansible_user: a, ansible_password: b}\n  hosts:\n    edge:\n      " + \
        variables + "\n"
    path = tmp_path / "hosts.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_inventory(path, environ={})
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_the_collector_cli_never_contacts_a_network_host(tmp_path, monkeypatch, capsys):
    from cwh.collect import __main__ as collect_cli

    def no_contact(*args, **kwargs):
        raise AssertionError("a network-only host was contacted")

    monkeypatch.setattr(collect_cli, "collect_host", no_contact)
    path, _ = load(tmp_path, """\
        all:
          hosts:
            edge: {cwh_access: network, cwh_web_url: "https://support.example.com/"}
        """)
    assert collect_cli.main(["--inventory", str(path)]) == 0
    assert "SKIP edge: cwh_access: network" in capsys.readouterr().err
