"""Merge the reports of several audit runs (slices of one fleet) into one.

    python -m cwh.report.merge OUT_DIR IN_DIR [IN_DIR ...] [--fail-on cat1|cat2|cat3]

A large fleet is audited in slices (`--limit` by group or glob, one CI job or machine each);
every slice writes its own report directory. This checks each slice against its own manifest
(every artifact still has the SHA-256 the run recorded) and refuses stale evidence (a slice
whose last run failed, was killed or is still running, or whose results.json, manifest and
run-status.json carry different run ids: see cwh/report/rundir.py), then writes into OUT_DIR:

- `results.json`: every slice's records in one document, the same shape a run writes (`run`,
  `hosts`, `host_errors`, `results`). A host x control pair found in two slices is refused: the
  fleet's result for it would be ambiguous. `run.slices` keeps each slice's own run metadata
  (suite and catalog version, inventory, markers, start time, hosts) with where it came from
  and the hash of its results.json.
- `slices/<NN-name>/`: every slice's artifacts exactly as the run wrote them, its manifest
  included, so each one can still be checked against the manifest that run made.
- `<host>.ckl` / `<host>.cklb` at the top, one per host, copied from the slice that audited
  the host. When slices split one host's controls between them (slicing by marker), that host's
  checklists stay in the slices' folders, one per slice (STIG Manager merges such imports).
- `report.html` and `hosts/<host>.html`, rendered from the merged results.json, the verdict
  under --fail-on; `hdf/<host>.json`, the slice's own file byte for byte (a split host's stay
  in the slices' folders), and `results.hdf.json`, every host's profiles side by side
  (cwh/report/merge_outputs.py).
- `run-status.json` (finished) and `manifest.json`, the SHA-256 of every file above, written
  last, both with the merge's own run id, so a merged directory can be a slice in its turn.

A slice that did not finish (interrupted, an internal error, fewer results than the tests it
selected, a host without results, nothing selected at all: exit 5) is merged but reported, and
counts as a scan error for the gate: a fleet report must not pass because part of the fleet
was never audited.

Exit codes: 0 merged; with --fail-on, the suite's gate on the merged records (0, 1 findings,
5 nothing, 6 scan errors or an incomplete slice); 4 when the inputs cannot be merged (nothing
is written then); 3 on an unexpected error (a bug: please report it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cwh.identity import audited_twice, same_machine
from cwh.report import exitcodes, merge_outputs
from cwh.report.exitcodes import FAIL_ON
from cwh.report.pages import HOSTS_DIR
from cwh.report.rundir import FINISHED, MANIFEST, STATUS, read_status, stale_reason
from cwh.report.terminal import host_warning_lines
from cwh.report.writers import sha256_of, write_json
from cwh.text import printable
from cwh.version import suite_version

RESULTS = "results.json"
SLICES = "slices"
CHECKLIST_SUFFIXES = (".ckl", ".cklb")
SEVERITIES = ("low", "medium", "high")


class MergeError(Exception):
    """The inputs cannot be merged; the message says which and why."""


@dataclass
class Slice:
    name: str  # NN-<directory name>: unique, ordered as given
    source: Path
    document: dict[str, Any]
    artifacts: list[str]  # paths relative to source, as its manifest lists them
    results_sha256: str
    incomplete: list[str]  # why this slice's run did not audit everything it selected

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.document["results"]


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text).strip("._") or "slice"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise MergeError(f"{path}: not valid JSON ({exc})") from None


def verify(directory: Path) -> list[str]:
    """The artifacts a run's manifest lists, each checked against its recorded SHA-256."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        raise MergeError(f"{directory}: no {MANIFEST}: not the report directory of an audit run")
    data = _read_json(manifest)
    try:
        entries = [(str(e["path"]), str(e["sha256"])) for e in data["artifacts"]]
    except (KeyError, TypeError):
        raise MergeError(f"{manifest}: not a manifest (artifacts with path and sha256)") from None
    root = directory.resolve()
    listed = []
    for relative, digest in entries:
        # The same relative path is written under the output: it must name a plain file
        # inside the slice, with no way (.., absolute, a link) to point anywhere else.
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts or not parts:
            raise MergeError(f"{manifest}: {relative!r} is not a path inside {directory}")
        path = root / relative
        if any((root / Path(*parts[:i])).is_symlink() for i in range(1, len(parts) + 1)):
            raise MergeError(f"{manifest}: {relative} is or lies behind a symbolic link")
        if not path.is_file():
            raise MergeError(f"{directory}: {relative} is listed in {MANIFEST} but missing")
        if sha256_of(path) != digest:
            raise MergeError(f"{directory}: {relative} does not match the SHA-256 in {MANIFEST} "
                             "(changed after the run)")
        listed.append(relative)
    if RESULTS not in listed:
        raise MergeError(f"{directory}: {MANIFEST} does not list {RESULTS}")
    return listed


def _check_records(path: Path, document: Any) -> None:
    if not isinstance(document, dict) or not isinstance(document.get("results"), list) or \
            not isinstance(document.get("run"), dict):
        raise MergeError(f"{path}: not a results.json of an audit run")
    for record in document["results"]:
        if not isinstance(record, dict) or not all(
                isinstance(record.get(k), str) for k in ("host", "control_id", "status")):
            raise MergeError(f"{path}: a result without host, control_id and status")
        if record.get("severity") not in SEVERITIES:
            raise MergeError(f"{path}: {record['host']} x {record['control_id']}: severity "
                             f"{record.get('severity')!r} is not one of {', '.join(SEVERITIES)}")


def incompleteness(document: dict[str, Any]) -> list[str]:
    """Why a run's results.json does not cover everything the run selected (empty: complete)."""
    run, records = document["run"], document["results"]
    status, selected = run.get("exit_status"), run.get("selected")
    if not isinstance(status, int) or not isinstance(selected, int):
        return ["results.json does not say how the run ended (exit_status, selected)"]
    reasons = []
    endings = {exitcodes.INTERRUPTED: "interrupted", exitcodes.INTERNAL_ERROR: "an error",
               exitcodes.USAGE_ERROR: "an error", exitcodes.NOTHING_SELECTED: "nothing selected"}
    if status in endings:
        reasons.append(f"the run ended with exit code {status} ({endings[status]})")
    if len(records) < selected:
        reasons.append(f"{len(records)} results for {selected} selected tests")
    # A host of the slice's inventory without a single result was never audited, whether the
    # run selected nothing at all (exit 5) or left the host out (-k): the fleet lacks it.
    missing = exitcodes.hosts_without_results(map(str, run.get("hosts") or []), records)
    if missing:
        reasons.append(f"no result for {', '.join(map(str, missing))}")
    return reasons


def load_slice(index: int, directory: Path) -> Slice:
    if not directory.is_dir():
        raise MergeError(f"{directory}: not a directory")
    status = read_status(directory)
    if status is not None and status.get("state") != FINISHED:
        # Said first: the run that failed removed the manifest, and "no manifest" hides why.
        raise MergeError(f"{directory}: {stale_reason(directory, {}, {})}")
    artifacts = verify(directory)
    document = _read_json(directory / RESULTS)
    _check_records(directory / RESULTS, document)
    stale = stale_reason(directory, document, _read_json(directory / MANIFEST))
    if stale:
        raise MergeError(f"{directory}: {stale}")
    name = f"{index:02d}-{_safe_name(directory.resolve().name)}"
    return Slice(name, directory, document, artifacts, sha256_of(directory / RESULTS),
                 incompleteness(document))


def check_duplicates(slices: list[Slice]) -> None:
    owner: dict[tuple[str, str], str] = {}
    clashes = []
    for piece in slices:
        for record in piece.records:
            pair = (record["host"], record["control_id"])
            if pair in owner:
                clashes.append(f"{pair[0]} x {pair[1]} is in {owner[pair]} and {piece.name}")
            else:
                owner[pair] = piece.name
    if clashes:
        more = f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else ""
        raise MergeError("the same host x control in two slices: " + "; ".join(clashes[:5]) +
                         more + ". Slice the fleet so each host x control is audited once "
                         "(--limit by host or group, or disjoint -m selections)")


def merged_document(slices: list[Slice], fail_on: str = "cat3") -> dict[str, Any]:
    records = sorted((r for s in slices for r in s.records),
                     key=lambda r: (r["host"], r["control_id"]))
    hosts: dict[str, Any] = {}
    host_errors: dict[str, list[str]] = defaultdict(list)
    for piece in slices:
        for host, asset in (piece.document.get("hosts") or {}).items():
            # A host split between slices: keep the fullest description (one with facts).
            if len(asset or {}) > len(hosts.get(host) or {}):
                hosts[host] = asset
        for host, error in (piece.document.get("host_errors") or {}).items():
            host_errors[host].append(error if len(slices) == 1 else f"[{piece.name}] {error}")
    runs = [s.document["run"] for s in slices]

    def values(key: str) -> list[Any]:
        return sorted({json.dumps(r.get(key), sort_keys=True) for r in runs})

    # A merged directory can itself be a slice of a larger merge: say how "the run" ended in
    # the same terms a run does, an incomplete slice making the whole an interrupted run.
    ended = exitcodes.INTERRUPTED if any(s.incomplete for s in slices) else exitcodes.OK
    twice = audited_twice(hosts)  # across slices too: two slices, two names, one machine

    return {
        "run": {
            "run_id": uuid.uuid4().hex,
            "merged": True,
            "merged_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "merged_by": suite_version(),
            "started": min((str(r.get("started")) for r in runs if r.get("started")),
                           default=None),
            "hosts": sorted({r["host"] for r in records} |
                            {h for run in runs for h in run.get("hosts") or []}),
            "suite_versions": [json.loads(v) for v in values("suite_version")],
            "catalog_versions": [json.loads(v) for v in values("catalog_version")],
            "exit_status": exitcodes.decide(records, ended, fail_on, unaudited=len(twice)),
            "fail_on": fail_on,
            "selected": sum(int(r.get("selected") or 0) for r in runs),
            "slices": [{"name": s.name, "source": str(s.source.resolve()),
                        "results_sha256": s.results_sha256, "results": len(s.records),
                        "run": s.document["run"], "complete": not s.incomplete,
                        "incomplete": s.incomplete} for s in slices],
        },
        "hosts": dict(sorted(hosts.items())),
        "host_errors": {h: "; ".join(e) for h, e in sorted(host_errors.items())},
        # Across slices too: two slices may have audited one machine under two names.
        "same_machine": [group.to_dict() for group in same_machine(hosts)],
        "results": records,
    }


def _prepare_output(out_dir: Path, inputs: list[Path]) -> None:
    out = out_dir.resolve()
    for directory in inputs:
        source = directory.resolve()
        if out == source or source in out.parents or out in source.parents:
            raise MergeError(f"the output {out_dir} overlaps the input {directory}")
    if not out.exists():
        return
    if not out.is_dir():
        raise MergeError(f"{out_dir}: exists and is not a directory")
    if not any(out.iterdir()):
        return
    manifest = out / MANIFEST
    previous = _read_json(manifest) if manifest.is_file() else {}
    if not (isinstance(previous, dict) and previous.get("merged") is True):
        raise MergeError(f"{out_dir}: not empty and not the output of an earlier merge; "
                         "give an empty or new directory")
    # An earlier merge: remove what it wrote (as its manifest lists it), nothing else.
    for entry in previous.get("artifacts", []):
        path = (out / str(entry.get("path", ""))).resolve()
        if out in path.parents and path.is_file():
            path.unlink()
    manifest.unlink()
    for folder in (out / HOSTS_DIR, out / "hdf"):  # emptied above; a new merge may need none
        if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
            folder.rmdir()
    slices = out / SLICES
    if slices.is_dir():
        for directory in sorted(slices.rglob("*"), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        if not any(slices.iterdir()):
            slices.rmdir()


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


def merge(out_dir: Path, inputs: list[Path], fail_on: str | None = None) -> tuple[
        dict[str, Any], list[Path]]:
    """Check and merge; returns the merged document and every file written (manifest last).
    `fail_on` is the gate the pages' verdict and run.exit_status apply (default cat3)."""
    if not inputs:
        raise MergeError("no input directory")
    slices = [load_slice(i, Path(d)) for i, d in enumerate(inputs, start=1)]
    check_duplicates(slices)
    document = merged_document(slices, fail_on or "cat3")
    _prepare_output(out_dir, [Path(d) for d in inputs])
    out_dir.mkdir(parents=True, exist_ok=True)

    written: list[Path] = []
    names = Counter(Path(a).name for s in slices for a in s.artifacts
                    if a.endswith(CHECKLIST_SUFFIXES))
    for piece in slices:
        for relative in [*piece.artifacts, MANIFEST]:
            written.append(_copy(piece.source / relative, out_dir / SLICES / piece.name /
                                 relative))
            if relative.endswith(CHECKLIST_SUFFIXES) and names[Path(relative).name] == 1:
                written.append(_copy(piece.source / relative, out_dir / Path(relative).name))
    written.append(write_json(out_dir / RESULTS, document, layout="records"))
    try:
        hdf, versions = merge_outputs.write_hdf(out_dir, merge_outputs.host_hdf_files(slices),
                                                document["run"])
    except ValueError as exc:  # a slice's HDF file its own manifest vouches for, yet unreadable
        raise MergeError(str(exc)) from None
    written += hdf
    written += merge_outputs.write_pages(out_dir, document, versions)
    # The merged directory is a finished run of its own, so it can be a slice in its turn.
    run_id = document["run"]["run_id"]
    written.append(write_json(out_dir / STATUS, {
        "run_id": run_id, "state": FINISHED, "started": document["run"]["merged_at"],
        "updated": document["run"]["merged_at"], "exit_status": document["run"]["exit_status"],
        "merged": True}))
    out = out_dir.resolve()
    entries = [{"path": str(p.resolve().relative_to(out)), "sha256": sha256_of(p),
                "bytes": p.stat().st_size} for p in sorted(set(written))]
    manifest = write_json(out_dir / MANIFEST, {"algorithm": "sha256", "merged": True,
                                               "run_id": run_id, "artifacts": entries})
    return document, [*written, manifest]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cwh.report.merge",
        description="Merge the report directories of several audit runs (slices of a fleet).")
    parser.add_argument("out_dir", metavar="OUT_DIR", type=Path)
    parser.add_argument("inputs", metavar="IN_DIR", type=Path, nargs="+")
    parser.add_argument("--fail-on", choices=tuple(FAIL_ON), default=None,
                        help="exit with the suite's gate on the merged results (0, 1, 5, 6)")
    args = parser.parse_args(argv)
    try:
        document, written = merge(args.out_dir, args.inputs, args.fail_on)
    except MergeError as exc:
        print(f"ERROR: {printable(str(exc))}", file=sys.stderr)
        return exitcodes.USAGE_ERROR
    except OSError as exc:
        print(f"ERROR: {exc.filename or args.out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return exitcodes.USAGE_ERROR
    except Exception as exc:  # a bug: one line, not a traceback, and not "findings"
        print(f"ERROR: unexpected {exc.__class__.__name__}: {printable(str(exc))}",
              file=sys.stderr)
        return exitcodes.INTERNAL_ERROR
    records = document["results"]
    counts = Counter(r["status"] for r in records)
    slices = document["run"]["slices"]
    print(f"merged {len(slices)} slices: {len(document['run']['hosts'])} hosts, "
          f"{len(records)} results ({', '.join(f'{n} {s}' for s, n in sorted(counts.items()))})")
    for piece in slices:
        for reason in piece["incomplete"]:
            print(f"INCOMPLETE {piece['name']}: {printable(reason)}")
    if len(document["run"]["catalog_versions"]) > 1:
        print("warning: the slices used different catalog versions: "
              + printable(", ".join(map(str, document["run"]["catalog_versions"]))))
    for host, error in document["host_errors"].items():
        print(f"ERROR {printable(host)}: {printable(error)}")
    for line in host_warning_lines(document["hosts"]):
        print(line)
    for group in same_machine(document["hosts"]):
        print(group.line())
    print(f"wrote {args.out_dir / RESULTS} and {args.out_dir / MANIFEST} "
          f"({len(written)} files)")
    if args.fail_on is None:
        return exitcodes.OK
    # The run's own rule: a machine two inventory hosts were judged on was audited once at most.
    status = exitcodes.decide(records, exitcodes.OK, args.fail_on,
                              unaudited=len(audited_twice(document["hosts"])))
    if any(not piece["complete"] for piece in slices) and status in (
            exitcodes.OK, exitcodes.FINDINGS):
        return exitcodes.SCAN_ERROR  # part of the fleet was never audited
    return status


if __name__ == "__main__":
    sys.exit(main())
