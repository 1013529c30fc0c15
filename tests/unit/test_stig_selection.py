"""What a run selects before collection (cwh/selection.py), how records are counted
(cwh/report/counting.py), the requirement in words (cwh/report/rule_text.py) and which releases
judge the hosts (cwh/stig_releases.py)."""

from __future__ import annotations

import pytest
from _pytest.mark import MarkMatcher
from _pytest.mark.expression import Expression
from _pytest.mark.structures import Mark

from cwh.catalog.model import load_catalog
from cwh.catalog.stig_rules import committed_releases
from cwh.errors import ConfigError
from cwh.judge.verdict import Evidence, Status, Verdict
from cwh.report.counting import counted_checks, guide_counted_through
from cwh.report.record import evidence_dicts
from cwh.report.rule_text import describe_check, requirement_text, rule_title
from cwh.selection import (
    fact_request,
    guide_markers,
    marker_filter,
    rule_markers,
    stand_in_markers,
)
from cwh.stig_releases import resolve_releases

CATALOG = load_catalog()
RELEASES = committed_releases()
R2019 = RELEASES["Windows_Server_2019_STIG"]
EXPRESSIONS = ("stig", "guide", "stig_rule", "stig_rule and audit_policy", "cat1 and not guide",
               "registry or gpo", "not manual", "stig and not stig", "(guide or cat3) and stig")


def _pytest_says(expression: str, names: tuple[str, ...]) -> bool:
    return Expression.compile(expression).evaluate(MarkMatcher.from_markers(
        [Mark(n, (), {}, _ispytest=True) for n in names]))


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_the_marker_filter_answers_as_pytest_does(expression):
    selects = marker_filter(expression)
    for names in [guide_markers(c) for c in CATALOG.controls] + \
            [rule_markers(r) for r in R2019.rules]:
        assert selects(names) == _pytest_says(expression, names), (expression, names)


def test_rule_markers_name_the_kind_the_cat_and_the_family():
    by_id = {r.stig_id: r for r in R2019.rules}
    assert rule_markers(by_id["WN19-SO-000230"]) == ("stig", "stig_rule", "cat1", "registry",
                                                     "screenconnect", "automate")
    manual = next(r for r in R2019.rules if r.manual)
    assert "manual" in rule_markers(manual)
    assert "guide" in guide_markers(CATALOG["CWH-GPO-01"])
    assert "stig_rule" not in guide_markers(CATALOG["CWH-GPO-01"])


def test_a_product_expression_selects_the_rules_and_only_that_products_own_controls():
    """A STIG rule applies to the server whichever product it runs: both products select it,
    and "automate and not screenconnect" keeps Automate's own controls only."""
    rule = R2019.rules[0]
    assert marker_filter("automate")(rule_markers(rule))
    assert marker_filter("screenconnect")(rule_markers(rule))
    only_automate = marker_filter("automate and not screenconnect")
    assert not only_automate(rule_markers(rule))
    assert only_automate(guide_markers(CATALOG["CWH-CWA-04"]))
    assert not only_automate(guide_markers(CATALOG["CWH-GPO-01"]))


def test_the_stand_in_carries_markers_of_a_rule_the_expression_selects():
    selects = marker_filter("stig_rule and audit_policy")
    marks = stand_in_markers(RELEASES, selects)
    assert marks is not None and selects(marks) and "audit_policy" in marks
    assert stand_in_markers(RELEASES, marker_filter("guide")) is None


def test_the_request_covers_the_selected_guide_controls_only_when_no_rule_is_selected():
    only_guide = fact_request(CATALOG, RELEASES, marker_filter("guide and gpo"))
    assert ("HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa", "RestrictAnonymous") in \
        only_guide.registry
    nothing = fact_request(CATALOG, RELEASES, marker_filter("stig and not stig"))
    assert not nothing.registry and nothing.sections == {"os", "identity"}


def _record(control_id: str, status: str, record_type: str, same: list[str], **extra):
    return {"host": "h", "control_id": control_id, "status": status, "record_type": record_type,
            "same_check": same, "severity": "medium", "error": extra.pop("error", False),
            "waiver": extra.pop("waiver", None), **extra}


def test_a_guide_control_and_its_stig_rule_count_once_with_the_worse_status():
    records = [_record("CWH-GPO-01", "Open", "guide_control", ["WN19-SO-000230"]),
               _record("WN19-SO-000230", "NotAFinding", "stig_rule", ["CWH-GPO-01"]),
               _record("CWH-NET-01", "NotAFinding", "guide_control", [])]
    checks = {c.control_id: c for c in counted_checks(records)}
    assert set(checks) == {"WN19-SO-000230", "CWH-NET-01"}
    assert checks["WN19-SO-000230"].status == "Open"  # the guide's finding is never lost
    assert guide_counted_through(records) == {"CWH-GPO-01"}


def test_a_guide_control_whose_rules_were_not_all_judged_counts_as_itself():
    records = [_record("CWH-STIG-04", "Open", "guide_control", ["WN19-00-000380",
                                                                "WN19-00-000390"]),
               _record("WN19-00-000380", "Open", "stig_rule", ["CWH-STIG-04"])]
    assert {c.control_id for c in counted_checks(records)} == {"CWH-STIG-04", "WN19-00-000380"}
    assert guide_counted_through(records) == set()


def test_a_counted_check_is_waived_only_when_every_open_record_in_it_is():
    waiver = {"id": "W-1", "expired": False}
    records = [_record("CWH-GPO-01", "Open", "guide_control", ["WN19-SO-000230"],
                       waiver=waiver),
               _record("WN19-SO-000230", "Open", "stig_rule", ["CWH-GPO-01"])]
    [check] = counted_checks(records)
    assert check.status == "Open" and not check.waived
    records[1]["waiver"] = waiver
    assert counted_checks(records)[0].waived


def test_an_unjudged_rule_keeps_its_pair_not_reviewed_and_an_error():
    records = [_record("CWH-GPO-01", "NotAFinding", "guide_control", ["WN19-SO-000230"]),
               _record("WN19-SO-000230", "Not_Reviewed", "stig_rule", ["CWH-GPO-01"],
                       error=True)]
    [check] = counted_checks(records)
    assert check.status == "Not_Reviewed" and check.error  # one pass never vouches for it


def test_rule_texts_say_what_the_suite_checks():
    by_id = {r.stig_id: r for r in R2019.rules}
    rule = by_id["WN19-SO-000230"]
    assert rule_title(rule) == ("WN19-SO-000230: registry HKLM\\SYSTEM\\CurrentControlSet\\"
                                "Control\\Lsa\\RestrictAnonymous = 1 (absent: finding)")
    assert "Applies to: dc, member, standalone." in requirement_text(rule)
    manual = next(r for r in R2019.rules if r.manual)
    assert requirement_text(manual).startswith(f"Manual: {manual.manual_reason}")
    assert describe_check({"kind": "audit_policy", "subcategory": "Logon",
                           "include": ["Success"]}) == 'audit_policy Logon ["Success"]'


def test_evidence_dicts_are_evidence_to_dict():
    verdict = Verdict(Status.OPEN, "r", evidence=(Evidence("s", "l", "o", "e", "x"),
                                                  Evidence("s2", "l2", "o2")))
    assert evidence_dicts(verdict) == [e.to_dict() for e in verdict.evidence]


def test_the_committed_releases_judge_the_hosts_without_an_xccdf():
    releases = resolve_releases({})
    assert releases.for_os("2019") is R2019 and releases.converted == []
    assert "WN19-SO-000230" in releases.stig_ids
    assert releases.rule("Windows_Server_2019_STIG", "WN19-SO-000230").vuln_id == "V-205724"


def test_a_windows_server_benchmark_the_suite_cannot_convert_is_refused(tmp_path):
    from cwh.catalog.xccdf import Benchmark

    fake = tmp_path / "x.xml"
    fake.write_text("<x/>")
    odd = Benchmark(fake, "MS_Windows_Server_2025_STIG", "t", "1", "Release: 1 Benchmark", "",
                    {})
    with pytest.raises(ConfigError, match="not a benchmark of Windows Server 2016, 2019 or 2022"):
        resolve_releases({odd.benchmark_id: odd})
    empty = Benchmark(fake, "Windows_Server_2019_STIG", "t", "3", "Release: 9 Benchmark", "", {})
    with pytest.raises(ConfigError, match="holds no rules"):
        resolve_releases({empty.benchmark_id: empty})
