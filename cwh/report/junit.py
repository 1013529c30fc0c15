"""JUnit XML that CI systems show well, shaped inside pytest's own junitxml plugin.

pytest names a test case after its module and parameters and puts a skip's file:line before the
reason; CI systems group by classname and show the name and the message. For every host x
control case this plugin, on the controller (where junitxml writes), makes:

- classname: the host; name: the control ID and title;
- the message of a failure, skip (N/A, not reviewed, waived) or error: the status with its
  notes, expected and observed (and the reason where those do not say it); the element text:
  the evidence, as the checklists hold it; no runner paths.

Nothing else changes: the file stays valid against pytest's xunit2 schema (junit-10.xsd), which is
why the plugin adds no <properties> to test cases (xunit2 allows them only on the test suite).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from typing import Any

import pytest

try:  # the LogXML instance: pytest's own key, not public API (pytest is pinned)
    from _pytest.junitxml import xml_key
except ImportError:  # another pytest: its plain JUnit (still xunit2-valid) rather than no audit
    xml_key = None

from cwh.report.checklist import comments_text, evidence_text, verdict_line
from cwh.report.xml_text import clean

MESSAGE_LIMIT = 1000  # CI systems show the message as a one-line title
_OUTCOME_TAGS = ("failure", "skipped", "error")


def case_name(record: Mapping[str, Any]) -> str:
    title = " ".join(clean(record.get("title")).split())
    cid = clean(record.get("control_id"))
    return f"{cid} {title}" if title else cid


def case_message(record: Mapping[str, Any]) -> str:
    message = verdict_line(record, with_id=False)
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT - 1] + "\u2026"


def case_details(record: Mapping[str, Any]) -> str:
    notes = comments_text(record)
    return evidence_text(record) + (f"\n{notes}" if notes else "")


class JunitShaper:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> Generator[None, Any, Any]:
        xml = self.config.stash.get(xml_key, None)
        record = getattr(report, "cwh_result", None)
        if xml is None or not isinstance(record, Mapping):
            return (yield)
        reporter = xml.node_reporter(report)
        # junitxml keeps attributes set before it records the report (record_xml_attribute's
        # path), and xunit2 permits exactly these two.
        reporter.add_attribute("classname", clean(record.get("host")))
        reporter.add_attribute("name", case_name(record))
        before = len(reporter.nodes)
        result = yield
        for node in reporter.nodes[before:]:
            if node.tag in _OUTCOME_TAGS:
                node.set("message", case_message(record))
                node.text = case_details(record)
        return result

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """junitxml has written its file (its sessionfinish ran before this one): the test
        cases' XML elements it keeps (a fleet run's junit.xml is 60 MB) need not stay in memory
        while the suite writes its own reports."""
        xml = self.config.stash.get(xml_key, None)
        written = getattr(xml, "node_reporters_ordered", None)
        if isinstance(written, list) and xml is not None and os.path.exists(xml.logfile):
            written.clear()


def configure(config: pytest.Config) -> None:
    """Register the shaper where junitxml writes: the controller, not xdist workers."""
    if xml_key is not None and not hasattr(config, "workerinput"):
        config.pluginmanager.register(JunitShaper(config), "cwh-junit")
