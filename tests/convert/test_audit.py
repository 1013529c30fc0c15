"""cwh.convert.audit: the subcategory GUID table and DISA's audit phrasings."""

from __future__ import annotations

import pytest

from cwh.convert.audit import SUBCATEGORIES, audit_checks, subcategory
from cwh.convert.result import Refusal
from tests.convert.phrasings import edited, text

# Held against two published sources: the Audit_* GUID constants of ntsecapi.h (Microsoft's
# Win32 metadata) and the OVAL Windows schema's auditeventpolicysubcategories documentation,
# which pairs each GUID with its Group Policy path (e.g. "Account Logon: Audit Credential
# Validation"). Microsoft's "Auditing Constants" page lists the System and Logon ones too.
PUBLISHED = {
    "Credential Validation": "{0CCE923F-69AE-11D9-BED3-505054503030}",
    "Security State Change": "{0CCE9210-69AE-11D9-BED3-505054503030}",
    "Logon": "{0CCE9215-69AE-11D9-BED3-505054503030}",
    "Removable Storage": "{0CCE9245-69AE-11D9-BED3-505054503030}",
    "Group Membership": "{0CCE9249-69AE-11D9-BED3-505054503030}",
    "Plug and Play Events": "{0CCE9248-69AE-11D9-BED3-505054503030}",
    "Audit Policy Change": "{0CCE922F-69AE-11D9-BED3-505054503030}",
    "Directory Service Changes": "{0CCE923C-69AE-11D9-BED3-505054503030}",
    "Other Object Access Events": "{0CCE9227-69AE-11D9-BED3-505054503030}",
    "Sensitive Privilege Use": "{0CCE9228-69AE-11D9-BED3-505054503030}",
}


@pytest.mark.parametrize(("name", "guid"), sorted(PUBLISHED.items()))
def test_guids_match_the_published_ones(name: str, guid: str) -> None:
    assert SUBCATEGORIES[name][1] == guid


def test_every_guid_is_unique() -> None:
    guids = [guid for _, guid in SUBCATEGORIES.values()]
    assert len(set(guids)) == len(guids)


def test_group_policy_spelling_of_audit_policy_change() -> None:
    assert subcategory("Policy Change", "Audit Audit Policy Change")[0] == "Audit Policy Change"
    assert subcategory("Policy Change", "Audit Policy Change")[0] == "Audit Policy Change"


def test_a_subcategory_under_the_wrong_category_is_refused() -> None:
    with pytest.raises(Refusal, match="category"):
        subcategory("System", "Logon")


def test_success() -> None:
    ct = text("WN22-AU-000070")
    found = audit_checks(ct)
    assert found is not None
    assert found.checks == [{"kind": "audit_policy", "subcategory": "Credential Validation",
                             "guid": PUBLISHED["Credential Validation"], "include": ["Success"]}]
    assert ct.unread_conditions() == []


def test_failure_2016_wording() -> None:
    found = audit_checks(text("WN16-AU-000230"))
    assert found is not None and found.checks[0]["include"] == ["Failure"]
    assert found.checks[0]["subcategory"] == "Account Lockout"


def test_success_and_failure_includes_both() -> None:
    ct = edited("WN22-AU-000070", "Credential Validation - Success",
                "Credential Validation - Success and Failure")
    found = audit_checks(ct)
    assert found is not None and found.checks[0]["include"] == ["Success", "Failure"]


def test_an_unknown_subcategory_is_refused() -> None:
    with pytest.raises(Refusal, match="does not know"):
        audit_checks(edited("WN22-AU-000070", "Credential Validation - Success",
                            "Credential Checking - Success"))


def test_without_the_finding_sentence_it_is_refused() -> None:
    with pytest.raises(Refusal, match="condition"):
        audit_checks(edited("WN22-AU-000070", "If the system does not audit the following, this "
                            "is a finding.", "Compare."))
