"""Write every artifact of a run into the report directory, and a manifest of their hashes.

Every file is written through cwh/report/safefile.py (a new temporary file renamed over the
name, real folders only), so a symbolic link in the report directory is never followed, and
the run records each file in its run-status.json before writing it (cwh/report/rundir.py), so
the next run removes exactly what this one wrote."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from cwh.identity import same_machine
from cwh.report.asset import asset_from
from cwh.report.cci import CCI_KEY
from cwh.report.ckl import render_ckl
from cwh.report.cklb import render_cklb_text
from cwh.report.hdf import fleet_frame, render_host_hdf
from cwh.report.hdf_text import ControlPieces
from cwh.report.host_checklist import build_checklists
from cwh.report.hostfiles import host_file_names, host_file_stems
from cwh.report.pages import benchmark_versions, render_pages
from cwh.report.rundir import MANIFEST, RunDir
from cwh.report.safefile import NotAFolder, path_below, replacing, write_below
from cwh.report.xml_text import clean
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


def _dump_json(out: IO[str], data: Any, layout: str) -> None:
    """`indented` (two spaces), `compact` (no whitespace: HDF and CKLB, read by programs) or
    `records` (the top level indented, each element of a top-level list on one line: a
    results.json of 50,000 records stays readable and diffable). Only indent=None reaches
    json's C encoder: the indented layout takes ten times as long at fleet scale."""
    if layout == "compact":
        out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    elif layout == "records" and isinstance(data, dict):
        _write_records_layout(out, data)
    else:
        out.write(json.dumps(data, indent=2, ensure_ascii=False))
    out.write("\n")


def write_json_below(root: Path, relative: str | Path, data: Any, *,
                     layout: str = "indented") -> Path:
    """JSON at `root / relative` inside the report directory (cwh/report/safefile.py)."""
    path = path_below(root, relative)
    with replacing(path) as out:
        _dump_json(out, data, layout)
    return path


def write_json(path: Path, data: Any, *, layout: str = "indented") -> Path:
    """JSON at `path` (its folder made if missing), replacing whatever is there, a link too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_json_below(path.parent, path.name, data, layout=layout)


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
    entries = []
    for path in sorted(set(artifacts)):
        # An artifact the run wrote and cannot hash is an error, never a silent omission.
        if path.is_symlink():
            raise NotAFolder(f"{path} became a symbolic link during the run: its content is "
                             "not the run's")
        entries.append({"path": str(path.relative_to(report_dir)), "sha256": sha256_of(path),
                        "bytes": path.stat().st_size, **details.get(path, {})})
    return write_json_below(report_dir, MANIFEST,
                            {"algorithm": "sha256", "run_id": run_id, "artifacts": entries})


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
        ckl = write_below(audit.report_dir, f"{stems[host]}.ckl", render_ckl(asset, istigs))
        cklb = write_below(audit.report_dir, f"{stems[host]}.cklb",
                           (render_cklb_text(asset, istigs) + "\n").encode("utf-8"))
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
    fleet = path_below(audit.report_dir, "results.hdf.json")
    before, after = fleet_frame(sorted(by_host), audit.catalog, **{
        k: v for k, v in options.items() if k != "releases"})
    first = True
    # One host at a time: its file, then its profiles into the fleet file (which is what
    # render_fleet_hdf makes), so the fleet's HDF is never all in memory.
    with replacing(fleet) as out:
        out.write(before)
        for host, name in host_file_names(sorted(by_host)).items():
            target = audit.targets.get(host)
            asset = asset_from(host, audit.assets.get(host),
                               role=target.var("cwh_role") if target else None,
                               marking=target.var("cwh_marking") if target else None)
            # Each control encoded once for the four texts holding it (cwh/report/hdf_text.py).
            pieces = ControlPieces()
            document = render_host_hdf(host, by_host[host], audit.catalog, audit.benchmarks,
                                       asset=asset, pieces=pieces, **options)
            written.append(write_below(audit.report_dir, f"hdf/{name}",
                                       (pieces.document(document) + "\n").encode("utf-8")))
            for profile in document["profiles"]:
                out.write(("" if first else ",") + pieces.fleet_profile(profile, clean(host)))
                first = False
        out.write(after + "\n")
    written.append(fleet)
    return written


def planned_artifacts(records: list[dict[str, Any]], pages: list[str]) -> list[str]:
    """What write_reports is about to write (relative paths), recorded in run-status.json
    before the first byte: the same names write_checklists and write_hdf give the files."""
    planned = ["results.json", *pages, MANIFEST]
    hosts = sorted({r["host"] for r in records})
    if hosts:
        stems = host_file_stems(hosts)
        planned += [f"{stems[h]}{suffix}" for h in hosts for suffix in (".ckl", ".cklb")]
        planned += [f"hdf/{name}" for name in host_file_names(hosts).values()]
        planned.append("results.hdf.json")
    return planned


def write_reports(audit: Audit, run_dir: RunDir, records: list[dict[str, Any]],
                  config: pytest.Config, exit_status: int,
                  not_evaluated: list[str]) -> list[Path]:
    # How the run ended, how many host x control tests it selected and which of them have no
    # result: whoever reads results.json alone (the fleet merge) can tell a complete run from
    # one that stopped early.
    meta = {"run_id": run_dir.run_id, **run_metadata(audit, config), "exit_status": exit_status,
            "selected": len(audit.selected), "not_evaluated": len(not_evaluated),
            "not_evaluated_tests": not_evaluated}
    document = {"run": meta, "hosts": audit.assets, "host_errors": audit.host_errors,
                "same_machine": [group.to_dict() for group in same_machine(audit.assets)],
                "results": records}
    # report.html and hosts/<host>.html, for people (cwh/report/pages.py); the rule data
    # knows each release's version when no XCCDF was given.
    versions = {bid: r.short_version for bid, r in audit.releases.by_benchmark.items()}
    pages = render_pages({k: v for k, v in document.items() if k != "same_machine"},
                         exit_status, {**versions, **benchmark_versions(audit.benchmarks)})
    run_dir.will_write(planned_artifacts(records, list(pages)))
    written = [write_json_below(audit.report_dir, "results.json", document, layout="records")]
    written += [write_below(audit.report_dir, relative, text.encode("utf-8"))
                for relative, text in pages.items()]
    # A fleet's pages are a hundred MB or more of text: not kept while the checklists are made.
    del pages
    checklists: dict[Path, dict[str, Any]] = {}
    if records:
        checklists, audit.warnings = write_checklists(audit, records)
        written += list(checklists)
        written += write_hdf(audit, records, config)
    # Files other plugins wrote for this run (pytest-html, junitxml) belong in the manifest too,
    # when they are in the report directory (--junitxml=/elsewhere is the user's to keep).
    root = Path(os.path.abspath(audit.report_dir))
    for option in ("htmlpath", "xmlpath"):
        value = getattr(config.option, option, None)
        if value and (Path(value).exists() or Path(value).is_symlink()):
            written.append(Path(os.path.abspath(value)))
    lab_log = audit.report_dir / "lab-requests.jsonl"
    if audit.lab is not None and lab_log.exists():
        written.append(lab_log)
    written.append(run_dir.finish(exit_status))
    inside = [Path(os.path.abspath(p)) for p in written
              if root in Path(os.path.abspath(p)).parents]
    written.append(write_manifest(root, inside, run_dir.run_id,
                                  {Path(os.path.abspath(p)): holds
                                   for p, holds in checklists.items()}))
    return written
