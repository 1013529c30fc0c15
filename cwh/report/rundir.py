"""The report directory of a run: usable before anything connects, and never showing an
earlier run's evidence as if it were this run's.

Before the inputs are even read, a run clears what the previous run wrote there and writes
`run-status.json` saying it is running, with a fresh run id. A run that stops with a usage
error marks it `failed` (with the exit code and the one-line error); one that writes its reports
marks it `finished` and puts the same run id into results.json and manifest.json. A run killed
outright leaves `running`. So a directory is a run's current evidence exactly when its status
says finished and the three run ids agree: the fleet merge checks both (`stale_reason`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cwh.errors import ConfigError

STATUS = "run-status.json"
MANIFEST = "manifest.json"
RUNNING, FAILED, FINISHED = "running", "failed", "finished"
# What a run writes at the top of its report directory besides the checklists. Removed when
# the previous run did not finish: it never wrote the manifest that would list them.
_RUN_FOLDERS = ("hdf", "hosts")  # per-host files of a run
_RUN_FILES = ("results.json", "results.hdf.json", "report.html", "junit.xml",
              "lab-requests.jsonl", MANIFEST)


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


def remove_previous_artifacts(report_dir: Path) -> None:
    """Delete what the last run wrote (as its manifest lists it, or, when it never finished,
    the files a run writes), so nothing stale sits beside this run's evidence. Nothing else
    is touched."""
    root = report_dir.resolve()
    manifest = _read(report_dir / MANIFEST)
    entries = manifest.get("artifacts") if isinstance(manifest, dict) else None
    emptied: set[Path] = set()
    for entry in entries if isinstance(entries, list) else []:
        path = (root / str(entry.get("path", "") if isinstance(entry, dict) else "")).resolve()
        if root in path.parents and path.is_file():
            path.unlink()
            emptied.add(path.parent)
    previous = read_status(report_dir)
    if previous is not None and previous.get("state") != FINISHED:
        leftovers = [root / name for name in _RUN_FILES]
        leftovers += [*root.glob("*.ckl"), *root.glob("*.cklb")]
        for folder in _RUN_FOLDERS:
            leftovers += [p for p in (root / folder).glob("*") if not p.is_symlink()]
            emptied.add(root / folder)
        for path in leftovers:
            if path.is_file() and not path.is_symlink():
                path.unlink()
    # Folders a run writes per-host files into (hdf/) go too once empty: an empty hdf/ beside a
    # failed run would look like a run that found no hosts.
    for folder in sorted(emptied - {root}, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()
    (report_dir / MANIFEST).unlink(missing_ok=True)


@dataclass
class RunDir:
    """This run's hold on its report directory."""

    path: Path
    run_id: str
    started: str
    state: str = RUNNING

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

    def _write(self, state: str, **extra: Any) -> Path:
        self.state = state
        path = self.path / STATUS
        tmp = path.with_name(STATUS + ".tmp")
        tmp.write_text(json.dumps({"run_id": self.run_id, "state": state,
                                   "started": self.started, "updated": _now(), **extra},
                                  indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path

    def fail(self, exit_status: int | None, error: str) -> None:
        """The run stops without reports; best effort (the run is failing already)."""
        with contextlib.suppress(OSError):
            self._write(FAILED, exit_status=exit_status, error=error)

    def finish(self, exit_status: int) -> Path:
        """Written after every report and before the manifest, which lists it."""
        return self._write(FINISHED, exit_status=exit_status)


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
