"""ScreenConnect itself: its services, its version against CVE-2024-1709/1708, its web listener."""

import pytest

pytestmark = pytest.mark.cwh_handler("screenconnect")


def test_screenconnect(cwh_case):
    cwh_case.conclude(cwh_case.judge())
