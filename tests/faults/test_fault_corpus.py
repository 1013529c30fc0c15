"""Every fault of the corpus, each on its own lab host, audited in one run beside clean reference
hosts: a control a fault touches is never NotAFinding, and no other verdict moves."""

from __future__ import annotations

import json
import re

import pytest

from tests.faults.corpus import ALL, FAULTS, REF_AUTOMATE, REFERENCE, corpus_run
from tests.faults.corpus import CATALOG as _CATALOG


def _clean(product: str) -> dict[str, str]:
    """A clean host of one product: its controls pass (ACCT-02 awaits an assessor), the other
    product's are Not_Applicable."""
    return {c.id: "Not_Applicable" if product not in c.products else
            "Not_Reviewed" if c.id == "CWH-ACCT-02" else "NotAFinding"
            for c in _CATALOG.controls if c.id in ALL}


CLEAN = {REFERENCE: _clean("screenconnect"), "ref-basic": _clean("screenconnect"),
         REF_AUTOMATE: _clean("automate")}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return corpus_run(tmp_path_factory)


def _param(fault):
    return pytest.param(fault, id=fault.name)


def test_the_corpus_holds_at_least_40_distinct_faults():
    names = [fault.name for fault in FAULTS]
    assert len(set(names)) == len(names) >= 40
    hosts = [json.dumps(fault.host, sort_keys=True) for fault in FAULTS]
    assert len(set(hosts)) == len(hosts), "two faults make the same host"
    for fault in FAULTS:
        assert fault.touches <= ALL and set(fault.expect) <= fault.touches, fault.name
        assert not fault.why or fault.touches, fault.name


def test_the_run_ends_in_scan_errors_without_a_traceback(run):
    assert run.exit_code == 6, run.output[-3000:]
    for marker in ("Traceback", "INTERNALERROR"):
        assert marker not in run.output
    crashed = [(r["host"], r["control_id"]) for r in run.results
               if "did not complete" in r["reason"]]
    assert not crashed, crashed


def test_every_host_is_judged_on_every_control(run):
    hosts = {*CLEAN, *(fault.host_name for fault in FAULTS)}
    assert {(r["host"], r["control_id"]) for r in run.results} == \
        {(host, control) for host in hosts for control in ALL}
    assert len(run.results) == len(hosts) * len(ALL)


@pytest.mark.parametrize("host", sorted(CLEAN))
def test_the_clean_hosts_in_the_same_run_are_unchanged(run, host):
    assert {c: r["status"] for c, r in run.by_control(host).items()} == CLEAN[host]


@pytest.mark.parametrize("fault", [_param(f) for f in FAULTS if f.touches])
def test_touched_controls_are_never_a_pass(run, fault):
    results = run.by_control(fault.host_name)
    for control in sorted(fault.touches):
        record = results[control]
        allowed = {fault.expect[control]} if control in fault.expect else {"Open", "Not_Reviewed"}
        assert record["status"] in allowed, (control, record["status"], record["reason"])
        assert record["reason"].strip(), control
        assert re.search(fault.why, record["reason"]), (control, fault.why, record["reason"])


@pytest.mark.parametrize("fault", [_param(f) for f in FAULTS])
def test_untouched_controls_keep_the_reference_verdict(run, fault):
    reference, results = run.by_control(fault.reference), run.by_control(fault.host_name)
    def verdict(record):
        return record["status"], record["error"]

    moved = {control: (verdict(reference[control]), verdict(results[control]),
                       results[control]["reason"][:200])
             for control in sorted(ALL - fault.touches)
             if verdict(results[control]) != verdict(reference[control])}
    assert not moved


def test_each_host_without_facts_is_one_error_line(run):
    """Exactly the hosts whose facts could not be collected at all are host errors, each
    named once, in one line."""
    failed = set(run.document["host_errors"])
    assert failed == {f.host_name for f in FAULTS if f.touches == ALL}
    for host in failed:
        lines = [line for line in run.stdout.splitlines() if line.startswith(f"ERROR {host}:")]
        assert len(lines) == 1, (host, lines)


@pytest.mark.parametrize("host", ["f-os-build-unknown", "f-section_null-os"])
def test_an_unknown_os_claims_no_windows_stig_id(run, host):
    reference, results = run.by_control(REFERENCE), run.by_control(host)
    assert reference["CWH-GPO-01"]["stig_ids"] == ["WN22-SO-000230"]
    assert results["CWH-GPO-01"]["stig_ids"] == [] and results["CWH-GPO-01"]["os_version"] is None
    assert results["CWH-TLS-01"]["stig_ids"] == ["IIST-SV-000153"]  # IIS applies on any OS


def test_thousands_of_rules_and_apps_are_read_whole(run):
    results = run.by_control("f-thousands-of-rules-and-apps")
    assert "among 5003 inbound rules" in results["CWH-NET-03"]["observed"]
    apps = results["CWH-ACCT-02"]
    assert apps["status"] == "Not_Reviewed" and "WebView2 Runtime 4999" in apps["observed"]
    assert all(len(e["raw"]) <= 1600 for e in apps["evidence"])  # excerpts stay excerpts
