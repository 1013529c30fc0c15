"""The web interface: IIS request filtering on the host, and what the endpoint answers to real
HTTP requests and TLS handshakes."""

import pytest

pytestmark = pytest.mark.cwh_handler("web")


def test_web(cwh_case):
    cwh_case.conclude(cwh_case.judge())
