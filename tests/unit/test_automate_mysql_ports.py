"""Review of issue 13, findings 3 and 13: MySQL is judged on every port its server process
listens on (a my.ini may move it off 3306), and a listener whose port is not a number makes
the listener fact unavailable (a readable Not_Reviewed) instead of stopping a judge."""

from __future__ import annotations

import pytest

from cwh.collect.facts import FactUnavailable
from cwh.judge.verdict import Status
from tests.unit.test_automate_judges import automate, facts_for, verdict


def _mysql_on(port: int, *, rule_port: str | None = None):
    image = automate()
    image.data["tcp_listeners"] = [x for x in image.data["tcp_listeners"] if x["port"] != 3306]
    image.data["tcp_listeners"].append({"address": "0.0.0.0", "port": port, "pid": 2764,
                                        "process": "mysqld"})
    if rule_port:
        image.data["firewall"]["rules"].append({"display_name": "MySQL",
                                                "local_ports": [rule_port]})
    return image


def test_mysql_on_another_port_open_to_the_network_is_open() -> None:
    result = verdict("CWH-CWA-04", _mysql_on(3307, rule_port="3307"),
                     states={3306: "refused", 3307: "open"})
    assert result.status is Status.OPEN, result.reason
    assert "3307" in result.reason


def test_mysql_on_another_port_allowed_by_the_firewall_only_is_open() -> None:
    result = verdict("CWH-CWA-04", _mysql_on(3307, rule_port="3307"),
                     states={3306: "refused", 3307: "filtered"})
    assert result.status is Status.OPEN, result.reason


def test_mysql_on_another_port_kept_off_the_network_passes_and_says_where() -> None:
    result = verdict("CWH-CWA-04", _mysql_on(3307), states={3306: "refused", 3307: "filtered"})
    assert result.status is Status.NOT_A_FINDING, result.reason
    assert "MySQL listens on 3307, judged there as on 3306" in result.reason
    assert any("0.0.0.0:3307" in e.observed for e in result.evidence)


@pytest.mark.parametrize("port", ["n/a", None, True, 70000])
def test_a_listener_port_that_is_not_a_port_is_unavailable(port) -> None:
    image = automate()
    image.data["tcp_listeners"] = [dict(x) for x in image.data["tcp_listeners"]]
    facts = facts_for(image)
    facts.document["sections"]["tcp_listeners"]["data"]["listeners"][0]["port"] = port
    with pytest.raises(FactUnavailable, match="not port numbers"):
        facts.tcp_listeners()


def test_cwa05_with_a_garbled_listener_port_is_judged_not_a_crash() -> None:
    # The listeners are evidence only for the legacy ports (the firewall and the runner
    # decide): a garbled list is shown as not available instead of stopping the judge.
    from cwh.judge import judge
    from tests.unit.helpers import CATALOG
    from tests.unit.test_automate_judges import runner
    facts = facts_for(automate())
    facts.document["sections"]["tcp_listeners"]["data"]["listeners"][0]["port"] = "n/a"
    result = judge(CATALOG["CWH-CWA-05"], facts, {}, runner(facts))
    assert "ValueError" not in result.reason and "did not complete" not in result.reason
    listening = next(e for e in result.evidence if e.source.startswith("Get-NetTCPConnection"))
    assert listening.observed == "not available" and "not port numbers" in listening.raw
