"""Reading the hand-written expectations (tests/convert/expectations/*.yml) and comparing them
with the converter's records: the format is described at the end of docs/stig-rules.md."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cwh.catalog.xccdf import load_benchmark
from tests.convert.phrasings import FILES, STIG_DIR

EXPECTATIONS = Path(__file__).with_name("expectations")
_BENCHMARK_KEYS = ("benchmark", "file", "xccdf", "benchmark_file", "source")
_ID_KEYS = ("stig_id", "id", "rule")
# Not compared: who wrote it and why, and our own prose (a reason is in our words, not DISA's).
_IGNORED = {"note", "notes", "comment", "comments", "why", "title", "description",
            "manual_reason", *_BENCHMARK_KEYS, *_ID_KEYS}
_PRINCIPAL_KEYS = {"sid", "domain_rid", "forest_rid", "machine_rid"}
_DEFAULT_ABSENT = {"registry", "account_policy", "ldap_policy"}
_UPPER = re.compile(r"^(S-1-[\d-]+|\{?[0-9a-f]{8}-[0-9a-f-]{27}\}?|[0-9a-f]{40})$", re.I)


@dataclass(frozen=True)
class Expectation:
    source: Path  # the .yml file
    benchmark: str  # how the entry names its benchmark
    stig_id: str
    fields: dict[str, Any]


def _entries(data: Any) -> list[tuple[str | None, dict[str, Any]]]:
    """(benchmark named at the top, entry) from either layout."""
    if isinstance(data, list):
        return [(None, entry) for entry in data]
    if not isinstance(data, dict):
        raise ValueError("an expectation file is a list of entries or a mapping")
    top = next((str(data[k]) for k in _BENCHMARK_KEYS if k in data), None)
    rules = next((data[k] for k in ("rules", "expectations", "entries") if k in data), None)
    if rules is None:
        rules = {k: v for k, v in data.items() if re.match(r"^WN\d\d-", str(k))}
    if isinstance(rules, dict):
        return [(top, {"stig_id": stig_id, **entry}) for stig_id, entry in rules.items()]
    return [(top, entry) for entry in rules]


def load_expectations(directory: Path = EXPECTATIONS) -> list[Expectation]:
    found = []
    for path in sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for top, entry in _entries(data):
            stig_id = next((str(entry[k]) for k in _ID_KEYS if k in entry), None)
            if stig_id is None:
                raise ValueError(f"{path.name}: an entry without a stig_id: {entry}")
            named = next((str(entry[k]) for k in _BENCHMARK_KEYS if k in entry), top)
            found.append(Expectation(path, named or stig_id[:4], stig_id, dict(entry)))
    return found


def benchmark_file(named: str) -> Path:
    """The XCCDF file an expectation names: file name, path, release name, benchmark_id, or
    (with none) the STIG ID's prefix."""
    name = Path(named).name
    if name in FILES:
        return STIG_DIR / FILES[name]
    candidates = {p: p for p in STIG_DIR.glob("*xccdf.xml")}
    for path in candidates:
        if name in (path.name, path.stem):
            return path
    benchmarks = {path: load_benchmark(path) for path in candidates}
    for path, benchmark in benchmarks.items():
        release = f"{benchmark.benchmark_id}-{benchmark.short_version}"
        if name in (benchmark.benchmark_id, release, release + ".json"):
            return path
    # a person's spelling: "Windows Server 2022 V1R3", "WS2019 V3R1"
    year = re.search(r"(2016|2019|2022)", named)
    version = re.search(r"V\d+R\d+", named, re.I)
    matches = [path for path, benchmark in benchmarks.items()
               if year and year.group(1) in benchmark.benchmark_id
               and (not version or benchmark.short_version == version.group(0).upper())]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"no benchmark in {STIG_DIR} is named {named!r}")


def canonical(value: Any) -> Any:
    """Order-free, names-free, defaults filled: what two spellings of one check share."""
    if isinstance(value, dict):
        out = {k: canonical(v) for k, v in value.items()}
        if _PRINCIPAL_KEYS & out.keys() or "any_of" in out:
            out.pop("name", None)  # a principal's name is evidence only
        if "principal" in out and "rights" in out:  # an ACE
            out.setdefault("type", "Allow")
            out.pop("inherited", None)  # evidence only (docs/stig-rules.md, acl)
        if out.get("kind") == "user_right" and out.get("op") == "none":
            out.setdefault("principals", [])
        if out.get("kind") == "group_members":
            out.setdefault("principals", [])  # only the inventory list, when none is written
        if out.get("kind") in _DEFAULT_ABSENT:
            out.setdefault("absent", "finding")
        if out.get("kind") == "certificate" and "expired_absent" not in out:
            out.pop("not_after", None)  # evidence only, unless a past date excuses absence
        if "checks" in out and "reason" in out:  # a Not_Applicable condition
            out.pop("reason")
        return out
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, str) and _UPPER.match(value):
        return value.upper()
    return value


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Each given field that the converter's record does not match, described."""
    out = []
    for key, wanted in expected.items():
        if key in _IGNORED:
            continue
        if key not in actual:
            out.append(f"{key}: expected {wanted!r}, the record has no such field")
            continue
        have = actual[key]
        if key in ("roles", "inputs"):
            same = set(wanted or []) == set(have or [])
        else:
            same = canonical(wanted) == canonical(have)
        if not same:
            out.append(f"{key}:\n  expected {json.dumps(canonical(wanted), sort_keys=True)}\n"
                       f"  actual   {json.dumps(canonical(have), sort_keys=True)}")
    return out
