"""JUnit as CI systems show it: classname = host, name = control ID and title, the message of a
failure or skip = status, expected and observed, no runner paths and no <properties> in a test
case (pytest's xunit2 schema forbids them there). The schema itself is checked in tests/readers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from defusedxml import ElementTree

from cwh.report.junit import case_details, case_message, case_name
from tests.e2e.audit_run import lab_host, run_audit, write_inventory
from tests.evidence.evidence_helpers import (
    HOST_2022,
    HOSTILE,
    by_key,
    records_2019,
    records_2022,
)

OUTCOMES = ("failure", "skipped", "error")


def test_names_and_messages_of_the_records() -> None:
    records = by_key(records_2022() + records_2019())
    open_waived = records[(HOST_2022, "CWH-GPO-02")]
    assert case_name(open_waived) == "CWH-GPO-02 " + open_waived["title"]
    assert case_message(open_waived) == ("Open (waived by W-2026-014, active); expected 1; "
                                         "observed DWord 0")
    expired = records[(HOST_2022, "CWH-GPO-03")]
    assert case_message(expired).startswith("Open (waived by W-2026-014, EXPIRED); expected 1")
    error = records[(HOST_2022, "CWH-GPO-04")]
    assert case_message(error).startswith("Not_Reviewed (the check could not be completed); "
                                          "expected 1; reason: registry read failed: ")
    na = records[(HOST_2022, "CWH-STIG-05")]
    assert case_message(na).endswith("reason: the SMB 1.0 feature (FS-SMB1) is not installed")
    huge = records[(HOST_2022, "CWH-SC-02")]
    assert len(case_message(huge)) <= 1000 and "\n" not in case_message(huge)
    hostile = records[(HOST_2022, "CWH-GPO-05")]
    message, details = case_message(hostile), case_details(hostile)
    assert "\x00" not in message + details and "\x1b" not in message + details
    assert "<script>alert('x')</script>" in message  # kept; the XML writer escapes it
    assert "Evidence:" in details and "secedit [Privilege Rights]" in details
    assert "J. Smith (ISSO)" in case_details(open_waived)  # the waiver's notes
    assert HOSTILE  # the records above carry it


WAIVER = {"id": "W-9", "control": "CWH-GPO-04", "hosts": ["drift*"],
          "justification": "kiosk", "approver": "J. Smith (ISSO)", "ticket": "CHG-9",
          "expires": (dt.date.today() + dt.timedelta(days=30)).isoformat()}


@pytest.fixture(scope="module")
def junit(tmp_path_factory: pytest.TempPathFactory) -> tuple[ElementTree.ElementTree, list]:
    tmp = tmp_path_factory.mktemp("junit")
    waivers = tmp / "waivers.yml"
    waivers.write_text(yaml.safe_dump({"waivers": [WAIVER]}))
    inventory = write_inventory(tmp, {"hardened": lab_host("hardened"),
                                      "drifted": lab_host("drifted", transport="basic")})
    run = run_audit(tmp, inventory, "-m", "guide", "-n", "2", f"--waivers={waivers}")
    assert run.exit_code == 1, run.output
    return ElementTree.parse(run.report_dir / "junit.xml"), run.results


def test_cases_are_named_by_host_and_control_across_xdist_workers(junit: tuple) -> None:
    tree, results = junit
    cases = {(c.get("classname"), c.get("name").split(" ", 1)[0]): c for c in tree.iter("testcase")}
    assert set(cases) == {(r["host"], r["control_id"]) for r in results}
    for record in results:
        case = cases[(record["host"], record["control_id"])]
        assert case.get("name") == f"{record['control_id']} {record['title']}"
        assert case.find("properties") is None  # xunit2 has no properties in a test case
        outcome = [child for child in case if child.tag in OUTCOMES]
        if record["status"] == "NotAFinding":
            assert outcome == [], record["control_id"]
            continue
        [element] = outcome
        message = element.get("message")
        assert message.startswith(record["status"]), (record["control_id"], message)
        if record["expected"]:
            assert f"expected {' '.join(record['expected'].split())[:40]}" in message
        for text in (message, element.text or ""):
            assert not re.search(r"\.py:\d+", text) and "cwh/plugin.py" not in text, text[:200]
        assert f"on {record['host']}" in element.text  # the evidence text names the host


def test_waived_and_skipped_cases(junit: tuple) -> None:
    tree, _ = junit
    cases = {(c.get("classname"), c.get("name").split(" ", 1)[0]): c for c in tree.iter("testcase")}
    waived = cases[("drifted", "CWH-GPO-04")].find("skipped")
    assert waived.get("type") == "pytest.xfail"
    assert waived.get("message").startswith("Open (waived by W-9, active); expected ")
    manual = cases[("hardened", "CWH-ACCT-02")].find("skipped")
    assert manual.get("type") == "pytest.skip"
    assert manual.get("message").startswith("Not_Reviewed (manual control: an assessor decides)")
    assert not (manual.text or "").startswith(str(Path("cwh")))
