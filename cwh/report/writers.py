"""Write every artifact of a run into the report directory, and a manifest of their hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cwh.identity import same_machine
from cwh.report.cci import CCI_KEY
from cwh.report.checklist import asset_from
from cwh.report.ckl import render_ckl
from cwh.report.cklb import render_cklb
from cwh.report.hdf import fleet_frame, fleet_profiles, render_host_hdf
from cwh.report.host_checklist import build_checklists
from cwh.report.hostfiles import host_file_names, host_file_stems
from cwh.report.pages import benchmark_versions, write_pages
from cwh.report.rundir import MANIFEST, RunDir
from cwh.version import suite_version

if TYPE_CHECKING:
    from cwh.audit import Audit



def run_metadata(audit: Audit, config: pytest.Config) -> dict[str, Any]:
    return {
        "suite_version": suite_version(),
        "catalog_version": audit.catalog.version,
        "inventory": audit.inventory_path,
        "markers": config.getoption("markexpr") or "",
        "started": audit.started.isoformat(timespec="seconds"),
        "hosts": sorted(audit.targets),
        "fail_on": audit.options.fail_on,
        "waivers": audit.options.waivers,
        "benchmarks": sorted(audit.benchmarks),
    }


def write_json(path: Path, data: Any, *, layout: str = "indented") -> Path:
    """`indented` (two spaces), `compact` (no whitespace: HDF and CKLB, read by programs) or
    `records` (the top level indented, each element of a top-level list on one line: a
    results.json of 50,000 records stays readable and diffable). Only indent=None reaches
    json's C encoder: the indented layout takes ten times as long at fleet scale."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        if layout == "compact":
            out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        elif layout == "records" and isinstance(data, dict):
            _write_records_layout(out, data)
        else:
            out.write(json.dumps(data, indent=2, ensure_ascii=False))
        out.write("\n")
    tmp.replace(path)
    return path


def _write_records_layout(out: Any, data: dict[str, Any]) -> None:
    """Written element by element: a fleet's results.json is never one string in memory."""
    out.write("{\n")
    for index, (key, item) in enumerate(data.items()):
        out.write((",\n" if index else "") + f"  {json.dumps(key, ensure_ascii=False)}: ")
        if isinstance(item, list) and item:
            out.write("[\n")
            for number, element in enumerate(item):
                out.write(("    " if not number else ",\n    ")
                          + json.dumps(element, ensure_ascii=False))
            out.write("\n  ]")
        else:
            out.write(json.dumps(item, ensure_ascii=False))
    out.write("\n}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(report_dir: Path, artifacts: list[Path], run_id: str | None = None,
                   details: dict[Path, dict[str, Any]] | None = None) -> Path:
    """SHA-256 of every artifact this run wrote, so evidence can be shown to be unaltered; the
    run id ties the manifest to the results.json and run-status.json of the same run.
    `details` adds fields to some entries (a checklist's host and benchmarks)."""
    details = details or {}
    entries = [{"path": str(p.relative_to(report_dir)), "sha256": sha256_of(p),
                "bytes": p.stat().st_size, **details.get(p, {})}
               for p in sorted(set(artifacts)) if p.exists()]
    return write_json(report_dir / MANIFEST, {"algorithm": "sha256", "run_id": run_id,
                                              "artifacts": entries})


def write_checklists(audit: Audit, records: list[dict[str, Any]]) -> tuple[
        dict[Path, dict[str, Any]], list[str]]:
    """<stem>.ckl and <stem>.cklb per host, each with the manifest details saying whose it is
    and which benchmarks it holds; also returns warnings (STIG references the given benchmark
    files do not contain)."""
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_host[record["host"]].append(record)
    stems = host_file_stems(sorted(by_host))
    written: dict[Path, dict[str, Any]] = {}
    warnings: list[str] = []
    for host, host_records in sorted(by_host.items()):
        target = audit.targets.get(host)
        asset = asset_from(host, audit.assets.get(host),
                           role=target.var("cwh_role") if target else None,
                           marking=target.var("cwh_marking") if target else None)
        istigs = build_checklists(host, asset, host_records, audit.catalog, audit.benchmarks,
                                  suite_version=suite_version(),
                                  catalog_version=audit.catalog.version,
                                  releases=audit.releases.by_benchmark)
        warnings += [f"{host}: {istig.benchmark_id} has no rule for {missing}"
                     for istig in istigs for missing in istig.unmatched]
        ckl = audit.report_dir / f"{stems[host]}.ckl"
        ckl.write_bytes(render_ckl(asset, istigs))
        cklb = write_json(audit.report_dir / f"{stems[host]}.cklb", render_cklb(asset, istigs),
                          layout="compact")
        holds = {"host": host, "benchmarks": [
            {"id": istig.benchmark_id, "version": istig.version, "release": istig.release}
            for istig in istigs]}
        written.update({ckl: holds, cklb: holds})
    return written, warnings


def write_hdf(audit: Audit, records: list[dict[str, Any]], config: pytest.Config) -> list[Path]:
    """hdf/<host>.json per host (each host its own evaluation, as Heimdall and the SAF CLI
    count it) and results.hdf.json, the fleet with every host's profiles kept apart."""
    options = dict(suite_version=suite_version(), started=audit.started.isoformat(
        timespec="seconds"), duration=(dt.datetime.now(dt.UTC) - audit.started).total_seconds(),
        nist=config.stash.get(CCI_KEY, None), releases=audit.releases.by_benchmark)
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_host[record["host"]].append(record)
    written = []
    fleet = audit.report_dir / "results.hdf.json"
    fleet_tmp = fleet.with_suffix(".json.tmp")
    before, after = fleet_frame(sorted(by_host), audit.catalog, **{
        k: v for k, v in options.items() if k != "releases"})
    first = True
    # One host at a time: its file, then its profiles into the fleet file (which is what
    # render_fleet_hdf makes), so the fleet's HDF is never all in memory.
    with open(fleet_tmp, "w", encoding="utf-8") as out:
        out.write(before)
        for host, name in host_file_names(sorted(by_host)).items():
            target = audit.targets.get(host)
            asset = asset_from(host, audit.assets.get(host),
                               role=target.var("cwh_role") if target else None,
                               marking=target.var("cwh_marking") if target else None)
            document = render_host_hdf(host, by_host[host], audit.catalog, audit.benchmarks,
                                       asset=asset, **options)
            written.append(write_json(audit.report_dir / "hdf" / name, document,
                                      layout="compact"))
            for profile in fleet_profiles(host, document["profiles"]):
                out.write(("" if first else ",")
                          + json.dumps(profile, ensure_ascii=False, separators=(",", ":")))
                first = False
        out.write(after + "\n")
    fleet_tmp.replace(fleet)
    written.append(fleet)
    return written


def write_html(audit: Audit, records: list[dict[str, Any]], meta: dict[str, Any],
               exit_status: int) -> list[Path]:
    """report.html and hosts/<host>.html, for people (cwh/report/pages.py)."""
    document = {"run": meta, "hosts": audit.assets, "host_errors": audit.host_errors,
                "results": records}
    # The rule data knows each release's version when no XCCDF was given.
    versions = {bid: r.short_version for bid, r in audit.releases.by_benchmark.items()}
    return write_pages(audit.report_dir, document, exit_status,
                       {**versions, **benchmark_versions(audit.benchmarks)})


def write_reports(audit: Audit, run_dir: RunDir, records: list[dict[str, Any]],
                  config: pytest.Config, exit_status: int,
                  not_evaluated: list[str]) -> list[Path]:
    # How the run ended, how many host x control tests it selected and which of them have no
    # result: whoever reads results.json alone (the fleet merge) can tell a complete run from
    # one that stopped early.
    meta = {"run_id": run_dir.run_id, **run_metadata(audit, config), "exit_status": exit_status,
            "selected": len(audit.selected), "not_evaluated": len(not_evaluated),
            "not_evaluated_tests": not_evaluated}
    written = [write_json(audit.report_dir / "results.json", {
        "run": meta, "hosts": audit.assets, "host_errors": audit.host_errors,
        "same_machine": [group.to_dict() for group in same_machine(audit.assets)],
        "results": records}, layout="records")]
    written += write_html(audit, records, meta, exit_status)
    checklists: dict[Path, dict[str, Any]] = {}
    if records:
        checklists, audit.warnings = write_checklists(audit, records)
        written += list(checklists)
        written += write_hdf(audit, records, config)
    # Files other plugins wrote for this run (pytest-html, junitxml) belong in the manifest too.
    for option in ("htmlpath", "xmlpath"):
        value = getattr(config.option, option, None)
        if value and Path(value).exists():
            written.append(Path(value).resolve())
    lab_log = audit.report_dir / "lab-requests.jsonl"
    if audit.lab is not None and lab_log.exists():
        written.append(lab_log)
    written.append(run_dir.finish(exit_status))
    inside = [p for p in written if audit.report_dir.resolve() in p.resolve().parents]
    written.append(write_manifest(audit.report_dir.resolve(), [p.resolve() for p in inside],
                                  run_dir.run_id,
                                  {p.resolve(): holds for p, holds in checklists.items()}))
    return written
