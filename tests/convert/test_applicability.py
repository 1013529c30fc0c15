"""cwh.convert.applicability: roles, Not_Applicable conditions and documented exceptions."""

from __future__ import annotations

import pytest

from cwh.convert.applicability import read_applicability, read_roles
from cwh.convert.result import Refusal
from tests.convert.phrasings import edited, text


@pytest.mark.parametrize(("stig_id", "roles"), [
    ("WN22-DC-000020", ["dc"]),  # "This applies to domain controllers. It is NA for other ..."
    ("WN22-DC-000370", ["dc"]),  # "... A separate version applies to other systems."
    ("WN22-DC-000360", ["dc"]),  # "This applies to domain controllers, it is NA ..."
    ("WN22-DC-000430", ["dc"]),  # "This requirement is applicable to domain controllers; ..."
    ("WN22-MS-000010", ["member", "standalone"]),
    ("WN22-MS-000040", ["member", "standalone"]),  # ", it is NA for domain controllers."
    ("WN22-MS-000060", ["member", "standalone"]),  # "; it is NA for domain controllers."
    ("WN22-MS-000020", ["member"]),
    ("WN19-MS-000100", ["member"]),  # "This applies to member servers only."
    ("WN22-MS-000140", ["member"]),  # "For domain controllers and standalone ..., this is NA."
    ("WN22-00-000090", ["dc", "member"]),  # "For standalone or nondomain-joined systems, NA."
    ("WN22-CC-000080", ["dc", "member"]),  # "applicable to domain-joined systems. For ..."
    ("WN22-SO-000050", ["dc", "member", "standalone"]),  # names no role
])
def test_roles(stig_id: str, roles: list[str]) -> None:
    ct = text(stig_id)
    assert read_roles(ct) == roles


def test_two_different_role_statements_are_refused() -> None:
    ct = edited("WN22-DC-000020", "It is NA for other systems.",
                "It is NA for other systems.\nThis applies to member servers. A separate version "
                "applies to domain controllers.")
    with pytest.raises(Refusal, match="two different ways"):
        read_roles(ct)


def test_server_core_and_nano_server() -> None:
    [core] = read_applicability(text("WN22-SO-000380")).not_applicable_if
    assert core["checks"][0]["values"] == ["Server Core"]
    [both] = read_applicability(text("WN16-SO-000460")).not_applicable_if
    assert both["checks"][0]["values"] == ["Server Core", "Nano Server"]
    [core_editions] = read_applicability(text("WN19-AU-000060")).not_applicable_if
    assert core_editions["checks"][0]["values"] == ["Server Core"]


@pytest.mark.parametrize(("stig_id", "variable"), [
    ("WN22-CC-000270", "cwh_events_to_audit_server"),
    ("WN22-CC-000300", "cwh_classified"),
    ("WN22-PK-000010", "cwh_classified"),
    ("WN22-PK-000020", "cwh_classified"),
    ("WN16-PK-000020", "cwh_classified"),  # "Verify ... installed on unclassified systems"
    ("WN22-00-000330", "cwh_ftp_server"),
])
def test_not_applicable_by_an_inventory_variable(stig_id: str, variable: str) -> None:
    applicability = read_applicability(text(stig_id))
    [condition] = applicability.not_applicable_if
    assert condition["checks"] == [{"kind": "input", "input": variable, "equals": True}]
    assert variable in applicability.inputs


def test_ftp_not_installed() -> None:
    [condition] = read_applicability(text("WN22-00-000420")).not_applicable_if
    assert condition["checks"] == [{"kind": "feature", "name": "Web-Ftp-Service",
                                    "installed": False}]


def test_other_rules_by_stig_id_and_by_legacy_vuln_id() -> None:
    assert read_applicability(text("WN22-00-000380")).other_rules == ["WN22-00-000390",
                                                                     "WN22-00-000400"]
    assert read_applicability(text("WN16-00-000411")).other_rules == ["V-73299"]


@pytest.mark.parametrize(("stig_id", "variable"), [
    ("WN22-AC-000080", "cwh_external_password_filter"),
    ("WN22-SO-000150", "cwh_smartcard_removal_exception"),
    ("WN22-AU-000240", "cwh_removable_storage_audit_exempt"),
])
def test_documented_exceptions(stig_id: str, variable: str) -> None:
    assert read_applicability(text(stig_id)).exceptions == [
        {"kind": "input", "input": variable, "equals": True}]
