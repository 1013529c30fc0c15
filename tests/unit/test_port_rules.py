"""Firewall rules read for any protocol and port range (TCP 443, UDP 70-74, TCP 40000-40050):
protocols by name and number, ranges, keywords, Block rules, and every ambiguity unknown."""

from __future__ import annotations

import pytest

from cwh.judge.address_scope import address_within, scope_within
from cwh.judge.port_rules import port_coverage, rule_protocol, span, span_view

ANY_SCOPE = {"remote_addresses": ["Any"], "local_addresses": ["Any"]}


def rule(name: str = "r", *, protocol: str | None = "TCP", ports=("Any",), enabled="True",
         action="Allow", profiles="Any", **scope: str | None) -> dict:
    """A rule as the collector gives it; program, service and interface type Any unless set."""
    return {"id": name, "display_name": name, "enabled": enabled, "action": action,
            "profiles": profiles, "protocol": protocol, "local_ports": list(ports),
            **{"program": "Any", "service": "Any", "interface_type": "Any", **scope}}


@pytest.mark.parametrize(("protocol", "expected"), [
    ("TCP", "TCP"), ("tcp", "TCP"), ("6", "TCP"), ("UDP", "UDP"), ("17", "UDP"), ("Any", "ANY"),
    ("ICMPv4", "OTHER"), ("ICMPv6", "OTHER"), ("47", "OTHER"), (None, None), ("", None),
    ("T\u0421P", None), ("\uff16", None),  # a Cyrillic letter, a fullwidth digit: unreadable
])
def test_protocols_by_name_and_number(protocol, expected) -> None:
    assert rule_protocol({"protocol": protocol}) == expected


@pytest.mark.parametrize(("ports", "asked", "covered"), [
    (["70-74"], span("UDP", 70, 74), {70, 71, 72, 73, 74}),
    (["72"], span("UDP", 70, 74), {72}),
    (["40000-40050"], span("TCP", 40010, 40020), set(range(40010, 40021))),
    (["39990-40005", "40049"], span("TCP", 40000, 40050), set(range(40000, 40006)) | {40049}),
    (["8002"], span("TCP", 8002), {8002}),
    (["8003"], span("TCP", 8002), set()),
    (["Any"], span("UDP", 75), {75}),
    (["RPCEPMap"], span("TCP", 135), {135}),
    (["RPCEPMap"], span("UDP", 135), set()),  # the endpoint mapper keyword is TCP only
    (["IPHTTPSIn"], span("TCP", 443), {443}),
])
def test_ports_ranges_and_fixed_keywords(ports, asked, covered) -> None:
    assert port_coverage({"local_ports": ports}, asked) == (covered, "")


@pytest.mark.parametrize(("ports", "asked", "why"), [
    (["Teredo"], span("UDP", 40000, 41000), "ports Windows assigns at run time"),
    (["RPC"], span("TCP", 8002), "ports Windows assigns at run time"),
    (["8040-"], span("TCP", 8040), "is not a port"),
    (["70000"], span("TCP", 70), "is not a port or a range"),
    (["80-70"], span("TCP", 75), "is not a port or a range"),
    (["\uff17\uff15"], span("UDP", 75), "not a port, a range or a known keyword"),
])
def test_what_cannot_be_read_exactly_is_ambiguous(ports, asked, why) -> None:
    assert why in port_coverage({"local_ports": ports}, asked)[1]


def test_a_dynamic_keyword_cannot_reach_ports_below_1025() -> None:
    assert port_coverage({"local_ports": ["Teredo"]}, span("UDP", 70, 74)) == (set(), "")


def test_a_udp_rule_does_not_open_tcp_and_any_opens_both() -> None:
    rules = [rule("udp", protocol="UDP", ports=["75"]), rule("any", protocol="Any", ports=["70"])]
    assert span_view(rules, span("TCP", 75)).allowed == set()
    assert span_view(rules, span("UDP", 75)).allowed == {75}
    assert span_view(rules, span("TCP", 70)).allowed == {70}


def test_disabled_rules_and_rules_of_other_profiles_do_not_count() -> None:
    rules = [rule("off", ports=["443"], enabled="False"),
             rule("domain", ports=["443"], profiles="Domain")]
    assert span_view(rules, span("TCP", 443), ("Private",)).allowed == set()
    assert span_view(rules, span("TCP", 443), ("Domain",)).allowed == {443}


@pytest.mark.parametrize("bad", [{"enabled": "Maybe"}, {"action": "NotConfigured"},
                                 {"profiles": ""}, {"protocol": None}])
def test_an_unreadable_rule_is_ambiguous_never_silent(bad) -> None:
    view = span_view([{**rule("odd", ports=["75"]), **bad}], span("TCP", 75))
    assert view.allowed == set() and [m.rule["id"] for m in view.uncertain_allow()] == ["odd"]


def test_a_block_rule_for_every_address_wins_one_for_some_does_not() -> None:
    rules = [rule("allow", ports=["3306"]), rule("block", ports=["3306"], action="Block")]
    scoped = {"allow": ANY_SCOPE, "block": {"remote_addresses": ["10.20.40.9"],
                                            "local_addresses": ["Any"]}}
    assert span_view(rules, span("TCP", 3306), scopes={"allow": ANY_SCOPE,
                                                       "block": ANY_SCOPE}).allowed == set()
    assert span_view(rules, span("TCP", 3306), scopes=scoped).allowed == {3306}
    # Without the address filters no Block rule is known to close it for everyone.
    assert span_view(rules, span("TCP", 3306)).allowed == {3306}


def test_a_block_rule_closes_only_the_ports_it_covers() -> None:
    rules = [rule("legacy", protocol="UDP", ports=["70-74"]),
             rule("block72", protocol="UDP", ports=["72"], action="Block")]
    view = span_view(rules, span("UDP", 70, 74), scopes={"legacy": ANY_SCOPE,
                                                         "block72": ANY_SCOPE})
    assert view.allowed == {70, 71, 73, 74}


# --- remote address scopes (MySQL's cwh_mysql_allowed_from) ---------------------------------

NETS = (__import__("ipaddress").ip_network("10.20.40.0/24"),)


@pytest.mark.parametrize(("addresses", "expected"), [
    (["10.20.40.0/255.255.255.0"], True),
    (["10.20.40.0/24"], True),
    (["10.20.40.5"], True),
    (["10.20.40.5-10.20.40.9"], True),
    (["10.20.40.5-10.20.41.9"], False),
    (["10.20.0.0/16"], False),
    (["Any"], False),
    (["10.20.40.5", "192.0.2.7"], False),
    (["LocalSubnet"], None),
    (["Intranet"], None),
    (["fd00::1"], False),
    ([], None),
])
def test_remote_addresses_within_the_declared_network(addresses, expected) -> None:
    assert scope_within(addresses, NETS)[0] is expected


def test_the_runner_address_is_inside_or_outside() -> None:
    assert address_within("10.20.40.77", NETS) is True
    assert address_within("127.0.0.1", NETS) is False
    assert address_within(None, NETS) is None


def test_a_rule_of_unknown_protocol_matters_only_where_its_ports_reach() -> None:
    rules = [rule("unread", protocol=None, ports=["75"])]
    assert span_view(rules, span("TCP", 443)).ambiguous == []
    assert [m.ambiguous for m in span_view(rules, span("UDP", 75)).ambiguous] == \
        ["protocol None not readable"]


@pytest.mark.parametrize(("scope", "universal"), [
    ({}, True),
    ({"program": r"C:\Program Files\Java\jre1.8.0_401\bin\java.exe"}, False),
    ({"service": "Spooler"}, False),
    ({"interface_type": "Wireless"}, False),
    ({"program": None}, None),  # the application filter was not answered
    ({"service": ""}, None),
], ids=["every-field-any", "program", "service", "interface-type", "program-unread",
        "service-empty"])
def test_a_block_rule_closes_for_everyone_only_when_every_scope_field_is_any(scope, universal):
    rules = [rule("allow", ports=["3306"]), rule("block", action="Block", **scope)]
    view = span_view(rules, span("TCP", 3306), scopes={"allow": ANY_SCOPE, "block": ANY_SCOPE})
    assert view.blocks[0].universal is universal
    assert view.allowed == (set() if universal else {3306})
    if universal is False:
        assert view.blocks[0].scope.startswith("applies only to ")


def test_a_block_rule_scoped_to_a_local_address_is_not_for_everyone() -> None:
    rules = [rule("allow", ports=["3306"]), rule("block", ports=["3306"], action="Block")]
    local = {"remote_addresses": ["Any"], "local_addresses": ["10.20.31.21"]}
    view = span_view(rules, span("TCP", 3306), scopes={"allow": ANY_SCOPE, "block": local})
    assert view.allowed == {3306}
    assert view.blocks[0].scope == "applies only to local address 10.20.31.21"
