"""cwh.catalog.model: the bundled catalog matches controls.md, and malformed entries are refused
with the control and the problem named."""

from __future__ import annotations

import configparser
import copy
import re
from pathlib import Path
from typing import Any

import pytest

from cwh.catalog.model import (
    CATALOG_PATH,
    Combination,
    Condition,
    load_catalog,
    os_version_from_build,
    parse_catalog,
)
from cwh.errors import ConfigError
from tests.unit.helpers import CATALOG

SECTION_A = (
    "CWH-GPO-01", "CWH-GPO-02", "CWH-GPO-03", "CWH-GPO-04", "CWH-GPO-05", "CWH-GPO-06",
    "CWH-PWD-01", "CWH-PWD-02", "CWH-TLS-01", "CWH-TLS-02", "CWH-ACCT-01", "CWH-ACCT-02",
    "CWH-STIG-01", "CWH-STIG-02", "CWH-STIG-03", "CWH-STIG-04", "CWH-STIG-05", "CWH-STIG-06",
    "CWH-STIG-07", "CWH-STIG-08",
)

# controls.md section A: ID -> severity, and the STIG references it lists per OS.
CONTROLS_MD: dict[str, tuple[str, set[tuple[str, str]]]] = {
    "CWH-GPO-01": ("high", {("V-225046", "WN16-SO-000270"), ("V-205724", "WN19-SO-000230"),
                            ("V-254467", "WN22-SO-000230")}),
    "CWH-GPO-02": ("high", {("V-224932", "WN16-CC-000250"), ("V-205804", "WN19-CC-000210"),
                            ("V-254352", "WN22-CC-000210")}),
    "CWH-GPO-03": ("high", {("V-224933", "WN16-CC-000260"), ("V-205805", "WN19-CC-000220"),
                            ("V-254353", "WN22-CC-000220")}),
    "CWH-GPO-04": ("high", {("V-224934", "WN16-CC-000270"), ("V-205806", "WN19-CC-000230"),
                            ("V-254354", "WN22-CC-000230")}),
    "CWH-GPO-05": ("high", {("V-225071", "WN16-UR-000030"), ("V-205750", "WN19-UR-000020"),
                            ("V-254492", "WN22-UR-000020")}),
    "CWH-GPO-06": ("high", {("V-224954", "WN16-CC-000460"), ("V-205802", "WN19-CC-000430"),
                            ("V-254374", "WN22-CC-000430")}),
    "CWH-PWD-01": ("medium", {("V-224872", "WN16-AC-000070"), ("V-205662", "WN19-AC-000070"),
                              ("V-254291", "WN22-AC-000070")}),
    "CWH-PWD-02": ("medium", {("V-224873", "WN16-AC-000080"), ("V-205652", "WN19-AC-000080"),
                              ("V-254292", "WN22-AC-000080")}),
    "CWH-TLS-01": ("high", {("V-218821", "IIST-SV-000153")}),
    "CWH-TLS-02": ("high", {("V-218821", "IIST-SV-000153")}),
    "CWH-ACCT-01": ("high", {("V-224819", "WN16-00-000010"), ("V-205844", "WN19-00-000010"),
                             ("V-254238", "WN22-00-000010")}),
    "CWH-ACCT-02": ("high", {("V-224821", "WN16-00-000040"), ("V-205845", "WN19-00-000030"),
                             ("V-254240", "WN22-00-000030")}),
    "CWH-STIG-01": ("high", {("V-205914", "WN19-SO-000220"), ("V-254466", "WN22-SO-000220")}),
    "CWH-STIG-02": ("high", {("V-205725", "WN19-SO-000250"), ("V-254469", "WN22-SO-000250")}),
    "CWH-STIG-03": ("medium", {("V-205915", "WN19-SO-000240"), ("V-254468", "WN22-SO-000240")}),
    "CWH-STIG-04": ("medium", {("V-205682", "WN19-00-000380"), ("V-205683", "WN19-00-000390"),
                               ("V-254275", "WN22-00-000380"), ("V-254276", "WN22-00-000390")}),
    "CWH-STIG-05": ("medium", {("V-205684", "WN19-00-000400"), ("V-254277", "WN22-00-000400")}),
    "CWH-STIG-06": ("medium", {("V-214936", "WN19-00-000280"), ("V-254265", "WN22-00-000280")}),
    "CWH-STIG-07": ("high", {("V-218821", "IIST-SV-000153")}),
    "CWH-STIG-08": ("low", {("V-241788", "IIST-SV-000210")}),
}


def test_bundled_catalog_loads() -> None:
    catalog = load_catalog(CATALOG_PATH)
    assert catalog.version
    assert len(catalog.controls) >= len(SECTION_A)


@pytest.mark.parametrize("control_id", SECTION_A)
def test_every_section_a_control_is_present(control_id: str) -> None:
    assert control_id in CATALOG
    assert CATALOG[control_id].id == control_id


def test_ids_are_unique_and_well_formed() -> None:
    ids = [c.id for c in CATALOG.controls]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"CWH-[A-Z]+-\d\d", i) for i in ids), ids


@pytest.mark.parametrize("control_id", sorted(CONTROLS_MD))
def test_severity_and_references_match_controls_md(control_id: str) -> None:
    severity, refs = CONTROLS_MD[control_id]
    ctrl = CATALOG[control_id]
    assert ctrl.severity == severity
    assert refs <= {(r.vuln_id, r.stig_id) for r in ctrl.stig}


def test_unknown_control_id() -> None:
    with pytest.raises(ConfigError, match="unknown control ID CWH-NOPE-01"):
        CATALOG["CWH-NOPE-01"]
    assert "CWH-NOPE-01" not in CATALOG


def _registry(control_id: str, name: str | None = None) -> Condition:
    conditions = [c for c in CATALOG[control_id].conditions() if c.method == "registry"]
    return next(c for c in conditions if name is None or c.params["name"] == name)


@pytest.mark.parametrize(("control_id", "path", "name", "expected"), [
    ("CWH-GPO-01", r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa", "RestrictAnonymous", 1),
    ("CWH-GPO-02", r"HKLM\SOFTWARE\Policies\Microsoft\Windows\Explorer",
     "NoAutoplayfornonVolume", 1),
    ("CWH-GPO-03", r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer",
     "NoAutorun", 1),
    ("CWH-GPO-04", r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer",
     "NoDriveTypeAutoRun", 255),
    ("CWH-GPO-06", r"HKLM\SOFTWARE\Policies\Microsoft\Windows\Installer",
     "AlwaysInstallElevated", 0),
    ("CWH-STIG-01", r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa", "RestrictAnonymousSAM", 1),
    ("CWH-STIG-02", r"HKLM\SYSTEM\CurrentControlSet\Services\LanManServer\Parameters",
     "RestrictNullSessAccess", 1),
    ("CWH-STIG-03", r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa", "EveryoneIncludesAnonymous",
     0),
    ("CWH-STIG-05", r"HKLM\SYSTEM\CurrentControlSet\Services\mrxsmb10", "Start", 4),
    ("CWH-STIG-08", r"HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters",
     "DisableServerHeader", 2),
])
def test_registry_checks_match_controls_md(control_id: str, path: str, name: str,
                                           expected: int) -> None:
    condition = _registry(control_id, name)
    assert condition.params == {"path": path, "name": name, "type": "DWord"}
    assert (condition.operator, condition.expected, condition.absent) == ("equals", expected,
                                                                          "finding")
    assert condition.describe() == f"{path}\\{name}"


@pytest.mark.parametrize(("control_id", "protocol"), [("CWH-TLS-01", "TLS 1.0"),
                                                      ("CWH-TLS-02", "TLS 1.1")])
def test_old_tls_checks_both_values_on_the_server_key(control_id: str, protocol: str) -> None:
    check = CATALOG[control_id].check
    assert isinstance(check, Combination) and check.mode == "all"
    parts = {c.params["name"]: c for c in check.parts}
    assert set(parts) == {"DisabledByDefault", "Enabled"}
    for part in parts.values():
        assert part.params["path"].endswith(f"\\Protocols\\{protocol}\\Server")
    assert parts["DisabledByDefault"].expected == 1 and parts["DisabledByDefault"].source == "both"
    assert parts["Enabled"].expected == 0 and parts["Enabled"].source == "stig"


def test_ssl30_absence_is_compliant_only_there() -> None:
    absent_ok = [(c.id, cond.params["path"]) for c in CATALOG.controls
                 for cond in c.conditions() if cond.absent == "compliant"]
    assert absent_ok == [("CWH-STIG-07", r"HKLM\SYSTEM\CurrentControlSet\Control\Security"
                                         r"Providers\SCHANNEL\Protocols\SSL 3.0\Server")]


def test_password_length_condition() -> None:
    condition = CATALOG["CWH-PWD-01"].check
    assert isinstance(condition, Condition)
    assert (condition.method, condition.operator, condition.expected, condition.guide,
            condition.source, condition.input) == ("secedit", "at_least", 14, 12, "stig",
                                                   "cwh_min_password_length")
    assert condition.params == {"section": "System Access", "key": "MinimumPasswordLength"}


def test_smb_controls() -> None:
    stig04 = CATALOG["CWH-STIG-04"].check
    assert isinstance(stig04, Combination) and stig04.mode == "any"
    rule = CATALOG["CWH-STIG-05"].not_applicable_when
    assert rule is not None
    assert rule.condition.method == "windows_feature"  # type: ignore[union-attr]
    assert rule.condition.params["name"] == "FS-SMB1"  # type: ignore[union-attr]
    assert rule.condition.operator == "not_installed"  # type: ignore[union-attr]
    # the applicability condition is also a fact to collect
    assert [c.method for c in CATALOG["CWH-STIG-05"].conditions()] == ["registry",
                                                                       "windows_feature"]


def test_user_right_and_firewall_conditions() -> None:
    gpo05 = CATALOG["CWH-GPO-05"].check
    assert isinstance(gpo05, Condition)
    assert (gpo05.method, gpo05.params["right"], gpo05.operator) == (
        "user_right", "SeTcbPrivilege", "assigned_to_none")
    assert gpo05.describe() == "secedit [Privilege Rights] SeTcbPrivilege"
    stig06 = CATALOG["CWH-STIG-06"].check
    assert isinstance(stig06, Condition) and stig06.method == "firewall_profiles"


def test_account_controls_are_manual_with_their_own_judges() -> None:
    for control_id, method in (("CWH-ACCT-01", "local_admins"), ("CWH-ACCT-02",
                                                                 "internet_apps")):
        ctrl = CATALOG[control_id]
        assert ctrl.handler == "accounts" and ctrl.manual
        assert isinstance(ctrl.check, dict) and ctrl.check["method"] == method


# --- markers ----------------------------------------------------------------------------------

def _declared_markers() -> set[str]:
    ini = configparser.ConfigParser()
    ini.read(Path(__file__).parents[2] / "pytest.ini")
    lines = ini["pytest"]["markers"].strip().splitlines()
    return {line.split(":")[0].split("(")[0].strip() for line in lines if line.strip()}


@pytest.mark.parametrize("control_id", SECTION_A)
def test_markers(control_id: str) -> None:
    ctrl = CATALOG[control_id]
    markers = ctrl.markers
    assert markers[0] == "stig"
    assert ctrl.area in markers
    cats = [m for m in markers if m.startswith("cat")]
    assert cats == [{"high": "cat1", "medium": "cat2", "low": "cat3"}[ctrl.marker_severity]]
    assert ("manual" in markers) == ctrl.manual
    assert set(markers) <= _declared_markers()  # --strict-markers would reject the rest


@pytest.mark.parametrize(("control_id", "cat"), [
    ("CWH-GPO-01", "cat1"), ("CWH-PWD-01", "cat2"), ("CWH-STIG-08", "cat3"),
    ("CWH-ACCT-01", "cat1"),  # CAT II on 2022, CAT I elsewhere: the marker takes the highest
])
def test_cat_marker(control_id: str, cat: str) -> None:
    assert cat in CATALOG[control_id].markers


# --- severity and references by OS ------------------------------------------------------------

@pytest.mark.parametrize(("os_version", "severity", "stig_id"), [
    ("2016", "high", "WN16-00-000010"),
    ("2019", "high", "WN19-00-000010"),
    ("2022", "medium", "WN22-00-000010"),
])
def test_acct01_severity_depends_on_the_os(os_version: str, severity: str, stig_id: str) -> None:
    ctrl = CATALOG["CWH-ACCT-01"]
    assert ctrl.severity_for(os_version) == severity
    assert [r.stig_id for r in ctrl.refs_for(os_version)] == [stig_id]


def test_unknown_os_gets_no_windows_references() -> None:
    ctrl = CATALOG["CWH-ACCT-01"]
    assert ctrl.refs_for(None) == ()
    assert ctrl.severity_for(None) == "high"
    assert ctrl.severity_for("2025") == "high"


def test_iis_references_apply_on_every_os() -> None:
    ctrl = CATALOG["CWH-TLS-01"]
    for os_version in ("2016", "2019", "2022", None):
        assert [r.stig_id for r in ctrl.refs_for(os_version)] == ["IIST-SV-000153"]


def test_refs_for_two_references_on_one_os() -> None:
    assert {r.stig_id for r in CATALOG["CWH-STIG-04"].refs_for("2019")} == {
        "WN19-00-000380", "WN19-00-000390"}


@pytest.mark.parametrize(("build", "expected"), [
    ("14393", "2016"), (17763, "2019"), ("20348", "2022"), ("26100", None), ("abc", None),
    (None, None),
])
def test_os_version_from_build(build: Any, expected: str | None) -> None:
    assert os_version_from_build(build) == expected


# --- validation ---------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "id": "CWH-TEST-01",
    "title": "Test control",
    "area": "gpo",
    "handler": "policy",
    "severity": "high",
    "source": "stig",
    "fix": "Set it.",
    "stig": [{"benchmark": "MS_Windows_Server_2022_STIG", "vuln_id": "V-254467",
              "stig_id": "WN22-SO-000230"}],
    "check": {"method": "registry", "path": r"HKLM\SYSTEM\CurrentControlSet\Control\Lsa",
              "name": "RestrictAnonymous", "type": "DWord", "operator": "equals", "expected": 1},
}


def parse(*controls: dict[str, Any]):
    return parse_catalog({"catalog_version": "test", "controls": list(controls)})


def variant(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def check_variant(**changes: Any) -> dict[str, Any]:
    check = dict(BASE["check"])
    for key, value in changes.items():
        if value is None:
            check.pop(key, None)
        else:
            check[key] = value
    return variant(check=check)


def test_base_entry_is_valid() -> None:
    ctrl = parse(variant())["CWH-TEST-01"]
    assert isinstance(ctrl.check, Condition)
    assert ctrl.fix == "Set it."


def test_fix_text_is_folded_to_one_line() -> None:
    ctrl = parse(variant(fix="Set it\n   and reboot.\n"))["CWH-TEST-01"]
    assert ctrl.fix == "Set it and reboot."


@pytest.mark.parametrize(("raw", "fragment"), [
    (check_variant(method="wmi"), "unknown method 'wmi' in a policy condition"),
    (check_variant(method=None), "unknown method None"),
    (check_variant(operator="assigned_to_none"),
     "operator 'assigned_to_none' does not apply to method registry"),
    (check_variant(operator="contains"), "operator 'contains' does not apply"),
    (check_variant(type=None), "registry condition lacks ['type']"),
    (check_variant(expected=None), "registry condition lacks ['expected']"),
    (check_variant(default=0), "registry condition has unknown field 'default'"),
    (check_variant(type="REG_DWORD"), "registry type 'REG_DWORD' is not one of"),
    (check_variant(path=r"HKCU\Software\Policies"), "registry paths must start with HKLM\\"),
    (check_variant(absent="ignore"), "absent must be finding or compliant"),
    (check_variant(source="cis"), "source must be stig, guide or both"),
    (check_variant(operator="one_of", expected=1), "one_of needs a list as expected"),
    (variant(check={"method": "user_right", "right": "SeTcbPrivilege"}),
     "operator 'equals' does not apply to method user_right"),
    (variant(check={"method": "secedit", "section": "System Access", "expected": 14,
                    "operator": "at_least"}), "secedit condition lacks ['key']"),
    (variant(check={"all": [BASE["check"]]}), "'all' must be the only key and list two or more"),
    (variant(check={"any": [BASE["check"], BASE["check"]], "note": "x"}),
     "'any' must be the only key"),
    (variant(check={"all": [BASE["check"], {"method": "nope"}]}), "unknown method 'nope'"),
    (variant(check=["registry"]), "check must be a mapping"),
    (variant(fix=None), "missing ['fix']"),
    (variant(title=None, area=None), "missing ['area', 'title']"),
    (variant(severity="critical"), "severity must be one of ['high', 'medium', 'low']"),
    (variant(severity="CAT I"), "severity must be one of"),
    (variant(area="iis"), "area must be one of"),
    (variant(handler="inspec"), "handler must be one of"),
    (variant(source="cis"), "source must be guide or stig"),
    (variant(owner="ops"), "unknown key 'owner'"),
    (variant(stig=[{"benchmark": "MS_Windows_Server_2022_STIG", "vuln_id": "V-254467"}]),
     "each stig reference needs benchmark, vuln_id and stig_id"),
    (variant(stig=[{**BASE["stig"][0], "severity": "CAT II"}]),
     "stig reference severity 'CAT II' is not valid"),
    (variant(not_applicable_when={"condition": {"method": "windows_feature", "name": "FS-SMB1",
                                                "operator": "not_installed"}}),
     "not_applicable_when needs exactly condition and reason"),
    (variant(not_applicable_when={"condition": {"method": "windows_feature", "name": "FS-SMB1",
                                                "operator": "absent"}, "reason": "r"}),
     "operator 'absent' does not apply to method windows_feature"),
])
def test_malformed_entries_are_refused_naming_the_control(raw: dict[str, Any],
                                                          fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(raw)
    message = str(caught.value)
    assert message.startswith("catalog CWH-TEST-01: ")
    assert fragment in message


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ConfigError, match="catalog CWH-TEST-01: duplicate control ID"):
        parse(variant(), variant(title="again"))


def test_entry_without_id() -> None:
    with pytest.raises(ConfigError, match="catalog entry 1: each control needs an id"):
        parse(variant(), variant(id=None))


@pytest.mark.parametrize("data", [None, [], {"controls": []}, {"catalog_version": "1"}])
def test_top_level_shape(data: Any) -> None:
    with pytest.raises(ConfigError, match="expected catalog_version and controls"):
        parse_catalog(data)


def test_non_policy_handlers_keep_their_check_as_data() -> None:
    ctrl = parse(variant(handler="accounts", area="accounts",
                         check={"method": "local_admins", "needs": ["local_admins"]}))
    assert ctrl["CWH-TEST-01"].check == {"method": "local_admins", "needs": ["local_admins"]}


def test_load_catalog_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot load"):
        load_catalog(tmp_path / "missing.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("controls: [\n")
    with pytest.raises(ConfigError, match="cannot load"):
        load_catalog(broken)
