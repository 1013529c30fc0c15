"""A command line pytest refuses must not leave the previous run's evidence looking current.

pytest parses the command line three times (_pytest/config Config.parse): twice leniently
(parse_known_args), the first time before any plugin is loaded, then strictly, after the
conftest plugins (this suite's among them) have added their options. The strict parse turns an
argparse error (an unknown option, a bad choice, -p no:terminal with addopts' -ra) into a
UsageError that ends pytest in its own _main: no hook of any plugin runs again, so
pytest_configure, where a run opens its report directory, never comes. A conftest plugin cannot
wrap pytest_cmdline_parse (it is registered during it), but its pytest_addoption receives the
Parser before the strict parse: guard_parse wraps Parser.parse and, on UsageError, marks the
audit's report directory (cwh/report/rundir.py mark_refused) before pytest reports the error
as always. Errors in pytest's first, lenient parse of its own options (--maxfail=x) come
before any plugin is loaded: nothing can act on those.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest

from cwh.report.rundir import mark_refused
from cwh.text import printable


def guard_parse(parser: pytest.Parser, pluginmanager: Any, controls_dir: str,
                value_options: Collection[str]) -> None:
    """Wrap `parser.parse`: on UsageError, mark the refused run's report directory.
    `controls_dir`: the audit's test folder; `value_options`: this suite's options that take a
    value (pytest's lenient parse took those values for paths)."""
    parse = parser.parse

    def parse_or_mark(*args: Any, **kwargs: Any) -> Any:
        try:
            return parse(*args, **kwargs)
        except pytest.UsageError as exc:
            with contextlib.suppress(Exception):  # never in the way of pytest's own message
                report_dir = refused_report_dir(
                    pluginmanager.get_plugin("pytestconfig"),
                    [str(a) for a in (args[0] if args else kwargs.get("args", []))],
                    controls_dir, value_options)
                if report_dir is not None:
                    mark_refused(report_dir, printable(str(exc).splitlines()[0]))
            raise

    parser.parse = parse_or_mark  # type: ignore[method-assign]


def refused_report_dir(config: Any, args: list[str], controls_dir: str,
                       value_options: Collection[str]) -> Path | None:
    """The report directory of a refused command line: --cwh-report-dir when it names one (the
    last, as argparse takes it), else the ini default when the run would audit `controls_dir`
    (the paths it names, else testpaths); None for the project's own tests."""
    named = None
    for index, arg in enumerate(args):
        if arg == "--cwh-report-dir" and index + 1 < len(args):
            named = args[index + 1]
        elif arg.startswith("--cwh-report-dir="):
            named = arg.split("=", 1)[1]
    root = Path(config.rootpath)
    if named is None:
        # Before this suite's options were known, pytest took their values for paths
        # (`--fail-on cat4`, `--inventory inv.yml`): those are not paths.
        values = {args[i + 1] for i, arg in enumerate(args[:-1]) if arg in value_options}
        given = getattr(config.known_args_namespace, "file_or_dir", None) or []
        paths = [a for a in given if str(a) not in values] or list(config.getini("testpaths"))
        controls = (root / controls_dir).resolve()
        audits = False
        for arg in paths:
            path = (config.invocation_params.dir / str(arg).split("::", 1)[0]).resolve()
            audits = audits or path == controls or controls in path.parents or \
                path in controls.parents
        if not audits:
            return None
        named = config.getini("cwh_report_dir")
    path = Path(named)
    return path if path.is_absolute() else root / path
