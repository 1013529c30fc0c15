"""The lab's answers to the product sections (products, udp_listeners, firewall_addresses,
automate) have the collector's shape, follow the image, and fail the way Windows fails."""

from __future__ import annotations

import json

import pytest

from cwh.catalog.model import load_catalog
from cwh.collect.request import request_for
from cwh.lab.emulator import run_collector
from cwh.lab.product_sections import expand
from tests.unit.helpers import image

REQUEST = json.loads(request_for(load_catalog().controls).to_json())
SC_EXE = r"%ProgramFiles(x86)%\ScreenConnect\Bin\ScreenConnect.Service.exe"
LTAGENT = r"%ProgramFiles(x86)%\LabTech\LTAgent.exe"


def sections(img) -> dict:
    return run_collector(img, {**REQUEST, "sections": ["products", "udp_listeners",
                                                       "firewall_addresses"]})["sections"]


def exists(img) -> dict[str, bool | None]:
    return {p["path"]: p["exists"] for p in sections(img)["products"]["data"]["paths"]}


def test_environment_variables_expand_as_on_the_lab_hosts() -> None:
    assert expand(SC_EXE) == r"C:\Program Files (x86)\ScreenConnect\Bin\ScreenConnect.Service.exe"
    assert expand(r"%SystemDrive%\LTShare") == r"C:\LTShare"
    assert expand(r"%NoSuchVariable%\x") == r"%NoSuchVariable%\x"


def test_install_paths_follow_the_installations_the_image_holds() -> None:
    screenconnect = exists(image("hardened"))
    assert screenconnect[SC_EXE] is True and screenconnect[LTAGENT] is False
    automate = exists(image("automate-hardened"))
    assert automate[SC_EXE] is False and automate[LTAGENT] is True
    assert automate[r"%SystemDrive%\LTShare"] is True


def test_a_path_can_exist_or_fail_on_its_own() -> None:
    img = image("hardened", paths={r"C:\LTShare": True, LTAGENT: "Access to the path is denied."})
    answers = {p["path"]: p for p in sections(img)["products"]["data"]["paths"]}
    assert answers[r"%SystemDrive%\LTShare"]["exists"] is True
    assert answers[LTAGENT]["exists"] is None and "denied" in answers[LTAGENT]["error"]


def test_every_rule_has_an_address_filter_any_by_default() -> None:
    filters = sections(image("combined"))["firewall_addresses"]["data"]["filters"]
    by_id = {f["id"]: f for f in filters}
    assert by_id["Automate Web (TCP-In)"]["remote_addresses"] == ["Any"]
    assert by_id["MySQL from the reporting network (TCP-In)"]["remote_addresses"] == \
        ["10.20.40.0/255.255.255.0"]


def test_a_failing_firewall_query_fails_the_address_filters_too() -> None:
    img = image("hardened", firewall={**image("hardened").data["firewall"],
                                      "query_error": "Provider load failure"})
    answer = sections(img)["firewall_addresses"]
    assert answer["ok"] is False and "Provider load failure" in answer["error"]


def test_an_image_without_udp_endpoints_fails_the_section() -> None:
    answer = sections(image("hardened", udp_listeners=None))["udp_listeners"]
    assert answer["ok"] is False and "Get-NetUDPEndpoint" in answer["error"]


@pytest.mark.parametrize(("name", "computer", "build"), [
    ("automate-hardened", "CWA-HARDENED", "20348"), ("automate-drifted", "CWA-DRIFTED", "17763"),
    ("combined", "RMM-COMBINED", "20348")])
def test_the_automate_images_answer_every_section(name: str, computer: str, build: str) -> None:
    document = run_collector(image(name), REQUEST)
    assert document["computer"] == computer
    assert all(s["ok"] is True for s in document["sections"].values()), {
        n: s.get("error") for n, s in document["sections"].items() if not s["ok"]}
    assert document["sections"]["os"]["data"]["build"] == build
