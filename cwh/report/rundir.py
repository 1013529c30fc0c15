"""The report directory of a run: usable before anything connects, and never showing an
earlier run's evidence as if it were this run's.

Before the inputs are even read, a run clears what the previous run wrote there and writes
`run-status.json` saying it is running, with a fresh run id. A run that stops with a usage
error marks it `failed` (with the exit code and the one-line error); one that writes its reports
marks it `finished` and puts the same run id into results.json and manifest.json. A run killed
outright leaves `running`. So a directory is a run's current evidence exactly when its status
says finished and the three run ids agree: the fleet merge checks both (`stale_reason`).

Only what a run of this suite wrote is ever removed. Before a run writes a file there (its
reports, junit.xml, the lab's request log) it adds the file's name to `writes` in its
run-status.json; the next run removes exactly the files the previous run's manifest lists and
its status records, whether it finished or not. A checklist, a notes file or a folder someone
put there is never touched, even one named like an artifact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cwh.errors import ConfigError
from cwh.report.safefile import replace_file

STATUS = "run-status.json"
MANIFEST = "manifest.json"
RUNNING, FAILED, FINISHED = "running", "failed", "finished"
# What a run writes in its report directory: folders of per-host files, files at the top, and
# the endings of every artifact (a link with one of them is refused, whatever its name).
RUN_FOLDERS = ("hdf", "hosts")
_RUN_FILES = ("results.json", "results.hdf.json", "report.html", "junit.xml",
              "lab-requests.jsonl", MANIFEST, STATUS)
_ARTIFACT_SUFFIXES = (".ckl", ".cklb", ".json", ".html", ".xml", ".jsonl")


def names_in_the_way(report_dir: Path) -> str | None:
    """Why the names a run writes cannot be used (None: they can): a file or a link where a
    folder of per-host files goes, something other than a plain file at the name of an
    artifact, or a symbolic link at an artifact's name (the run never writes through one)."""
    for folder in RUN_FOLDERS:
        path = report_dir / folder
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            kind = "a symbolic link" if path.is_symlink() else "a file"
            return (f"{folder} is {kind}, where the run writes its folder of per-host "
                    "reports: move it away")
    for name in _RUN_FILES:
        path = report_dir / name
        if path.exists() and not path.is_symlink() and not path.is_file():
            return f"{name} is not a file, and the run writes its {name} there: move it away"
    candidates = [*report_dir.iterdir(), *(p for folder in RUN_FOLDERS
                                           if (report_dir / folder).is_dir()
                                           for p in (report_dir / folder).iterdir())]
    for path in sorted(candidates):
        if path.is_symlink() and (path.name in _RUN_FILES or
                                  path.suffix.lower() in _ARTIFACT_SUFFIXES):
            return (f"{path.relative_to(report_dir)} is a symbolic link (to "
                    f"{os.readlink(path)}): the run never writes its reports through a link; "
                    "remove it")
    return None


def check_usable(report_dir: Path, option: str = "--cwh-report-dir") -> None:
    """Create the directory if needed and prove a file can be written there; ConfigError with
    one line otherwise (a file in the way, no permission, a read-only or virtual file system)."""
    where = f"{option} {report_dir}"
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"{where}: exists and is not a directory") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot create it ({exc.strerror or exc})") from None
    if not report_dir.is_dir():
        raise ConfigError(f"{where}: exists and is not a directory")
    try:
        handle, probe = tempfile.mkstemp(dir=report_dir, prefix=".cwh-write-test-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot write there ({exc.strerror or exc})") from None
    try:
        problem = names_in_the_way(report_dir)
    except OSError as exc:
        problem = f"cannot list it ({exc.strerror or exc})"
    if problem:
        raise ConfigError(f"{where}: {problem}")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_status(report_dir: Path) -> dict[str, Any] | None:
    """The directory's run-status.json, or None when there is none (or it is unreadable)."""
    status = _read(report_dir / STATUS)
    return status if isinstance(status, dict) else None


def _own_file(root: Path, relative: Any) -> Path | None:
    """`root / relative` when it names a plain file inside the report directory, reached
    through real folders only (a listed name is never followed anywhere else); else None."""
    if not isinstance(relative, str) or not relative:
        return None
    parts = Path(relative).parts
    if Path(relative).is_absolute() or ".." in parts:
        return None
    path = root.joinpath(*parts)
    if any(root.joinpath(*parts[:i]).is_symlink() for i in range(1, len(parts) + 1)):
        return None
    return path if path.is_file() else None


def remove_previous_artifacts(report_dir: Path) -> None:
    """Delete what the last run wrote, as its manifest lists it and its run-status records it
    (a run that never finished has no manifest, but its status says what it began to write),
    so nothing stale sits beside this run's evidence. Nothing else is touched: a file the suite
    did not write stays, whatever its name."""
    root = report_dir.resolve()
    manifest = _read(report_dir / MANIFEST)
    entries = manifest.get("artifacts") if isinstance(manifest, dict) else None
    listed = [str(e.get("path", "")) for e in entries if isinstance(e, dict)] \
        if isinstance(entries, list) else []
    previous = read_status(report_dir) or {}
    recorded = previous.get("writes") if isinstance(previous.get("writes"), list) else []
    emptied: set[Path] = set()
    ours = [MANIFEST] if isinstance(entries, list) else []  # a manifest of this suite's
    for relative in [*listed, *recorded, *ours]:
        path = _own_file(root, relative)
        if path is not None and path.name != STATUS:
            path.unlink()
            emptied.add(path.parent)
    # Folders a run writes per-host files into (hdf/) go too once empty: an empty hdf/ beside a
    # failed run would look like a run that found no hosts.
    for folder in sorted(emptied - {root}, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()


@dataclass
class RunDir:
    """This run's hold on its report directory."""

    path: Path
    run_id: str
    started: str
    state: str = RUNNING
    writes: list[str] = field(default_factory=list)  # what it wrote or began to write
    ending: dict[str, Any] = field(default_factory=dict)  # exit_status, error

    @classmethod
    def open(cls, report_dir: Path) -> RunDir:
        """Check the directory, clear the previous run's artifacts and mark this run running;
        ConfigError (one line) when the directory cannot be used."""
        check_usable(report_dir)
        run = cls(report_dir, uuid.uuid4().hex, _now())
        try:
            remove_previous_artifacts(report_dir)
            run._write(RUNNING)
        except OSError as exc:
            raise ConfigError(f"--cwh-report-dir {report_dir}: cannot clear the previous run's "
                              f"reports ({exc.strerror or exc})") from None
        return run

    def _write(self, state: str, **ending: Any) -> Path:
        self.state = state
        self.ending.update(ending)
        text = json.dumps({"run_id": self.run_id, "state": state, "started": self.started,
                           "updated": _now(), **self.ending, "writes": self.writes},
                          indent=2, ensure_ascii=False) + "\n"
        return replace_file(self.path / STATUS, text.encode("utf-8"))

    def will_write(self, paths: Iterable[Path | str]) -> None:
        """Record files before this run writes them (paths inside the report directory; others
        are ignored), so that whatever becomes of the run, the next one removes exactly these."""
        root = Path(os.path.abspath(self.path))
        added = False
        for path in paths:
            path = Path(path)
            absolute = path if path.is_absolute() else self.path / path
            try:
                relative = str(Path(os.path.abspath(absolute)).relative_to(root))
            except ValueError:
                continue  # written elsewhere (--junitxml=/elsewhere), not this directory's
            if relative not in self.writes:
                self.writes.append(relative)
                added = True
        if added and self.state == RUNNING:
            self._write(RUNNING)

    def fail(self, exit_status: int | None, error: str) -> None:
        """The run stops without reports; best effort (the run is failing already)."""
        with contextlib.suppress(OSError):
            self._write(FAILED, exit_status=exit_status, error=error)

    def finish(self, exit_status: int) -> Path:
        """Written after every report and before the manifest, which lists it."""
        return self._write(FINISHED, exit_status=exit_status)


def mark_refused(report_dir: Path, error: str) -> bool:
    """A command line pytest refused before this run could open the directory: the evidence
    there is an earlier run's, so say so (state failed, exit 4, the error) and keep what that
    run recorded, so the next run still clears it. Nothing happens to a directory no run of
    this suite has used (no run-status.json). True when the directory was marked."""
    status = read_status(report_dir)
    if status is None:
        return False
    status.update(state=FAILED, exit_status=4, updated=_now(),
                  error=f"pytest refused the command line of a later run ({error}); what is "
                        "here is an earlier run's evidence, not current")
    try:
        replace_file(report_dir / STATUS, (json.dumps(status, indent=2, ensure_ascii=False)
                                           + "\n").encode("utf-8"))
    except OSError:
        return False  # best effort: the run is failing already
    return True


def stale_reason(report_dir: Path, results: dict[str, Any], manifest: dict[str, Any]) -> \
        str | None:
    """Why the directory's evidence is not its last run's finished output (None: it is)."""
    status = read_status(report_dir)
    if status is None:
        return (f"no readable {STATUS}: not the output of a finished run of this suite "
                "version, so whether it is current cannot be told; audit into it again")
    state = status.get("state")
    if state == FAILED:
        return (f"the last run into it failed (exit {status.get('exit_status')}: "
                f"{status.get('error')}); its reports were cleared, nothing there is current")
    if state != FINISHED:
        return (f"the last run into it (started {status.get('started')}) did not finish: it "
                "is still running or was killed, so its reports are missing or not current")
    ids = {"results.json": (results.get("run") or {}).get("run_id"),
           MANIFEST: manifest.get("run_id"), STATUS: status.get("run_id")}
    if len(set(ids.values())) != 1 or None in ids.values():
        return ("its files come from different runs (run ids: " +
                ", ".join(f"{name} {value}" for name, value in ids.items()) + "): stale")
    return None
