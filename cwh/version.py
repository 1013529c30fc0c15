"""The suite's version as a report should state it: git describe when run from a checkout."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from cwh import __version__


@cache
def suite_version() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        described = subprocess.run(
            ["git", "describe", "--tags", "--always", "--dirty"], cwd=root, capture_output=True,
            text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__} ({described})" if described else __version__
