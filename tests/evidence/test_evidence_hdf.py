"""HDF export: each host its own evaluation (the fields Heimdall's inspecjs parser requires,
statuses, impact 0 for N/A, errors without backtraces, a real sha256, one result per control), a
fleet file whose profiles keep hosts apart, benchmark versions, titles said once, nist tags only
from a CCI list, and per-host file names that never collide."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import pytest

from cwh.report.asset import asset_from
from cwh.report.checklist import GUIDE_BENCHMARK_ID
from cwh.report.hdf import NO_NIST, _for_fleet, render_fleet_hdf, render_host_hdf
from cwh.report.hdf_text import ControlPieces, compact
from cwh.report.hostfiles import host_file_names
from tests.evidence.evidence_helpers import (
    ASSET_FACTS,
    CATALOG,
    CHECKED_AT,
    HOST_2019,
    HOST_2022,
    SUITE_VERSION,
    benchmarks,
    by_key,
    cci_list,
    hdf_results,
    records_2019,
    records_2022,
)

RESULT_STATUSES = {"passed", "failed", "skipped", "error"}
HDF_STATUS = {"NotAFinding": "passed", "Open": "failed", "Not_Applicable": "skipped",
              "Not_Reviewed": "skipped"}
HOSTS = (HOST_2022, HOST_2019)


def _records() -> list[dict[str, Any]]:
    return records_2022() + records_2019()


def _host_doc(host: str, bench: dict, **extra: Any) -> dict[str, Any]:
    return render_host_hdf(host, _records(), CATALOG, bench, suite_version=SUITE_VERSION,
                           started=CHECKED_AT, duration=12.5,
                           asset=asset_from(host, ASSET_FACTS[host]), **extra)


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return {host: _host_doc(host, benchmarks()) for host in HOSTS}


@pytest.fixture(scope="module")
def bare_docs() -> dict[str, dict[str, Any]]:
    return {host: _host_doc(host, {}) for host in HOSTS}


@pytest.fixture(scope="module")
def fleet() -> dict[str, Any]:
    return render_fleet_hdf(_records(), CATALOG, benchmarks(), suite_version=SUITE_VERSION,
                            started=CHECKED_AT, duration=12.5)


def _every_doc(docs: dict, bare_docs: dict, fleet: dict) -> list[dict[str, Any]]:
    return [*docs.values(), *bare_docs.values(), fleet]


def _canonical_sha256(profile: dict[str, Any]) -> str:
    body = {k: v for k, v in profile.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _is_str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _profiles(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in doc["profiles"]}


def test_required_fields_and_types(docs: dict, bare_docs: dict, fleet: dict) -> None:
    """evidence-formats.md 3.2 (inspecjs exec-json typeMap)."""
    for doc in _every_doc(docs, bare_docs, fleet):
        assert isinstance(doc["platform"]["name"], str)
        assert isinstance(doc["platform"]["release"], str)
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
                assert isinstance(control["results"], list) and len(control["results"]) == 1
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


def test_each_host_file_is_that_host_alone(docs: dict) -> None:
    for host, doc in docs.items():
        assert doc["platform"]["target_id"] == host
        assert doc["passthrough"]["cwh"]["hosts"] == [host]
        assert doc["statistics"] == {"duration": 12.5}
        results = hdf_results(doc)
        assert {h for (_, _, h) in results} == {host}
        guide = {cid for (name, cid, _) in results if name == GUIDE_BENCHMARK_ID}
        assert guide == {cid for (h, cid) in by_key(_records()) if h == host}


def test_guide_profile_first_then_the_hosts_benchmarks(docs: dict, bare_docs: dict) -> None:
    """The SAF CLI reads only the first profile: the guide, which holds every result once."""
    expected = {HOST_2022: [GUIDE_BENCHMARK_ID, "MS_Windows_Server_2022_STIG",
                            "IIS_10-0_Server_STIG"],
                HOST_2019: [GUIDE_BENCHMARK_ID, "Windows_Server_2019_STIG",
                            "IIS_10-0_Server_STIG"]}
    for host in HOSTS:
        assert [p["name"] for p in docs[host]["profiles"]] == expected[host]
        assert [p["name"] for p in bare_docs[host]["profiles"]] == expected[host]


@pytest.mark.parametrize("which", ["docs", "bare_docs"])
def test_sha256_is_the_real_digest_of_the_profile(request: pytest.FixtureRequest,
                                                  which: str) -> None:
    for host_doc in request.getfixturevalue(which).values():
        doc = json.loads(json.dumps(host_doc))  # as a reader sees it
        digests = set()
        for profile in doc["profiles"]:
            assert len(profile["sha256"]) == 64 and int(profile["sha256"], 16) >= 0
            assert profile["sha256"] == _canonical_sha256(profile)
            digests.add(profile["sha256"])
            assert _canonical_sha256(dict(profile, title="something else")) != profile["sha256"]
        assert len(digests) == len(doc["profiles"])


def test_statuses_are_mapped_as_specified(docs: dict) -> None:
    for (host, cid), record in by_key(_records()).items():
        [result] = hdf_results(docs[host])[(GUIDE_BENCHMARK_ID, cid, host)]
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
            assert result["impact"] == 0.0, (host, cid)
        else:
            assert result["impact"] > 0, (host, cid)
        if record["status"] == "Not_Reviewed" and not record["error"]:
            assert result["skip_message"].startswith(f"Not reviewed on {host}: ")


def test_impact_is_zero_exactly_where_the_host_is_not_applicable(docs: dict) -> None:
    """Per host: CWH-STIG-07 passed on 2022 keeps its impact, N/A on 2019 is impact 0."""
    hardened = {c["id"]: c for c in docs[HOST_2022]["profiles"][0]["controls"]}
    legacy = {c["id"]: c for c in docs[HOST_2019]["profiles"][0]["controls"]}
    assert hardened["CWH-STIG-07"]["impact"] == 0.7 and legacy["CWH-STIG-07"]["impact"] == 0.0
    assert hardened["CWH-STIG-05"]["impact"] == legacy["CWH-STIG-05"]["impact"] == 0.0
    assert hardened["CWH-WEB-01"]["impact"] == 0.0
    assert hardened["CWH-GPO-01"]["impact"] == 0.7 and hardened["CWH-PWD-01"]["impact"] == 0.5
    assert hardened["CWH-ACCT-01"]["tags"]["severity"] == "medium"  # CAT II on 2022
    assert legacy["CWH-ACCT-01"]["tags"]["severity"] == "high"  # CAT I on 2019
    iis = {c["id"]: c for c in _profiles(docs[HOST_2019])["IIS_10-0_Server_STIG"]["controls"]}
    assert iis["V-241788"]["impact"] == 0.0


def test_errors_have_a_message_and_no_backtrace(docs: dict) -> None:
    [result] = hdf_results(docs[HOST_2022])[(GUIDE_BENCHMARK_ID, "CWH-GPO-04", HOST_2022)]
    assert result["status"] == "error"
    assert "registry read failed" in result["message"]
    assert "backtrace" not in result


def test_stig_profiles_are_tagged_and_versioned_from_the_benchmark(docs: dict,
                                                                   bare_docs: dict) -> None:
    profiles = _profiles(docs[HOST_2022])
    windows = {c["id"]: c for c in profiles["MS_Windows_Server_2022_STIG"]["controls"]}
    rule = benchmarks()["MS_Windows_Server_2022_STIG"].rules["V-254467"]
    tags = windows["V-254467"]["tags"]
    assert tags["gid"] == "V-254467" and tags["rid"] == rule.rule_id
    assert tags["stig_id"] == "WN22-SO-000230" and tags["cci"] == list(rule.ccis)
    assert tags["severity"] == "high" and tags["cwh_controls"] == ["CWH-GPO-01"]
    assert windows["V-254467"]["title"] == rule.title
    assert set(windows) == {"V-254238", "V-254240", "V-254275", "V-254276", "V-254277",
                            "V-254291", "V-254352", "V-254353", "V-254354", "V-254467",
                            "V-254492"}
    # The benchmark's version and release: V1R3 (2022), V3R1 (2019), V3R3 (IIS), as semver.
    assert profiles["MS_Windows_Server_2022_STIG"]["version"] == "1.3.0"
    assert profiles["IIS_10-0_Server_STIG"]["version"] == "3.3.0"
    assert _profiles(docs[HOST_2019])["Windows_Server_2019_STIG"]["version"] == "3.1.0"
    assert profiles[GUIDE_BENCHMARK_ID]["version"] == CATALOG.version
    assert "Version 1, Release: 3 Benchmark Date: 07 Jun 2023" in \
        profiles["MS_Windows_Server_2022_STIG"]["summary"]
    bare = _profiles(bare_docs[HOST_2022])
    bare_windows = {c["id"]: c for c in bare["MS_Windows_Server_2022_STIG"]["controls"]}
    assert "rid" not in bare_windows["V-254467"]["tags"]
    assert "cci" not in bare_windows["V-254467"]["tags"]
    assert bare_windows["V-254467"]["tags"]["stig_id"] == "WN22-SO-000230"
    # No benchmark file, no version to claim: null (never ""), and the summary says why.
    assert bare["MS_Windows_Server_2022_STIG"]["version"] is None
    assert "version and rule text are unknown" in bare["MS_Windows_Server_2022_STIG"]["summary"]
    guide = {c["id"]: c for c in profiles[GUIDE_BENCHMARK_ID]["controls"]}
    assert guide["CWH-GPO-01"]["tags"]["gid"] == "CWH-GPO-01"
    assert guide["CWH-GPO-01"]["tags"]["cci"]


def test_rule_titles_are_said_once(bare_docs: dict) -> None:
    """Without the benchmark a rule's title is its controls' titles: each once, one host's."""
    for host, doc in bare_docs.items():
        for profile in doc["profiles"][1:]:
            for control in profile["controls"]:
                head, _, titles = control["title"].partition(": ")
                parts = titles.split("; ")
                assert head == control["tags"]["stig_id"]
                assert len(parts) == len(set(parts)) == len(control["tags"]["cwh_controls"]), \
                    (host, control["id"], control["title"])
    iis = {c["id"]: c for c in _profiles(bare_docs[HOST_2022])["IIS_10-0_Server_STIG"]["controls"]}
    assert iis["V-218821"]["title"].count(CATALOG["CWH-TLS-01"].title) == 1


def test_combined_stig_rule_result_per_host(docs: dict) -> None:
    [hardened] = hdf_results(docs[HOST_2022])[("IIS_10-0_Server_STIG", "V-218821", HOST_2022)]
    [legacy] = hdf_results(docs[HOST_2019])[("IIS_10-0_Server_STIG", "V-218821", HOST_2019)]
    assert hardened["status"] == "failed" and legacy["status"] == "skipped"
    for control in ("CWH-TLS-01", "CWH-TLS-02", "CWH-STIG-07", "CWH-TLS-03"):
        assert control in hardened["code_desc"] and control in hardened["message"]


def test_hostile_text_survives_as_json(docs: dict) -> None:
    results = hdf_results(docs[HOST_2022])
    [result] = results[(GUIDE_BENCHMARK_ID, "CWH-GPO-05", HOST_2022)]
    assert "<script>alert('x')</script> ]]> &" in result["message"]
    assert "\\x1b[31mESC" in result["message"] and "\x1b" not in result["message"]
    [huge] = results[(GUIDE_BENCHMARK_ID, "CWH-SC-02", HOST_2022)]
    assert len(huge["message"]) < 33_000 and "truncated" in huge["message"]


def test_checklist_metadata_for_heimdalls_ckl_export(docs: dict, bare_docs: dict) -> None:
    """passthrough.metadata as `saf convert hdf2ckl` reads it: the asset, and per profile the
    integers it validates (version, release number) and the benchmark date."""
    meta = docs[HOST_2019]["passthrough"]["metadata"]
    assert meta["hostname"] == asset_from(HOST_2019, ASSET_FACTS[HOST_2019]).host_name
    assert meta["hostip"] == "198.51.100.7" and meta["hostfqdn"] == "sc01.corp.example"
    assert meta["hostmac"] == "00:15:5D:00:00:02" and meta["role"] == "Member Server"
    assert meta["webordatabase"] == "false"
    by_name = {p["name"]: p for p in meta["profiles"]}
    assert by_name["Windows_Server_2019_STIG"] == {
        "name": "Windows_Server_2019_STIG", "title": _profiles(docs[HOST_2019])[
            "Windows_Server_2019_STIG"]["title"],
        "version": 3, "releasenumber": 1, "releasedate": "24 Jul 2024"}
    assert isinstance(by_name[GUIDE_BENCHMARK_ID]["version"], int)
    bare = {p["name"]: p for p in bare_docs[HOST_2019]["passthrough"]["metadata"]["profiles"]}
    assert set(bare["Windows_Server_2019_STIG"]) == {"name", "title"}


def test_fleet_keeps_hosts_apart(docs: dict, fleet: dict) -> None:
    """Heimdall counts controls that share an id within one file once: in the fleet file every
    id carries its host, so its counts are the sum of the per-host files'."""
    ids = [c["id"] for p in fleet["profiles"] for c in p["controls"]]
    assert len(ids) == len(set(ids))
    names = [p["name"] for p in fleet["profiles"]]
    assert len(names) == len(set(names))
    expected = [f"{p['name']}@{host}" for host in sorted(HOSTS) for p in docs[host]["profiles"]]
    assert names == expected
    assert fleet["platform"]["target_id"] == ", ".join(sorted(HOSTS))

    def statuses(doc: dict) -> Counter:
        return Counter((c["tags"]["gid"], r["status"], c["impact"])
                       for p in doc["profiles"] for c in p["controls"] for r in c["results"])

    assert statuses(fleet) == statuses(docs[HOST_2022]) + statuses(docs[HOST_2019])
    for profile in fleet["profiles"]:
        host = profile["name"].rsplit("@", 1)[1]
        assert profile["title"].endswith(f"({host})")
        assert profile["sha256"] == _canonical_sha256(profile)
        for control in profile["controls"]:
            assert control["id"] == f"{control['tags']['gid']}@{host}"
            assert [r["resource_id"] for r in control["results"]] == [host]


# --- NIST SP 800-53 tags ------------------------------------------------------------------------

def test_no_nist_tags_without_a_cci_list_and_the_profile_says_so(docs: dict) -> None:
    for doc in docs.values():
        for profile in doc["profiles"]:
            assert NO_NIST in profile["summary"], profile["name"]
            assert all("nist" not in c["tags"] for c in profile["controls"])
        assert doc["passthrough"]["cwh"]["nist"] == NO_NIST


def test_nist_tags_come_only_from_the_cci_list(tmp_path) -> None:
    rule = benchmarks()["MS_Windows_Server_2022_STIG"].rules["V-254467"]
    mapped = rule.ccis[0]
    listing = cci_list(tmp_path, {mapped: [("NIST SP 800-53", "3", "AC-14"),
                                           ("NIST SP 800-53A", "1", "AC-14.1 (ii)"),
                                           ("NIST SP 800-53 Revision 4", "4", "AC-14 a"),
                                           ("NIST SP 800-53 Revision 5", "5", "AC-14 a"),
                                           ("NIST SP 800-53 Revision 5", "5", "AC-14 b")],
                                  "CCI-000366": [("NIST SP 800-53 Revision 4", "4", "CM-6 b")]})
    doc = _host_doc(HOST_2022, benchmarks(), nist=listing)
    windows = {c["id"]: c for c in _profiles(doc)["MS_Windows_Server_2022_STIG"]["controls"]}
    assert windows["V-254467"]["tags"]["nist"] == ["AC-14 a", "AC-14 b"]  # newest revision only
    guide = {c["id"]: c for c in _profiles(doc)[GUIDE_BENCHMARK_ID]["controls"]}
    assert guide["CWH-GPO-01"]["tags"]["nist"] == ["AC-14 a", "AC-14 b"]
    for profile in doc["profiles"]:
        assert "from DISA's CCI list" in profile["summary"] and NO_NIST not in profile["summary"]
        for control in profile["controls"]:
            ccis = control["tags"].get("cci", [])
            if mapped not in ccis and "CCI-000366" not in ccis:
                assert "nist" not in control["tags"], control["id"]  # never invented
    assert any(c["tags"].get("nist") == ["CM-6 b"] for p in doc["profiles"]
               for c in p["controls"])


# --- per-host file names ------------------------------------------------------------------------

def test_host_file_names_never_collide() -> None:
    hosts = ["192.0.2.10", "192.0.2.11", "sc01.corp.example", "sc01.corp", "Host", "host",
             "a b", "a_b", "2001:db8::10", "2001:db8::1:0", ".hidden", "CON", "con.example",
             "x" * 300, "x" * 301, "lab-hardened"]
    names = host_file_names(hosts)
    assert set(names) == set(hosts)
    assert len({n.casefold() for n in names.values()}) == len(hosts)
    assert names["192.0.2.10"] == "192.0.2.10.json"  # never Path.with_suffix: 192.0.2.json
    assert names["sc01.corp.example"] == "sc01.corp.example.json"
    assert names["lab-hardened"] == "lab-hardened.json"
    for name in names.values():
        assert name.endswith(".json") and not name.startswith(".") and len(name) < 200
        assert all(ch.isalnum() or ch in "._-" for ch in name), name
    assert host_file_names(list(reversed(hosts))) == names  # stable, whatever the order


def test_hosts_named_by_ip_get_one_hdf_file_each(tmp_path) -> None:
    """Through a run: 10.1.2.3 and 10.1.2.4 would share 10.1.2.json under Path.with_suffix."""
    from tests.e2e.audit_run import lab_host, run_audit, write_inventory

    inventory = write_inventory(tmp_path, {"10.1.2.3": lab_host("hardened"),
                                           "10.1.2.4": lab_host("drifted", transport="basic")})
    run = run_audit(tmp_path, inventory, "-m", "gpo")
    assert run.exit_code == 1, run.output
    files = sorted(p.name for p in (run.report_dir / "hdf").iterdir())
    assert files == ["10.1.2.3.json", "10.1.2.4.json"]
    for name in files:
        doc = json.loads((run.report_dir / "hdf" / name).read_text())
        assert doc["platform"]["target_id"] == name.removesuffix(".json")
    manifest = json.loads((run.report_dir / "manifest.json").read_text())
    assert {"hdf/10.1.2.3.json", "hdf/10.1.2.4.json"} <= {e["path"] for e in manifest["artifacts"]}


@pytest.mark.parametrize("with_benchmarks", [True, False])
def test_texts_joined_from_each_control_encoded_once_are_what_json_dumps_writes(
        with_benchmarks: bool):
    bench = benchmarks() if with_benchmarks else {}
    for host in HOSTS:
        pieces = ControlPieces()
        document = _host_doc(host, bench, pieces=pieces)
        assert document == _host_doc(host, bench)  # the same data, the same sha256
        assert pieces.document(document) == compact(document)
        for profile in document["profiles"]:
            assert profile["sha256"] == _canonical_sha256(profile)
            fleet_profile = _for_fleet(profile, host)
            assert pieces.fleet_profile(profile, host) == compact(fleet_profile)
        # A control whose id is not its first key is encoded whole, with the same result.
        odd = {**document["profiles"][0], "controls": [
            {"title": "t", "id": "X", "results": []}, *document["profiles"][0]["controls"]]}
        assert pieces.profile(odd, sort=False) == compact(odd)
        assert pieces.fleet_profile(odd, host) == compact(_for_fleet(odd, host))
