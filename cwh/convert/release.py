"""A benchmark -> a release file: every rule converted, cross-rule conditions resolved, rules
sorted by STIG ID, written with one stable formatting so the committed data can be regenerated
and compared byte for byte."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cwh.catalog.xccdf import Benchmark, load_benchmark
from cwh.convert.rules import Record, convert_rule

FORMAT = 1
DATA_DIR = Path(__file__).parents[1] / "catalog" / "stig"
WINDOWS_SERVER = {"Windows_Server_2016_STIG", "Windows_Server_2019_STIG",
                  "MS_Windows_Server_2022_STIG"}


def release_name(benchmark_id: str, version: str, release: str) -> str:
    return f"{benchmark_id}-V{version}R{release}.json"


def _lookup(records: list[Record], benchmark: Benchmark) -> dict[str, Record]:
    """Rules by STIG ID and by legacy Vuln ID (2016 refers to rules as "V-78123")."""
    by_id: dict[str, Record] = {}
    for record in records:
        by_id[record["stig_id"]] = record
        rule = benchmark.rules[record["vuln_id"]]
        for legacy in rule.legacy_ids:
            by_id[legacy] = record
    return by_id


def _resolve_other_rules(records: list[Record], benchmark: Benchmark) -> None:
    """"If WN22-00-000390 and WN22-00-000400 are configured, this is NA": a condition made of the
    other rules' own checks, all of which must hold."""
    by_id = _lookup(records, benchmark)
    for record in records:
        references = record.pop("other_rules", None)
        if not references:
            continue
        others = [by_id.get(reference) for reference in references]
        if any(o is None or o["kind"] == "manual" or o["combine"] != "all" for o in others):
            _make_manual(record, "another rule makes this one NA, and that rule is not "
                                 "automated or not found")
            continue
        names = [o["stig_id"] for o in others if o is not None]
        checks = [check for o in others if o is not None for check in o["checks"]]
        record["not_applicable_if"].append({
            "checks": checks, "reason": " and ".join(names) + " configured instead"})


def _make_manual(record: Record, reason: str) -> None:
    record.update(kind="manual", checks=[], combine="all", manual_reason=reason)


def convert_benchmark(benchmark: Benchmark) -> dict[str, Any]:
    """The release file's content for a parsed benchmark."""
    records = [convert_rule(rule) for rule in benchmark.rules.values()]
    _resolve_other_rules(records, benchmark)
    records.sort(key=lambda r: r["stig_id"])
    return {
        "format": FORMAT,
        "benchmark_id": benchmark.benchmark_id,
        "version": benchmark.version,
        "release": benchmark.release,
        "source_sha256": hashlib.sha256(benchmark.path.read_bytes()).hexdigest(),
        "rules": records,
    }


def convert_file(path: str | Path) -> dict[str, Any]:
    """Convert an XCCDF file; ValueError (with the path) when it is not a Windows Server STIG."""
    benchmark = load_benchmark(Path(path))
    if benchmark.benchmark_id not in WINDOWS_SERVER:
        raise ValueError(f"{path}: {benchmark.benchmark_id or 'this benchmark'} is not a "
                         "Windows Server 2016, 2019 or 2022 STIG")
    return convert_benchmark(benchmark)


def dumps(release: dict[str, Any]) -> str:
    """The one formatting release files are written in."""
    return json.dumps(release, indent=1, ensure_ascii=False) + "\n"


def file_name(release: dict[str, Any]) -> str:
    return release_name(release["benchmark_id"], release["version"], release["release"])


def write(release: dict[str, Any], directory: Path = DATA_DIR) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / file_name(release)
    target.write_text(dumps(release), encoding="utf-8")
    return target
