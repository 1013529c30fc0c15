"""Whose facts are these: the inventory's claim against the identity a host reports."""

from __future__ import annotations

import pytest

from cwh.identity import (
    Arrived,
    audited_twice,
    check_identity,
    claim_for,
    match_name,
    same_machine,
)

WORKGROUP = {"computer_name": "SC-HARDENED", "dns_host_name": "sc-hardened",
             "domain": "WORKGROUP", "part_of_domain": False,
             "ip_addresses": ["10.20.30.11", "fe80::5d1:7a2c:90e3:41b7"],
             "mac_addresses": ["00:15:5D:0A:1E:0B"]}
JOINED = {**WORKGROUP, "computer_name": "SC01", "dns_host_name": "sc01",
          "domain": "corp.example.com", "part_of_domain": True, "ip_addresses": "10.1.2.3"}


def check(host, address=None, expected=None, identity=WORKGROUP, unavailable=None):
    return check_identity(claim_for(host, address or host, expected), identity, unavailable)


# --- what the inventory claims --------------------------------------------------------------

@pytest.mark.parametrize("host, address, expected, name, source", [
    ("sc01", "sc01", None, "sc01", "the inventory name"),             # no ansible_host
    ("web1", "sc01.corp.example.com", None, "sc01.corp.example.com", "ansible_host"),  # alias
    ("sc01", "10.1.2.3", None, "sc01", "the inventory name"),
    ("10.1.2.3", "10.1.2.3", None, None, ""),                          # addresses only
    ("10.1.2.3", "127.0.0.5", None, None, ""),
    ("web1", "10.1.2.3", "SC01", "SC01", "cwh_expected_hostname"),    # it alone decides
    ("sc01", "sc01", "SC02", "SC02", "cwh_expected_hostname"),
])
def test_the_claim(host, address, expected, name, source):
    claim = claim_for(host, address, expected)
    assert (claim.name, claim.source) == (name, source)


def test_the_claims_addresses_are_the_ip_ones():
    assert claim_for("10.1.2.3", "[fe80::1%eth0]").addresses == ("10.1.2.3", "[fe80::1%eth0]")
    assert claim_for("sc01", "sc01.corp.example").addresses == ()


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    "SC-HARDENED", "sc-hardened", "Sc-Hardened", "sc-hardened.", "sc-hardened.lab.example",
    "SC-HARDENED.anything.example",  # a workgroup host has no DNS domain to compare
])
def test_names_that_match_a_workgroup_host(name):
    assert match_name(name, Arrived.read(WORKGROUP)) is None


@pytest.mark.parametrize("name, why", [
    ("sc-drifted", "neither its computer name nor its DNS host name"),
    ("sc-hardened2", "neither"),
    ("sc", "neither"),
    ("hardened", "neither"),
])
def test_names_that_do_not_match(name, why):
    assert why in match_name(name, Arrived.read(WORKGROUP))


@pytest.mark.parametrize("name, matches", [
    ("sc01", True), ("SC01", True), ("sc01.corp.example.com", True),
    ("SC01.CORP.EXAMPLE.COM.", True), ("sc01.other.example", False), ("sc01.corp", False),
])
def test_a_domain_member_must_be_in_the_named_domain(name, matches):
    assert (match_name(name, Arrived.read(JOINED)) is None) == matches


def test_a_long_dns_name_matches_though_netbios_cut_it_to_15_characters():
    long_name = {**WORKGROUP, "computer_name": "SCREENCONNECT-P",
                 "dns_host_name": "screenconnect-prod01"}
    assert match_name("screenconnect-prod01.corp.example", Arrived.read(long_name)) is None


# --- the check --------------------------------------------------------------------------------

def test_the_right_machine_is_confirmed_and_the_evidence_says_what_was_compared():
    result = check("lab-hardened", "127.0.0.11", "SC-HARDENED")
    assert result.confirmed
    assert result.compared.startswith("cwh_expected_hostname SC-HARDENED matches")
    assert "DNS host name sc-hardened" in result.compared


def test_ansible_host_pointing_at_another_machine_is_not_confirmed():
    result = check("sc-drifted", "10.20.30.11")
    assert not result.confirmed
    line = result.problem()
    assert line.startswith("sc-drifted: the facts that arrived are those of SC-HARDENED")
    assert "the inventory name sc-drifted is neither" in line
    assert "set cwh_expected_hostname: SC-HARDENED" in line
    assert "\n" not in line


def test_the_expected_hostname_overrides_a_matching_inventory_name():
    assert not check("sc-hardened", expected="SC-DRIFTED").confirmed
    assert check("web1", "10.9.9.9", expected="sc-hardened").confirmed


@pytest.mark.parametrize("host, address, confirmed", [
    ("10.20.30.11", "10.20.30.11", True),                     # its own address
    ("fe80::5d1:7a2c:90e3:41b7", "fe80::5d1:7a2c:90e3:41b7", True),
    ("FE80:0:0:0:5d1:7a2c:90e3:41b7", "fe80::5d1:7a2c:90e3:41b7", True),  # written another way
    ("10.20.30.11", "fe80::5d1:7a2c:90e3:41b7", True),        # both its own: two cards
    ("10.20.30.99", "127.0.0.11", False),                     # nothing confirms it
    # Reached through NAT: any machine can own 10.20.30.11 (private addresses repeat from
    # site to site), so the address it reports does not say it is the one the runner reached.
    ("10.20.30.11", "127.0.0.11", False),
    ("FE80:0:0:0:5d1:7a2c:90e3:41b7", "127.0.0.1", False),
    # An ansible_host that points at another machine: the machine owns the address the runner
    # connected to, not the one the inventory names the host by.
    ("10.20.30.99", "10.20.30.11", False),
])
def test_hosts_known_by_address_only(host, address, confirmed):
    result = check(host, address)
    assert result.confirmed == confirmed
    if not confirmed:
        assert "by address only" in result.compared and "NAT" in result.compared
        assert "set cwh_expected_hostname: SC-HARDENED" in result.problem()
        assert "\n" not in result.problem()


def test_an_address_the_host_does_not_own_is_named_in_the_reason():
    result = check("10.20.30.99", "10.20.30.11")
    assert "10.20.30.99 is not among the host's own addresses" in result.compared
    assert "10.20.30.11, fe80::5d1:7a2c:90e3:41b7" in result.compared  # what it does own


def test_an_ip_named_host_with_the_expected_hostname_is_confirmed_by_name():
    assert check("10.20.30.99", "127.0.0.11", "SC-HARDENED").confirmed


@pytest.mark.parametrize("identity, unavailable, why", [
    (None, "the facts document has no 'identity' section", "no 'identity' section"),
    ("SC-HARDENED", None, "not an object"),
    ({**WORKGROUP, "computer_name": None, "dns_host_name": None}, None, "names no computer"),
    ({**WORKGROUP, "computer_name": 7, "dns_host_name": ["a"]}, None, "names no computer"),
    ({**WORKGROUP, "computer_name": "  ", "dns_host_name": ""}, None, "names no computer"),
])
def test_a_missing_or_nameless_identity_is_never_confirmed(identity, unavailable, why):
    result = check("sc-hardened", expected="SC-HARDENED", identity=identity,
                   unavailable=unavailable)
    assert not result.confirmed and why in result.problem()
    assert "set cwh_expected_hostname" not in result.problem()  # no name to suggest


def test_hostile_names_stay_on_one_line():
    hostile = {**WORKGROUP, "computer_name": "EVIL\n\x1b[2JERROR ok", "dns_host_name": "x\r"}
    line = check("sc-hardened", identity=hostile).problem()
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "EVIL\\x0a\\x1b[2JERROR ok" in line


def test_unexpected_types_in_the_addresses_do_not_crash():
    odd = {**WORKGROUP, "ip_addresses": 170403851, "mac_addresses": [None, 5]}
    assert not check("10.20.30.11", identity=odd).confirmed
    assert check("sc-hardened", identity=odd).confirmed


# --- one machine, several inventory names -----------------------------------------------------

def test_two_inventory_hosts_reaching_one_machine_are_found():
    a = check("sc-hardened").to_dict()
    b = check("sc-hardened.lab.example").to_dict()
    other = check("sc01", identity=JOINED).to_dict()
    groups = same_machine({"sc-hardened": {"identity_check": a},
                           "sc-hardened.lab.example": {"identity_check": b},
                           "sc01": {"identity_check": other}, "down": {"host": "down"}})
    assert [g.hosts for g in groups] == [("sc-hardened", "sc-hardened.lab.example")]
    assert groups[0].line().startswith("same machine: sc-hardened, sc-hardened.lab.example "
                                       "all reached SC-HARDENED")


def test_same_name_but_other_network_cards_is_another_machine():
    clone = {**WORKGROUP, "mac_addresses": ["00:15:5D:0A:1E:FF"]}
    groups = same_machine({"a": {"identity_check": check("sc-hardened").to_dict()},
                           "b": {"identity_check": check("sc-hardened", identity=clone).to_dict()}})
    assert groups == []


def test_a_host_whose_identity_was_refused_still_counts_for_the_machine_it_reached():
    groups = same_machine({"sc-hardened": {"identity_check": check("sc-hardened").to_dict()},
                           "sc-drifted": {"identity_check": check("sc-drifted").to_dict()}})
    assert [g.hosts for g in groups] == [("sc-drifted", "sc-hardened")]


def test_a_long_group_is_one_short_line():
    assets = {f"h{i:03d}": {"identity_check": check("sc-hardened").to_dict()} for i in range(80)}
    line = same_machine(assets)[0].line()
    # bounded however many hosts: ten names, the count, and (confirmed twice) the way out
    assert "and 70 more" in line and "80 inventory hosts" in line and len(line) < 400


# --- the review of issue 10, finding 6: one machine confirmed as several hosts -----------------

def test_confirmed_twice_is_one_machine_audited_at_most_once():
    """Two inventory hosts whose facts both came, confirmed, from one machine: at most one of
    them was audited, the other's server perhaps never contacted (a copied ansible_host)."""
    assets = {"sc-a": {"identity_check": check("sc-a", expected="SC-HARDENED").to_dict()},
              "sc-b": {"identity_check": check("sc-b", expected="SC-HARDENED").to_dict()}}
    [group] = same_machine(assets)
    assert group.confirmed == ("sc-a", "sc-b")
    assert audited_twice(assets) == [group]
    line = group.line()
    assert "at most one was audited" in line and "exit code 6" in line
    assert "--limit" in line and "\n" not in line


def test_a_refused_namesake_is_no_second_audit():
    assets = {"sc-hardened": {"identity_check": check("sc-hardened").to_dict()},
              "sc-drifted": {"identity_check": check("sc-drifted").to_dict()}}
    [group] = same_machine(assets)
    assert group.confirmed == ("sc-hardened",) and audited_twice(assets) == []
    assert "at most one" not in group.line()  # reported, and sc-drifted is refused anyway
