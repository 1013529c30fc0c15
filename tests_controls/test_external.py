"""The exposure audit: what the runner reaches of each server (TLS, headers, disclosed version,
OPTIONS, certificate, exposed ports, reachability), judged from its own connections alone, so
it needs no host access and speaks for the runner's vantage point only."""

import pytest

pytestmark = pytest.mark.cwh_handler("external")


def test_external(cwh_case):
    cwh_case.conclude(cwh_case.judge())
