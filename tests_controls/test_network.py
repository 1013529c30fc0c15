"""Inbound ports, judged from the host (firewall rules, listeners) and from the runner (real
TCP connections)."""

import pytest

pytestmark = pytest.mark.cwh_handler("network")


def test_network(cwh_case):
    cwh_case.conclude(cwh_case.judge())
