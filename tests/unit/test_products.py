"""Roles: which products a host runs (detected from its services and install paths, or declared
in the inventory), and controls for an absent product Not_Applicable with the reason; an unknown
role is Not_Reviewed, never Not_Applicable."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from cwh.catalog.model import parse_catalog
from cwh.catalog.products import PRODUCTS, install_paths
from cwh.collect.request import request_for
from cwh.errors import ConfigError
from cwh.inventory import load_inventory
from cwh.judge import judge
from cwh.judge.products import applicability, detect
from cwh.judge.verdict import Status
from tests.unit.helpers import control, facts, failed, ok

SC_SERVICES = [{"name": n, "state": "Running", "start_mode": "Auto"} for n in
               ("ScreenConnect Web Server", "ScreenConnect Relay", "ScreenConnect Session Manager")]
CLIENT = {"name": "ScreenConnect Client (2f6e0b3d9c81a4e7)", "state": "Running"}
AGENT = [{"name": "LTService", "state": "Running"}, {"name": "LTSvcMon", "state": "Running"}]


def services(*entries: dict) -> dict:
    return ok({"patterns": ["ScreenConnect*"], "services": list(entries)})


def paths(exists: set[str] = frozenset(), errors: dict[str, str] | None = None) -> dict:
    answers = []
    for path in install_paths():
        error = (errors or {}).get(path)
        answers.append({"path": path, "expanded": path, "exists": None if error else
                        path in exists, "error": error})
    return ok({"paths": answers})


SC_EXE = r"%ProgramFiles(x86)%\ScreenConnect\Bin\ScreenConnect.Service.exe"
LTAGENT = r"%ProgramFiles(x86)%\LabTech\LTAgent.exe"
SC_ONLY = "CWH-SC-01"
SHARED = "CWH-GPO-01"


def sc_host(**sections) -> object:
    return facts(services=sections.pop("services", services(*SC_SERVICES, CLIENT, *AGENT)),
                 products=sections.pop("products", paths({SC_EXE})), **sections)


def test_every_control_states_its_products_and_the_default_is_both() -> None:
    assert control(SHARED).products == ("screenconnect", "automate")
    assert not control(SHARED).product_specific
    assert control(SC_ONLY).products == ("screenconnect",) and control(SC_ONLY).product_specific


def test_a_detected_product_lets_the_control_apply() -> None:
    gate = applicability(control(SC_ONLY), sc_host(), {})
    assert gate.verdict is None and not gate.note
    assert gate.details["detected"]["screenconnect"]["present"] is True


def test_a_stopped_service_is_still_an_installation() -> None:
    stopped = {"name": "LTAgent", "state": "Stopped", "start_mode": "Disabled"}
    found = detect(sc_host(services=services(stopped)), PRODUCTS["automate"])
    assert found.present is True and "LTAgent (Stopped)" in found.observed


def test_an_agent_or_client_on_the_server_is_not_the_product() -> None:
    """The Automate agent (LTService) and a ScreenConnect client say nothing about the server."""
    host = sc_host(services=services(CLIENT, *AGENT), products=paths())
    assert detect(host, PRODUCTS["automate"]).present is False
    assert detect(host, PRODUCTS["screenconnect"]).present is False


def test_a_control_for_an_absent_product_is_not_applicable_with_the_reason() -> None:
    verdict = judge(control(SC_ONLY), sc_host(services=services(*AGENT), products=paths({LTAGENT})),
                    {})
    assert verdict.status is Status.NOT_APPLICABLE
    assert "applies to ConnectWise ScreenConnect servers, and the host runs none" in verdict.reason
    assert "ScreenConnect Web Server" in verdict.reason  # which services were looked for
    assert verdict.evidence and not verdict.error


def test_shared_controls_need_no_detection() -> None:
    assert applicability(control(SHARED), facts(), {}).verdict is None


@pytest.mark.parametrize("host", [
    sc_host(services=failed("Get-CimInstance : Access denied"), products=paths()),
    sc_host(services=services(*AGENT), products=paths(errors={SC_EXE: "Access is denied"})),
    sc_host(services=services(), products=failed("the section did not finish")),
], ids=["services-unreadable", "path-unreadable", "paths-section-failed"])
def test_an_unknown_role_is_not_reviewed_never_not_applicable(host) -> None:
    verdict = judge(control(SC_ONLY), host, {})
    assert verdict.status is Status.NOT_REVIEWED and verdict.error, verdict
    assert "whether this host runs ConnectWise ScreenConnect is unknown" in verdict.reason
    assert "cwh_products" in verdict.reason


def test_one_positive_signal_is_enough_when_the_other_is_unknown() -> None:
    host = sc_host(services=failed("Access denied"), products=paths({SC_EXE}))
    assert detect(host, PRODUCTS["screenconnect"]).present is True


def test_a_host_without_facts_is_not_reviewed_with_the_host_error() -> None:
    from cwh.collect.facts import HostFacts

    verdict = judge(control("CWH-NET-03"), HostFacts.failed("h", "h: authentication failed"), {})
    assert verdict.status is Status.NOT_REVIEWED and "authentication failed" in verdict.reason


def test_a_declaration_never_removes_a_detected_product_and_the_disagreement_is_reported():
    host = sc_host()  # ScreenConnect detected
    gate = applicability(control(SC_ONLY), host, {"cwh_products": ["automate"]})
    assert gate.verdict is None
    verdict = judge(control(SC_ONLY), host, {"cwh_products": ["automate"]})
    assert verdict.status is not Status.NOT_APPLICABLE
    assert "cwh_products declares [automate], but ConnectWise ScreenConnect detected" \
        in verdict.reason
    assert "a declaration adds products and never removes one the host shows" in verdict.reason


def test_a_declaration_that_omits_an_undetected_product_is_not_applicable() -> None:
    host = sc_host(services=services(*AGENT), products=paths({LTAGENT}))
    verdict = judge(control(SC_ONLY), host, {"cwh_products": ["automate"]})
    assert verdict.status is Status.NOT_APPLICABLE
    assert "cwh_products declares [automate] and the host shows none of them" in verdict.reason


@pytest.mark.parametrize("answer", [
    {"patterns": ["ScreenConnect*"]},  # the list itself is missing
    {"patterns": ["ScreenConnect*"], "listed": 0, "services": []},
], ids=["no-list", "none-listed"])
def test_a_services_answer_without_a_real_list_is_unknown_not_no_product(answer) -> None:
    """Review of issue 13, finding 10: a services section that lists nothing is broken."""
    verdict = judge(control(SC_ONLY), sc_host(services=ok(answer), products=paths()), {})
    assert verdict.status is Status.NOT_REVIEWED, verdict.reason
    assert "the services could not be read" in verdict.reason


def test_a_declared_product_that_is_not_detected_is_judged_and_reported() -> None:
    host = sc_host(services=services(*AGENT), products=paths())
    gate = applicability(control(SC_ONLY), host, {"cwh_products": ["screenconnect"]})
    assert gate.verdict is None
    assert "cwh_products declares screenconnect, but ConnectWise ScreenConnect not detected" \
        in gate.note
    verdict = judge(control(SC_ONLY), host, {"cwh_products": ["screenconnect"]})
    assert verdict.status is Status.OPEN  # the services are missing: judged, not skipped
    assert "cwh_products declares screenconnect, but" in verdict.reason
    assert verdict.details["products"]["declared"] == ("screenconnect",)


def test_product_controls_ask_for_services_and_install_paths() -> None:
    request = request_for([control(SC_ONLY)])
    assert {"services", "products"} <= request.sections
    assert "products" not in request_for([control(SHARED)]).sections


# --- the catalog field ------------------------------------------------------------------------

def _catalog(products: object) -> None:
    entry = {"id": "CWH-X-01", "title": "t", "area": "network", "handler": "network",
             "severity": "low", "source": "guide", "fix": "f", "check": {"method": "m"},
             "products": products}
    parse_catalog({"catalog_version": "1", "controls": [entry]})


@pytest.mark.parametrize(("products", "message"), [
    ([], "non-empty list"), ("automate", "non-empty list"), (["automat"], "unknown product"),
    (["automate", "automate"], "twice"),
])
def test_the_catalog_refuses_bad_products(products: object, message: str) -> None:
    with pytest.raises(ConfigError, match=f"catalog CWH-X-01: products .*{message}"):
        _catalog(products)


def test_product_markers() -> None:
    assert "automate" in control(SHARED).markers and "screenconnect" in control(SHARED).markers
    assert "automate" not in control(SC_ONLY).markers
    assert control(SC_ONLY).markers.count("screenconnect") == 1  # area and product: one marker


# --- the inventory variable -------------------------------------------------------------------

def _inventory(tmp_path: Path, line: str):
    path = tmp_path / "hosts.yml"
    path.write_text(textwrap.dedent(f"""\
        all:
          vars: {{ansible_user: auditor, ansible_password: pw}}
          hosts:
            cwa01:
              {line}
        """))
    return load_inventory(path, environ={})


@pytest.mark.parametrize(("line", "message"), [
    ("cwh_products: automate", "cwh_products must be a non-empty list"),
    ("cwh_products: [automat]", "cwh_products names unknown product 'automat'"),
    ("cwh_products: []", "cwh_products must be a non-empty list"),
    ("cwh_mysql_allowed_from: [10.20.0.1/16]", "cwh_mysql_allowed_from has '10.20.0.1/16'"),
    ("cwh_mysql_allowed_from: [10.20.0.0]", "not a network in CIDR notation"),
    ("cwh_automate_legacy_ports: [70]", "cwh_automate_legacy_ports must be a list"),
    ("cwh_automate_legacy_ports: [71/udp]", "not one of the guide's legacy ports"),
    ("cwh_remote_access_via_control: yes please", "must be true or false"),
    ("cwh_automate_url: cwa.example.com", "cwh_automate_url must be an http"),
])
def test_bad_product_variables_stop_the_run_naming_host_and_key(tmp_path: Path, line: str,
                                                                 message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _inventory(tmp_path, line)
    assert "host cwa01" in str(caught.value) and message in str(caught.value)


def test_good_product_variables_are_kept(tmp_path: Path) -> None:
    [target] = _inventory(tmp_path, "cwh_products: [screenconnect, automate]").targets
    assert target.var("cwh_products") == ["screenconnect", "automate"]


def test_a_group_level_declaration_does_not_hide_screenconnect_on_the_combined_lab_host():
    """Review of issue 13, finding 4: cwh_products: [automate] on the combined host still has
    CWH-SC-02 (CVE-2024-1709) judged, with the disagreement in the verdict."""
    from cwh.lab.image import load_image
    from tests.unit.test_file_acls import _facts

    verdict = judge(control("CWH-SC-02"), _facts(load_image("combined")),
                    {"cwh_products": ["automate"]})
    assert verdict.status is Status.NOT_A_FINDING, verdict.reason
    assert "cwh_products declares [automate], but ConnectWise ScreenConnect detected" \
        in verdict.reason


@pytest.mark.parametrize(("declared", "applies"), [
    (None, True), (["screenconnect"], True), (["automate"], False),
    (["screenconnect", "automate"], True),
], ids=["undeclared", "screenconnect", "automate", "both"])
def test_the_exposure_audit_of_screenconnect_follows_a_declared_role(declared, applies) -> None:
    """Review of issue 13, finding 14: CWH-EXT-03 (the ScreenConnect version) and EXT-07 (web
    and relay reachable) are ScreenConnect's; a network-only host declared as Automate gets
    them Not_Applicable, one without a declaration is judged (no facts to detect from)."""
    from cwh.collect.facts import HostFacts

    inputs = {"cwh_access": "network", **({"cwh_products": declared} if declared else {})}
    for control_id in ("CWH-EXT-03", "CWH-EXT-07"):
        assert control(control_id).products == ("screenconnect",)
        gate = applicability(control(control_id), HostFacts.failed("h", "no host access"),
                             inputs)
        assert (gate.verdict is None) is applies
        if not applies:
            assert gate.verdict.status is Status.NOT_APPLICABLE
            assert "cwh_products declares [automate]" in gate.verdict.reason


def test_a_database_only_automate_host_is_judged_and_says_it_may_be_a_separate_server():
    """Review of issue 13, finding 11 (evidence only): LabMySQL alone marks Automate, so the
    application-server controls are judged; their verdicts say only the database was found."""
    mysql = {"name": "LabMySQL", "state": "Running", "start_mode": "Auto"}
    host = sc_host(services=services(mysql), products=paths())
    gate = applicability(control("CWH-CWA-08"), host, {})
    assert gate.verdict is None
    assert "only ConnectWise Automate's database service (LabMySQL) was found" in gate.note
    assert applicability(control("CWH-CWA-04"), host, {}).note == ""
    full = sc_host(services=services(mysql, {"name": "LTAgent", "state": "Running"}),
                   products=paths())
    assert applicability(control("CWH-CWA-08"), full, {}).note == ""
