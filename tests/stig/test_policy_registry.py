"""The registry judge on what Windows really stores: REG_SZ digits for CachedLogonsCount, DWords
shown unsigned, hardened UNC paths as Key=Value pairs, banners by hash; missing, wrongly typed
or garbled is never a pass unless the rule data says absence is compliant."""

from __future__ import annotations

import hashlib

import pytest

from tests.stig.policy_facts import facts, judge, reg, registry

WINLOGON = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon"
NETLOGON = r"HKLM\SYSTEM\CurrentControlSet\Services\Netlogon\Parameters"
SYSTEM = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"
HARDENED = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\NetworkProvider\HardenedPaths"
CACHED = {"kind": "registry", "path": WINLOGON, "name": "CachedLogonsCount", "type": "String",
          "op": "at_most", "value": 4, "absent": "finding"}
MACHINE_AGE = {"kind": "registry", "path": NETLOGON, "name": "MaximumPasswordAge",
               "type": "DWord", "op": "at_most", "value": 30, "never": [0], "absent": "finding"}


def outcome(check, *values):
    return judge(check, facts(registry=registry(*values)))


@pytest.mark.parametrize(("data", "passed"), [
    ("4", True), ("0", True), ("10", False), ("-1", False), ("4 ", False), (" 4", False),
    ("٤", False), ("4 (or less)", False), ("", False), ("0x4", False)])
def test_a_numeric_string_is_ascii_digits_only(data, passed):
    result = outcome(CACHED, reg(WINLOGON, "CachedLogonsCount", "String", data))
    assert result.passed is passed, result.observed


def test_a_dword_where_the_rule_names_a_string_is_a_finding():
    result = outcome(CACHED, reg(WINLOGON, "CachedLogonsCount", "DWord", 4))
    assert result.passed is False and "wrong type" in result.observed


@pytest.mark.parametrize(("value", "passed"), [(30, True), (1, True), (0, False), (31, False),
                                               (4294967295, False)])
def test_at_most_but_never_zero(value, passed):
    assert outcome(MACHINE_AGE, reg(NETLOGON, "MaximumPasswordAge", "DWord", value)).passed \
        is passed


def test_the_evidence_says_what_was_read_from_where():
    result = outcome(MACHINE_AGE, reg(NETLOGON, "MaximumPasswordAge", "DWord", 30))
    evidence = result.evidence[0]
    assert evidence.location == NETLOGON + r"\MaximumPasswordAge"
    assert evidence.observed == "DWord 0x1E (30)" and "<= 30" in evidence.expected
    assert "registry" in evidence.source and '"value": 30' in evidence.raw


@pytest.mark.parametrize("absent", ["finding", "compliant"])
@pytest.mark.parametrize("key", [True, False])
def test_a_missing_value_is_what_the_rule_data_says(absent, key):
    check = {**MACHINE_AGE, "absent": absent}
    result = outcome(check, reg(NETLOGON, "MaximumPasswordAge", key=key))
    assert result.passed is (absent == "compliant")


@pytest.mark.parametrize("data", ["30", True, -1, 2**32, None, 1.5])
def test_garbled_dword_data_is_unknown(data):
    value = reg(NETLOGON, "MaximumPasswordAge", "DWord", 30)
    value["value"] = data
    result = outcome(MACHINE_AGE, value)
    assert result.passed is None, (data, result.observed)


def test_an_unreadable_or_missing_answer_is_unknown():
    assert outcome(MACHINE_AGE, reg(NETLOGON, "MaximumPasswordAge", error="Requested registry "
                                    "access is not allowed.")).passed is None
    assert outcome(MACHINE_AGE).passed is None  # not in the collector's answer
    assert judge(MACHINE_AGE, facts()).passed is None  # no registry section at all


def test_an_absent_compliant_value_of_the_wrong_type_is_still_a_finding():
    check = {"kind": "registry", "path": SYSTEM, "name": "NoDataExecutionPrevention",
             "type": "DWord", "op": "equals", "value": 0, "absent": "compliant"}
    assert outcome(check, reg(SYSTEM, "NoDataExecutionPrevention", "String", "0")).passed \
        is False
    assert outcome(check, reg(SYSTEM, "NoDataExecutionPrevention", "DWord", 1)).passed is False


PATHS = {"kind": "registry", "path": HARDENED, "name": r"\\*\NETLOGON", "type": "String",
         "op": "key_values", "values": {"RequireMutualAuthentication": "1",
                                        "RequireIntegrity": "1"}, "absent": "finding"}


@pytest.mark.parametrize(("data", "passed"), [
    ("RequireMutualAuthentication=1, RequireIntegrity=1", True),
    ("RequireIntegrity=1,RequireMutualAuthentication=1", True),
    ("requiremutualauthentication=1, REQUIREINTEGRITY=1", True),
    ("RequireMutualAuthentication=1", False),
    ("RequireMutualAuthentication=1, RequireIntegrity=0", False),
    ("RequireMutualAuthentication=1, RequireIntegrity=1, RequirePrivacy=1", False),
    ("RequireMutualAuthentication=1, RequireMutualAuthentication=1, RequireIntegrity=1", False),
    ("RequireMutualAuthentication, RequireIntegrity=1", False)])
def test_hardened_paths_hold_exactly_the_pairs(data, passed):
    assert outcome(PATHS, reg(HARDENED, r"\\*\NETLOGON", "String", data)).passed is passed


BANNER = "You are accessing a lab system.\r\n  Use is monitored."
BANNER_CHECK = {"kind": "registry", "path": SYSTEM, "name": "LegalNoticeText", "type": "String",
                "op": "matches_input", "input": "cwh_legal_notice_text", "normalize": "whitespace",
                "default_sha256": hashlib.sha256(b"You are accessing a lab system. Use is "
                                                 b"monitored.").hexdigest(),
                "absent": "finding"}


def test_the_default_banner_is_matched_by_its_hash_after_whitespace_normalising():
    value = reg(SYSTEM, "LegalNoticeText", "String", BANNER)
    assert outcome(BANNER_CHECK, value).passed is True
    other = reg(SYSTEM, "LegalNoticeText", "String", "Welcome!")
    result = outcome(BANNER_CHECK, other)
    assert result.passed is False and "is not DoD's text" in result.observed


def test_an_organization_banner_from_the_inventory_replaces_the_default():
    value = reg(SYSTEM, "LegalNoticeText", "String", "Our   banner.")
    host = facts(registry=registry(value))
    assert judge(BANNER_CHECK, host, {"cwh_legal_notice_text": "Our banner."}).passed is True
    assert judge(BANNER_CHECK, host, {"cwh_legal_notice_text": "Another."}).passed is False
    # the catalog's placeholder default stands for "DoD's text", by hash
    assert judge(BANNER_CHECK, host, {"cwh_legal_notice_text": "DoD banner"}).passed is False


CAPTION = {"kind": "registry", "path": SYSTEM, "name": "LegalNoticeCaption", "type": "String",
           "op": "one_of", "values": ["DoD Notice and Consent Banner",
                                      "US Department of Defense Warning Statement"],
           "also_input": "cwh_legal_notice_caption", "absent": "finding"}


def test_a_caption_is_one_of_dods_or_the_organizations():
    dod = facts(registry=registry(reg(SYSTEM, "LegalNoticeCaption", "String",
                                      "DoD Notice and Consent Banner")))
    ours = facts(registry=registry(reg(SYSTEM, "LegalNoticeCaption", "String", "Notice")))
    assert judge(CAPTION, dod).passed is True
    assert judge(CAPTION, ours).passed is False
    assert judge(CAPTION, ours, {"cwh_legal_notice_caption": "Notice"}).passed is True
    empty = facts(registry=registry(reg(SYSTEM, "LegalNoticeCaption", "String", "")))
    assert judge(CAPTION, empty).passed is False  # a fresh install's empty title


def test_string_values_compare_case_sensitively_unless_told():
    check = {"kind": "registry", "path": r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa",
             "name": "RestrictRemoteSAM", "type": "String", "op": "equals",
             "value": "O:BAG:BAD:(A;;RC;;;BA)", "absent": "finding"}
    path = check["path"]
    assert outcome(check, reg(path, "RestrictRemoteSAM", "String",
                              "O:BAG:BAD:(A;;RC;;;BA)")).passed is True
    assert outcome(check, reg(path, "RestrictRemoteSAM", "String",
                              "o:bag:bad:(a;;rc;;;ba)")).passed is False


def test_scremoveoption_is_a_string_one_of():
    check = {"kind": "registry", "path": WINLOGON, "name": "scremoveoption", "type": "String",
             "op": "one_of", "values": ["1", "2"], "absent": "finding"}
    assert outcome(check, reg(WINLOGON, "scremoveoption", "String", "1")).passed is True
    assert outcome(check, reg(WINLOGON, "scremoveoption", "String", "0")).passed is False
    assert outcome(check, reg(WINLOGON, "scremoveoption", "DWord", 1)).passed is False


def test_large_unsigned_dwords_compare_as_windows_shows_them():
    kerberos = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System\Kerberos\Parameters"
    check = {"kind": "registry", "path": kerberos, "name": "SupportedEncryptionTypes",
             "type": "DWord", "op": "equals", "value": 2147483640, "absent": "finding"}
    assert outcome(check, reg(kerberos, "SupportedEncryptionTypes", "DWord",
                              2147483640)).passed is True
    assert outcome(check, reg(kerberos, "SupportedEncryptionTypes", "DWord",
                              2147483647)).passed is False


def test_a_value_answered_twice_differently_is_unknown():
    a = reg(NETLOGON, "MaximumPasswordAge", "DWord", 30)
    b = {**a, "path": NETLOGON.upper(), "value": 0}
    assert outcome(MACHINE_AGE, a, b).passed is None
