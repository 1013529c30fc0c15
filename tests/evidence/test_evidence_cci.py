"""DISA's CCI list: NIST SP 800-53 indexes of the newest revision per CCI, 800-53A left out, and
one readable error naming the file for anything that is not a CCI list."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwh.report.cci import CciListError, load_cci_list
from tests.evidence.evidence_helpers import STIG_DIR, cci_list, cci_list_xml, skip_without_shared


def test_newest_revision_per_cci_and_no_assessment_procedures(tmp_path: Path) -> None:
    listing = cci_list(tmp_path, {
        "CCI-000001": [("NIST SP 800-53", "3", "AC-1 a"), ("NIST SP 800-53A", "1", "AC-1.1 (i)"),
                       ("NIST SP 800-53 Revision 4", "4", "AC-1 a 1"),
                       ("NIST SP 800-53 Revision 5", "5", "AC-1 a 1 (a)")],
        "CCI-000366": [("NIST SP 800-53 Revision 4", "4", "CM-6 b"),
                       ("NIST SP 800-53  Revision 4", "4", " CM-6  b ")],  # spacing as seen
        "CCI-000002": [("NIST SP 800-53A", "1", "AC-1.1 (iii)")],  # only 800-53A: no mapping
        "CCI-000003": [],
    })
    assert listing.nist == {"CCI-000001": ("AC-1 a 1 (a)",), "CCI-000366": ("CM-6 b",)}
    assert listing.revision == {"CCI-000001": 5, "CCI-000366": 4}
    assert listing.version == "2026-01-01"
    assert listing.nist_for(["CCI-000366", "CCI-000001", "CCI-000366", "CCI-000002"]) == \
        ["CM-6 b", "AC-1 a 1 (a)"]
    assert listing.nist_for(["CCI-999999"]) == []
    assert "U_CCI_List.xml" in listing.describe() and "4, 5" in listing.describe()


@pytest.mark.parametrize(("content", "says"), [
    (None, "cannot read it"),
    ("not xml <", "not readable XML"),
    ('<?xml version="1.0"?><Benchmark xmlns="http://checklists.nist.gov/xccdf/1.1"/>',
     "not a DISA CCI list"),
    (cci_list_xml({"CCI-000002": [("NIST SP 800-53A", "1", "AC-1.1")]}),
     "no CCI in it names a NIST SP 800-53 control"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><cci_list xmlns="http://iase.disa.mil/'
     'cci">&a;</cci_list>', "refused"),
])
def test_bad_files_give_one_line_naming_the_file(tmp_path: Path, content: str | None,
                                                 says: str) -> None:
    path = tmp_path / "cci.xml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CciListError) as raised:
        load_cci_list(path)
    message = str(raised.value)
    assert message.startswith(f"--cci-list {path}: ") and says in message
    assert "\n" not in message


# --- through a run: `pytest tests_controls --cci-list FILE` ---------------------------------------

def test_a_bad_cci_list_stops_the_run_before_any_host_is_contacted(tmp_path: Path) -> None:
    from tests.e2e.audit_run import lab_host, run_audit, write_inventory

    bad = tmp_path / "U_CCI_List.xml"
    bad.write_text("<cci_list/>", encoding="utf-8")  # no namespace: not DISA's list
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "guide", f"--cci-list={bad}")
    assert run.exit_code == 4, run.output
    assert f"--cci-list {bad}: not a DISA CCI list" in run.output
    assert "Traceback" not in run.output
    assert not (run.report_dir / "lab-requests.jsonl").exists()
    assert not (run.report_dir / "results.json").exists()


def test_the_cci_list_tags_the_per_host_hdf(tmp_path: Path) -> None:
    import json

    from tests.e2e.audit_run import lab_host, run_audit, write_inventory

    skip_without_shared(STIG_DIR)  # the CCIs of a rule come from its benchmark file
    listing = tmp_path / "U_CCI_List.xml"
    listing.write_text(cci_list_xml({"CCI-000366": [("NIST SP 800-53 Revision 4", "4",
                                                      "CM-6 b")]}), encoding="utf-8")
    inventory = write_inventory(tmp_path, {"h": lab_host("hardened")})
    run = run_audit(tmp_path, inventory, "-m", "guide", f"--cci-list={listing}",
                    f"--stig-xccdf={STIG_DIR}")
    assert run.exit_code in (0, 1), run.output
    doc = json.loads((run.report_dir / "hdf" / "h.json").read_text())
    assert "U_CCI_List.xml" in doc["passthrough"]["cwh"]["nist"]
    tagged = {c["id"]: c["tags"]["nist"] for p in doc["profiles"] for c in p["controls"]
              if "nist" in c["tags"]}
    assert tagged and set(map(tuple, tagged.values())) == {("CM-6 b",)}
    for profile in doc["profiles"]:
        for control in profile["controls"]:
            assert ("nist" in control["tags"]) == ("CCI-000366" in control["tags"].get("cci", []))
