"""cwh.convert.release: cross-rule conditions and the one formatting of release files."""

from __future__ import annotations

import json
from types import SimpleNamespace

from cwh.convert.release import _resolve_other_rules, dumps, file_name, release_name


def record(stig_id: str, kind: str = "registry", refs: list[str] | None = None) -> dict:
    out = {"vuln_id": "V-" + stig_id[-3:], "stig_id": stig_id, "kind": kind,
           "checks": [] if kind == "manual" else [{"kind": kind, "name": stig_id}],
           "combine": "all", "not_applicable_if": [], "manual_reason": None}
    if refs:
        out["other_rules"] = refs
    return out


def benchmark(*records: dict, legacy: dict[str, tuple[str, ...]] | None = None):
    legacy = legacy or {}
    return SimpleNamespace(rules={r["vuln_id"]: SimpleNamespace(
        legacy_ids=legacy.get(r["stig_id"], ())) for r in records})


def test_other_rules_become_a_condition_of_their_checks() -> None:
    records = [record("X-00-000380", "feature", ["X-00-000390", "V-1"]),
               record("X-00-000390"), record("X-00-000400")]
    _resolve_other_rules(records, benchmark(*records, legacy={"X-00-000400": ("V-1",)}))
    [condition] = records[0]["not_applicable_if"]
    assert [c["name"] for c in condition["checks"]] == ["X-00-000390", "X-00-000400"]
    assert condition["reason"] == "X-00-000390 and X-00-000400 configured instead"
    assert "other_rules" not in records[0]


def test_a_reference_to_a_manual_or_missing_rule_makes_the_rule_manual() -> None:
    records = [record("X-00-000380", "feature", ["X-00-000390"]),
               record("X-00-000390", "manual"), record("X-00-000410", "feature", ["X-9"])]
    _resolve_other_rules(records, benchmark(*records))
    assert records[0]["kind"] == "manual" and records[2]["kind"] == "manual"


def test_the_formatting_is_stable() -> None:
    release = {"format": 1, "benchmark_id": "B", "version": "1", "release": "2", "rules": []}
    text = dumps(release)
    assert text.endswith("}\n") and json.loads(text) == release
    assert text == dumps(json.loads(text))
    assert file_name(release) == release_name("B", "1", "2") == "B-V1R2.json"
