"""A pytest plugin the benchmark loads with `-p bench.pytest_timing`: it only observes.

It writes, per process (the controller and each xdist worker), the wall-clock moments of the
run's phases to `$CWH_BENCH_TIMING/<process>.json`, so the benchmark can tell the lab's start
(inside the suite's pytest_configure) from collection, the tests and the report writing.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

ENV = "CWH_BENCH_TIMING"
_marks: dict[str, float] = {"imported": time.time()}
_counts = {"reports": 0}


def _mark(name: str, *, first: bool = False) -> None:
    if first and name in _marks:
        return
    _marks[name] = time.time()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> Any:
    # pytest_configure is historic (no wrappers): the main hook starts right before it.
    _mark("configure_start")  # before the suite's own pytest_configure, which starts the lab
    yield


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    _mark("configure_end")  # after every plugin's pytest_configure
    config.pluginmanager.register(_Last(), "bench-timing-last")


def pytest_sessionstart(session: pytest.Session) -> None:
    _mark("session_start")


def pytest_collection_finish(session: pytest.Session) -> None:
    _mark("collection_finish")  # the suite starts gathering every host here


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _mark("first_report", first=True)
        _marks["last_report"] = time.time()
        _counts["reports"] += 1


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Any:
    # The controller's terminal summary, junit, html, results.json, checklists, manifest.
    _mark("sessionfinish_start")
    yield
    _mark("sessionfinish_end")
    _write(session.config)  # now too: xdist may stop a worker before its unconfigure ends


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    _mark("unconfigure_start")  # then the suite closes its shells (Delete) and stops the lab


class _Last:
    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        _mark("unconfigure_end")
        _write(config)


def _write(config: pytest.Config) -> None:
    directory = os.environ.get(ENV)
    if not directory:
        return
    worker = getattr(config, "workerinput", {}).get("workerid", "controller")
    payload = {"process": worker, "pid": os.getpid(), "marks": _marks, **_counts}
    tmp = Path(directory, f".{worker}.json.tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(Path(directory, f"{worker}.json"))
