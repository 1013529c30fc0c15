"""Review of issue 13, finding 12: a run-time keyword (RPC, Teredo) covers exactly what the host
says it stands for (the dynamic port ranges, RPC's own configuration, the Teredo client port),
so an enabled WMI or Teredo rule no longer keeps CWH-CWA-05/06 Not_Reviewed; it stays unknown
only where the host's answer cannot tell."""

from __future__ import annotations

import copy

import pytest

from cwh.judge.port_rules import KeywordPorts, keyword_ports, port_coverage, span
from cwh.judge.verdict import Status
from tests.unit.test_automate_judges import automate, verdict

DEFAULT = {"tcp": [{"setting": "Internet", "start": 49152, "count": 16384}],
           "udp": [{"setting": "UDP", "start": 49152, "count": 16384}], "error": None,
           "rpc_internet": {"key_exists": False, "value_exists": False, "error": None},
           "teredo_client_port": [{"key_exists": False, "value_exists": False, "error": None}]}
WMI = {"display_name": "Windows Management Instrumentation (WMI-In)", "protocol": "TCP",
       "local_ports": ["RPC"], "program": r"%SystemRoot%\system32\svchost.exe"}
TEREDO = {"display_name": "Vendor Teredo (UDP-In)", "protocol": "UDP",
          "local_ports": ["Teredo"], "program": r"%SystemRoot%\system32\svchost.exe"}


def _answer(**changes) -> dict:
    answer = copy.deepcopy(DEFAULT)
    answer.update(changes)
    return answer


def test_rpc_is_the_tcp_dynamic_range_and_teredo_3544_and_the_udp_range() -> None:
    ports = keyword_ports(_answer())
    assert ports.rpc == ((49152, 65535),)
    assert ports.teredo == ((3544, 3544), (49152, 65535))


@pytest.mark.parametrize(("answer", "field", "why"), [
    (None, "rpc", "were not read"),
    (_answer(error="Get-NetTCPSetting : Access denied"), "rpc", "could not be read"),
    (_answer(rpc_internet={"key_exists": True, "value_exists": True, "error": None}), "rpc",
     "RPC's own port range is configured"),
    (_answer(rpc_internet={"error": "denied"}), "rpc", "was not read"),
    (_answer(tcp=[{"start": 0, "count": 5}]), "rpc", "malformed"),
    (_answer(teredo_client_port=[{"error": "denied"}]), "teredo", "client port setting"),
], ids=["not-collected", "query-failed", "rpc-configured", "rpc-key-unread", "garbled-range",
        "teredo-unread"])
def test_what_the_host_cannot_tell_stays_unknown(answer, field, why) -> None:
    ports = keyword_ports(answer)
    assert getattr(ports, field) is None and why in getattr(ports, field + "_why")


def test_a_configured_teredo_client_port_is_that_port() -> None:
    answer = _answer(teredo_client_port=[
        {"key_exists": True, "value_exists": True, "value": 40100, "error": None},
        {"key_exists": False, "value_exists": False, "error": None}])
    assert keyword_ports(answer).teredo == ((3544, 3544), (40100, 40100))
    covered, why = port_coverage({"local_ports": ["Teredo"]}, span("UDP", 40000, 41000),
                                 keyword_ports(answer))
    assert covered == {40100} and not why


def test_a_keyword_of_the_other_protocol_covers_nothing() -> None:
    assert port_coverage({"local_ports": ["RPC"]}, span("UDP", 40000, 41000),
                         KeywordPorts()) == (set(), "")


def test_an_enabled_wmi_rule_leaves_the_legacy_tcp_ports_judged() -> None:
    result = verdict("CWH-CWA-05", _with(WMI))
    assert result.status is Status.NOT_A_FINDING, result.reason


def test_an_enabled_teredo_rule_leaves_the_legacy_udp_ports_judged() -> None:
    result = verdict("CWH-CWA-06", _with({**TEREDO}))
    assert result.status is Status.NOT_A_FINDING, result.reason


def test_a_dynamic_range_moved_onto_the_legacy_ports_opens_them() -> None:
    image = _with(WMI)
    image.data["firewall"]["dynamic_ports"] = {"tcp": {"start": 40000, "count": 25535}}
    result = verdict("CWH-CWA-05", image)
    assert result.status is Status.OPEN, result.reason
    assert "WMI-In" in result.reason


def test_rpc_ports_configured_in_the_registry_are_not_reviewed() -> None:
    image = _with(WMI)
    registry = copy.deepcopy(image.data.get("registry") or {})
    registry[r"HKLM\SOFTWARE\Microsoft\Rpc\Internet"] = {
        "Ports": {"type": "MultiString", "value": ["40000-40100"]}}
    image.data["registry"] = registry
    result = verdict("CWH-CWA-05", image)
    assert result.status is Status.NOT_REVIEWED, result.reason
    assert "RPC's own port range is configured" in result.reason


def test_dynamic_ranges_unreadable_keep_the_keyword_unknown() -> None:
    image = _with(WMI)
    image.data["firewall"]["dynamic_ports"] = {"error": "Get-NetTCPSetting : Access is denied"}
    result = verdict("CWH-CWA-05", image)
    assert result.status is Status.NOT_REVIEWED, result.reason


def _with(rule: dict):
    image = automate()
    image.data["firewall"] = copy.deepcopy(image.data["firewall"])
    image.data["firewall"]["rules"].append(rule)
    return image
