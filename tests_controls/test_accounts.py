"""Administrative account controls: manual in the STIG, automated here where the inventory
declares the approved administrators, with the evidence attached either way."""

import pytest

pytestmark = pytest.mark.cwh_handler("accounts")


def test_accounts(cwh_case):
    cwh_case.conclude(cwh_case.judge())
