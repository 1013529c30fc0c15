"""Measure the HTML pages at fleet scale: how long they take to make, how large they are, and
how long headless Chromium takes to load them (docs/performance.md, "HTML pages at scale").

    .venv/bin/python -m tests.browser.measure --hosts 200 --controls 250 34 [--pytest-html]

--pytest-html also makes pytest-html's own page for the same records (a pytest run of one test
per record, with the suite's pytest-html hooks) and loads it: the page report.html replaced.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cwh.report import exitcodes
from cwh.report.pages import INLINE_LIMIT, write_pages
from tests.browser.chromium import page, read_pages, unavailable
from tests.browser.synthetic import fleet_document
from tests.e2e.audit_run import REPO

CONFTEST = '''
import json
import pytest
from cwh.report import html as cwh_html

RECORDS = json.loads(open({records!r}, encoding="utf-8").read())
cwh_html._enabled = True
pytest_html_results_table_header = cwh_html.pytest_html_results_table_header
pytest_html_results_table_row = cwh_html.pytest_html_results_table_row
pytest_runtest_logreport = pytest.hookimpl(tryfirst=True)(cwh_html.pytest_runtest_logreport)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        report.cwh_result = RECORDS[item.callspec.params["i"]]
'''
TESTS = '''
import json
import pytest

STATUS = [r["status"] for r in json.loads(open({records!r}, encoding="utf-8").read())]


@pytest.mark.parametrize("i", range(len(STATUS)))
def test_record(i):
    if STATUS[i] == "Open":
        pytest.fail("Open", pytrace=False)
    if STATUS[i] != "NotAFinding":
        pytest.skip(STATUS[i])
'''


def _loads(path: Path, repeat: int) -> dict[str, float]:
    """Median load event (ms) and wall time of `repeat` fresh loads, plus the page size."""
    results = read_pages([page(path, timeoutMs=600_000) for _ in range(repeat)], timeout=1800)
    return {"load_ms": round(statistics.median(r["loadMs"] for r in results)),
            "rendered_ms": round(statistics.median(r["renderedMs"] for r in results)),
            "wall_ms": round(statistics.median(r["wallMs"] for r in results)),
            "max_load_ms": round(max(r["loadMs"] for r in results)),
            "bytes": path.stat().st_size}


def _pytest_html_page(document: dict[str, Any], directory: Path) -> tuple[Path, float]:
    directory.mkdir(parents=True, exist_ok=True)
    records = directory / "records.json"
    records.write_text(json.dumps(document["results"]))
    (directory / "conftest.py").write_text(CONFTEST.format(records=str(records)))
    (directory / "test_records.py").write_text(TESTS.format(records=str(records)))
    out = directory / "pytest-html.html"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=no",
                    "--html", str(out), "--self-contained-html", "-o", "addopts=",
                    "--rootdir", str(directory), str(directory / "test_records.py")],
                   cwd=directory, env={**os.environ, "PYTHONPATH": str(REPO)},
                   capture_output=True, check=False)
    return out, time.perf_counter() - started


def measure(hosts: int, controls: int, repeat: int, with_pytest_html: bool,
            inline_limit: int = INLINE_LIMIT) -> dict[str, Any]:
    document = fleet_document(hosts, controls)
    code = exitcodes.decide(document["results"], 0)
    with tempfile.TemporaryDirectory(prefix="cwh-measure-") as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        written = write_pages(out / "reports", document, code, inline_limit=inline_limit)
        generate = time.perf_counter() - started
        host_pages = sorted((p for p in written if p.parent.name == "hosts"),
                            key=lambda p: p.stat().st_size)
        figures: dict[str, Any] = {
            "hosts": hosts, "controls": controls, "results": len(document["results"]),
            "generate_s": round(generate, 2), "files": len(written),
            "report": _loads(out / "reports" / "report.html", repeat),
            "largest_host_page": _loads(host_pages[-1], repeat),
        }
        if with_pytest_html:
            path, seconds = _pytest_html_page(document, out / "pytest-html")
            figures["pytest_html"] = {**_loads(path, 1), "run_s": round(seconds, 1)}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--controls", type=int, nargs="+", default=[250, 34])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pytest-html", action="store_true")
    parser.add_argument("--inline-limit", type=int, default=INLINE_LIMIT,
                        help="results report.html shows inline (default: the suite's)")
    args = parser.parse_args(argv)
    reason = unavailable()
    if reason:
        print(f"cannot measure: {reason}")
        return 1
    print(json.dumps({"machine": f"{platform.processor() or platform.machine()}, "
                      f"{os.cpu_count()} CPUs, Linux {platform.release()}, Python "
                      f"{platform.python_version()}"}))
    for controls in args.controls:
        print(json.dumps(measure(args.hosts, controls, args.repeat, args.pytest_html,
                                 args.inline_limit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
