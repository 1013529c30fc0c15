"""Facts that are garbled or contradict themselves are never compliant (issue 10, item 10):
numbers are ASCII digits or nothing, a key or service given twice with different values is a
contradiction, and each such verdict is Not_Reviewed with the host's raw lines as evidence."""

from __future__ import annotations

import pytest

from cwh.catalog.model import os_version_from_build
from cwh.collect.facts import FactUnavailable
from cwh.judge import judge
from cwh.judge.verdict import Status
from tests.unit.helpers import LSA, control, facts, inf_text, ok, reg, registry, secedit

NR, NAF = Status.NOT_REVIEWED, Status.NOT_A_FINDING
ARABIC = str.maketrans("0123456789", "".join(chr(0x0660 + i) for i in range(10)))
FULLWIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + i) for i in range(10)))


def policy_verdict(control_id: str, **system_access: object):
    return judge(control(control_id), facts(secedit=secedit(inf_text(system_access))), {})


@pytest.mark.parametrize("value", ["1_4", "14".translate(ARABIC), "14".translate(FULLWIDTH),
                                   "+14", "14.0"])
def test_a_password_length_that_is_not_ascii_digits_is_not_reviewed(value: str) -> None:
    assert int(value.replace(".0", "")) == 14  # Python alone would have read 14: a pass
    verdict = policy_verdict("CWH-PWD-01", MinimumPasswordLength=value)
    assert verdict.status is NR, verdict
    assert "is not a number" in verdict.reason
    assert verdict.evidence[0].raw == f"MinimumPasswordLength = {value}"


def test_complexity_written_in_arabic_indic_digits_is_not_reviewed() -> None:
    verdict = policy_verdict("CWH-PWD-02", PasswordComplexity="\u0661")
    assert verdict.status is NR and "not a number" in verdict.reason


def test_the_clean_values_still_pass() -> None:
    assert policy_verdict("CWH-PWD-01").status is NAF
    assert policy_verdict("CWH-PWD-02").status is NAF


@pytest.mark.parametrize("second", ["MinimumPasswordLength = 14", "minimumPasswordLength = 14"])
def test_a_password_length_given_twice_is_not_reviewed_with_both_lines(second: str) -> None:
    inf = inf_text({"MinimumPasswordLength": 0}).replace(
        "MinimumPasswordLength = 0", f"MinimumPasswordLength = 0\r\n{second}")
    verdict = judge(control("CWH-PWD-01"), facts(secedit=secedit(inf)), {})
    assert verdict.status is NR, verdict
    assert "contradictory" in verdict.reason
    raw = verdict.evidence[0].raw
    assert "MinimumPasswordLength = 0" in raw and second in raw


@pytest.mark.parametrize("value", [", ,", ",", "*S-1-5-32-544,"])
def test_a_right_that_lists_no_accounts_is_not_assigned_to_no_one(value: str) -> None:
    inf = inf_text(privilege_rights={"SeTcbPrivilege": value})
    verdict = judge(control("CWH-GPO-05"), facts(secedit=secedit(inf)), {})
    assert verdict.status is NR, verdict
    assert "not a list of accounts" in verdict.reason
    assert verdict.evidence[0].raw == f"SeTcbPrivilege = {value}"


def test_an_empty_right_is_still_assigned_to_no_one() -> None:
    inf = inf_text(privilege_rights={"SeTcbPrivilege": ""})
    assert judge(control("CWH-GPO-05"), facts(secedit=secedit(inf)), {}).status is NAF


# The hand-built facts hold no services or install paths: the role is declared.
SCREENCONNECT_HOST = {"cwh_products": ["screenconnect"]}


def _screenconnect(version: str) -> dict:
    root = r"C:\Program Files (x86)\ScreenConnect"
    return ok({"install_root": root, "root_source": "service image path",
               "service_exe": root + r"\Bin\ScreenConnect.Service.exe", "file_version": version,
               "product_version": version, "web_config_path": None, "web_config_text": None})


@pytest.mark.parametrize("version", ["23.9.8".translate(FULLWIDTH), "2\u0663.9.8",
                                     "23.9.8".translate(ARABIC)])
def test_a_version_in_other_digits_is_not_reviewed(version: str) -> None:
    verdict = judge(control("CWH-SC-02"), facts(screenconnect=_screenconnect(version)),
                    SCREENCONNECT_HOST)
    assert verdict.status is NR, verdict
    assert "not a dotted version" in verdict.reason


def test_a_patched_version_in_ascii_still_passes() -> None:
    verdict = judge(control("CWH-SC-02"), facts(screenconnect=_screenconnect("23.9.8.8811")),
                    SCREENCONNECT_HOST)
    assert verdict.status is NAF


SERVICES = ["ScreenConnect Web Server", "ScreenConnect Relay", "ScreenConnect Session Manager"]


def _service(name: str, state: str = "Running") -> dict:
    return {"name": name, "display_name": name, "state": state, "start_mode": "Auto",
            "path": None}


@pytest.mark.parametrize("twin", ["screenconnect relay", "SCREENCONNECT RELAY"])
def test_a_service_listed_twice_in_another_case_is_not_reviewed(twin: str) -> None:
    listed = [_service(n) for n in SERVICES] + [_service(twin, "Stopped")]
    verdict = judge(control("CWH-SC-01"), facts(services=ok({"patterns": [], "services": listed})),
                    {})
    assert verdict.status is NR, verdict
    assert "listed 2 times" in verdict.reason
    assert any("Stopped" in e.raw and twin in e.raw for e in verdict.evidence)


def test_a_service_in_another_case_alone_is_that_service() -> None:
    listed = [_service(n.upper()) for n in SERVICES]
    verdict = judge(control("CWH-SC-01"), facts(services=ok({"patterns": [], "services": listed})),
                    {})
    assert verdict.status is NAF


def test_a_registry_value_answered_twice_differently_is_unavailable() -> None:
    host = facts(registry=registry(reg(LSA, "RestrictAnonymous", "DWord", 1),
                                   reg(LSA.upper(), "restrictanonymous", "DWord", 0)))
    with pytest.raises(FactUnavailable, match="answered 2 times with different data"):
        host.registry(LSA, "RestrictAnonymous")
    verdict = judge(control("CWH-GPO-01"), host, {})
    assert verdict.status is NR


def test_a_registry_value_answered_twice_alike_is_one_answer() -> None:
    host = facts(registry=registry(reg(LSA, "RestrictAnonymous", "DWord", 1),
                                   reg(LSA, "RestrictAnonymous", "DWord", 1)))
    assert host.registry(LSA, "RestrictAnonymous").value == 1


@pytest.mark.parametrize("build", ["20348".translate(FULLWIDTH), "20_348", " 20348", "20348.0"])
def test_an_os_build_in_other_digits_is_an_unknown_os(build: str) -> None:
    assert os_version_from_build("20348") == "2022"
    assert os_version_from_build(build) is None
