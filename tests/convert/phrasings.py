"""DISA's real phrasings for the recogniser tests, read from the XCCDF files in ../shared/stig at
test time (DISA's prose is never committed); tests skip with the reason when they are absent."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from cwh.catalog.xccdf import Benchmark, Rule, load_benchmark
from cwh.convert.text import CheckText

STIG_DIR = Path(__file__).parents[2].parent / "shared" / "stig"
FILES = {
    "WN16": "U_MS_Windows_Server_2016_STIG_V2R10_Manual-xccdf.xml",
    "WN19": "U_MS_Windows_Server_2019_STIG_V3R1_Manual-xccdf.xml",
    "WN22": "U_MS_Windows_Server_2022_STIG_V1R3_Manual-xccdf.xml",
}


def benchmark_path(prefix: str) -> Path:
    path = STIG_DIR / FILES[prefix]
    if not path.is_file():
        pytest.skip(f"DISA's benchmarks are read in place from ../shared/stig and are not part of "
                    f"the repository; {path} is absent here")
    return path


@lru_cache(maxsize=8)
def _benchmark(prefix: str) -> Benchmark:
    return load_benchmark(benchmark_path(prefix))


def rule(stig_id: str) -> Rule:
    found = _benchmark(stig_id[:4]).by_stig_id(stig_id)
    assert found is not None, f"{stig_id} is not in {FILES[stig_id[:4]]}"
    return found


def text(stig_id: str) -> CheckText:
    return CheckText.of(rule(stig_id).check_content)


def edited(stig_id: str, old: str, new: str) -> CheckText:
    """The rule's text with one phrase changed, to show the recogniser notices."""
    content = rule(stig_id).check_content
    assert old in content, f"{old!r} is not in {stig_id}'s check text"
    return CheckText.of(content.replace(old, new))


def edited_rule(stig_id: str, old: str, new: str) -> Rule:
    original = rule(stig_id)
    assert old in original.check_content, f"{old!r} is not in {stig_id}'s check text"
    return Rule(**{**original.__dict__,
                   "check_content": original.check_content.replace(old, new)})
