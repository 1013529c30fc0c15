"""Stopping a process group: a suite run (pytest, its workers, its lab) the benchmark started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess


def terminate_group(process: subprocess.Popen, grace: float = 10.0,
                    first: signal.Signals = signal.SIGTERM) -> None:
    """Stop a process started with start_new_session=True and everything in its group:
    `first` (SIGINT lets pytest run its teardown and stop its lab), then SIGKILL."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, first)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group (workers, the lab)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
