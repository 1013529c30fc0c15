"""pytest alone: the same number of trivial parametrized tests as a suite run, with the same
xdist workers and the plugins pytest loads by default, in a directory without the suite's
conftest; what is left of a suite run's time after this is the suite's own."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TEST_FILE = '''import pytest


@pytest.mark.parametrize("case", range({count}))
def test_trivial(case):
    pass
'''


@dataclass
class Alone:
    tests: int
    workers: int
    wall: float
    cpu: float  # user + system of pytest and its workers
    exit_code: int


def run_alone(work: Path, tests: int, workers: int, timeout: float = 1800) -> Alone:
    work.mkdir(parents=True, exist_ok=True)
    (work / "test_alone.py").write_text(TEST_FILE.format(count=tests))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_alone.py"]
    if workers > 1:
        command += ["-n", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=timeout, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Alone(tests, workers, round(wall, 2), round(cpu, 2), done.returncode)
