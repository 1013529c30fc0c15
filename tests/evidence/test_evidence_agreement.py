"""For every host x control, the CKL, the CKLB and the HDF say what the result record says."""

from __future__ import annotations

from typing import Any

from cwh.report.checklist import GUIDE_BENCHMARK_ID, combine_statuses
from cwh.report.ckl import render_ckl
from cwh.report.cklb import render_cklb
from cwh.report.hdf import render_host_hdf
from tests.evidence.evidence_helpers import (
    CATALOG,
    CHECKED_AT,
    HOST_2019,
    HOST_2022,
    SUITE_VERSION,
    benchmarks,
    checklists,
    ckl_vulns,
    cklb_rules,
    hdf_results,
    parse_ckl,
    records_2019,
    records_2022,
)

FROM_CKLB = {"not_a_finding": "NotAFinding", "open": "Open", "not_applicable": "Not_Applicable",
             "not_reviewed": "Not_Reviewed"}


def _from_hdf(result: dict[str, Any]) -> str:
    """Read a result back the way an assessor reads Heimdall (impact 0 = not applicable)."""
    if result["status"] == "passed":
        return "NotAFinding"
    if result["status"] == "failed":
        return "Open"
    if result["status"] == "error":
        return "Not_Reviewed"
    if result["impact"] == 0 or result["skip_message"].startswith("Not applicable on "):
        return "Not_Applicable"
    return "Not_Reviewed"


def test_ckl_cklb_and_hdf_agree_with_every_record() -> None:
    records = {HOST_2022: records_2022(), HOST_2019: records_2019()}
    everything = [r for host_records in records.values() for r in host_records]
    compared = 0
    for host, host_records in records.items():
        hdf = hdf_results(render_host_hdf(host, everything, CATALOG, benchmarks(),
                                          suite_version=SUITE_VERSION, started=CHECKED_AT,
                                          duration=1.0))
        asset, istigs = checklists(host, host_records, benchmarks())
        ckl = ckl_vulns(parse_ckl(render_ckl(asset, istigs)))
        cklb = cklb_rules(render_cklb(asset, istigs))
        rules: dict[tuple[str, str], list[str]] = {}
        for record in host_records:
            cid, status = record["control_id"], record["status"]
            assert ckl[GUIDE_BENCHMARK_ID][cid]["status"] == status, (host, cid, "ckl")
            assert FROM_CKLB[cklb[GUIDE_BENCHMARK_ID][cid]["status"]] == status, \
                (host, cid, "cklb")
            [result] = hdf[(GUIDE_BENCHMARK_ID, cid, host)]
            assert _from_hdf(result) == status, (host, cid, "hdf")
            assert (result["status"] == "error") == bool(record["error"]), (host, cid, "error")
            compared += 1
            for ref in record["stig_refs"]:
                rules.setdefault((ref["benchmark"], ref["vuln_id"]), []).append(status)
        for (benchmark, vuln_id), statuses in rules.items():
            combined = combine_statuses(statuses)
            assert ckl[benchmark][vuln_id]["status"] == combined, (host, vuln_id, "ckl")
            assert FROM_CKLB[cklb[benchmark][vuln_id]["status"]] == combined, \
                (host, vuln_id, "cklb")
            [result] = hdf[(benchmark, vuln_id, host)]
            assert _from_hdf(result) == combined, (host, vuln_id, "hdf")
    assert compared == len(everything) == 29
