"""The gate's decision: absent results never pass, whatever pytest's own status says."""

from __future__ import annotations

import pytest

from cwh.report import exitcodes

PASS = {"status": "NotAFinding", "severity": "high", "error": False, "waiver": None}
CAT2_OPEN = {"status": "Open", "severity": "medium", "error": False, "waiver": None}


@pytest.mark.parametrize("records, pytest_status, fail_on, missing, expected", [
    ([PASS], 0, "cat3", 0, 0),
    ([CAT2_OPEN], 1, "cat1", 0, 0),         # below the threshold: passes when complete
    ([CAT2_OPEN], 1, "cat1", 33, 6),        # -x stopped at it: 33 controls never judged
    ([PASS], 1, "cat3", 1, 6),              # --maxfail / a crashed worker
    ([], 2, "cat3", 34, 6),                 # Ctrl-C before any result
    ([PASS], 2, "cat3", 0, 2),              # interrupted after the last result
    ([], 0, "cat3", 0, 5),                  # nothing selected
    ([PASS], 3, "cat3", 5, 3),              # an internal error stays one
    ([], 4, "cat3", 0, 4),
])
def test_decide(records, pytest_status, fail_on, missing, expected):
    assert exitcodes.decide(records, pytest_status, fail_on, missing) == expected


@pytest.mark.parametrize("records, unaudited, expected", [
    ([PASS], 1, 6),        # an inventory host with no result, or one machine judged twice
    ([CAT2_OPEN], 1, 6),   # findings do not hide it
    ([], 2, 5),            # nothing selected at all stays "nothing selected"
    ([PASS], 0, 0),
])
def test_a_host_not_audited_never_passes(records, unaudited, expected):
    assert exitcodes.decide(records, 0, "cat3", 0, unaudited=unaudited) == expected


def test_hosts_without_results():
    records = [{"host": "hard", "control_id": "CWH-GPO-01"}]
    assert exitcodes.hosts_without_results(["drift", "hard"], records) == ["drift"]
    assert exitcodes.hosts_without_results(["hard"], records) == []
