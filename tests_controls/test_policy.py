"""Registry and security-policy controls: one generic test judges every catalog entry whose
handler is "policy" (adding such a control is a catalog entry and nothing else)."""

import pytest

pytestmark = pytest.mark.cwh_handler("policy")


def test_policy(cwh_case):
    cwh_case.conclude(cwh_case.judge())
