"""The report directory of a run: usable before anything connects, and never showing an
earlier run's evidence as if it were this run's."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from cwh.errors import ConfigError


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
