"""cwh.convert.values: DISA's value phrases (values, not prose, so they are written here)."""

from __future__ import annotations

import pytest

from cwh.convert.result import Refusal
from cwh.convert.values import number, value_spec


def fields(phrase: str, as_strings: bool = False) -> dict:
    return value_spec(phrase).fields(as_strings=as_strings)


def test_hex_and_decimal_must_agree() -> None:
    assert number("0x0000001e (30)") == 30
    assert number("0x7ffffff8 (2147483640)") == 2147483640
    with pytest.raises(Refusal, match="disagree"):
        number("0x0000001e (31)")


def test_a_single_value_is_equals() -> None:
    assert fields("0x00000001 (1)") == {"op": "equals", "value": 1}
    assert fields("1") == {"op": "equals", "value": 1}


def test_or_less_but_not_zero() -> None:
    assert fields("0x0000001e (30) (or less, but not 0)") == \
        {"op": "at_most", "value": 30, "never": [0]}


def test_or_less_excluding_zero() -> None:
    assert fields('0x00000384 (900) (or less, excluding "0" which is effectively disabled)') == \
        {"op": "at_most", "value": 900, "never": [0]}


def test_or_greater() -> None:
    assert fields("0x00008000 (32768) (or greater)") == {"op": "at_least", "value": 32768}


def test_several_values_and_a_missing_value() -> None:
    spec = value_spec("0x00000001 (1), 0x00000003 (3), or 0x00000008 (8) (or if the Value Name "
                      "does not exist)")
    assert spec.fields() == {"op": "one_of", "values": [1, 3, 8]}
    assert spec.absent_compliant


def test_labelled_values_on_several_lines() -> None:
    phrase = ("0x00000000 (0) - No peering (HTTP Only)\n0x00000001 (1) - Peers on same NAT only "
              "(LAN)\n0x00000002 (2) - Local Network / Private group peering (Group)\n"
              "0x00000063 (99) - Simple download mode, no peering (Simple)")
    assert fields(phrase) == {"op": "one_of", "values": [0, 1, 2, 99]}


def test_labels_in_parentheses() -> None:
    assert fields("0x00000001 (1) (Secure Boot only) or 0x00000003 (3) (Secure Boot and DMA "
                  "Protection)") == {"op": "one_of", "values": [1, 3]}
    assert fields("0x00000002 (2) (Prompt for consent on the secure desktop)\n0x00000001 (1) "
                  "(Prompt for credentials on the secure desktop)") == \
        {"op": "one_of", "values": [1, 2]}


def test_string_values_stay_strings() -> None:
    assert fields("1 (Lock Workstation) or 2 (Force Logoff)", as_strings=True) == \
        {"op": "one_of", "values": ["1", "2"]}
    assert fields("4 (or less)", as_strings=True) == {"op": "at_most", "value": 4}


@pytest.mark.parametrize("phrase", [
    "0x00000001 (1) (or lower if required)",  # a label that may be a bound
    "0x00000001 (1) 0x00000002 (2)",  # no separator
    "0x00000001 (1), 0x00000002 (2) (or less)",  # a bound on several values
    "See the value below",  # no number
    "0x00000001 (1) (unbalanced",
])
def test_refuses_what_it_cannot_read(phrase: str) -> None:
    with pytest.raises(Refusal):
        fields(phrase)


def test_allows_follows_the_reading() -> None:
    spec = value_spec("0x0000001e (30) (or less, but not 0)")
    assert spec.allows(30) and spec.allows(1)
    assert not spec.allows(0) and not spec.allows(31)
