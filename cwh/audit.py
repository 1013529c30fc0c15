"""The state one audit run shares, built from the command line before anything connects.

Everything that can be wrong in the user's input (inventory, waivers, benchmark files, options)
is checked here, so a mistake stops the run with one line and nothing is contacted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from cwh.catalog.model import Catalog, load_catalog
from cwh.catalog.stig_rules import Release
from cwh.catalog.xccdf import Benchmark, load_benchmark
from cwh.errors import ConfigError
from cwh.gather import Gatherer
from cwh.inventory import Target, load_inventory, target_from_url
from cwh.judge.attestation import check_attestations
from cwh.lab.process import LabServer
from cwh.stig_releases import Releases, resolve_releases
from cwh.waivers import Waiver, load_waivers, waiver_for


@dataclass
class Options:
    """The audit's options, read from the command line and pytest.ini."""

    inventory: str | None
    limit: str | None
    hosts: str | None
    report_dir: Path
    lab_dir: Path
    lab: str
    waivers: str | None
    fail_on: str
    stig_xccdf: list[str]


@dataclass
class Audit:
    """Everything one audit run shares; stored on the pytest config."""

    options: Options
    catalog: Catalog
    inventory_path: str
    targets: dict[str, Target]
    waivers: list[Waiver]
    benchmarks: dict[str, Benchmark]
    releases: Releases
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    lab: LabServer | None = None
    gatherer: Gatherer | None = None
    share_dir: Path | None = None  # where xdist workers share gathered hosts
    results: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    host_errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Lines the summary prints before the results: the conversion report of releases converted
    # at run time, benchmarks given twice.
    notes: list[str] = field(default_factory=list)
    # The STIG release each host is judged by (None: none applies, and no_benchmark says why),
    # decided at collection from the host's facts.
    host_releases: dict[str, Release | None] = field(default_factory=dict)
    no_benchmark: dict[str, str] = field(default_factory=dict)
    # Node IDs of the host x control tests the run selected (after -m, -k, deselection): the
    # gate compares them with the results, so a run that stopped early cannot pass.
    selected: list[str] = field(default_factory=list)
    # Whether the -m expression selects a test with these markers (cwh/selection.py).
    assets_sent: set[str] = field(default_factory=set)  # hosts whose asset this process sent
    selects: Callable[[Iterable[str]], bool] = field(default=lambda names: True, repr=False)

    @property
    def report_dir(self) -> Path:
        return self.options.report_dir

    @cached_property
    def same_check(self) -> dict[tuple[str, str], list[str]]:
        """(benchmark, STIG ID) -> the guide controls whose catalog entry references it."""
        found: dict[tuple[str, str], list[str]] = {}
        for control in self.catalog.controls:
            for ref in control.stig:
                found.setdefault((ref.benchmark, ref.stig_id), []).append(control.id)
        return found

    def is_case_id(self, control_id: str) -> bool:
        """A guide control ID or a STIG ID of a release (or the no-benchmark stand-in)."""
        from cwh.selection import NO_BENCHMARK_ID

        return control_id in self.catalog or control_id in self.releases.stig_ids or \
            control_id == NO_BENCHMARK_ID

    def waiver_record(self, host: str, control: str) -> dict[str, Any] | None:
        target = self.targets[host]
        waiver = waiver_for(self.waivers, host, target.groups, control)
        return waiver.record(dt.date.today()) if waiver else None


# Where the plugin keeps the run's Audit on the pytest config. Here, not in the plugin, so the
# report layer and the xdist hook read the audit state without importing the plugin.
AUDIT_KEY = pytest.StashKey[Audit]()


def audit_of(config: pytest.Config) -> Audit | None:
    """The run's Audit, or None when the run audits nothing (the project's own tests)."""
    return config.stash.get(AUDIT_KEY, None)


def _check_inputs(catalog: Catalog, targets: dict[str, Target]) -> None:
    """Inventory inputs that relax a value may not go below the guide's own value, and
    cwh_guide_only must name controls where the guide asks for less than the STIG."""
    relaxable = {c.id for c in catalog.controls
                 if any(cond.source == "stig" for cond in c.conditions())}
    for target in targets.values():
        for control_id in target.var("cwh_guide_only") or ():
            if control_id not in relaxable:
                raise ConfigError(f"host {target.name}: cwh_guide_only lists {control_id}, where "
                                  "the guide asks for nothing less than the STIG (relaxable: "
                                  f"{', '.join(sorted(relaxable))})")
    for control in catalog.controls:
        for condition in control.conditions():
            if not condition.input:
                continue
            for target in targets.values():
                value = target.var(condition.input)
                floor = condition.guide if condition.guide is not None else condition.expected
                if value is not None and condition.operator == "at_least" and value < floor:
                    raise ConfigError(f"host {target.name}: {condition.input} = {value} is below "
                                      f"the guide's minimum of {floor} for {control.id}")


def _targets(options: Options, catalog: Catalog) -> tuple[str, dict[str, Target]]:
    if options.hosts:
        targets = [target_from_url(url.strip()) for url in options.hosts.split(",")
                   if url.strip()]
        return "--hosts", {t.name: t for t in targets}
    assert options.inventory is not None
    inventory = load_inventory(options.inventory, limit=options.limit,
                               known_controls=catalog.ids)
    return options.inventory, {t.name: t for t in inventory.targets}


def _release_key(benchmark: Benchmark) -> tuple[int, int]:
    try:
        return int(benchmark.version), int(benchmark.release)
    except ValueError:
        return -1, -1


def _benchmarks(paths: list[str], notes: list[str]) -> dict[str, Benchmark]:
    """--stig-xccdf files (or folders of them), keyed by benchmark id; of two releases of one
    benchmark the newer is used (and `notes` says which was left out)."""
    found: dict[str, Benchmark] = {}
    for raw in paths:
        path = Path(raw)
        files = sorted(path.glob("*xccdf.xml")) if path.is_dir() else [path]
        if not files:
            raise ConfigError(f"--stig-xccdf {raw}: no *xccdf.xml file there")
        for file in files:
            try:
                benchmark = load_benchmark(file)
            except OSError as exc:
                raise ConfigError(f"--stig-xccdf {file}: cannot read ({exc.strerror})") from None
            except ValueError as exc:
                raise ConfigError(f"--stig-xccdf {exc}") from None
            other = found.get(benchmark.benchmark_id)
            if other is not None and other.path != benchmark.path:
                older, benchmark = sorted((other, benchmark), key=_release_key)
                notes.append(f"--stig-xccdf: {benchmark.benchmark_id} given twice: using "
                             f"{benchmark.short_version} ({benchmark.path.name}), not "
                             f"{older.short_version} ({older.path.name})")
            found[benchmark.benchmark_id] = benchmark
    return found


def build_audit(options: Options) -> Audit:
    """Load and check everything; ConfigError with one readable line on any problem."""
    catalog = load_catalog()
    inventory_path, targets = _targets(options, catalog)
    _check_inputs(catalog, targets)
    check_attestations(inventory_path, targets.values())  # before anything is contacted
    notes: list[str] = []
    benchmarks = _benchmarks(options.stig_xccdf, notes)
    releases = resolve_releases(benchmarks)
    # A STIG rule's finding can be waived by its STIG ID, as a guide control's by its ID.
    waivers = load_waivers(options.waivers, catalog.ids | releases.stig_ids) \
        if options.waivers else []
    return Audit(options, catalog, inventory_path, targets, waivers, benchmarks, releases,
                 notes=[*notes, *releases.converted])
