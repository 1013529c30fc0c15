"""The requirement ops every value-comparing STIG check shares (cwh/judge/stig/compare.py)."""

from __future__ import annotations

import pytest

from cwh.judge.stig.compare import compare


@pytest.mark.parametrize(("check", "observed", "passed"), [
    ({"op": "equals", "value": 1}, 1, True),
    ({"op": "equals", "value": 1}, "1", False),  # text is not the number
    ({"op": "equals", "value": 1}, True, False),  # nor is a bool
    ({"op": "equals", "value": "Administrator"}, "administrator", False),
    ({"op": "equals", "value": "Administrator", "case": "insensitive"}, "administrator", True),
    ({"op": "one_of", "values": [1, 2]}, 2, True),
    ({"op": "one_of", "values": [1, 2]}, 3, False),
    ({"op": "none_of", "values": ["Administrator"], "case": "insensitive"}, "ADMINISTRATOR", False),
    ({"op": "none_of", "values": ["Administrator"]}, "admin-renamed", True),
    ({"op": "at_least", "value": 15, "also": [0, -1]}, 0, True),
    ({"op": "at_least", "value": 15, "also": [0, -1]}, 14, False),
    ({"op": "at_most", "value": 60, "never": [0]}, 0, False),
    ({"op": "at_most", "value": 60, "never": [0]}, 60, True),
    ({"op": "range", "min": 1, "max": 3}, 0, False),
    ({"op": "range", "min": 1, "max": 3}, 3, True),
    ({"op": "bits_set", "value": 0x3}, 0x7, True),
    ({"op": "bits_set", "value": 0x3}, 0x5, False),
    ({"op": "bits_clear", "value": 0x8}, 0x7, True),
])
def test_ops(check, observed, passed):
    assert compare(check, observed).passed is passed


@pytest.mark.parametrize("observed", ["14", None, 1.5, True, [14]])
def test_a_number_op_on_something_else_is_unknown(observed):
    assert compare({"op": "at_least", "value": 14}, observed).passed is None


def test_an_op_the_suite_does_not_know_is_unknown():
    assert compare({"op": "matches_somehow", "value": 1}, 1).passed is None
