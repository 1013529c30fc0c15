"""cwh.convert.rules: one XCCDF rule -> one record, manual whenever the reading is incomplete."""

from __future__ import annotations

from cwh.convert.applicability import read_applicability
from cwh.convert.result import Refusal
from cwh.convert.rules import RECOGNISERS, _kind, convert_rule
from cwh.convert.text import CheckText
from tests.convert.phrasings import FILES, _benchmark, edited_rule, rule

FIELDS = ["vuln_id", "rule_id", "stig_id", "severity", "roles", "kind", "checks", "combine",
          "inputs", "not_applicable_if", "manual_reason"]


def test_a_record_has_every_field_in_order() -> None:
    record = convert_rule(rule("WN22-SO-000100"))
    assert list(record) == FIELDS
    assert (record["vuln_id"], record["stig_id"], record["severity"]) == \
        ("V-254454", "WN22-SO-000100", "medium")
    assert record["kind"] == "registry" and record["manual_reason"] is None


def test_a_condition_no_recogniser_reads_makes_the_rule_manual() -> None:
    changed = edited_rule("WN22-SO-000100", "Value Name: MaximumPasswordAge",
                          "If the system is a laptop, this is NA.\n\nValue Name: "
                          "MaximumPasswordAge")
    record = convert_rule(changed)
    assert record["kind"] == "manual" and record["checks"] == []
    assert "no recogniser reads" in record["manual_reason"]


def test_a_refusal_makes_the_rule_manual_with_the_reason_and_keeps_its_roles() -> None:
    changed = edited_rule("WN22-DC-000320", "0x00000002 (2)", "0x00000002 (3)")
    record = convert_rule(changed)
    assert record["kind"] == "manual" and record["roles"] == ["dc"]
    assert "disagree" in record["manual_reason"]


def test_a_documented_exception_combines_any() -> None:
    record = convert_rule(rule("WN22-SO-000150"))
    assert record["combine"] == "any" and record["kind"] == "registry"
    assert record["checks"][1] == {"kind": "input", "input": "cwh_smartcard_removal_exception",
                                   "equals": True}
    assert record["inputs"] == ["cwh_smartcard_removal_exception"]


def test_manual_reasons_are_our_own_words() -> None:
    procedural = convert_rule(rule("WN22-AU-000010"))
    assert procedural["manual_reason"].startswith("procedural:")
    per_user = convert_rule(rule("WN22-UC-000010"))
    assert "HKCU" in per_user["manual_reason"]
    ad = convert_rule(rule("WN22-DC-000180"))
    assert ad["roles"] == ["dc"] and "Active Directory" in ad["manual_reason"]


def test_a_manual_rule_keeps_its_not_applicable_conditions() -> None:
    record = convert_rule(rule("WN22-00-000420"))
    assert record["kind"] == "manual"
    assert record["not_applicable_if"][0]["reason"] == "FTP is not installed"


def test_the_recogniser_narrows_roles() -> None:
    assert convert_rule(rule("WN16-DC-000401"))["roles"] == ["dc"]


def test_kind_of_several_checks() -> None:
    assert _kind([{"kind": "registry"}, {"kind": "input"}]) == "registry"
    assert _kind([{"kind": "registry"}, {"kind": "service"}]) == "mixed"


def test_every_recogniser_reads_or_refuses_some_rule_of_the_three_releases() -> None:
    # a recogniser that only ever refuses still earns its place: it names why the rule is
    # manual (HKLM permissions with a "Special" default) instead of a generic reason
    used: set[int] = set()
    for prefix in FILES:
        for xccdf_rule in _benchmark(prefix).rules.values():
            ct = CheckText.of(xccdf_rule.check_content)
            try:
                roles = read_applicability(ct).roles
            except Refusal:
                continue
            for index, recogniser in enumerate(RECOGNISERS):
                try:
                    found = recogniser(ct, roles)
                except Refusal:
                    used.add(index)
                    break
                if found is not None:
                    used.add(index)
                    break
    assert used == set(range(len(RECOGNISERS)))


def test_hklm_permissions_with_a_special_default_are_manual_in_every_release() -> None:
    for stig_id in ("WN16-00-000190", "WN19-00-000170", "WN22-00-000170"):
        record = convert_rule(rule(stig_id))
        assert record["kind"] == "manual" and record["checks"] == []
        assert "Special" in record["manual_reason"]
