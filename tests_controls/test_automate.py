"""ConnectWise Automate servers: their ports (443, 8484, 75/UDP, MySQL, the legacy ports, 3389),
LTShare, and the IIS site from the runner."""

import pytest

pytestmark = pytest.mark.cwh_handler("automate")


def test_automate(cwh_case):
    cwh_case.conclude(cwh_case.judge())
