"""A host's checklists: the iSTIG of its Windows Server STIG release, those of the other
benchmarks its results reference, and the guide's; rendered by `ckl` and `cklb`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import Catalog
from cwh.catalog.stig_rules import Release
from cwh.catalog.xccdf import Benchmark
from cwh.report.asset import Asset
from cwh.report.checklist import (
    IStig,
    _benchmark_istig,
    _benchmark_order,
    _by_control,
    _guide_istig,
    _newest,
    _refs,
)
from cwh.report.stig_istig import release_istig
from cwh.report.xml_text import clean, one_line


def _is_guide(record: Mapping[str, Any]) -> bool:
    return record.get("record_type", "guide_control") == "guide_control"


def host_release_ids(records: list[Mapping[str, Any]],
                     releases: Mapping[str, Release]) -> list[str]:
    """The Windows Server STIG releases of a host: those its STIG rule records name, else the
    one for the OS its records report."""
    named = {str(r["benchmark"]) for r in records
             if r.get("record_type") == "stig_rule" and r.get("benchmark") in releases}
    if named:
        return sorted(named)
    versions = {r.get("os_version") for r in records if r.get("os_version")}
    return sorted(bid for bid, release in releases.items() if release.os_version in versions)


def build_checklists(host: str, asset: Asset, records: list[dict], catalog: Catalog,
                     benchmarks: dict[str, Benchmark], *, suite_version: str,
                     catalog_version: str,
                     releases: Mapping[str, Release] | None = None) -> list[IStig]:
    """The host's checklists: the iSTIG of the host's Windows Server STIG release (from
    `releases`, the rule data: every rule, with the XCCDF's text when `benchmarks` has it), one
    iSTIG per other referenced benchmark present in `benchmarks` (every rule of the file; the
    rules no control checked stay Not_Reviewed with empty details), then the guide's iSTIG with
    every guide control of the host's records. A STIG rule's status is the worst of its own
    record and the guide controls' that are the same check. Records of other hosts are
    ignored."""
    releases = releases or {}
    mine = [r for r in records if isinstance(r, Mapping) and str(r.get("host")) == host]
    host_key = asset.inventory_name or one_line(host)
    provenance = clean(f"cwh {suite_version} (catalog {catalog_version})")
    generated_at = _newest(mine)
    grouped = _by_control([r for r in mine if _is_guide(r)], catalog)
    by_benchmark: dict[str, dict[str, list[Mapping[str, Any]]]] = {
        bid: {} for bid in host_release_ids(mine, releases)}
    # A rule's own record first: its details lead with the rule's verdict.
    for record in sorted(mine, key=lambda r: r.get("record_type") != "stig_rule"):
        for bid, vuln_id, _ in dict.fromkeys(_refs(record)):
            by_benchmark.setdefault(bid, {}).setdefault(vuln_id, []).append(record)
    istigs = []
    for bid, by_rule in sorted(by_benchmark.items(), key=lambda kv: _benchmark_order(kv[0])):
        if bid in benchmarks:
            istigs.append(_benchmark_istig(benchmarks[bid], host_key, by_rule, provenance,
                                           generated_at))
        elif bid in releases:
            istigs.append(release_istig(releases[bid], host_key, by_rule, provenance,
                                        generated_at))
    istigs.append(_guide_istig(host_key, grouped, catalog, benchmarks, provenance,
                               catalog_version, suite_version, generated_at))
    return istigs
