"""The Windows Server STIG releases a run judges hosts by: the committed data, unless the user
passes (--stig-xccdf) a Windows Server benchmark that is not exactly a committed one, which is
then converted at run time and used for the hosts of its OS.

"Exactly" means the same file: the SHA-256 the committed release records. A newer release, an
older one or an edited file is converted (80 ms) and said so in the run's summary, with the
automated share; a file that cannot be converted stops the run before anything is contacted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from cwh.catalog.model import BENCHMARK_OS
from cwh.catalog.stig_rules import Release, StigRule, committed_releases, release_from_data
from cwh.catalog.xccdf import Benchmark
from cwh.errors import ConfigError


@dataclass
class Releases:
    """The release per Windows Server benchmark id, with an index by STIG ID, and one line per
    release converted at run time (the conversion report the summary prints)."""

    by_benchmark: dict[str, Release]
    converted: list[str] = field(default_factory=list)
    _index: dict[str, dict[str, StigRule]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {bid: {r.stig_id: r for r in release.rules}
                       for bid, release in self.by_benchmark.items()}

    def for_os(self, os_version: str | None) -> Release | None:
        return next((r for r in self.by_benchmark.values() if r.os_version == os_version), None)

    def rule(self, benchmark_id: str, stig_id: str) -> StigRule:
        return self._index[benchmark_id][stig_id]

    @cached_property
    def stig_ids(self) -> frozenset[str]:
        return frozenset(sid for rules in self._index.values() for sid in rules)


def _sha256(benchmark: Benchmark) -> str:
    return hashlib.sha256(benchmark.path.read_bytes()).hexdigest()


def conversion_line(release: Mapping, source: str) -> str:
    """One line of the conversion report: rules, the automated share for member servers (and
    domain controllers), the manual count."""
    from cwh.convert.report import share

    rules = release["rules"]
    member, dc = share(release, "member"), share(release, "dc")
    manual = sum(r["kind"] == "manual" for r in rules)
    return (f"{release['benchmark_id']} V{release['version']}R{release['release']} converted "
            f"at run time from {source}: {len(rules)} rules, {member.describe('member servers')}"
            f", {dc.describe('domain controllers')}, {manual} manual")


def _convert(benchmark: Benchmark) -> tuple[Release, str]:
    from cwh.convert import convert_benchmark

    where = f"--stig-xccdf {benchmark.path}"
    try:
        data = convert_benchmark(benchmark)
    except Exception as exc:  # a converter bug or a file it cannot read: one line, exit 4
        raise ConfigError(f"{where}: cannot be converted ({exc.__class__.__name__}: {exc})") \
            from None
    if not data.get("rules"):
        raise ConfigError(f"{where}: {benchmark.benchmark_id} holds no rules to convert")
    return release_from_data(data, where), conversion_line(data, str(benchmark.path))


def resolve_releases(benchmarks: Mapping[str, Benchmark]) -> Releases:
    """The committed releases, each replaced by the given benchmark of the same id where that
    is not the committed file. ConfigError when a Windows Server benchmark cannot be used."""
    releases = dict(committed_releases())
    converted = []
    for bid, benchmark in sorted(benchmarks.items()):
        if bid not in BENCHMARK_OS:
            if "Windows_Server" in bid:
                raise ConfigError(f"--stig-xccdf {benchmark.path}: {bid} is not a benchmark of "
                                  "Windows Server 2016, 2019 or 2022, which the suite converts")
            continue  # IIS and the like: their text fills the checklists, nothing to judge
        committed = releases.get(bid)
        if committed is not None and committed.source_sha256 == _sha256(benchmark):
            continue
        releases[bid], line = _convert(benchmark)
        converted.append(line)
    return Releases(releases, converted)
