"""TLS 1.0/1.1 refused by the web endpoint: real handshakes at exact versions, with the
client's own capability to speak them proven first."""

import pytest

pytestmark = pytest.mark.cwh_handler("tls_probe")


def test_tls_probe(cwh_case):
    cwh_case.conclude(cwh_case.judge())
