"""cwh.convert.registry on DISA's real registry phrasings (read from ../shared/stig)."""

from __future__ import annotations

import pytest

from cwh.convert.applicability import read_applicability
from cwh.convert.registry import registry_checks, registry_path, whitespace_sha256
from cwh.convert.result import Refusal
from cwh.convert.rules import convert_rule
from tests.convert.phrasings import edited, rule, text


def only_check(stig_id: str) -> dict:
    ct = text(stig_id)
    read_applicability(ct)  # roles and NA sentences are not the registry recogniser's
    found = registry_checks(ct)
    assert found is not None and len(found.checks) == 1
    assert ct.unread_conditions() == []
    return found.checks[0]


def test_a_dword_that_must_exist() -> None:
    assert only_check("WN22-SO-000050") == {
        "kind": "registry", "path": r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa",
        "name": "SCENoApplyLegacyAuditPolicy", "type": "DWord", "op": "equals", "value": 1,
        "absent": "finding"}


def test_or_less_but_not_zero() -> None:
    check = only_check("WN22-SO-000100")
    assert (check["op"], check["value"], check["never"]) == ("at_most", 30, [0])


def test_excluding_zero_which_is_effectively_disabled() -> None:
    check = only_check("WN19-SO-000120")
    assert (check["op"], check["value"], check["never"]) == ("at_most", 900, [0])


def test_or_greater() -> None:
    check = only_check("WN16-CC-000310")
    assert (check["op"], check["value"]) == ("at_least", 196608)


def test_missing_value_is_compliant_when_disa_says_so() -> None:
    check = only_check("WN22-CC-000130")
    assert check["op"] == "one_of" and check["values"] == [1, 3, 8]
    assert check["absent"] == "compliant"
    assert only_check("WN22-CC-000310")["absent"] == "compliant"


def test_not_configured_as_specified_without_does_not_exist_is_strict() -> None:
    assert only_check("WN22-00-000400")["absent"] == "finding"


def test_disas_example_must_agree_with_the_value() -> None:
    ct = edited("WN22-CC-000310", 'value of "1", this is a finding', 'value of "0", this is a '
                'finding')
    with pytest.raises(Refusal, match="example"):
        registry_checks(ct)


def test_a_value_disa_calls_a_finding_must_not_be_allowed() -> None:
    assert only_check("WN22-CC-000260")["values"] == [0, 1, 2, 99]
    ct = edited("WN22-CC-000260", "0x00000063 (99) - Simple", "0x00000003 (3) - Simple")
    with pytest.raises(Refusal, match="example"):
        registry_checks(ct)


def test_the_list_of_possible_values_is_checked_too() -> None:
    ct = edited("WN22-CC-000130", "0x00000008 (8) (or if", "0x00000007 (7) (or if")
    ct.take_all(r"^If it exists and is configured with a value of")  # leave only the list
    with pytest.raises(Refusal, match="possible values"):
        registry_checks(ct)


def test_hex_and_decimal_disagreeing_is_refused() -> None:
    with pytest.raises(Refusal, match="disagree"):
        registry_checks(edited("WN22-SO-000100", "0x0000001e (30)", "0x0000001e (31)"))


def test_string_number_and_string_choices() -> None:
    cached = only_check("WN22-MS-000050")
    assert (cached["type"], cached["op"], cached["value"]) == ("String", "at_most", 4)
    removal = registry_checks(text("WN22-SO-000150"))
    assert removal is not None
    assert removal.checks[0]["values"] == ["1", "2"]


def test_sddl_string() -> None:
    assert only_check("WN22-MS-000060")["value"] == "O:BAG:BAD:(A;;RC;;;BA)"


def test_several_values_of_one_rule() -> None:
    ct = text("WN22-CC-000080")
    read_applicability(ct)
    found = registry_checks(ct)
    assert found is not None
    assert [c["name"] for c in found.checks] == [r"\\*\NETLOGON", r"\\*\SYSVOL"]
    assert all(c["op"] == "key_values" and c["values"] == {"RequireIntegrity": "1",
               "RequireMutualAuthentication": "1"} for c in found.checks)
    assert ct.unread_conditions() == []


def test_the_banner_text_is_identified_by_its_hash_only() -> None:
    ct = text("WN22-SO-000130")
    found = registry_checks(ct)
    assert found is not None
    check = found.checks[0]
    assert check["op"] == "matches_input" and check["input"] == "cwh_legal_notice_text"
    banner = " ".join(line for line in ct.lines if line.startswith(("You are", "By using", "-")))
    assert check["default_sha256"] == whitespace_sha256(banner)
    assert "USG" not in repr(check)


def test_the_banner_titles() -> None:
    check = only_check("WN19-SO-000140")
    assert check["values"] == ["DoD Notice and Consent Banner",
                               "US Department of Defense Warning Statement"]
    assert check["also_input"] == "cwh_legal_notice_caption"


def test_per_user_values_are_refused() -> None:
    with pytest.raises(Refusal, match="HKCU"):
        registry_checks(text("WN22-UC-000010"))


def test_a_typo_space_in_the_path_and_a_bare_decimal() -> None:
    assert only_check("WN16-CC-000490")["path"] == \
        r"HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell\ScriptBlockLogging"
    assert only_check("WN22-CC-000530")["value"] == 1


def test_registry_path_spelling() -> None:
    assert registry_path("HKEY_LOCAL_MACHINE", r"\SOFTWARE\ Policies\X\\") == \
        r"HKLM\SOFTWARE\Policies\X"
    with pytest.raises(Refusal):
        registry_path("HKEY_CLASSES_ROOT", r"\X")


def test_not_a_registry_rule() -> None:
    assert registry_checks(text("WN22-AU-000070")) is None


def test_the_banner_rules_name_the_inputs_they_read() -> None:
    # the record's `inputs` lists every variable its checks read (docs/stig-rules.md, "A rule")
    text_rule = convert_rule(rule("WN22-SO-000130"))
    assert text_rule["inputs"] == ["cwh_legal_notice_text"]
    title_rule = convert_rule(rule("WN16-SO-000160"))
    assert title_rule["inputs"] == ["cwh_legal_notice_caption"]
