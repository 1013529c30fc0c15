"""cwh.convert.host_checks and dc_checks."""

from __future__ import annotations

import pytest

from cwh.convert import dc_checks, host_checks
from cwh.convert.applicability import read_applicability
from cwh.convert.result import Refusal
from tests.convert.phrasings import edited, text


def run(recogniser, ct, with_roles: bool = False):
    roles = read_applicability(ct).roles
    found = recogniser(ct, roles) if with_roles else recogniser(ct)
    assert found is not None
    assert ct.unread_conditions() == []
    return found


def test_antivirus() -> None:
    found = run(host_checks.antivirus_checks, text("WN16-00-000120"))
    assert found.checks[0]["names_input"] == "cwh_antivirus_services"


def test_firewall_or_a_documented_third_party_one() -> None:
    found = run(host_checks.firewall_checks, text("WN22-00-000280"))
    assert found.combine == "any"
    assert found.checks[0]["profiles"] == ["Domain", "Private", "Public"]


def test_allowlisting() -> None:
    found = run(host_checks.allowlisting_checks, text("WN22-00-000080"))
    assert found.checks == [{"kind": "applocker", "op": "enforced"},
                            {"kind": "input", "input": "cwh_allowlisting_product",
                             "equals": True}]


def test_certificate_files() -> None:
    found = run(host_checks.certificate_file_checks, text("WN22-00-000240"))
    assert found.checks[0]["patterns"] == ["*.p12", "*.pfx"]


def test_time_source_by_role() -> None:
    found = run(host_checks.time_source_checks, text("WN19-00-000440"), with_roles=True)
    nt5ds, ntp = found.checks
    assert (nt5ds["type"], nt5ds["roles"]) == ("NT5DS", ["dc_other", "member"])
    assert (ntp["servers_input"], ntp["roles"]) == ("cwh_time_sources", ["dc_pdc", "standalone"])


def test_orphaned_sids() -> None:
    assert run(host_checks.orphaned_sid_checks, text("WN22-00-000450")).checks == [
        {"kind": "user_rights_sids", "op": "all_resolve"}]


def test_ldap_idle_limit_stated_twice() -> None:
    assert run(dc_checks.ldap_idle_checks, text("WN22-DC-000160")).checks[0]["value"] == 300
    ct = edited("WN22-DC-000160", 'a value greater than "300"', 'a value greater than "600"')
    with pytest.raises(Refusal, match="same way"):
        dc_checks.ldap_idle_checks(ct)


def test_user_shares_on_the_directory_volume() -> None:
    check = run(dc_checks.user_share_volume_checks, text("WN22-DC-000120")).checks[0]
    assert check["exclude_names"] == ["NETLOGON", "SYSVOL"]
    assert check["path_from_registry"]["name"] == "DSA Database file"


def test_a_certificate_for_the_dc() -> None:
    assert run(dc_checks.dc_certificate_checks, text("WN22-DC-000280")).checks == [
        {"kind": "certificate", "store": "My", "op": "any_issued_to_host"}]


def test_permanent_finding_on_2016_domain_controllers() -> None:
    found = run(dc_checks.permanent_finding_checks, text("WN16-DC-000401"))
    assert found.roles == ["dc"]
    assert found.checks == [{"kind": "constant", "result": "finding"}]
