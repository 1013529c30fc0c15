"""What a fleet merge writes besides results.json and the checklists: the HTML pages and the
Heimdall files, so an auditor merging slices gets the same report a single run gives.

- `report.html` and `hosts/<host>.html` are rendered from the merged results.json
  (cwh/report/pages.py): they only present what the records say.
- `hdf/<host>.json` is the slice's own file, byte for byte (its evidence stays exactly what
  that run wrote and hashed; re-rendering would stamp it with this merge's code), under the
  name the fleet gives the host. A host whose controls were split between slices has one
  partial HDF file per slice, and none is "the" host's: those stay in the slices' folders.
- `results.hdf.json` holds every host's profiles side by side, taken from those same files
  (and from each slice's partial files for a split host, its profiles labelled with the
  slice), renamed per host as a run's fleet file is (cwh/report/hdf.py fleet_profiles).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cwh.report.hdf import fleet_profiles
from cwh.report.hostfiles import host_file_names
from cwh.report.pages import render_pages
from cwh.report.safefile import path_below, replacing, write_below
from cwh.version import suite_version

FLEET_HDF = "results.hdf.json"
_SEMVER = re.compile(r"(\d+)\.(\d+)\.0")


@dataclass(frozen=True)
class HostHdf:
    host: str
    slice_name: str
    source: Path  # the slice's hdf/<name>.json


def host_hdf_files(slices: Iterable[Any]) -> dict[str, list[HostHdf]]:
    """host -> its HDF files in the slices (`Slice` of cwh/report/merge.py: name, source,
    records, artifacts), found under the name the slice's own run gave them."""
    found: dict[str, list[HostHdf]] = defaultdict(list)
    for piece in slices:
        hosts = sorted({r["host"] for r in piece.records})
        listed = set(piece.artifacts)
        for host, name in host_file_names(hosts).items():
            if f"hdf/{name}" in listed:
                found[host].append(HostHdf(host, piece.name, piece.source / "hdf" / name))
    return dict(found)


def _read(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not isinstance(document.get("profiles"), list):
        raise ValueError(f"{path}: not an HDF file (no profiles)")
    return document


def write_hdf(out_dir: Path, files: Mapping[str, list[HostHdf]], run: Mapping[str, Any]) -> \
        tuple[list[Path], dict[str, str]]:
    """hdf/<host>.json for every host one slice audited whole, and results.hdf.json; returns
    the files written (none when no slice wrote HDF files) and the version of each DISA
    benchmark the files name (profile_versions). One host file in memory at a time."""
    if not files:
        return [], {}
    written = []
    versions: dict[str, str] = {}
    names = host_file_names(sorted(files))
    passthrough: dict[str, Any] = {}
    notes: set[str] = set()
    fleet = path_below(out_dir, FLEET_HDF)
    with replacing(fleet) as out:
        hosts = sorted(files)
        frame = {"platform": {"name": "cwh", "release": suite_version(),
                              "target_id": ", ".join(hosts)},
                 "version": suite_version(), "statistics": {}, "profiles": None}
        before = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
        out.write(before[:before.rindex("null")] + "[")
        first = True
        for host in hosts:
            for item in files[host]:
                document = _read(item.source)
                cwh = (document.get("passthrough") or {}).get("cwh") or {}
                passthrough = passthrough or cwh
                notes.add(str(cwh.get("nist") or ""))
                for benchmark, version in profile_versions(document).items():
                    versions.setdefault(benchmark, version)
                whole = len(files[host]) == 1
                if whole:  # the slice's own bytes, under the fleet's name for the host
                    written.append(write_below(out_dir, f"hdf/{names[host]}",
                                               item.source.read_bytes()))
                label = host if whole else f"{host} [{item.slice_name}]"
                for profile in fleet_profiles(label, document["profiles"]):
                    out.write(("" if first else ",")
                              + json.dumps(profile, ensure_ascii=False, separators=(",", ":")))
                    first = False
        after = {"passthrough": {"cwh": {
            "merged": True, "started": run.get("started"),
            "catalog_versions": run.get("catalog_versions"),
            "status_precedence": passthrough.get("status_precedence"), "hosts": hosts,
            "nist": "; ".join(sorted(n for n in notes if n)),
            "split_hosts": sorted(h for h in hosts if len(files[h]) > 1),
            "slices": [s.get("name") for s in run.get("slices") or ()]}}}
        out.write("]," + json.dumps(after, ensure_ascii=False, separators=(",", ":"))[1:] + "\n")
    written.append(fleet)
    return written, versions


def profile_versions(document: Mapping[str, Any]) -> dict[str, str]:
    """The DISA benchmarks' versions in an HDF file: a STIG profile is named by its benchmark
    id and versioned in semver (1.3.0 = V1R3, cwh/report/hdf.py); the guide's is not semver."""
    versions = {}
    for profile in document.get("profiles") or ():
        match = _SEMVER.fullmatch(str(profile.get("version") or ""))
        if match and profile.get("name"):
            versions[str(profile["name"])] = f"V{match.group(1)}R{match.group(2)}"
    return versions


def page_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """The merged run as the pages describe a run (cwh/report/fleet_view.py run_facts): what
    the slices were run with, each different value named once."""
    slices = [s.get("run") or {} for s in run.get("slices") or ()]

    def joined(key: str) -> str:
        return ", ".join(dict.fromkeys(str(r[key]) for r in slices if r.get(key)))

    return {**run, "inventory": joined("inventory"), "markers": joined("markers"),
            "waivers": joined("waivers") or None,
            "benchmarks": sorted({str(b) for r in slices for b in r.get("benchmarks") or ()}),
            "suite_version": ", ".join(map(str, run.get("suite_versions") or ())),
            "catalog_version": ", ".join(map(str, run.get("catalog_versions") or ()))}


def write_pages(out_dir: Path, document: Mapping[str, Any],
                versions: Mapping[str, str]) -> list[Path]:
    """report.html and hosts/<host>.html of the merged fleet. A STIG rule record's release
    names its benchmark's version; `versions` (from the slices' HDF files) the rest (IIS)."""
    known = dict(versions)
    for record in document.get("results") or ():
        if record.get("benchmark") and record.get("release"):
            known[str(record["benchmark"])] = str(record["release"])
    pages = render_pages({**{k: v for k, v in document.items() if k != "same_machine"},
                          "run": page_run(document["run"])},
                         int(document["run"]["exit_status"]), known)
    return [write_below(out_dir, relative, text.encode("utf-8"))
            for relative, text in pages.items()]
