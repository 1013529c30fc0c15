"""The comparison the accuracy test makes: order, names and defaults do not matter; a
different requirement does."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.convert.accuracy import benchmark_file, differences, load_expectations
from tests.convert.phrasings import benchmark_path

RECORD = {
    "stig_id": "WN22-MS-000070", "roles": ["member", "standalone"], "kind": "user_right",
    "combine": "all", "manual_reason": None,
    "checks": [{"kind": "user_right", "right": "SeNetworkLogonRight", "op": "only",
                "principals": [{"sid": "S-1-5-11", "name": "Authenticated Users"},
                               {"sid": "S-1-5-32-544", "name": "Administrators"}]}],
}


def test_order_names_and_role_order_do_not_matter() -> None:
    expected = {"stig_id": "WN22-MS-000070", "roles": ["standalone", "member"],
                "checks": [{"kind": "user_right", "right": "SeNetworkLogonRight", "op": "only",
                            "principals": [{"sid": "S-1-5-32-544"},
                                           {"sid": "s-1-5-11", "name": "Auth Users"}]}]}
    assert differences(expected, RECORD) == []


def test_a_different_requirement_is_reported() -> None:
    expected = {"kind": "user_right", "checks": [{
        "kind": "user_right", "right": "SeNetworkLogonRight", "op": "only",
        "principals": [{"sid": "S-1-5-32-544"}]}]}
    [problem] = differences(expected, RECORD)
    assert problem.startswith("checks:")
    assert differences({"kind": "manual"}, RECORD) != []


def test_defaults_fill_left_out_fields() -> None:
    record = {"checks": [{"kind": "registry", "path": "HKLM\\X", "name": "V", "type": "DWord",
                          "op": "equals", "value": 1, "absent": "finding"}]}
    expected = {"checks": [{"kind": "registry", "path": "HKLM\\X", "name": "V", "type": "DWord",
                            "op": "equals", "value": 1}]}
    assert differences(expected, record) == []
    expected["checks"][0]["absent"] = "compliant"
    assert differences(expected, record) != []


def test_both_layouts_load(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(textwrap.dedent("""\
        benchmark: U_MS_Windows_Server_2022_STIG_V1R3_Manual-xccdf.xml
        rules:
          - stig_id: WN22-SO-000050
            kind: registry
        """))
    (tmp_path / "b.yml").write_text(textwrap.dedent("""\
        - benchmark: MS_Windows_Server_2022_STIG-V1R3
          stig_id: WN22-AU-000010
          kind: manual
        """))
    loaded = load_expectations(tmp_path)
    assert [(e.source.name, e.stig_id, e.benchmark) for e in loaded] == [
        ("a.yml", "WN22-SO-000050", "U_MS_Windows_Server_2022_STIG_V1R3_Manual-xccdf.xml"),
        ("b.yml", "WN22-AU-000010", "MS_Windows_Server_2022_STIG-V1R3")]


def test_a_benchmark_named_the_way_a_person_might() -> None:
    path = benchmark_path("WN22")
    for named in (path.name, f"../shared/stig/{path.name}", "MS_Windows_Server_2022_STIG-V1R3",
                  "MS_Windows_Server_2022_STIG", "Windows Server 2022 V1R3", "WN22"):
        assert benchmark_file(named) == path, named


def test_expiry_dates_are_compared_where_they_decide() -> None:
    # not_after is evidence, except where expired_absent makes a past date excuse a missing
    # certificate: there a wrong date would change the verdict
    check = {"kind": "certificate", "store": "Root", "op": "all_present",
             "thumbprints": ["49CBE933151872E17C8EAE7F0ABA97FB610F6477"],
             "not_after": {"49CBE933151872E17C8EAE7F0ABA97FB610F6477": "2024-11-16"}}
    record = {"checks": [check]}
    no_dates = {k: v for k, v in check.items() if k != "not_after"}
    assert differences({"checks": [no_dates]}, record) == []
    record = {"checks": [{**check, "expired_absent": "compliant"}]}
    assert differences({"checks": [{**no_dates, "expired_absent": "compliant"}]}, record) != []
    wrong = {**check, "expired_absent": "compliant",
             "not_after": {"49CBE933151872E17C8EAE7F0ABA97FB610F6477": "2034-11-16"}}
    assert differences({"checks": [wrong]}, record) != []
    assert differences({"checks": [{**check, "expired_absent": "compliant"}]}, record) == []
