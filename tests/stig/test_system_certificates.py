"""The `certificate` judge (cwh/judge/stig/system_certificates.py) on the committed DoD root and
cross-certificate rules, with dates in the collector's Windows format."""

from __future__ import annotations

from typing import Any

import pytest

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.facts import HostFacts
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status

RELEASES = committed_releases()
WS2022, WS2016 = RELEASES["MS_Windows_Server_2022_STIG"], RELEASES["Windows_Server_2016_STIG"]
NOW = "2026-12-02T01:00:00.1234567Z"
ROOTS = {"D73CA91102A2204A36459ED32213B467D7CE97FB": ("DoD Root CA 3", "2029-12-30"),
         "B8269F25DBD937ECAFD4C35A9838571723F2D026": ("DoD Root CA 4", "2032-07-25"),
         "4ECB5CC3095670454DA1CBD410FC921F46B8564B": ("DoD Root CA 5", "2041-06-14")}


def cert(thumbprint: str, subject: str, valid_to: str, **changes: Any) -> dict[str, Any]:
    return {"thumbprint": thumbprint, "subject": subject, "issuer": subject,
            "not_before": "2012-03-20T19:01:14.0000000Z",
            "not_after": f"{valid_to}T13:00:00.0000000Z", "dns_names": [], **changes}


def facts(stores: dict[str, Any], collected_at: str = NOW,
          **identity: Any) -> HostFacts:
    listed = [{"store": name, "location": "LocalMachine", "error": None, "error_type": None,
               "certificates": certs} if isinstance(certs, list) else
              {"store": name, "location": "LocalMachine", **certs}
              for name, certs in stores.items()]
    return HostFacts("h", {"schema": 1, "sections": {
        "identity": {"ok": True, "data": {"domain_role": 2, **identity}},
        "certificate_stores": {"ok": True, "data": {"collected_at": collected_at,
                                                    "stores": listed}}}})


def roots(*skip: str, **changes: Any) -> list[dict[str, Any]]:
    return [cert(t, f"CN={name}, OU=PKI, OU=DoD, O=U.S. Government, C=US", date, **changes)
            for t, (name, date) in ROOTS.items() if t not in skip]


def test_the_dod_roots_present_are_not_a_finding():
    rule = WS2022.by_stig_id("WN22-PK-000010")
    verdict = judge_rule(rule, facts({"Root": roots()}), {})
    assert verdict.status is Status.NOT_A_FINDING and "DoD Root CA 4" in verdict.observed


def test_a_missing_root_is_open_and_named():
    rule = WS2022.by_stig_id("WN22-PK-000010")
    verdict = judge_rule(rule, facts({"Root": roots("B8269F25DBD937ECAFD4C35A9838571723F2D026")}),
                         {})
    assert verdict.status is Status.OPEN and "missing: B8269F25" in verdict.reason


def test_thumbprints_compare_without_case_and_classified_systems_are_na():
    rule = WS2022.by_stig_id("WN22-PK-000010")
    lower = [{**c, "thumbprint": c["thumbprint"].lower()} for c in roots()]
    assert judge_rule(rule, facts({"Root": lower}), {}).status is Status.NOT_A_FINDING
    classified = judge_rule(rule, facts({"Root": []}), {"cwh_classified": True})
    assert classified.status is Status.NOT_APPLICABLE


@pytest.mark.parametrize(("store", "why"), [
    ({"error": "The system cannot find the file specified.", "error_type": "x"},
     "cannot find the file"),
    ([cert("D73CA911", "CN=short", "2029-12-30")], "not 40 hex digits"),
    ([cert("D73CA91102A2204A36459ED32213B467D7CE97FB", "CN=x", "2029-12-30",
           not_after="12/30/2029 1:00:00 PM")], "not a date the collector writes"),
    ([cert("D73CA91102A2204A36459ED32213B467D7CE97FB", "CN=x", "2029-12-30",
           not_before=None)], "not a date"),
    ({"error": None}, "lists nothing"),
])
def test_a_store_that_failed_or_came_back_garbled_is_unknown(store, why):
    rule = WS2022.by_stig_id("WN22-PK-000010")
    verdict = judge_rule(rule, facts({"Root": store}), {})
    assert verdict.status is Status.NOT_REVIEWED and why in verdict.reason, verdict.reason


def test_a_store_not_answered_or_answered_twice_differently_is_unknown():
    rule = WS2022.by_stig_id("WN22-PK-000020")
    assert judge_rule(rule, facts({"Root": roots()}), {}).status is Status.NOT_REVIEWED
    document = facts({"Disallowed": []}).document
    stores = document["sections"]["certificate_stores"]["data"]["stores"]
    stores.append({**stores[0], "certificates": roots()})
    verdict = judge_rule(rule, HostFacts("h", document), {})
    assert verdict.status is Status.NOT_REVIEWED and "contradictory" in verdict.reason


def test_an_expired_cross_certificate_may_be_absent_where_disa_says_so():
    rule = WS2016.by_stig_id("WN16-PK-000020")  # expired_absent: compliant, not_after 2024-11-16
    assert judge_rule(rule, facts({"Disallowed": []}), {}).status is Status.NOT_A_FINDING
    early = facts({"Disallowed": []}, collected_at="2024-11-01T00:00:00.0000000Z")
    assert judge_rule(rule, early, {}).status is Status.OPEN  # not yet expired: required
    # 2022 has no such exception: the expired cross-certificate must still be there
    assert judge_rule(WS2022.by_stig_id("WN22-PK-000020"), facts({"Disallowed": []}),
                      {}).status is Status.OPEN


def test_a_certificate_issued_to_the_domain_controller():
    rule = WS2022.by_stig_id("WN22-DC-000280")
    host = {"domain_role": 5, "dns_host_name": "dc1", "domain": "corp.example.com",
            "part_of_domain": True}
    issued = cert("A" * 40, "CN=dc1.corp.example.com", "2027-01-01",
                  dns_names=["dc1.corp.example.com", "dc1"])
    other = cert("B" * 40, "CN=dc2.corp.example.com", "2027-01-01")

    def verdict(certs: list[dict[str, Any]], **identity: Any):
        document = facts({"My": certs}).document
        document["sections"]["identity"]["data"] = {**host, **identity}
        return judge_rule(rule, HostFacts("h", document), {})

    assert verdict([issued, other]).status is Status.NOT_A_FINDING
    assert verdict([other]).status is Status.OPEN
    by_cn = cert("C" * 40, "CN=DC1.Corp.Example.com, O=Corp", "2027-01-01")
    assert verdict([by_cn]).status is Status.NOT_A_FINDING
    assert verdict([issued], dns_host_name=None).status is Status.NOT_REVIEWED
