"""The Automate port judges on facts the lab answers from its images, with the runner's
connections injected: UDP judged from the host alone, MySQL's scope and listener, the legacy
ports, 3389, and every unknown fact Not_Reviewed."""

from __future__ import annotations

import copy
import json

import pytest

from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for
from cwh.inventory import ConnectionSettings, Target
from cwh.judge import judge
from cwh.judge.port_parts import UDP_HOST_ONLY
from cwh.judge.verdict import Status
from cwh.lab.emulator import encode_document, run_collector
from cwh.lab.image import Image, load_image
from cwh.probes.runner import RunnerView
from cwh.probes.tcp import PortObservation
from tests.unit.helpers import CATALOG

ADDRESS = "192.0.2.21"  # never connected to: every probe the judges ask for is injected


def automate(**changes) -> Image:
    base = load_image("automate-hardened")
    data = copy.deepcopy(base.data)
    data.update(changes)
    return Image(base.name, base.path, data)


def with_rules(*extra: dict, drop: tuple[str, ...] = ()) -> Image:
    base = automate()
    firewall = copy.deepcopy(base.data["firewall"])
    firewall["rules"] = [r for r in firewall["rules"] if r["display_name"] not in drop]
    firewall["rules"] += list(extra)
    return automate(firewall=firewall)


def facts_for(image: Image) -> HostFacts:
    request = json.loads(request_for(CATALOG.controls).to_json())
    return HostFacts("cwa", parse_output(encode_document(run_collector(image, request)), b"", 0))


def runner(facts: HostFacts, states: dict[int, str] | None = None, **variables) -> RunnerView:
    settings = ConnectionSettings(name="cwa", address=ADDRESS, port=5985, scheme="http",
                                  transport="ntlm", user="auditor", password="x")
    view = RunnerView(Target("cwa", (), settings, {"cwh_probe_timeout_sec": 1, **variables}),
                      facts)
    wanted = {70: "refused", 8002: "refused", 3306: "filtered", 3389: "filtered",
              **(states or {})}
    wanted.update({p: wanted.get(p, "refused") for p in range(40000, 40051)})
    view.adopt({("tcp", ADDRESS, port): PortObservation(ADDRESS, port, state, state, 1.0, 1.0)
                for port, state in wanted.items()})
    return view


def verdict(control_id: str, image: Image | None = None, inputs: dict | None = None,
            states: dict[int, str] | None = None):
    facts = facts_for(image or automate())
    control = CATALOG[control_id]
    needs = control.id not in ("CWH-CWA-03", "CWH-CWA-06")
    return judge(control, facts, inputs or {}, runner(facts, states) if needs else None)


# --- 75/UDP: the host view only ---------------------------------------------------------------

def test_udp_heartbeat_is_judged_from_the_host_and_says_so() -> None:
    result = verdict("CWH-CWA-03")
    assert result.status is Status.NOT_A_FINDING, result.reason
    assert UDP_HOST_ONLY in result.reason
    assert not any("TCP connect" in e.source for e in result.evidence)
    assert any(e.source == "runner" and e.observed == "not probed" for e in result.evidence)


def test_a_tcp_rule_on_port_75_does_not_allow_the_udp_heartbeat() -> None:
    image = with_rules({"display_name": "Heartbeat, wrong protocol", "protocol": "TCP",
                        "local_ports": ["75"]}, drop=("Automate Heartbeat (UDP-In)",))
    result = verdict("CWH-CWA-03", image)
    assert result.status is Status.OPEN and "no enabled allow rule" in result.reason


def test_a_heartbeat_rule_without_a_protocol_is_not_reviewed() -> None:
    image = with_rules({"display_name": "Heartbeat, protocol unread", "protocol": None,
                        "local_ports": ["75"]}, drop=("Automate Heartbeat (UDP-In)",))
    result = verdict("CWH-CWA-03", image)
    assert result.status is Status.NOT_REVIEWED and "protocol None not readable" in result.reason


def test_a_block_rule_for_everyone_closes_the_heartbeat() -> None:
    image = with_rules({"display_name": "Block heartbeat", "protocol": "UDP",
                        "local_ports": ["70-80"], "action": "Block"})
    result = verdict("CWH-CWA-03", image)
    assert result.status is Status.OPEN and "blocked by Block heartbeat" in result.reason


def test_the_udp_endpoints_unknown_is_not_reviewed() -> None:
    result = verdict("CWH-CWA-03", automate(udp_listeners=None))
    assert result.status is Status.NOT_REVIEWED and "UDP endpoints" in result.reason


# --- the legacy ports -------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "status"), [
    ({"protocol": "UDP", "local_ports": ["40100-40200"]}, Status.OPEN),
    ({"protocol": "Any", "local_ports": ["73"]}, Status.OPEN),
    ({"protocol": "17", "local_ports": ["8002"]}, Status.OPEN),
    ({"protocol": "TCP", "local_ports": ["70-74"]}, Status.NOT_A_FINDING),  # not UDP
    ({"protocol": "UDP", "local_ports": ["41001-41010"]}, Status.NOT_A_FINDING),
    # UDP 3544 and the UDP dynamic range (49152-65535 on the image): no legacy port.
    ({"protocol": "UDP", "local_ports": ["Teredo"]}, Status.NOT_A_FINDING),
    ({"protocol": "UDP", "local_ports": ["8002-"]}, Status.NOT_REVIEWED),
], ids=["range-overlap", "any-protocol", "iana-17", "tcp-only", "outside", "dynamic-keyword",
        "garbled-range"])
def test_legacy_udp_rules_by_protocol_and_range(rule: dict, status: Status) -> None:
    result = verdict("CWH-CWA-06", with_rules({"display_name": "vendor", **rule}))
    assert result.status is status, result.reason
    assert UDP_HOST_ONLY in result.reason


def test_declared_legacy_ports_are_not_judged() -> None:
    image = with_rules({"display_name": "mediator", "local_ports": ["8002"]})
    assert verdict("CWH-CWA-05", image).status is Status.OPEN
    result = verdict("CWH-CWA-05", image, {"cwh_automate_legacy_ports": ["8002/tcp"]})
    assert result.status is Status.NOT_A_FINDING and "8002/tcp" in result.reason
    every = {"cwh_automate_legacy_ports": ["70/tcp", "8002/tcp", "40000-40050/tcp"]}
    assert verdict("CWH-CWA-05", image, every).status is Status.NOT_APPLICABLE


def test_a_legacy_port_open_to_the_runner_is_open_whatever_the_rules_say() -> None:
    result = verdict("CWH-CWA-05", states={40017: "open"})
    assert result.status is Status.OPEN and "accepted on 40017" in result.reason


# --- 3389 -------------------------------------------------------------------------------------

def test_rdp_is_judged_only_when_remote_access_goes_through_control() -> None:
    image = with_rules({"display_name": "RDP", "local_ports": ["3389"]})
    assert verdict("CWH-CWA-07", image).status is Status.NOT_APPLICABLE
    result = verdict("CWH-CWA-07", image, {"cwh_remote_access_via_control": True})
    assert result.status is Status.OPEN and "TCP 3389 allowed by RDP" in result.reason
    udp = with_rules({"display_name": "RDP UDP", "protocol": "UDP", "local_ports": ["3389"]})
    assert verdict("CWH-CWA-07", udp, {"cwh_remote_access_via_control": True}).status is \
        Status.OPEN


# --- MySQL ------------------------------------------------------------------------------------

MYSQL_ANY = {"display_name": "MySQL", "local_ports": ["3306"]}


def test_mysql_listener_unknown_is_not_reviewed() -> None:
    result = verdict("CWH-CWA-04", automate(tcp_listeners=None))
    assert result.status is Status.NOT_REVIEWED and "MySQL listener is unknown" in result.reason


def test_mysql_bind_address_is_reported() -> None:
    result = verdict("CWH-CWA-04")
    assert result.status is Status.NOT_A_FINDING
    assert "0.0.0.0:3306 (every interface) by mysqld" in result.reason


def test_mysql_allowed_from_anywhere_is_open() -> None:
    result = verdict("CWH-CWA-04", with_rules(MYSQL_ANY))
    assert result.status is Status.OPEN and "TCP 3306 allowed by MySQL" in result.reason


def test_mysql_reachable_from_the_runner_is_open() -> None:
    result = verdict("CWH-CWA-04", states={3306: "open"})
    assert result.status is Status.OPEN and "runner: open" in result.reason


@pytest.mark.parametrize(("remote", "status"), [
    (["10.20.40.0/255.255.255.0"], Status.NOT_A_FINDING),
    (["10.20.40.7"], Status.NOT_A_FINDING),
    (["Any"], Status.OPEN),
    (["10.20.0.0/16"], Status.OPEN),
    (["LocalSubnet"], Status.NOT_REVIEWED),
])
def test_mysql_scoped_to_the_declared_network(remote: list[str], status: Status) -> None:
    image = with_rules({**MYSQL_ANY, "remote_addresses": remote})
    result = verdict("CWH-CWA-04", image, {"cwh_mysql_allowed_from": ["10.20.40.0/24"]})
    assert result.status is status, result.reason


def test_mysql_scope_unreadable_is_not_reviewed() -> None:
    image = with_rules({**MYSQL_ANY, "remote_addresses": ["10.20.40.7"]})
    facts = facts_for(image)
    facts.document["sections"]["firewall_addresses"] = {"ok": False, "error": "WMI broke"}
    result = judge(CATALOG["CWH-CWA-04"], facts, {"cwh_mysql_allowed_from": ["10.20.40.0/24"]},
                   runner(facts))
    assert result.status is Status.NOT_REVIEWED and "remote addresses not available" in \
        result.reason


def test_a_block_rule_for_one_address_does_not_close_mysql_for_the_rest() -> None:
    image = with_rules(MYSQL_ANY, {"display_name": "Block one", "action": "Block",
                                   "local_ports": ["3306"], "remote_addresses": ["192.0.2.9"]})
    assert verdict("CWH-CWA-04", image).status is Status.OPEN


# --- 443 and 8484 -----------------------------------------------------------------------------

def test_8484_reachable_without_a_rule_of_its_own_is_open_and_the_views_disagree() -> None:
    image = with_rules(drop=("Automate Solution Center (TCP-In)",))
    result = verdict("CWH-CWA-02", image, states={8484: "open"})
    assert result.status is Status.OPEN
    assert "reachable from the runner although the host view says not" in result.reason
