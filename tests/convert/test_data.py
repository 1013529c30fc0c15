"""The committed release files: regenerated from ../shared/stig they are byte for byte the same;
they hold facts and identifiers, never DISA's prose; every kind and input is documented."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cwh.catalog.stig_inputs import INPUTS
from cwh.catalog.xccdf import load_benchmark
from cwh.convert.release import DATA_DIR, convert_file, dumps, file_name
from tests.convert.phrasings import FILES, benchmark_path

RELEASES = {"WN16": "Windows_Server_2016_STIG-V2R10.json",
            "WN19": "Windows_Server_2019_STIG-V3R1.json",
            "WN22": "MS_Windows_Server_2022_STIG-V1R3.json"}
DOCS = Path(__file__).parents[2] / "docs" / "stig-rules.md"


def committed(prefix: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / RELEASES[prefix]).read_text(encoding="utf-8"))


@pytest.mark.parametrize("prefix", sorted(RELEASES))
def test_regenerated_from_the_xccdf_it_is_the_same(prefix: str) -> None:
    release = convert_file(benchmark_path(prefix))
    assert file_name(release) == RELEASES[prefix]
    assert dumps(release) == (DATA_DIR / RELEASES[prefix]).read_text(encoding="utf-8"), \
        f"regenerate with: python -m cwh.convert ../shared/stig --write ({FILES[prefix]})"


@pytest.mark.parametrize("prefix", sorted(RELEASES))
def test_every_rule_is_there_sorted(prefix: str) -> None:
    release = committed(prefix)
    ids = [r["stig_id"] for r in release["rules"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids)) and len(ids) > 270
    assert all(r["stig_id"].startswith(prefix) for r in release["rules"])


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize("prefix", sorted(RELEASES))
def test_no_disa_prose_in_the_data(prefix: str) -> None:
    benchmark = load_benchmark(benchmark_path(prefix))
    prose = " ".join(" ".join([r.title, r.check_content, r.fix_text, *r.description.values()])
                     for r in benchmark.rules.values())
    prose = " ".join(prose.split()).lower()
    # values DISA names (group names, banner titles) are facts; a sentence would be prose
    sentences = {s for s in strings(committed(prefix)) if len(s.split()) >= 8}
    copied = sorted(s for s in sentences if " ".join(s.split()).lower() in prose)
    assert copied == []
    assert not any("USG" in s for s in strings(committed(prefix))), "the banner text is in it"


def documented_kinds() -> set[str]:
    return set(re.findall(r"^### (\w+)", DOCS.read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("prefix", sorted(RELEASES))
def test_every_kind_and_input_is_documented(prefix: str) -> None:
    release = committed(prefix)
    kinds = documented_kinds() | {"input"}
    docs = DOCS.read_text(encoding="utf-8")
    for rule in release["rules"]:
        for check in rule["checks"] + [c for n in rule["not_applicable_if"] for c in n["checks"]]:
            assert check["kind"] in kinds, f"{rule['stig_id']}: {check['kind']} is not documented"
        for name in rule["inputs"]:
            assert name in INPUTS, f"{rule['stig_id']}: {name} is not in cwh.catalog.stig_inputs"
            assert f"| `{name}` |" in docs, f"{name} is not in the table of docs/stig-rules.md"


def test_the_input_table_and_the_docs_agree() -> None:
    table = set(re.findall(r"^\| `(cwh_\w+)` \|", DOCS.read_text(encoding="utf-8"), re.M))
    assert table == set(INPUTS)
