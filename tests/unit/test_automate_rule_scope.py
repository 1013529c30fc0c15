"""Review of issue 13, finding 1: a Block rule narrowed to one program, service, interface type
or local address stops only that traffic, so it never closes an Automate port for everyone
(the rule Windows Defender Firewall writes itself when a user dismisses its "blocked some
features of this app" prompt). Judged on the lab's answers, with the scope fields as Windows
gives them."""

from __future__ import annotations

import pytest

from cwh.judge.verdict import Status
from tests.unit.test_automate_judges import verdict, with_rules

JAVA = r"C:\Program Files\Java\jre1.8.0_401\bin\java.exe"
JAVA_BLOCK_UDP = {"display_name": "Java(TM) Platform SE binary", "action": "Block",
                  "protocol": "UDP", "local_ports": ["Any"], "program": JAVA}
JAVA_BLOCK_TCP = {**JAVA_BLOCK_UDP, "protocol": "TCP"}
LEGACY_UDP = {"display_name": "LabTech legacy UDP", "protocol": "UDP", "local_ports": ["70-74"]}


@pytest.mark.parametrize("narrowing", [
    {"program": JAVA}, {"service": "Spooler"}, {"interface_type": "Wireless"},
    {"local_addresses": ["10.20.31.99"]},
], ids=["program", "service", "interface-type", "local-address"])
def test_a_narrowed_block_rule_does_not_close_the_legacy_udp_ports(narrowing: dict) -> None:
    block = {"display_name": "Narrow block", "action": "Block", "protocol": "UDP",
             "local_ports": ["Any"], **narrowing}
    result = verdict("CWH-CWA-06", with_rules(LEGACY_UDP, block))
    assert result.status is Status.OPEN, result.reason
    assert "allowed by LabTech legacy UDP" in result.reason
    assert "Narrow block" in result.reason and "applies only to" in result.reason


def test_a_block_rule_for_everyone_closes_them_and_the_evidence_names_both() -> None:
    block = {"display_name": "Block legacy", "action": "Block", "protocol": "UDP",
             "local_ports": ["Any"]}
    result = verdict("CWH-CWA-06", with_rules(LEGACY_UDP, block))
    assert result.status is Status.NOT_A_FINDING, result.reason
    firewall = next(e for e in result.evidence if e.source.startswith("Get-NetFirewallRule")
                    or "firewall" in e.source.lower())
    assert "allowed by LabTech legacy UDP" in firewall.observed
    assert "closed for everyone by Block legacy" in firewall.observed


def test_a_block_rule_whose_program_was_not_read_closes_nothing() -> None:
    block = {"display_name": "Block, program unread", "action": "Block", "protocol": "UDP",
             "local_ports": ["Any"], "program": None}
    result = verdict("CWH-CWA-06", with_rules(LEGACY_UDP, block))
    assert result.status is Status.OPEN, result.reason


def test_a_program_block_does_not_close_udp_3389() -> None:
    rdp = {"display_name": "RDP UDP", "protocol": "UDP", "local_ports": ["3389"]}
    result = verdict("CWH-CWA-07", with_rules(rdp, JAVA_BLOCK_UDP),
                     {"cwh_remote_access_via_control": True})
    assert result.status is Status.OPEN, result.reason


def test_a_program_block_does_not_close_mysql_in_the_host_view() -> None:
    mysql = {"display_name": "MySQL", "local_ports": ["3306"]}
    result = verdict("CWH-CWA-04", with_rules(mysql, JAVA_BLOCK_TCP))
    assert result.status is Status.OPEN, result.reason


def test_a_program_block_does_not_close_the_heartbeat() -> None:
    result = verdict("CWH-CWA-03", with_rules(JAVA_BLOCK_UDP))
    assert result.status is Status.NOT_A_FINDING, result.reason
    assert "closed for some traffic only by Java" in result.reason or \
        any("closed for some traffic only by Java" in e.observed for e in result.evidence)


def test_a_block_rule_whose_scope_was_not_read_leaves_the_heartbeat_unknown() -> None:
    block = {**JAVA_BLOCK_UDP, "display_name": "Block, service unread", "program": "Any",
             "service": None}
    result = verdict("CWH-CWA-03", with_rules(block))
    assert result.status is Status.NOT_REVIEWED, result.reason
    assert "its service not read" in result.reason


# --- finding 2: the heartbeat's allow rule must be for the listening program ------------------

LTAGENT = r"C:\Program Files (x86)\LabTech\LTAgent.exe"


def _heartbeat(program: str | None, listener_path: str | None = LTAGENT):
    image = with_rules({"display_name": "Heartbeat rule", "protocol": "UDP",
                        "local_ports": ["75"], "program": program},
                       drop=("Automate Heartbeat (UDP-In)",))
    for entry in image.data["udp_listeners"]:
        if entry["port"] == 75:
            entry["path"] = listener_path
    return verdict("CWH-CWA-03", image)


@pytest.mark.parametrize(("program", "path", "status"), [
    (r"C:\Program Files\Vendor\other.exe", LTAGENT, Status.OPEN),
    (LTAGENT.upper(), LTAGENT, Status.NOT_A_FINDING),
    ("Any", LTAGENT, Status.NOT_A_FINDING),
    ("Any", None, Status.NOT_A_FINDING),
    (LTAGENT, None, Status.NOT_REVIEWED),  # Get-Process gave no path for the listener
    (r"%ProgramFiles(x86)%\LabTech\LTAgent.exe", LTAGENT, Status.NOT_REVIEWED),
    (r"%SystemRoot%\system32\svchost.exe", LTAGENT, Status.OPEN),
    (None, LTAGENT, Status.NOT_REVIEWED),
], ids=["other-program", "same-program-other-case", "any", "any-path-unknown",
        "path-unknown", "env-variable-fits", "env-variable-other", "program-unread"])
def test_the_heartbeat_rule_counts_only_for_the_listening_program(program, path, status):
    result = _heartbeat(program, path)
    assert result.status is status, result.reason
    if status is Status.OPEN:
        assert "another program than the listener's" in result.reason
