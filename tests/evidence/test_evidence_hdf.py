"""HDF export: the fields Heimdall's inspecjs parser requires, with the right types; statuses,
impact 0 for N/A, errors without backtraces, a real sha256, one result per host and control."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from cwh.report.checklist import GUIDE_BENCHMARK_ID
from cwh.report.hdf import render_hdf
from tests.evidence.evidence_helpers import (
    CATALOG,
    CHECKED_AT,
    HOST_2019,
    HOST_2022,
    SUITE_VERSION,
    benchmarks,
    by_key,
    hdf_results,
    records_2019,
    records_2022,
)

RESULT_STATUSES = {"passed", "failed", "skipped", "error"}
HDF_STATUS = {"NotAFinding": "passed", "Open": "failed", "Not_Applicable": "skipped",
              "Not_Reviewed": "skipped"}


def _records() -> list[dict[str, Any]]:
    return records_2022() + records_2019()


@pytest.fixture(scope="module")
def hdf() -> dict[str, Any]:
    return render_hdf(_records(), CATALOG, benchmarks(), suite_version=SUITE_VERSION,
                      started=CHECKED_AT, duration=12.5)


@pytest.fixture(scope="module")
def hdf_without_benchmarks() -> dict[str, Any]:
    return render_hdf(_records(), CATALOG, {}, suite_version=SUITE_VERSION, started=CHECKED_AT,
                      duration=None)


def _canonical_sha256(profile: dict[str, Any]) -> str:
    body = {k: v for k, v in profile.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


@pytest.mark.parametrize("which", ["hdf", "hdf_without_benchmarks"])
def test_required_fields_and_types(request: pytest.FixtureRequest, which: str) -> None:
    """evidence-formats.md 3.2 (inspecjs exec-json typeMap)."""
    doc = request.getfixturevalue(which)
    assert isinstance(doc["platform"]["name"], str) and isinstance(doc["platform"]["release"], str)
    assert isinstance(doc["version"], str) and isinstance(doc["statistics"], dict)
    assert isinstance(doc["profiles"], list) and doc["profiles"]
    for profile in doc["profiles"]:
        assert isinstance(profile["name"], str) and profile["name"]
        assert isinstance(profile["sha256"], str)
        for key in ("supports", "attributes", "groups", "controls"):
            assert isinstance(profile[key], list), key
        for key in ("title", "version", "maintainer", "summary", "license", "copyright"):
            assert _is_str_or_none(profile.get(key)), key
        ids = [c["id"] for c in profile["controls"]]
        assert len(ids) == len(set(ids))
        grouped = [cid for g in profile["groups"] for cid in g["controls"]]
        assert all(isinstance(g["id"], str) for g in profile["groups"])
        assert sorted(grouped) == sorted(ids)
        for control in profile["controls"]:
            assert isinstance(control["id"], str) and control["id"]
            assert isinstance(control["impact"], float) and 0.0 <= control["impact"] <= 1.0
            assert isinstance(control["refs"], list) and isinstance(control["tags"], dict)
            assert isinstance(control["source_location"], dict)
            assert control["tags"]["severity"] in ("low", "medium", "high")
            assert isinstance(control["results"], list) and control["results"]
            for d in control.get("descriptions", []):
                assert set(d) == {"label", "data"} and isinstance(d["data"], str)
            for result in control["results"]:
                assert isinstance(result["code_desc"], str) and result["code_desc"]
                assert isinstance(result["start_time"], str)
                assert result["status"] in RESULT_STATUSES
                for key in ("message", "skip_message", "resource_id"):
                    assert _is_str_or_none(result.get(key)), key
                assert isinstance(result["run_time"], float)
                assert "backtrace" not in result and "exception" not in result
    json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")


def test_statistics_and_platform(hdf: dict, hdf_without_benchmarks: dict) -> None:
    assert hdf["statistics"] == {"duration": 12.5}
    assert hdf_without_benchmarks["statistics"] == {}
    assert hdf["platform"]["release"] == hdf["version"] == SUITE_VERSION
    assert hdf["platform"]["target_id"] == f"{HOST_2022}, {HOST_2019}"


@pytest.mark.parametrize("which", ["hdf", "hdf_without_benchmarks"])
def test_sha256_is_the_real_digest_of_the_profile(request: pytest.FixtureRequest,
                                                  which: str) -> None:
    doc = json.loads(json.dumps(request.getfixturevalue(which)))  # as a reader sees it
    digests = set()
    for profile in doc["profiles"]:
        assert len(profile["sha256"]) == 64 and int(profile["sha256"], 16) >= 0
        assert profile["sha256"] == _canonical_sha256(profile)
        digests.add(profile["sha256"])
        changed = dict(profile, title="something else")
        assert _canonical_sha256(changed) != profile["sha256"]
    assert len(digests) == len(doc["profiles"])


def test_one_profile_per_benchmark(hdf: dict, hdf_without_benchmarks: dict) -> None:
    names = [p["name"] for p in hdf["profiles"]]
    assert names == [GUIDE_BENCHMARK_ID, "MS_Windows_Server_2022_STIG",
                     "Windows_Server_2019_STIG", "IIS_10-0_Server_STIG"]
    assert [p["name"] for p in hdf_without_benchmarks["profiles"]] == names


def test_one_result_per_host_and_control(hdf: dict) -> None:
    results = hdf_results(hdf)
    guide = {(host, cid): r for (name, cid, host), r in results.items()
             if name == GUIDE_BENCHMARK_ID}
    assert set(guide) == set(by_key(_records()))
    assert all(len(r) == 1 for r in results.values())
    iis = next(p for p in hdf["profiles"] if p["name"] == "IIS_10-0_Server_STIG")
    v218821 = next(c for c in iis["controls"] if c["id"] == "V-218821")
    assert [r["resource_id"] for r in v218821["results"]] == [HOST_2022, HOST_2019]


def test_statuses_are_mapped_as_specified(hdf: dict) -> None:
    results = hdf_results(hdf)
    for (host, cid), record in by_key(_records()).items():
        [result] = results[(GUIDE_BENCHMARK_ID, cid, host)]
        expected = "error" if record["error"] else HDF_STATUS[record["status"]]
        assert result["status"] == expected, (host, cid)
        assert host in result["code_desc"] and cid in result["code_desc"]
        if expected in ("passed", "failed", "error"):
            assert result["message"] and "skip_message" not in result
        else:
            assert result["skip_message"] and "message" not in result
        if record["status"] == "Not_Applicable":
            assert result["skip_message"].startswith(f"Not applicable on {host}: ")
            assert record["reason"] in result["skip_message"]
        if record["status"] == "Not_Reviewed" and not record["error"]:
            assert result["skip_message"].startswith(f"Not reviewed on {host}: ")


def test_impact_zero_only_when_every_host_is_not_applicable(hdf: dict) -> None:
    guide = {c["id"]: c for c in hdf["profiles"][0]["controls"]}
    assert guide["CWH-STIG-05"]["impact"] == 0.0  # N/A on both hosts
    assert guide["CWH-WEB-01"]["impact"] == 0.0  # N/A on its one host
    assert guide["CWH-STIG-07"]["impact"] == 0.7  # passed on 2022, N/A on 2019
    assert guide["CWH-GPO-01"]["impact"] == 0.7 and guide["CWH-PWD-01"]["impact"] == 0.5
    assert guide["CWH-ACCT-01"]["tags"]["severity"] == "high"  # CAT II on 2022, CAT I on 2019
    iis = {c["id"]: c for c in hdf["profiles"][3]["controls"]}
    assert iis["V-241788"]["impact"] == 0.0


def test_errors_have_a_message_and_no_backtrace(hdf: dict) -> None:
    [result] = hdf_results(hdf)[(GUIDE_BENCHMARK_ID, "CWH-GPO-04", HOST_2022)]
    assert result["status"] == "error"
    assert "registry read failed" in result["message"]
    assert "backtrace" not in result


def test_stig_profiles_are_tagged_from_the_benchmark(hdf: dict,
                                                     hdf_without_benchmarks: dict) -> None:
    windows = {c["id"]: c for c in hdf["profiles"][1]["controls"]}
    rule = benchmarks()["MS_Windows_Server_2022_STIG"].rules["V-254467"]
    tags = windows["V-254467"]["tags"]
    assert tags["gid"] == "V-254467" and tags["rid"] == rule.rule_id
    assert tags["stig_id"] == "WN22-SO-000230" and tags["cci"] == list(rule.ccis)
    assert tags["severity"] == "high" and tags["cwh_controls"] == ["CWH-GPO-01"]
    assert windows["V-254467"]["title"] == rule.title
    assert set(windows) == {"V-254238", "V-254240", "V-254275", "V-254276", "V-254277",
                            "V-254291", "V-254352", "V-254353", "V-254354", "V-254467",
                            "V-254492"}
    bare = {c["id"]: c for c in hdf_without_benchmarks["profiles"][1]["controls"]}
    assert "rid" not in bare["V-254467"]["tags"] and "cci" not in bare["V-254467"]["tags"]
    assert bare["V-254467"]["tags"]["stig_id"] == "WN22-SO-000230"
    guide = {c["id"]: c for c in hdf["profiles"][0]["controls"]}
    assert guide["CWH-GPO-01"]["tags"]["gid"] == "CWH-GPO-01"
    assert guide["CWH-GPO-01"]["tags"]["cci"]


def test_combined_stig_rule_result_per_host(hdf: dict) -> None:
    results = hdf_results(hdf)
    [hardened] = results[("IIS_10-0_Server_STIG", "V-218821", HOST_2022)]
    [legacy] = results[("IIS_10-0_Server_STIG", "V-218821", HOST_2019)]
    assert hardened["status"] == "failed" and legacy["status"] == "skipped"
    for control in ("CWH-TLS-01", "CWH-TLS-02", "CWH-STIG-07", "CWH-TLS-03"):
        assert control in hardened["code_desc"] and control in hardened["message"]


def test_hostile_text_survives_as_json(hdf: dict) -> None:
    [result] = hdf_results(hdf)[(GUIDE_BENCHMARK_ID, "CWH-GPO-05", HOST_2022)]
    assert "<script>alert('x')</script> ]]> &" in result["message"]
    assert "\\x1b[31mESC" in result["message"] and "\x1b" not in result["message"]
    [huge] = hdf_results(hdf)[(GUIDE_BENCHMARK_ID, "CWH-SC-02", HOST_2022)]
    assert len(huge["message"]) < 33_000 and "truncated" in huge["message"]
