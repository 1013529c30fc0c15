"""cwh.inventory: Ansible-style YAML -> targets, merged the way Ansible merges, validated with the
file, host and key named in every error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cwh.errors import ConfigError
from cwh.inventory import (
    PASSWORD_ENV,
    Inventory,
    Target,
    check_files,
    load_inventory,
    target_from_url,
)

CREDS = "    ansible_user: auditor\n    ansible_password: lab-pass\n"


def write(tmp_path: Path, text: str, name: str = "hosts.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, **kwargs) -> Inventory:
    kwargs.setdefault("environ", {})
    return load_inventory(write(tmp_path, text), **kwargs)


def one(tmp_path: Path, host_vars: str, group_vars: str = "", **kwargs) -> Target:
    """An inventory with one host `sc01`; host_vars / group_vars are YAML lines."""
    text = "all:\n  vars:\n" + CREDS + textwrap.indent(textwrap.dedent(group_vars), "    ") + \
        "  hosts:\n    sc01:\n" + textwrap.indent(textwrap.dedent(host_vars), "      ")
    [target] = load(tmp_path, text, **kwargs).targets
    return target


def error(tmp_path: Path, host_vars: str, group_vars: str = "", **kwargs) -> str:
    with pytest.raises(ConfigError) as caught:
        one(tmp_path, host_vars, group_vars, **kwargs)
    message = str(caught.value)
    assert str(tmp_path / "hosts.yml") in message
    return message


def by_name(inventory: Inventory) -> dict[str, Target]:
    return {t.name: t for t in inventory.targets}


# --- merge order ----------------------------------------------------------------------------

NESTED = """\
all:
  vars:
    ansible_user: auditor
    ansible_password: lab-pass
    cwh_marking: from-all
    cwh_cert_warn_days: 1
    cwh_relay_port: 1
    cwh_probe_timeout_sec: 1
  children:
    screenconnect:
      vars:
        cwh_marking: from-parent
        cwh_cert_warn_days: 2
        cwh_relay_port: 2
      children:
        sc_prod:
          vars:
            cwh_marking: from-child
            cwh_cert_warn_days: 3
          hosts:
            sc01:
              cwh_marking: from-host
            sc02:
"""


def test_all_then_parent_then_child_then_host(tmp_path: Path) -> None:
    targets = by_name(load(tmp_path, NESTED))
    sc01, sc02 = targets["sc01"], targets["sc02"]
    assert sc01.var("cwh_marking") == "from-host"
    assert sc02.var("cwh_marking") == "from-child"
    assert sc01.var("cwh_cert_warn_days") == 3
    assert sc01.var("cwh_relay_port") == 2
    assert sc01.var("cwh_probe_timeout_sec") == 1
    assert set(sc01.groups) == {"screenconnect", "sc_prod"}
    assert "all" not in sc01.groups


def test_inventory_groups_include_children(tmp_path: Path) -> None:
    inventory = load(tmp_path, NESTED)
    assert inventory.groups["screenconnect"] == {"sc01", "sc02"}
    assert inventory.groups["all"] == {"sc01", "sc02"}


SIBLINGS = """\
all:
  vars:
    ansible_user: auditor
    ansible_password: lab-pass
  children:
    zeta:
      vars: {cwh_marking: zeta}
      hosts: {h1: , h2: , h3: }
    alpha:
      vars: {cwh_marking: alpha, ansible_group_priority: 10}
      hosts: {h1: }
    beta:
      vars: {cwh_marking: beta}
      hosts: {h2: }
    parent:
      vars: {cwh_marking: parent, ansible_group_priority: 99}
      hosts: {h3: }
      children:
        child:
          vars: {cwh_marking: child}
          hosts: {h3: }
"""


def test_siblings_merge_by_priority_then_name(tmp_path: Path) -> None:
    targets = by_name(load(tmp_path, SIBLINGS))
    assert targets["h1"].var("cwh_marking") == "alpha"  # priority 10 beats the later name
    assert targets["h2"].var("cwh_marking") == "zeta"  # same priority: zeta sorts after beta


def test_depth_beats_priority(tmp_path: Path) -> None:
    targets = by_name(load(tmp_path, SIBLINGS))
    assert targets["h3"].var("cwh_marking") == "child"


def test_host_in_several_groups_merges_all_its_entries(tmp_path: Path) -> None:
    targets = by_name(load(tmp_path, """\
        all:
          vars: {ansible_user: auditor, ansible_password: lab-pass}
          children:
            web:
              hosts:
                sc01: {ansible_host: 10.0.0.5}
            relay:
              hosts:
                sc01: {cwh_relay_port: 8041}
        """))
    sc01 = targets["sc01"]
    assert sc01.connection.address == "10.0.0.5"
    assert sc01.var("cwh_relay_port") == 8041
    assert sorted(sc01.groups) == ["relay", "web"]


def test_top_level_groups_beside_all(tmp_path: Path) -> None:
    targets = by_name(load(tmp_path, """\
        all:
          vars: {ansible_user: auditor, ansible_password: lab-pass, cwh_marking: from-all}
          hosts:
            sc01:
        web:
          vars: {cwh_marking: from-web}
          hosts:
            sc02:
        """))
    assert set(targets) == {"sc01", "sc02"}
    assert targets["sc01"].var("cwh_marking") == "from-all"
    assert targets["sc02"].var("cwh_marking") == "from-web"
    assert targets["sc02"].groups == ("web",)


def test_inventory_without_all(tmp_path: Path) -> None:
    targets = by_name(load(tmp_path, """\
        screenconnect:
          vars: {ansible_user: auditor, ansible_password: lab-pass}
          hosts:
            sc01:
        """))
    assert list(targets) == ["sc01"]
    assert targets["sc01"].groups == ("screenconnect",)


def test_group_containing_itself_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, """\
            all:
              children:
                loop:
                  children:
                    loop: {}
            """)
    assert str(caught.value) == (f"inventory {tmp_path / 'hosts.yml'}: group loop contains "
                                 "itself (all > loop)")


@pytest.mark.parametrize(("text", "fragment"), [
    ("all:\n  hosts: [sc01]\n", "'hosts' must be a mapping"),
    ("all:\n  host:\n    sc01:\n", "unknown key 'host'"),
    ("all:\n  hosts:\n    sc01: 10.0.0.5\n", "host sc01: its variables must be a mapping"),
    ("all: [\n", "not valid YAML"),
    ("- sc01\n", "expected a mapping"),
])
def test_structural_errors_name_the_file(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert fragment in str(caught.value)
    assert str(tmp_path / "hosts.yml") in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_inventory(tmp_path / "missing.yml", environ={})


# --- --limit ----------------------------------------------------------------------------------

FLEET = """\
all:
  vars: {ansible_user: auditor, ansible_password: lab-pass}
  children:
    prod:
      hosts: {sc-prod-01: , sc-prod-02: }
    test:
      hosts: {sc-test-01: }
"""


@pytest.mark.parametrize(("limit", "expected"), [
    ("sc-test-01", ["sc-test-01"]),
    ("sc-prod-*", ["sc-prod-01", "sc-prod-02"]),
    ("prod", ["sc-prod-01", "sc-prod-02"]),
    ("prod,sc-test-01", ["sc-prod-01", "sc-prod-02", "sc-test-01"]),
    ("all,!prod", ["sc-test-01"]),
    ("!sc-prod-01", ["sc-prod-02", "sc-test-01"]),
    ("p*,!*-02", ["sc-prod-01"]),
    (" test , ", ["sc-test-01"]),
])
def test_limit(tmp_path: Path, limit: str, expected: list[str]) -> None:
    inventory = load(tmp_path, FLEET, limit=limit)
    assert [t.name for t in inventory.targets] == expected


def test_limit_matching_nothing_is_an_error_naming_the_pattern(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, FLEET, limit="prod,sc-staging-*")
    assert "'sc-staging-*' matches no host or group" in str(caught.value)
    assert str(tmp_path / "hosts.yml") in str(caught.value)


def test_limit_excluding_everything_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no WinRM hosts matching --limit !all"):
        load(tmp_path, FLEET, limit="!all")


def test_empty_limit_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no pattern"):
        load(tmp_path, FLEET, limit=" , ")


# --- secrets and templating ------------------------------------------------------------------

@pytest.mark.parametrize("template", [
    "\"{{ lookup('env', 'SC_WINRM_PW') }}\"",
    "'{{ lookup(\"env\", \"SC_WINRM_PW\") }}'",
    "\"{{lookup('env','SC_WINRM_PW')}}\"",
])
def test_password_from_environment(tmp_path: Path, template: str) -> None:
    target = one(tmp_path, f"ansible_password: {template}\n",
                 environ={"SC_WINRM_PW": "from-env-Ü"})
    assert target.connection.password == "from-env-Ü"


def test_unset_environment_variable_is_named(tmp_path: Path) -> None:
    message = error(tmp_path, "ansible_password: \"{{ lookup('env', 'SC_WINRM_PW') }}\"\n")
    assert "host sc01" in message
    assert "ansible_password reads environment variable SC_WINRM_PW, which is not set" in message


def test_lookup_works_for_any_connection_variable(tmp_path: Path) -> None:
    target = one(tmp_path, "ansible_host: \"{{ lookup('env', 'SC_ADDR') }}\"\n",
                 environ={"SC_ADDR": "10.9.8.7"})
    assert target.connection.address == "10.9.8.7"


@pytest.mark.parametrize("value", [
    "\"{{ vault_winrm_password }}\"",
    "\"{{ lookup('file', '/etc/winrm.pw') }}\"",
    "\"prefix-{{ lookup('env', 'X') }}\"",
])
def test_other_jinja_is_an_error(tmp_path: Path, value: str) -> None:
    message = error(tmp_path, f"ansible_password: {value}\n")
    assert "host sc01" in message and "ansible_password" in message
    assert "only \"{{ lookup('env', 'NAME') }}\" templating is supported" in message


def test_jinja_in_a_suite_variable_is_an_error(tmp_path: Path) -> None:
    error(tmp_path, "cwh_probe_address: \"{{ ansible_host }}\"\n")


def test_vault_value_is_a_clear_error(tmp_path: Path) -> None:
    text = ("all:\n  vars:\n    ansible_user: auditor\n    ansible_password: !vault |\n"
            "      $ANSIBLE_VAULT;1.1;AES256\n      6231343331363834\n  hosts:\n    sc01:\n")
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert str(tmp_path / "hosts.yml") in message
    assert "line 4" in message
    assert "Ansible Vault values (!vault) are not supported" in message
    assert "lookup('env', 'NAME')" in message


def test_unsafe_tag_is_a_plain_string(tmp_path: Path) -> None:
    target = one(tmp_path, "ansible_password: !unsafe 'p%ss'\n")
    assert target.connection.password == "p%ss"


def test_unsafe_tag_is_never_templated(tmp_path: Path) -> None:
    target = one(tmp_path, "ansible_password: !unsafe 'p{{ss'\n")
    assert target.connection.password == "p{{ss"


# --- suite variables --------------------------------------------------------------------------

def test_unknown_suite_variable_suggests_the_right_one(tmp_path: Path) -> None:
    message = error(tmp_path, "cwh_aproved_admins: [adm-jdoe]\n")
    assert "host sc01" in message
    assert "unknown suite variable cwh_aproved_admins; did you mean cwh_approved_admins?" in \
        message


def test_unknown_suite_variable_in_group_vars_names_the_host(tmp_path: Path) -> None:
    message = error(tmp_path, "", group_vars="cwh_min_pasword_length: 12\n")
    assert "host sc01" in message and "did you mean cwh_min_password_length" in message


@pytest.mark.parametrize(("line", "fragment"), [
    ("cwh_min_password_length: '14'", "cwh_min_password_length must be a whole number"),
    ("cwh_min_password_length: true", "cwh_min_password_length must be a whole number"),
    ("cwh_min_password_length: 0", "cwh_min_password_length must be between 1 and 128"),
    ("cwh_min_password_length: 129", "cwh_min_password_length must be between 1 and 128"),
    ("cwh_approved_admins: adm-jdoe", "cwh_approved_admins must be a list of non-empty strings"),
    ("cwh_approved_admins: [adm-jdoe, '']", "cwh_approved_admins must be a list"),
    ("cwh_approved_admins: [500]", "cwh_approved_admins must be a list"),
    ("cwh_admin_name_pattern: 'adm-('", "cwh_admin_name_pattern is not a valid regular expr"),
    ("cwh_admin_name_pattern: [adm]", "cwh_admin_name_pattern must be a regular expression"),
    ("cwh_guide_only: CWH-PWD-01", "cwh_guide_only must be a list"),
    ("cwh_attestations: [CWH-ACCT-02]", "cwh_attestations must be a mapping"),
    ("cwh_web_url: ftp://sc.example.com", "cwh_web_url must be an http:// or https:// URL"),
    ("cwh_tls_front_end: maybe", "cwh_tls_front_end must be true or false"),
    ("cwh_port_map: {445: 70000}", "cwh_port_map has an invalid entry 445: 70000"),
    ("cwh_port_map: [445]", "cwh_port_map must map a port"),
    ("cwh_role: Server", "cwh_role must be one of None, Workstation"),
    ("cwh_cert_warn_days: -1", "cwh_cert_warn_days must be between 0 and 3650"),
    ("cwh_marking: ''", "cwh_marking must be a non-empty string"),
])
def test_bad_suite_variable_types(tmp_path: Path, line: str, fragment: str) -> None:
    message = error(tmp_path, line + "\n")
    assert "host sc01" in message
    assert fragment in message


def test_valid_suite_variables_are_kept(tmp_path: Path) -> None:
    target = one(tmp_path, """\
        cwh_min_password_length: 12
        cwh_approved_admins: [Administrator, 'SC01\\adm-jdoe']
        cwh_admin_name_pattern: 'adm-.*'
        cwh_port_map: {445: 10445}
        cwh_tls_front_end: false
        cwh_web_url: https://sc.example.com/
        cwh_command_timeout_sec: 300
        """)
    assert target.var("cwh_min_password_length") == 12
    assert target.var("cwh_approved_admins") == ["Administrator", "SC01\\adm-jdoe"]
    assert target.var("cwh_tls_front_end") is False
    assert target.connection.command_timeout_sec == 300


def test_guide_only_naming_an_unknown_control(tmp_path: Path) -> None:
    known = {"CWH-PWD-01", "CWH-TLS-01"}
    assert one(tmp_path, "cwh_guide_only: [CWH-PWD-01]\n", known_controls=known)
    message = error(tmp_path, "cwh_guide_only: [CWH-PWD-99]\n", known_controls=known)
    assert "host sc01" in message
    assert "cwh_guide_only names unknown control CWH-PWD-99" in message
    message = error(tmp_path, "cwh_attestations: {CWH-ACCT-03: {}}\n", known_controls=known)
    assert "cwh_attestations names unknown control CWH-ACCT-03" in message


def test_non_suite_variables_are_not_validated(tmp_path: Path) -> None:
    target = one(tmp_path, "site_owner: ops\nansible_python_interpreter: /usr/bin/python3\n")
    assert target.var("site_owner") == "ops"


# --- connection settings ------------------------------------------------------------------------

@pytest.mark.parametrize(("host_vars", "scheme", "port"), [
    ("ansible_port: 5985\n", "http", 5985),
    ("ansible_port: 5986\n", "https", 5986),
    ("ansible_port: 443\n", "https", 443),
    ("ansible_port: '5985'\n", "http", 5985),
    ("", "https", 5986),
    ("ansible_port: 8080\nansible_winrm_scheme: http\n", "http", 8080),
    ("ansible_port: 5985\nansible_winrm_scheme: https\n", "https", 5985),
])
def test_scheme_follows_ansible_default(tmp_path: Path, host_vars: str, scheme: str,
                                        port: int) -> None:
    connection = one(tmp_path, host_vars + "ansible_host: 10.0.0.5\n").connection
    assert (connection.scheme, connection.port) == (scheme, port)
    assert connection.endpoint == f"{scheme}://10.0.0.5:{port}/wsman"


def test_ipv6_endpoint_is_bracketed(tmp_path: Path) -> None:
    connection = one(tmp_path, "ansible_host: 'fd00::5'\nansible_port: 5985\n").connection
    assert connection.endpoint == "http://[fd00::5]:5985/wsman"


def test_address_defaults_to_the_inventory_name(tmp_path: Path) -> None:
    assert one(tmp_path, "").connection.address == "sc01"


@pytest.mark.parametrize(("host_vars", "fragment"), [
    ("ansible_winrm_transport: negotiate", "ansible_winrm_transport must be one of ntlm"),
    ("ansible_winrm_scheme: ftp", "ansible_winrm_scheme must be http or https, got 'ftp'"),
    ("ansible_port: 70000", "ansible_port must be between 1 and 65535, got 70000"),
    ("ansible_port: winrm", "ansible_port must be a whole number, got 'winrm'"),
    # review of issue 10, M1: a port is a whole number as written, ASCII digits only
    ("ansible_port: 5985.0", "ansible_port must be a whole number, got 5985.0"),
    ("ansible_port: '5985.0'", "ansible_port must be a whole number, got '5985.0'"),
    ("ansible_port: '59_85'", "ansible_port must be a whole number, got '59_85'"),
    ("ansible_port: ' 5985'", "ansible_port must be a whole number, got ' 5985'"),
    ("ansible_port: \"\\uff15\\uff19\\uff18\\uff15\"", "ansible_port must be a whole number"),
    ("ansible_winrm_read_timeout_sec: 30.0", "ansible_winrm_read_timeout_sec must be a whole"),
    ("ansible_winrm_server_cert_validation: off", "must be validate or ignore"),
    ("ansible_winrm_read_timeout_sec: 20\nansible_winrm_operation_timeout_sec: 20",
     "ansible_winrm_read_timeout_sec (20) must exceed ansible_winrm_operation_timeout_sec (20)"),
    ("ansible_winrm_read_timeout_sec: 30\nansible_winrm_operation_timeout_sec: 40",
     "must exceed ansible_winrm_operation_timeout_sec (40)"),
    ("ansible_winrm_read_timeout_sec: 1", "ansible_winrm_read_timeout_sec must be between 2"),
    ("ansible_winrm_transport: certificate",
     "certificate transport needs ansible_winrm_cert_pem and ansible_winrm_cert_key_pem"),
])
def test_bad_connection_settings(tmp_path: Path, host_vars: str, fragment: str) -> None:
    message = error(tmp_path, host_vars + "\n")
    assert "host sc01" in message
    assert fragment in message


def test_transport_list_takes_the_first(tmp_path: Path) -> None:
    connection = one(tmp_path, "ansible_winrm_transport: [kerberos, ntlm]\n").connection
    assert connection.transport == "kerberos"


def test_timeouts_are_read(tmp_path: Path) -> None:
    connection = one(tmp_path, "ansible_winrm_read_timeout_sec: 90\n"
                               "ansible_winrm_operation_timeout_sec: 60\n").connection
    assert (connection.read_timeout_sec, connection.operation_timeout_sec) == (90, 60)


def test_missing_password_mentions_the_environment_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "all:\n  vars:\n    ansible_user: auditor\n  hosts:\n    sc01:\n")
    with pytest.raises(ConfigError) as caught:
        load_inventory(path, environ={})
    message = str(caught.value)
    assert str(path) in message and "host sc01" in message
    assert PASSWORD_ENV in message and "CWH_WINRM_PASSWORD" in message
    [target] = load_inventory(path, environ={PASSWORD_ENV: "from-env"}).targets
    assert target.connection.password == "from-env"


def test_missing_user_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "all:\n  vars:\n    ansible_password: pw\n  hosts:\n    sc01:\n")
    with pytest.raises(ConfigError, match="host sc01: ansible_user is not set"):
        load_inventory(path, environ={})


def test_kerberos_needs_no_password(tmp_path: Path) -> None:
    path = write(tmp_path, "all:\n  hosts:\n    sc01:\n      ansible_winrm_transport: kerberos\n")
    [target] = load_inventory(path, environ={}).targets
    assert target.connection.transport == "kerberos" and target.connection.password == ""


def test_password_is_not_in_the_repr(tmp_path: Path) -> None:
    target = one(tmp_path, "ansible_password: Zebra-Staple-42\n")
    assert "Zebra-Staple-42" not in repr(target)
    assert "Zebra-Staple-42" not in repr(target.connection)


def test_non_winrm_hosts_are_skipped(tmp_path: Path) -> None:
    inventory = load(tmp_path, """\
        all:
          vars: {ansible_user: auditor, ansible_password: lab-pass}
          hosts:
            sc01:
            jump01: {ansible_connection: ssh}
            dc01: {ansible_connection: psrp}
        """)
    assert [t.name for t in inventory.targets] == ["sc01"]


def test_only_non_winrm_hosts_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no WinRM hosts"):
        load(tmp_path, "all:\n  hosts:\n    jump01: {ansible_connection: ssh}\n")


# --- files -------------------------------------------------------------------------------------

def test_relative_paths_resolve_against_the_inventory(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    target = one(tmp_path, "ansible_winrm_ca_trust_path: certs/winrm-ca.pem\n"
                           "cwh_ca_bundle: ../bundle.pem\n")
    expected = str((tmp_path / "certs" / "winrm-ca.pem").resolve())
    assert target.connection.ca_trust_path == expected
    assert target.var("ansible_winrm_ca_trust_path") == expected
    assert target.var("cwh_ca_bundle") == str((tmp_path.parent / "bundle.pem").resolve())


def test_absolute_paths_stay(tmp_path: Path) -> None:
    target = one(tmp_path, "ansible_winrm_ca_trust_path: /etc/ssl/winrm-ca.pem\n")
    assert target.connection.ca_trust_path == "/etc/ssl/winrm-ca.pem"


def test_check_files(tmp_path: Path) -> None:
    target = one(tmp_path, "ansible_winrm_ca_trust_path: certs/winrm-ca.pem\n")
    with pytest.raises(ConfigError) as caught:
        check_files(str(tmp_path / "hosts.yml"), target)
    message = str(caught.value)
    assert str(tmp_path / "hosts.yml") in message and "host sc01" in message
    assert "ansible_winrm_ca_trust_path" in message and "does not exist" in message
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "winrm-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    check_files(str(tmp_path / "hosts.yml"), target)  # now present: no error


# --- target_from_url ----------------------------------------------------------------------------

def test_url_with_everything() -> None:
    target = target_from_url(
        "winrm://CORP%5Cauditor:p%40ss%3Aw0rd@10.0.0.5:5985?no_ssl=true&transport=basic"
        "&read_timeout_sec=60&operation_timeout_sec=50", environ={})
    c = target.connection
    assert (c.user, c.password) == ("CORP\\auditor", "p@ss:w0rd")
    assert (c.address, c.port, c.scheme, c.transport) == ("10.0.0.5", 5985, "http", "basic")
    assert (c.read_timeout_sec, c.operation_timeout_sec) == (60, 50)
    assert c.server_cert_validation == "validate"
    assert target.name == "10.0.0.5" and target.groups == ()


def test_url_defaults_to_https_5986() -> None:
    c = target_from_url("winrm://auditor:pw@sc01.example.com", environ={}).connection
    assert (c.scheme, c.port, c.transport) == ("https", 5986, "ntlm")
    assert target_from_url("winrm://auditor:pw@sc01?no_ssl=true",
                           environ={}).connection.port == 5985


def test_url_no_verify_ssl() -> None:
    c = target_from_url("winrm://auditor:pw@sc01?no_verify_ssl=true", environ={}).connection
    assert c.server_cert_validation == "ignore"


def test_url_password_from_environment() -> None:
    c = target_from_url("winrm://auditor@sc01", environ={PASSWORD_ENV: "env-pw"}).connection
    assert c.password == "env-pw"
    with pytest.raises(ConfigError, match=PASSWORD_ENV):
        target_from_url("winrm://auditor@sc01", environ={})


@pytest.mark.parametrize("url", ["ssh://auditor@sc01", "winrm:///nohost", "sc01"])
def test_url_must_be_winrm(url: str) -> None:
    with pytest.raises(ConfigError, match="expected winrm://user@host:port"):
        target_from_url(url, environ={})


def test_url_errors_never_show_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        target_from_url("winrm://auditor:Sekr1t-Zebra@sc01?transport=negotiate", environ={})
    assert "Sekr1t-Zebra" not in str(caught.value)
    assert "--hosts winrm://sc01" in str(caught.value)


@pytest.mark.parametrize("url", ["winrm://auditor:pw@sc01:winrm", "winrm://auditor:pw@sc01:99999"])
def test_url_with_a_bad_port_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="--hosts winrm://sc01"):
        target_from_url(url, environ={})


def test_bundled_example_inventory_loads() -> None:
    from cwh.catalog.model import load_catalog

    path = Path(__file__).resolve().parents[2] / "inventory" / "example.yml"
    inventory = load_inventory(path, known_controls=load_catalog().ids,
                               environ={"CWH_WINRM_PASSWORD": "from-the-environment"})
    names = {t.name for t in inventory.targets}
    assert names == {"sc01.corp.example", "sc02.corp.example", "cwa01.corp.example"}
    sc02 = next(t for t in inventory.targets if t.name == "sc02.corp.example")
    assert sc02.connection.password == "from-the-environment"
    assert sc02.connection.endpoint == "https://10.20.30.41:5986/wsman"


# --- what YAML makes of unquoted names and values (issue 10, item 8) --------------------------

def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    message = str(caught.value)
    assert message.startswith(f"inventory {tmp_path / 'hosts.yml'}: ")
    assert "\n" not in message and "lab-pass" not in message
    return message


@pytest.mark.parametrize("name, shown, kind", [
    ("10", "10", "a number"),
    ("010", "8", "a number"),  # YAML 1.1 octal: quoting it back would audit host 8
    ("1.5", "1.5", "a number"),
    ("yes", "True", "true/false"),
    ("2026-01-01", "datetime.date(2026, 1, 1)", "a date"),
    ("~", "None", "empty"),
])
def test_a_host_name_yaml_reads_as_something_else_is_an_error(tmp_path: Path, name: str,
                                                               shown: str, kind: str) -> None:
    message = _error(tmp_path, f"all:\n  vars:\n{CREDS}  hosts:\n    {name}: {{}}\n    sc01:\n")
    assert message.endswith(f"group all: hosts: host name {shown} is not text (YAML read it as "
                            f"{kind}): quote the name")


def test_a_quoted_numeric_host_name_is_a_host(tmp_path: Path) -> None:
    inventory = load(tmp_path, f"all:\n  vars:\n{CREDS}  hosts:\n    '10': {{}}\n    '010':\n")
    assert sorted(by_name(inventory)) == ["010", "10"]


@pytest.mark.parametrize("where, text", [
    ("host sc01", "all:\n  vars:\n" + CREDS + "  hosts:\n    sc01: {5: x}\n"),
    ("group all: vars", "all:\n  vars:\n" + CREDS + "    5: x\n  hosts:\n    sc01:\n"),
    ("group web: vars", "all:\n  vars:\n" + CREDS + "  children:\n    web:\n      vars: {5: x}\n"
                        "      hosts: {sc01: }\n"),
])
def test_a_numeric_variable_name_is_an_error(tmp_path: Path, where: str, text: str) -> None:
    assert _error(tmp_path, text).endswith(f"{where}: variable name 5 is not text (YAML read it "
                                           "as a number): quote the name")


@pytest.mark.parametrize("text, fragment", [
    ("all:\n  children:\n    7: {hosts: {sc01: }}\n", "group all: children: group name 7"),
    ("7:\n  hosts: {sc01: }\n", "top level: group name 7"),
    ("all:\n  hosts: {sc01: }\n  7: x\n  true: y\n", "group all has unknown key '7'"),
    ("all: [a]\nweb: {hosts: {sc01: }}\n", "group all must be a mapping"),
])
def test_numeric_group_names_and_keys_are_errors(tmp_path: Path, text: str,
                                                 fragment: str) -> None:
    assert fragment in _error(tmp_path, text)


@pytest.mark.parametrize("line, fragment", [
    ("ansible_host: 17", "ansible_host must be text, not a number"),
    ("ansible_host: [a, b]", "ansible_host must be text, not a list"),
    ("ansible_winrm_ca_trust_path: 5", "ansible_winrm_ca_trust_path must be text"),
    # 012345 would be sent as 5349: the wrong password, and a locked-out account
    ("ansible_password: 012345", "ansible_password must be text, not a number: quote it"),
    ("ansible_password: !!binary aGVsbG8=", "ansible_password must be text, not a bytes"),
    ("ansible_password: {a: 1}", "ansible_password must be text, not a dict"),
    ("ansible_user: [auditor]", "ansible_user must be text, not a list"),
])
def test_addresses_accounts_passwords_and_paths_must_be_text(tmp_path: Path, line: str,
                                                             fragment: str) -> None:
    message = error(tmp_path, line + "\n")
    assert "host sc01" in message and fragment in message


def test_an_impossible_date_is_kept_as_text_for_its_check(tmp_path: Path) -> None:
    target = one(tmp_path, "cwh_attestations:\n  CWH-ACCT-02: {status: Open, by: X, "
                 "date: 2026-02-30}\ncwh_marking: 2026-02-31\n")
    assert target.var("cwh_attestations")["CWH-ACCT-02"]["date"] == "2026-02-30"
    assert target.var("cwh_marking") == "2026-02-31"
    message = error(tmp_path, "cwh_cert_warn_days: 2026-02-30\n")
    assert "host sc01: cwh_cert_warn_days must be a whole number" in message


def test_an_alias_bomb_names_the_host_and_key(tmp_path: Path) -> None:
    levels = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    levels += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    message = _error(tmp_path, f"all:\n  vars:\n{CREDS}  hosts:\n    sc01:\n"
                     f"      cwh_approved_admins: [{', '.join(levels)}]\n")
    assert "line 7 (all > hosts > sc01 > cwh_approved_admins): YAML aliases expand" in message
    assert "(an alias bomb?)" in message


def test_a_recursive_alias_is_an_error(tmp_path: Path) -> None:
    message = _error(tmp_path, f"all:\n  vars:\n{CREDS}  hosts:\n    sc01:\n"
                     "      cwh_approved_admins: &a [*a]\n")
    assert "line 7: a YAML alias refers to a node that contains it" in message


def test_merge_keys_keep_working(tmp_path: Path) -> None:
    inventory = load(tmp_path, "all:\n  vars:\n" + CREDS +
                     "    common: &common {ansible_port: 5985, cwh_approved_admins: [Admin]}\n"
                     "  hosts:\n    a: {<<: *common, ansible_host: 10.0.0.1}\n"
                     "    b: {<<: *common}\n")
    a, b = by_name(inventory)["a"], by_name(inventory)["b"]
    assert a.connection.port == b.connection.port == 5985
    assert a.var("cwh_approved_admins") == b.var("cwh_approved_admins") == ["Admin"]


@pytest.mark.parametrize("content, problem", [
    (b"all:\n  hosts: {sc01: }\n  \xff\xfe: x\n", "not UTF-8 text (byte 26)"),
    (b"all: {hosts: {sc01: }}\x00\n",
     "character 23: not valid YAML (special characters are not allowed)"),
])
def test_undecodable_or_unprintable_files_are_one_line(tmp_path: Path, content: bytes,
                                                       problem: str) -> None:
    path = tmp_path / "hosts.yml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_inventory(path, environ={})
    assert str(caught.value) == f"inventory {path}: {problem}"


def test_an_unforeseen_failure_is_one_line_without_its_details(tmp_path: Path,
                                                                monkeypatch) -> None:
    """The last resort: a shape no check foresaw still stops the run with one line, and the
    exception's text (which can quote a value) stays out of it."""
    def explode(*args, **kwargs):
        raise TypeError("unorderable: 'lab-pass' < 7")

    monkeypatch.setattr("cwh.inventory._merged_vars", explode)
    message = _error(tmp_path, f"all:\n  vars:\n{CREDS}  hosts:\n    sc01:\n")
    assert message.endswith("cannot be understood (TypeError while reading it; please report "
                            "this)")
