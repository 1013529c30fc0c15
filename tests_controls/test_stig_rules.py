"""The host's Windows Server STIG: one test per rule of the benchmark of the host's own OS
(2016, 2019, 2022), named host::STIG_ID. Which rules a host has is known from its facts, so the
plugin gathers every host before collection (cwh/plugin.py, cwh/selection.py)."""

import pytest

pytestmark = pytest.mark.cwh_stig_rules


def test_stig_rule(cwh_case):
    cwh_case.conclude(cwh_case.judge())
