"""Accuracy, checked independently of the converter: every hand-written expectation in
tests/convert/expectations/*.yml (written from DISA's check text, not from the converter) must
agree with what the converter makes of the named benchmark."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from cwh.convert.release import convert_file
from tests.convert.accuracy import (
    EXPECTATIONS,
    Expectation,
    benchmark_file,
    differences,
    load_expectations,
)
from tests.convert.phrasings import STIG_DIR

EXPECTED = load_expectations() if EXPECTATIONS.is_dir() else []


@lru_cache(maxsize=8)
def converted(path: Path) -> dict[str, dict]:
    return {r["stig_id"]: r for r in convert_file(path)["rules"]}


def _id(expectation: Expectation) -> str:
    return f"{expectation.source.stem}::{expectation.stig_id}"


@pytest.mark.skipif(bool(EXPECTED), reason="expectation files are present")
def test_no_expectations_yet() -> None:
    pytest.skip(f"no hand-written expectations in {EXPECTATIONS} yet (*.yml); they are written "
                "separately from the converter, by reading DISA's check text")


@pytest.mark.parametrize("expectation", EXPECTED, ids=[_id(e) for e in EXPECTED])
def test_the_converter_agrees(expectation: Expectation) -> None:
    if not STIG_DIR.is_dir():
        pytest.skip(f"{STIG_DIR} is absent: DISA's benchmarks are read in place from "
                    "../shared/stig and are not part of the repository")
    path = benchmark_file(expectation.benchmark)
    records = converted(path)
    assert expectation.stig_id in records, f"{expectation.stig_id} is not in {path.name}"
    problems = differences(expectation.fields, records[expectation.stig_id])
    assert not problems, (f"{expectation.source.name}: {expectation.stig_id} in {path.name}\n"
                          + "\n".join(problems))
