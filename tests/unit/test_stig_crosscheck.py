"""Every STIG reference in the catalog against the official DISA XCCDF benchmarks in
../shared/stig: the rule exists, its STIG ID (Rule version) and its severity match."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwh.catalog.model import BENCHMARK_OS, Control, StigRef
from cwh.catalog.xccdf import Benchmark, find_benchmarks
from tests.unit.helpers import CATALOG

STIG_DIR = Path(__file__).parents[2].parent / "shared" / "stig"
WINDOWS = set(BENCHMARK_OS)

REFERENCES = [(c, r) for c in CATALOG.controls for r in c.stig]


def load_benchmarks(directory: Path) -> dict[str, Benchmark]:
    if not directory.is_dir() or not any(directory.glob("*xccdf.xml")):
        pytest.skip(f"the DISA benchmarks are read in place from ../shared/stig ({directory}) "
                    "and are not part of the repository; that directory is absent here")
    return {b.benchmark_id: b for b in find_benchmarks(directory)}


@pytest.fixture(scope="module")
def benchmarks() -> dict[str, Benchmark]:
    return load_benchmarks(STIG_DIR)


def test_absent_benchmarks_skip_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match=r"read in place from \.\./shared/stig"):
        load_benchmarks(tmp_path / "stig")


def test_the_benchmarks_controls_md_names_are_there(benchmarks: dict[str, Benchmark]) -> None:
    versions = {b.benchmark_id: b.short_version for b in benchmarks.values()}
    assert versions["Windows_Server_2016_STIG"] == "V2R10"
    assert versions["Windows_Server_2019_STIG"] == "V3R1"
    assert versions["MS_Windows_Server_2022_STIG"] == "V1R3"
    assert versions["IIS_10-0_Server_STIG"] == "V3R3"


@pytest.mark.parametrize(("ctrl", "ref"), REFERENCES,
                         ids=[f"{c.id}-{r.vuln_id}" for c, r in REFERENCES])
def test_reference_matches_the_benchmark(benchmarks: dict[str, Benchmark], ctrl: Control,
                                         ref: StigRef) -> None:
    assert ref.benchmark in benchmarks, f"{ctrl.id}: no benchmark {ref.benchmark} in {STIG_DIR}"
    benchmark = benchmarks[ref.benchmark]
    assert ref.vuln_id in benchmark.rules, \
        f"{ctrl.id}: {ref.vuln_id} is not in {benchmark.path.name}"
    rule = benchmark.rules[ref.vuln_id]
    assert rule.stig_id == ref.stig_id, f"{ctrl.id}: {ref.vuln_id} is {rule.stig_id}"
    assert rule.severity == (ref.severity or ctrl.severity), \
        f"{ctrl.id}: {ref.vuln_id} ({ref.stig_id}) is {rule.severity} in {benchmark.path.name}"


def test_severity_override_is_needed_where_given() -> None:
    """A reference's own severity is only there where it differs from the control's."""
    for ctrl, ref in REFERENCES:
        if ref.severity is not None:
            assert ref.severity != ctrl.severity, f"{ctrl.id} {ref.vuln_id}: redundant"


@pytest.mark.parametrize("ctrl", [c for c in CATALOG.controls if c.stig],
                         ids=[c.id for c in CATALOG.controls if c.stig])
def test_windows_controls_cover_every_supported_os(ctrl: Control) -> None:
    benchmarks_used = {r.benchmark for r in ctrl.stig}
    if not benchmarks_used & WINDOWS:
        assert all(r.os_version is None for r in ctrl.stig)  # IIS only: applies on every OS
        return
    assert {r.os_version for r in ctrl.stig if r.os_version} == {"2016", "2019", "2022"}


def test_every_host_control_cites_a_stig_rule() -> None:
    for ctrl in CATALOG.controls:
        if ctrl.handler in ("policy", "accounts"):
            assert ctrl.stig, f"{ctrl.id} has no STIG reference"
