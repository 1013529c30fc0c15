"""cwh.judge.policy: catalog conditions + facts -> verdicts, and never a pass without a fact."""

from __future__ import annotations

import pytest

from cwh.catalog.model import parse_catalog
from cwh.collect.document import parse_output
from cwh.collect.facts import HostFacts
from cwh.judge import judge
from cwh.judge.policy import compare, judge_policy
from cwh.judge.verdict import Evidence, Status, Verdict
from cwh.lab.emulator import encode_document
from tests.unit.helpers import (
    CATALOG,
    LANMAN,
    LSA,
    MRXSMB10,
    SCHANNEL,
    control,
    document,
    facts,
    failed,
    features,
    firewall,
    image,
    image_facts,
    inf_text,
    ok,
    policy_controls,
    reg,
    registry,
    registry_conditions,
    secedit,
)

NAF, OPEN, NA, NR = (Status.NOT_A_FINDING, Status.OPEN, Status.NOT_APPLICABLE,
                     Status.NOT_REVIEWED)
TLS10 = SCHANNEL + r"\TLS 1.0\Server"
TLS12 = SCHANNEL + r"\TLS 1.2\Server"
SSL30 = SCHANNEL + r"\SSL 3.0\Server"


def gpo01(*items: dict) -> Verdict:
    return judge_policy(control("CWH-GPO-01"), facts(registry=registry(*items)), {})


# --- registry ---------------------------------------------------------------------------------

def test_equals_passes_with_evidence_naming_the_value() -> None:
    verdict = gpo01(reg(LSA, "RestrictAnonymous", "DWord", 1))
    assert verdict.status is NAF
    assert verdict.observed == "DWord 1"
    assert verdict.expected == "DWord = 1"
    [evidence] = verdict.evidence
    assert evidence.location == LSA + r"\RestrictAnonymous"
    assert evidence.observed == "DWord 1"
    assert "registry" in evidence.source and "WinRM" in evidence.source
    assert '"value": 1' in evidence.raw and '"kind": "DWord"' in evidence.raw


def test_equals_fails_with_the_observed_value() -> None:
    verdict = gpo01(reg(LSA, "RestrictAnonymous", "DWord", 0))
    assert verdict.status is OPEN
    assert verdict.observed == "DWord 0"
    assert "expected DWord = 1" in verdict.reason and "DWord 0" in verdict.reason


def test_registry_path_and_name_match_case_insensitively() -> None:
    verdict = gpo01(reg(LSA.upper(), "restrictanonymous", "DWord", 1))
    assert verdict.status is NAF


def test_missing_value_is_a_finding() -> None:
    verdict = gpo01(reg(LSA, "RestrictAnonymous"))
    assert verdict.status is OPEN
    assert "missing" in verdict.observed
    assert "value absent" in verdict.observed


def test_missing_key_is_a_finding() -> None:
    verdict = gpo01(reg(LSA, "RestrictAnonymous", key=False))
    assert verdict.status is OPEN
    assert "key absent" in verdict.observed
    assert verdict.evidence[0].observed.startswith("key absent")


@pytest.mark.parametrize(("kind", "value"), [
    ("String", "1"),
    ("ExpandString", "1"),
    ("QWord", 1),
    ("MultiString", ["1"]),
    ("Binary", "AQAAAA=="),
])
def test_a_differently_typed_value_is_not_the_setting(kind: str, value: object) -> None:
    verdict = gpo01(reg(LSA, "RestrictAnonymous", kind, value))
    assert verdict.status is OPEN
    assert "wrong type" in verdict.observed
    assert kind in verdict.observed


def test_large_dword_is_shown_in_hex_and_decimal() -> None:
    condition = next(c for c in CATALOG["CWH-GPO-04"].conditions())
    verdict = judge_policy(CATALOG["CWH-GPO-04"], facts(registry=registry(
        reg(condition.params["path"], "NoDriveTypeAutoRun", "DWord", 145))), {})
    assert verdict.status is OPEN
    assert verdict.observed == "DWord 0x91 (145)"


def _typed_control(kind: str, expected: object, operator: str = "equals"):
    return parse_catalog({"catalog_version": "t", "controls": [{
        "id": "CWH-TEST-01", "title": "typed", "area": "gpo", "handler": "policy",
        "severity": "low", "source": "stig", "fix": "fix it",
        "check": {"method": "registry", "path": r"HKLM\SOFTWARE\Cwh\Test", "name": "V",
                  "type": kind, "operator": operator, "expected": expected},
    }]})["CWH-TEST-01"]


@pytest.mark.parametrize(("kind", "expected", "good", "bad"), [
    ("QWord", 255, 255, 254),
    ("QWord", 18446744073709551615, 18446744073709551615, 9223372036854775807),
    ("MultiString", ["NTLM", "Kerberos"], ["NTLM", "Kerberos"], ["NTLM"]),
    ("MultiString", ["NTLM", "Kerberos"], ["NTLM", "Kerberos"], "NTLM"),  # PS 5.1 scalar
    ("Binary", "AQIDBA==", "AQIDBA==", "AQIDBQ=="),
    ("String", "1", "1", 1),
    ("ExpandString", r"%SystemRoot%\system32\srvsvc.dll", r"%SystemRoot%\system32\srvsvc.dll",
     r"C:\Windows\system32\srvsvc.dll"),
])
def test_typed_values_compare_like_with_like(kind: str, expected: object, good: object,
                                              bad: object) -> None:
    ctrl = _typed_control(kind, expected)

    def verdict(value: object) -> Verdict:
        return judge_policy(ctrl, facts(registry=registry(
            reg(r"HKLM\SOFTWARE\Cwh\Test", "V", kind, value))), {})

    assert verdict(good).status is NAF
    assert verdict(bad).status is OPEN


def test_at_least_on_text_is_a_finding_not_a_conversion() -> None:
    ctrl = _typed_control("DWord", 14, "at_least")
    # The type check catches a REG_SZ; a DWord that arrives as JSON text is also not a number.
    verdict = judge_policy(ctrl, facts(registry=registry(
        reg(r"HKLM\SOFTWARE\Cwh\Test", "V", "DWord", "20"))), {})
    assert verdict.status is OPEN
    assert "not a number" in verdict.observed


def test_compare_refuses_to_order_text_and_booleans() -> None:
    with pytest.raises(TypeError):
        compare("at_least", "15", 14)
    with pytest.raises(TypeError):
        compare("at_most", True, 1)
    assert compare("equals", 1, 1) and not compare("equals", True, 1)
    assert compare("one_of", 2, [1, 2]) and not compare("one_of", "2", [1, 2])


def test_registry_item_error_is_not_reviewed_with_error() -> None:
    verdict = gpo01(reg(LSA, "RestrictAnonymous",
                        error="Requested registry access is not allowed."))
    assert verdict.status is NR and verdict.error
    assert "Requested registry access is not allowed." in verdict.reason
    assert verdict.evidence and verdict.evidence[0].observed == "not available"


def test_registry_section_failure_is_not_reviewed() -> None:
    verdict = judge_policy(control("CWH-GPO-01"), facts(
        registry=failed("Exception calling \"OpenBaseKey\": Access is denied.")), {})
    assert verdict.status is NR and verdict.error
    assert "collecting 'registry' failed on the host" in verdict.reason
    assert "Access is denied." in verdict.reason


def test_registry_section_missing_is_not_reviewed() -> None:
    verdict = judge_policy(control("CWH-GPO-01"), facts(), {})
    assert verdict.status is NR and verdict.error
    assert "no 'registry' section" in verdict.reason


def test_registry_section_null_is_not_reviewed() -> None:
    verdict = judge_policy(control("CWH-GPO-01"), facts(registry=ok(None)), {})
    assert verdict.status is NR and verdict.error
    assert "null" in verdict.reason


def test_value_not_in_the_answer_is_not_reviewed() -> None:
    verdict = gpo01(reg(LSA, "RestrictAnonymousSAM", "DWord", 1))
    assert verdict.status is NR and verdict.error
    assert "was not in the collector's answer" in verdict.reason


def test_registry_values_as_a_scalar_object_are_read() -> None:
    """PowerShell 5.1 unrolls a one-element array into the object itself."""
    section = ok({"view": "Registry64", "values": reg(LSA, "RestrictAnonymous", "DWord", 1)})
    verdict = judge_policy(control("CWH-GPO-01"), facts(registry=section), {})
    assert verdict.status is NAF


def test_values_null_is_not_reviewed() -> None:
    """PowerShell 5.1 turns an empty array into null."""
    section = ok({"view": "Registry64", "values": None})
    verdict = judge_policy(control("CWH-GPO-01"), facts(registry=section), {})
    assert verdict.status is NR and verdict.error


@pytest.mark.parametrize("item", [
    {"path": LSA, "name": "RestrictAnonymous", "key_exists": True, "value_exists": True,
     "kind": "DWord", "value": None, "error": None},
    {"path": LSA, "name": "RestrictAnonymous", "key_exists": True, "value_exists": True,
     "kind": None, "value": 1, "error": None},
    {"path": LSA, "name": "RestrictAnonymous", "kind": "DWord", "value": 1, "error": None},
    {"path": LSA, "name": "RestrictAnonymous", "key_exists": "True", "value_exists": "True",
     "kind": "DWord", "value": 1, "error": None},
], ids=["value-null", "kind-null", "no-existence-flags", "flags-as-text"])
def test_incomplete_registry_item_is_not_reviewed(item: dict) -> None:
    verdict = gpo01(item)
    assert verdict.status is NR and verdict.error


def test_contradictory_registry_item_is_not_a_pass() -> None:
    ctrl = control("CWH-STIG-07")
    items = [reg(TLS12, "DisabledByDefault", "DWord", 0), reg(TLS12, "Enabled", "DWord", 1),
             {"path": SSL30, "name": "Enabled", "key_exists": False, "value_exists": True,
              "kind": "DWord", "value": 1, "error": None}]
    verdict = judge_policy(ctrl, facts(registry=registry(*items)), {})
    assert verdict.status is not NAF


# --- absent: compliant (CWH-STIG-07, SSL 3.0) --------------------------------------------------

def _stig07(ssl30: dict) -> Verdict:
    return judge_policy(control("CWH-STIG-07"), facts(registry=registry(
        reg(TLS12, "DisabledByDefault", "DWord", 0), reg(TLS12, "Enabled", "DWord", 1),
        ssl30)), {})


def test_absent_value_marked_compliant_passes_and_says_absent() -> None:
    verdict = _stig07(reg(SSL30, "Enabled", key=False))
    assert verdict.status is NAF
    ssl = next(e for e in verdict.evidence if "SSL 3.0" in e.location)
    assert "absent" in ssl.observed and "compliant" in ssl.observed
    assert "SSL 3.0\\Enabled: key absent" in verdict.observed


@pytest.mark.parametrize(("ssl30", "status"), [
    (reg(SSL30, "Enabled", "DWord", 1), OPEN),
    (reg(SSL30, "Enabled", "DWord", 0), NAF),
    (reg(SSL30, "Enabled"), NAF),  # key present, value absent: also "not present"
    (reg(SSL30, "Enabled", "String", "0"), OPEN),
    (reg(SSL30, "Enabled", error="Requested registry access is not allowed."), NR),
])
def test_ssl30_enabled(ssl30: dict, status: Status) -> None:
    assert _stig07(ssl30).status is status


def test_tls12_keys_missing_is_a_finding_even_though_windows_defaults_to_on() -> None:
    verdict = judge_policy(control("CWH-STIG-07"), facts(registry=registry(
        reg(TLS12, "DisabledByDefault", key=False), reg(TLS12, "Enabled", key=False),
        reg(SSL30, "Enabled", key=False))), {})
    assert verdict.status is OPEN


# --- secedit ----------------------------------------------------------------------------------

def _pwd(inf: str, inputs: dict | None = None, ctrl: str = "CWH-PWD-01") -> Verdict:
    return judge_policy(control(ctrl), facts(secedit=secedit(inf)), inputs or {})


def test_secedit_value_passes_and_fails() -> None:
    assert _pwd(inf_text({"MinimumPasswordLength": 14})).status is NAF
    verdict = _pwd(inf_text({"MinimumPasswordLength": 13}))
    assert verdict.status is OPEN
    assert verdict.observed == "13"
    assert verdict.evidence[0].raw == "MinimumPasswordLength = 13"
    assert verdict.evidence[0].location == "secedit [System Access] MinimumPasswordLength"


def test_secedit_non_numeric_value_is_not_reviewed() -> None:
    verdict = _pwd(inf_text({"MinimumPasswordLength": "fourteen"}))
    assert verdict.status is NR and verdict.error
    assert "'fourteen' is not a number" in verdict.reason


def test_secedit_empty_value_is_not_reviewed() -> None:
    inf = inf_text({"MinimumPasswordLength": 14}).replace("MinimumPasswordLength = 14",
                                                          "MinimumPasswordLength =")
    verdict = _pwd(inf)
    assert verdict.status is NR and verdict.error


def test_secedit_line_absent_is_a_finding() -> None:
    verdict = _pwd(inf_text({"PasswordComplexity": None}), ctrl="CWH-PWD-02")
    assert verdict.status is OPEN
    assert "line absent" in verdict.observed
    assert verdict.evidence[0].observed == "line absent"


def test_secedit_section_failure_is_not_reviewed_not_empty_policy() -> None:
    section = failed("secedit /export failed with exit code 1: Task is completing. An extended "
                     "error has occurred. Access is denied.")
    for ctrl in ("CWH-PWD-01", "CWH-PWD-02", "CWH-GPO-05"):
        verdict = judge_policy(control(ctrl), facts(secedit=section), {})
        assert verdict.status is NR and verdict.error, ctrl
        assert "Access is denied" in verdict.reason


@pytest.mark.parametrize("inf", [
    "",
    "Access is denied.\r\n",
    inf_text().split("[Privilege Rights]")[0],  # export cut short
    "[Unicode]\r\nUnicode=yes\r\n[Version]\r\nRevision=1\r\n",
], ids=["empty", "console-text", "truncated", "no-sections"])
def test_unusable_secedit_export_is_not_reviewed(inf: str) -> None:
    for ctrl in ("CWH-PWD-01", "CWH-GPO-05"):
        verdict = judge_policy(control(ctrl), facts(secedit=secedit(inf)), {})
        assert verdict.status is NR and verdict.error, ctrl
        assert "secedit export could not be read" in verdict.reason


def test_secedit_section_without_inf_text_is_not_reviewed() -> None:
    verdict = judge_policy(control("CWH-PWD-02"), facts(secedit=ok({"command": "secedit"})), {})
    assert verdict.status is NR and verdict.error
    assert "no INF text" in verdict.reason


# --- user rights (CWH-GPO-05) ------------------------------------------------------------------

def _tcb(rights: dict[str, str]) -> Verdict:
    return judge_policy(control("CWH-GPO-05"),
                        facts(secedit=secedit(inf_text(privilege_rights=rights))), {})


def test_user_right_held_is_a_finding_listing_the_holders() -> None:
    verdict = _tcb({"SeTcbPrivilege": "*S-1-5-21-1004336348-1177238915-682003330-1017,svc-bkp"})
    assert verdict.status is OPEN
    assert verdict.observed == ("assigned to S-1-5-21-1004336348-1177238915-682003330-1017, "
                                "svc-bkp")
    assert verdict.evidence[0].raw.startswith("SeTcbPrivilege = *S-1-5-21-")


def test_user_right_absent_passes_with_evidence_saying_absent() -> None:
    verdict = _tcb({})
    assert verdict.status is NAF
    assert verdict.observed == "assigned to no one"
    assert verdict.evidence[0].raw == "SeTcbPrivilege absent from [Privilege Rights]"


def test_user_right_with_empty_value_passes() -> None:
    verdict = _tcb({"SeTcbPrivilege": ""})
    assert verdict.status is NAF
    assert verdict.evidence[0].raw == "SeTcbPrivilege = "


# --- Windows features (CWH-STIG-04: feature not installed OR SMB1 = 0) -------------------------

def _stig04(state: str | None, smb1: dict) -> Verdict:
    return judge_policy(control("CWH-STIG-04"), facts(
        features=features(**{"FS-SMB1": state}), registry=registry(smb1)), {})


SMB1_ABSENT = reg(LANMAN, "SMB1")
SMB1_OFF = reg(LANMAN, "SMB1", "DWord", 0)
SMB1_ERROR = reg(LANMAN, "SMB1", error="Requested registry access is not allowed.")


@pytest.mark.parametrize(("state", "smb1", "status"), [
    ("Installed", SMB1_ABSENT, OPEN),
    ("Installed", SMB1_OFF, NAF),
    ("Available", SMB1_ABSENT, NAF),
    ("Removed", SMB1_ABSENT, NAF),
    ("InstallPending", SMB1_ABSENT, NR),
    (None, SMB1_ABSENT, NR),  # Get-WindowsFeature error for this feature
    ("Available", SMB1_ERROR, NAF),  # any: one part really passed
    ("Installed", SMB1_ERROR, NR),
    ("InstallPending", SMB1_OFF, NAF),
])
def test_feature_states(state: str | None, smb1: dict, status: Status) -> None:
    verdict = _stig04(state, smb1)
    assert verdict.status is status
    if status is NR:
        assert verdict.error


def test_any_with_every_part_failed_is_open_with_both_parts_in_evidence() -> None:
    verdict = _stig04("Installed", reg(LANMAN, "SMB1", "DWord", 1))
    assert verdict.status is OPEN
    assert "FS-SMB1: Installed" in verdict.observed and "SMB1: DWord 1" in verdict.observed
    assert len(verdict.evidence) == 2
    assert " or " in verdict.expected


def test_feature_missing_from_answer_is_not_reviewed() -> None:
    verdict = judge_policy(control("CWH-STIG-04"), facts(
        features=ok({"features": {}}), registry=registry(SMB1_ABSENT)), {})
    assert verdict.status is NR and verdict.error
    assert "FS-SMB1 was not in the collector's answer" in verdict.reason


@pytest.mark.parametrize("ctrl", ["CWH-STIG-06", "CWH-STIG-05"])
def test_malformed_section_data_is_not_reviewed(ctrl: str) -> None:
    malformed = ok(["Installed"])
    verdict = judge_policy(control(ctrl), facts(
        features=malformed, firewall_profiles=malformed,
        registry=registry(reg(MRXSMB10, "Start", "DWord", 3))), {})
    assert verdict.status is NR and verdict.error


# --- firewall profiles (CWH-STIG-06) ------------------------------------------------------------

@pytest.mark.parametrize(("profiles", "status"), [
    ({"Domain": "True", "Private": "True", "Public": "True"}, NAF),
    ({"Domain": "True", "Private": "True", "Public": "False"}, OPEN),
    ({"Domain": "True", "Private": "NotConfigured", "Public": "True"}, OPEN),
    ({"Domain": "True", "Private": "True"}, NR),
    ({}, NR),
])
def test_firewall_profiles(profiles: dict[str, str], status: Status) -> None:
    verdict = judge_policy(control("CWH-STIG-06"), facts(firewall_profiles=firewall(**profiles)),
                           {})
    assert verdict.status is status
    if status is NR:
        assert verdict.error
    if status is OPEN:
        assert "Domain=True" in verdict.observed


def test_missing_profile_is_named() -> None:
    verdict = judge_policy(control("CWH-STIG-06"), facts(
        firewall_profiles=firewall(Domain="True", Private="True")), {})
    assert "Public" in verdict.reason


def test_single_profile_as_scalar_is_not_reviewed() -> None:
    section = ok({"store": "ActiveStore", "profiles": {"name": "Domain", "enabled": "True"}})
    verdict = judge_policy(control("CWH-STIG-06"), facts(firewall_profiles=section), {})
    assert verdict.status is NR and verdict.error


# --- all / any ----------------------------------------------------------------------------------

def _tls01(*items: dict, inputs: dict | None = None) -> Verdict:
    return judge_policy(control("CWH-TLS-01"), facts(registry=registry(*items)), inputs or {})


ENABLED_ERROR = reg(TLS10, "Enabled", error="Requested registry access is not allowed.")


def test_all_with_a_failed_and_an_unknown_part_is_open() -> None:
    verdict = _tls01(reg(TLS10, "DisabledByDefault", "DWord", 0), ENABLED_ERROR)
    assert verdict.status is OPEN
    assert "TLS 1.0\\Enabled: not available" in verdict.observed


def test_all_with_a_passed_and_an_unknown_part_is_not_reviewed() -> None:
    verdict = _tls01(reg(TLS10, "DisabledByDefault", "DWord", 1), ENABLED_ERROR)
    assert verdict.status is NR and verdict.error
    assert "Requested registry access is not allowed." in verdict.reason


def test_all_passes_only_when_every_part_passes() -> None:
    good = _tls01(reg(TLS10, "DisabledByDefault", "DWord", 1), reg(TLS10, "Enabled", "DWord", 0))
    assert good.status is NAF
    assert len(good.evidence) == 2
    bad = _tls01(reg(TLS10, "DisabledByDefault", "DWord", 1), reg(TLS10, "Enabled", "DWord", 1))
    assert bad.status is OPEN


# --- not_applicable_when (CWH-STIG-05) ---------------------------------------------------------

def _stig05(state: str | None, start: dict) -> Verdict:
    return judge_policy(control("CWH-STIG-05"), facts(
        features=features(**{"FS-SMB1": state}), registry=registry(start)), {})


def test_not_applicable_when_smb1_feature_is_not_installed() -> None:
    verdict = _stig05("Available", reg(MRXSMB10, "Start", key=False))
    assert verdict.status is NA
    assert "FS-SMB1" in verdict.reason
    assert verdict.evidence and verdict.evidence[0].observed == "Available"


@pytest.mark.parametrize(("start", "status"), [
    (reg(MRXSMB10, "Start", "DWord", 4), NAF),
    (reg(MRXSMB10, "Start", "DWord", 3), OPEN),
    (reg(MRXSMB10, "Start", key=False), OPEN),
])
def test_evaluated_when_smb1_feature_is_installed(start: dict, status: Status) -> None:
    assert _stig05("Installed", start).status is status


def test_unknown_applicability_never_becomes_not_applicable() -> None:
    verdict = _stig05(None, reg(MRXSMB10, "Start", "DWord", 3))
    # A finding counts only where the control applies: unsure of that, it is Not_Reviewed.
    assert verdict.status is NR and verdict.error
    assert "could not tell whether the control applies" in verdict.reason
    assert _stig05(None, reg(MRXSMB10, "Start", "DWord", 4)).status is NAF
    unknown = _stig05(None, reg(MRXSMB10, "Start", error="access denied"))
    assert unknown.status is NR and unknown.error
    assert "could not tell whether the control applies" in unknown.reason


# --- guide vs STIG ------------------------------------------------------------------------------

def test_password_length_12_is_open_by_default_and_says_who_asked() -> None:
    verdict = _pwd(inf_text({"MinimumPasswordLength": 12}))
    assert verdict.status is OPEN
    assert "STIG >= 14" in verdict.requirement
    assert "guide >= 12" in verdict.requirement
    assert "applied the stricter STIG value" in verdict.requirement


def test_password_length_12_passes_with_the_inventory_input() -> None:
    verdict = _pwd(inf_text({"MinimumPasswordLength": 12}), {"cwh_min_password_length": 12})
    assert verdict.status is NAF
    assert "applied >= 12 (inventory cwh_min_password_length)" in verdict.requirement
    assert "STIG >= 14" in verdict.requirement


def test_password_length_12_passes_with_guide_only() -> None:
    verdict = _pwd(inf_text({"MinimumPasswordLength": 12}), {"cwh_guide_only": ["CWH-PWD-01"]})
    assert verdict.status is NAF
    assert "applied >= 12 (inventory cwh_guide_only)" in verdict.requirement
    assert _pwd(inf_text({"MinimumPasswordLength": 11}),
                {"cwh_guide_only": ["CWH-PWD-01"]}).status is OPEN


def test_guide_only_for_another_control_changes_nothing() -> None:
    verdict = _pwd(inf_text({"MinimumPasswordLength": 12}), {"cwh_guide_only": ["CWH-TLS-01"]})
    assert verdict.status is OPEN


def test_stricter_inventory_input_is_applied() -> None:
    verdict = _pwd(inf_text({"MinimumPasswordLength": 15}), {"cwh_min_password_length": 16})
    assert verdict.status is OPEN


def test_inventory_input_never_relaxes_below_the_guide() -> None:
    verdict = _pwd(inf_text({"MinimumPasswordLength": 8}), {"cwh_min_password_length": 8})
    assert verdict.status is not NAF


def test_tls10_with_only_disabled_by_default_is_open_by_default() -> None:
    items = (reg(TLS10, "DisabledByDefault", "DWord", 1), reg(TLS10, "Enabled"))
    verdict = _tls01(*items)
    assert verdict.status is OPEN
    assert "Enabled" in verdict.observed and "value absent" in verdict.observed
    assert "STIG = 0; guide does not ask for it" in verdict.requirement


def test_tls10_with_only_disabled_by_default_passes_with_guide_only() -> None:
    items = (reg(TLS10, "DisabledByDefault", "DWord", 1), reg(TLS10, "Enabled"))
    verdict = _tls01(*items, inputs={"cwh_guide_only": ["CWH-TLS-01"]})
    assert verdict.status is NAF
    assert "not applied (inventory cwh_guide_only)" in verdict.requirement
    assert [e.location.rsplit("\\", 1)[-1] for e in verdict.evidence] == ["DisabledByDefault"]
    # the guide's own value still has to be there
    assert _tls01(reg(TLS10, "DisabledByDefault", key=False), reg(TLS10, "Enabled", key=False),
                  inputs={"cwh_guide_only": ["CWH-TLS-01"]}).status is OPEN


def test_every_condition_switched_off_is_not_reviewed_without_error() -> None:
    ctrl = parse_catalog({"catalog_version": "t", "controls": [{
        "id": "CWH-TEST-02", "title": "stig only", "area": "tls", "handler": "policy",
        "severity": "high", "source": "guide", "fix": "f",
        "check": {"method": "registry", "path": r"HKLM\SOFTWARE\Cwh", "name": "V",
                  "type": "DWord", "expected": 0, "source": "stig"},
    }]})["CWH-TEST-02"]
    verdict = judge_policy(ctrl, facts(registry=registry(reg(r"HKLM\SOFTWARE\Cwh", "V"))),
                           {"cwh_guide_only": ["CWH-TEST-02"]})
    assert verdict.status is NR and not verdict.error
    assert "switched off" in verdict.reason


# --- whole images --------------------------------------------------------------------------------

def test_hardened_image_passes_every_policy_control() -> None:
    host = image_facts(image("hardened"))
    results = {c.id: judge_policy(c, host, {}).status for c in policy_controls()}
    assert results == dict.fromkeys(results, NAF)


def test_drifted_image_fails_every_policy_control() -> None:
    host = image_facts(image("drifted"))
    results = {c.id: judge_policy(c, host, {}).status for c in policy_controls()}
    assert results == dict.fromkeys(results, OPEN)


# --- the sweep: no fault ever passes ------------------------------------------------------------

NEEDED = ("registry", "secedit", "features", "firewall_profiles")


def _all_registry_errored() -> HostFacts:
    items = [reg(c.params["path"], c.params["name"], error="The RPC server is unavailable.")
             for ctrl in policy_controls() for c in registry_conditions(ctrl)]
    return facts(registry=registry(*items))


def _all_registry_value_null() -> HostFacts:
    items = [{"path": c.params["path"], "name": c.params["name"], "key_exists": True,
              "value_exists": True, "kind": c.params["type"], "value": None, "error": None}
             for ctrl in policy_controls() for c in registry_conditions(ctrl)]
    return facts(registry=registry(*items), secedit=secedit("\ufeff"),
                 features=ok({"features": None}), firewall_profiles=ok({"profiles": None}))


FAULTS = {
    "section-missing": lambda: facts(),
    "section-error": lambda: facts(**dict.fromkeys(NEEDED, failed("Access is denied."))),
    "section-null": lambda: facts(**{name: ok(None) for name in NEEDED}),
    "host-failed": lambda: HostFacts.failed("sc-unit", "sc-unit: connection refused at "
                                                       "10.0.0.5:5986"),
    "registry-items-errored": _all_registry_errored,
    "values-null-and-sections-empty": _all_registry_value_null,
    "document-without-sections": lambda: HostFacts("sc-unit", {"schema": 1, "sections": {}}),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("control_id", sorted(c.id for c in policy_controls()))
def test_no_fault_ever_passes(control_id: str, fault: str) -> None:
    verdict = judge_policy(CATALOG[control_id], FAULTS[fault](), {})
    assert verdict.status is not NAF
    assert verdict.status is NR, verdict
    assert verdict.error
    assert verdict.reason.startswith("could not evaluate")


def test_host_failure_is_not_reviewed_for_every_control() -> None:
    host = HostFacts.failed("sc-unit", "sc-unit: authentication failed for user 'auditor'")
    for ctrl in CATALOG.controls:
        if ctrl.handler not in ("policy", "accounts"):
            continue
        verdict = judge(ctrl, host, {})
        assert verdict.status is NR and verdict.error, ctrl.id
        assert "authentication failed" in verdict.reason, ctrl.id


# --- Verdict --------------------------------------------------------------------------------------

def test_a_pass_without_observed_value_or_evidence_cannot_be_built() -> None:
    evidence = (Evidence("registry", LSA, "DWord 1"),)
    with pytest.raises(ValueError, match="NotAFinding needs"):
        Verdict(Status.NOT_A_FINDING, "looks fine")
    with pytest.raises(ValueError, match="NotAFinding needs"):
        Verdict(Status.NOT_A_FINDING, "looks fine", observed="DWord 1")
    with pytest.raises(ValueError, match="NotAFinding needs"):
        Verdict(Status.NOT_A_FINDING, "looks fine", evidence=evidence)
    assert Verdict(Status.NOT_A_FINDING, "ok", observed="DWord 1", evidence=evidence).status \
        is NAF


def test_only_not_reviewed_carries_an_error() -> None:
    with pytest.raises(ValueError, match="only Not_Reviewed"):
        Verdict(Status.OPEN, "broken", error=True)


def test_verdict_serialises_its_evidence() -> None:
    data = gpo01(reg(LSA, "RestrictAnonymous", "DWord", 0)).to_dict()
    assert data["status"] == "Open"
    assert data["evidence"][0]["location"] == LSA + r"\RestrictAnonymous"
    assert data["error"] is False


def test_document_helper_is_schema_1() -> None:
    """Keeps the hand-written documents honest: they parse like collector output would."""
    doc = document({"registry": registry(reg(LSA, "RestrictAnonymous", "DWord", 1))})
    assert parse_output(encode_document(doc), b"", 0) == doc
