"""The firewall as Windows really reports it: module cmdlets whose errors do not stop the script,
profiles that are off or allow by default, and answers that contradict themselves. Every test
goes through the lab's stand-in for powershell.exe (the collector as sent) and the judges."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from cwh.catalog.model import load_catalog
from cwh.collect.document import parse_output
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.collect.request import request_for
from cwh.collect.script import bootstrap_command, collector_body, ps_literal, stdin_payload
from cwh.inventory import ConnectionSettings, Target
from cwh.judge import judge
from cwh.judge.verdict import Status
from cwh.lab.emulator import ImageCommandHandler
from cwh.lab.image import Image, load_image
from cwh.probes.runner import RunnerView
from cwh.probes.tcp import PortObservation

CATALOG = load_catalog()
SMB_PORTS = ("CWH-NET-03", "CWH-NET-04", "CWH-NET-05")
RULE_CONTROLS = ("CWH-NET-01", "CWH-NET-02", *SMB_PORTS)


def variant(name: str = "hardened", **firewall: Any) -> Image:
    """A bundled image with keys of its `firewall` replaced."""
    base = load_image(name)
    data = copy.deepcopy(base.data)
    data["firewall"] = {**data["firewall"], **firewall}
    return Image(base.name, base.path, data)


def pre_fix_collector() -> str:
    """The collector as it was before issue 10: no -ErrorAction default, no -ErrorAction Stop
    on the module cmdlets (what any collector that forgets them looks like to Windows)."""
    body = collector_body()
    body = re.sub(r"^\$PSDefaultParameterValues.*$", "", body, flags=re.M)
    return body.replace(" -ErrorAction Stop", "")


def collect(image: Image, body: str | None = None) -> HostFacts:
    """The facts document the lab answers to the collector (this one, or `body`)."""
    request = request_for(CATALOG.controls).to_json()
    script = f"$CwhRequest = {ps_literal(request)}\n{body or collector_body()}"
    process = ImageCommandHandler(image).start(bootstrap_command(), skip_cmd_shell=False)
    result = process.run(stdin_payload(script))
    return HostFacts("h", parse_output(result.stdout, result.stderr, result.exit_code))


def runner(facts: HostFacts, state: str = "refused") -> RunnerView:
    """A runner view whose TCP probes of 135/139/445/8040/8041 all came back `state`."""
    settings = ConnectionSettings(name="h", address="127.0.0.1", port=5985, scheme="http",
                                  transport="ntlm", user="auditor", password="x")
    view = RunnerView(Target("h", (), settings, {"cwh_probe_timeout_sec": 1}), facts)
    view.adopt({("tcp", "127.0.0.1", port): PortObservation("127.0.0.1", port, state,
                                                             f"test: {state}", 1.0, 1.0)
                for port in (135, 139, 445, 8040, 8041)})
    return view


def verdicts(facts: HostFacts, controls=SMB_PORTS) -> dict[str, Any]:
    view = runner(facts)
    return {c: judge(CATALOG[c], facts, {}, view) for c in controls}


# --- item 11: module cmdlets do not inherit $ErrorActionPreference -------------------------------

QUERY_FAILS = "Provider load failure"


def test_a_failing_firewall_query_is_an_error_with_the_collector_as_sent() -> None:
    facts = collect(variant(query_error=QUERY_FAILS))
    for section in ("firewall_rules", "firewall_profiles"):
        entry = facts.document["sections"][section]
        assert entry["ok"] is False and QUERY_FAILS in entry["error"], section
    for control, verdict in verdicts(facts, RULE_CONTROLS[2:]).items():
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert QUERY_FAILS in verdict.reason, control


def test_without_error_action_stop_the_lab_plays_windows_swallowing_the_error() -> None:
    """PowerShell 5.1: NetSecurity is a CDXML module, so its cmdlets never see the script's
    $ErrorActionPreference; the error is written, the script goes on with nothing."""
    facts = collect(variant(query_error=QUERY_FAILS), pre_fix_collector())
    entry = facts.document["sections"]["firewall_rules"]
    assert entry["ok"] is True and entry["data"]["rules"] == []
    assert facts.document["sections"]["firewall_profiles"]["data"]["profiles"] == []
    # ... and the judges must not read "no rules" as "no allow rule".
    for control, verdict in verdicts(facts).items():
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert "no inbound rules at all" in verdict.reason, control


def test_an_empty_inbound_rule_list_is_unavailable_not_no_allow_rule() -> None:
    facts = collect(variant(rules=[]), pre_fix_collector())
    assert facts.document["sections"]["firewall_rules"]["data"]["rules"] == []
    with pytest.raises(FactUnavailable, match="no inbound rules at all"):
        facts.firewall_rules()


def test_no_inbound_rule_at_all_makes_the_cdxml_cmdlet_fail_as_windows_does() -> None:
    entry = collect(variant(rules=[])).document["sections"]["firewall_rules"]
    assert entry["ok"] is False
    assert "No MSFT_NetFirewallRule objects found with property 'Direction'" in entry["error"]


def test_no_listener_at_all_makes_get_nettcpconnection_fail_as_windows_does() -> None:
    base = load_image("hardened")
    image = Image(base.name, base.path, {**base.data, "tcp_listeners": []})
    assert collect(image).document["sections"]["tcp_listeners"]["ok"] is False
    swallowed = collect(image, pre_fix_collector()).document["sections"]["tcp_listeners"]
    assert swallowed["ok"] is True and swallowed["data"]["listeners"] == []


def test_every_module_cmdlet_in_the_collector_is_terminating() -> None:
    body = collector_body()
    assert re.search(r"^\$PSDefaultParameterValues = @\{ '\*:ErrorAction' = 'Stop' \}$", body,
                     re.M)
    calls = re.findall(r"^.*\b(?:Get-NetFirewall\w+|Get-NetTCPConnection)\b.*$", body, re.M)
    assert len(calls) >= 6
    for line in calls:
        if line.lstrip().startswith("#"):
            continue
        assert "-ErrorAction Stop" in line, line


def test_the_request_asks_for_what_the_port_judges_read() -> None:
    request = json.loads(request_for([CATALOG["CWH-NET-05"]]).to_json())
    assert {"firewall_rules", "firewall_profiles"} <= set(request["sections"])


# --- item 12: the profile state decides before any rule does ---------------------------------

def profiles(**states: tuple[Any, str]) -> dict[str, dict[str, Any]]:
    return {name: {"enabled": on, "default_inbound_action": action}
            for name, (on, action) in states.items()}


BLOCKING = {"Domain": (True, "Block"), "Private": (True, "Block"), "Public": (True, "Block")}


def with_profiles(active: list[str] | None = ("Private",), **changes: tuple[Any, str]) -> Image:
    states = profiles(**{**BLOCKING, **changes})
    image = variant(profiles=states, active_profiles=list(active) if active else None)
    if active is None:
        del image.data["firewall"]["active_profiles"]
    return image


@pytest.mark.parametrize(("changes", "shown"), [
    ({"Private": (True, "Allow")}, "Private: Enabled True, DefaultInboundAction Allow"),
    ({"Private": (False, "Block")}, "Private: Enabled False"),
])
def test_a_profile_in_force_that_lets_everything_in_opens_every_port(changes, shown) -> None:
    results = verdicts(collect(with_profiles(**changes)))
    for control, verdict in results.items():
        assert verdict.status is Status.OPEN, (control, verdict.reason)
        assert "every port open through" in verdict.reason and shown in verdict.reason, control


def test_a_profile_not_in_force_does_not_open_the_port() -> None:
    facts = collect(with_profiles(Public=(False, "Allow")))
    for control, verdict in verdicts(facts).items():
        assert verdict.status is Status.NOT_A_FINDING, (control, verdict.reason)
        assert any("the active profile (ActiveProfile Private)" in e.location
                   for e in verdict.evidence), control
    assert judge(CATALOG["CWH-STIG-06"], facts, {}).status is Status.OPEN  # still all three


def test_unknown_active_profile_considers_every_profile() -> None:
    facts = collect(with_profiles(active=None, Public=(False, "Allow")))
    for control, verdict in verdicts(facts).items():
        assert verdict.status is Status.OPEN, control
        assert "Public: Enabled False" in verdict.reason
        assert any("all profiles (the active one is unknown" in e.location
                   for e in verdict.evidence)


def test_not_configured_means_windows_default_block_and_says_so() -> None:
    facts = collect(with_profiles(Private=("NotConfigured", "NotConfigured")))
    for control, verdict in verdicts(facts).items():
        assert verdict.status is Status.NOT_A_FINDING, (control, verdict.reason)
        assert "DefaultInboundAction NotConfigured (Windows' default: Block)" in verdict.observed


@pytest.mark.parametrize("changes", [{"Private": ("", "Block")}, {"Private": (True, "")},
                                     {"Private": (True, "Permit")}])
def test_unreadable_profile_state_is_not_reviewed(changes) -> None:
    for control, verdict in verdicts(collect(with_profiles(**changes))).items():
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert "firewall profile state is unknown" in verdict.reason


def test_a_profile_missing_from_the_answer_is_not_reviewed() -> None:
    image = with_profiles()
    del image.data["firewall"]["profiles"]["Private"]
    verdict = verdicts(collect(image))["CWH-NET-05"]
    assert verdict.status is Status.NOT_REVIEWED and "Private: not in the answer" in verdict.reason


def test_profile_section_failure_leaves_smb_unknown_but_rules_judged_for_all() -> None:
    facts = collect(variant(profiles=None))
    verdict = verdicts(facts)["CWH-NET-05"]
    assert verdict.status is Status.NOT_REVIEWED and "profile state not available" in \
        verdict.reason


SMB_DOMAIN_ONLY = {"id": "FPS-SMB-In-TCP-Domain", "local_ports": ["445"], "profiles": "Domain",
                   "display_name": "File and Printer Sharing (SMB-In)", "program": "System"}


def test_an_allow_rule_only_for_a_profile_not_in_force_does_not_expose() -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"], SMB_DOMAIN_ONLY]
    in_force = verdicts(collect(variant(rules=rules)))["CWH-NET-05"]
    assert in_force.status is Status.NOT_A_FINDING, in_force.reason
    image = variant(rules=rules)
    del image.data["firewall"]["active_profiles"]
    unknown = verdicts(collect(image))["CWH-NET-05"]
    assert unknown.status is Status.OPEN and "File and Printer Sharing (SMB-In)" in unknown.reason


def test_a_rule_whose_profiles_are_unreadable_is_not_reviewed() -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_DOMAIN_ONLY, "profiles": ""}]
    verdict = verdicts(collect(variant(rules=rules)))["CWH-NET-05"]
    assert verdict.status is Status.NOT_REVIEWED and "unreadable state, action or profiles" in \
        verdict.reason


def test_drifted_fails_for_the_profile_too() -> None:
    verdict = verdicts(collect(load_image("drifted")))["CWH-NET-05"]
    assert verdict.status is Status.OPEN
    assert "Public: Enabled True, DefaultInboundAction Allow" in verdict.reason


# --- item 10: names Windows compares case-insensitively, listed twice with different values --

def test_case_variant_profiles_with_different_values_are_a_contradiction() -> None:
    image = with_profiles()
    image.data["firewall"]["profiles"]["private"] = {"enabled": False,
                                                     "default_inbound_action": "Allow"}
    facts = collect(image)
    for control in (*SMB_PORTS, "CWH-STIG-06"):
        verdict = judge(CATALOG[control], facts, {}, runner(facts))
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert "'Private' is listed 2 times with different values" in verdict.reason, control
        raw = " ".join(e.raw for e in verdict.evidence)
        assert '"name": "private"' in raw and '"enabled": "False"' in raw, control


def test_case_variant_profiles_that_agree_are_one_profile() -> None:
    image = with_profiles()
    image.data["firewall"]["profiles"]["private"] = {"enabled": True,
                                                     "default_inbound_action": "Block"}
    for control, verdict in verdicts(collect(image)).items():
        assert verdict.status is Status.NOT_A_FINDING, (control, verdict.reason)


def test_case_variant_rules_with_different_values_are_a_contradiction() -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_DOMAIN_ONLY, "id": "FPS-SMB-In-TCP", "profiles": "Any", "enabled": False},
             {**SMB_DOMAIN_ONLY, "id": "fps-smb-in-tcp", "profiles": "Any", "enabled": True}]
    facts = collect(variant(rules=rules))
    for control in RULE_CONTROLS[2:]:
        verdict = judge(CATALOG[control], facts, {}, runner(facts))
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert "firewall rule 'FPS-SMB-In-TCP' is listed 2 times" in verdict.reason
        assert '"id": "fps-smb-in-tcp"' in " ".join(e.raw for e in verdict.evidence)


# --- the review of issue 10, finding 3: names that differ only in surrounding white space ----

@pytest.mark.parametrize("twin", ["Private ", " Private", "Private\u00a0", "PRIVATE\t"])
def test_profiles_that_differ_only_in_white_space_are_a_contradiction(twin: str) -> None:
    """Private off and Allow, then `Private ` on and Block: the judge read the second and
    passed NET-03/04/05 while CWH-STIG-06 read the first (Open). Windows parses a profile
    name as an enum value, which ignores surrounding white space."""
    image = with_profiles()
    image.data["firewall"]["profiles"]["Private"] = {"enabled": False,
                                                     "default_inbound_action": "Allow"}
    image.data["firewall"]["profiles"][twin] = {"enabled": True,
                                                "default_inbound_action": "Block"}
    facts = collect(image)
    for control in (*SMB_PORTS, "CWH-STIG-06"):
        verdict = judge(CATALOG[control], facts, {}, runner(facts))
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, (control, verdict)
        assert "'Private' is listed 2 times with different values" in verdict.reason, control


def test_rules_whose_ids_differ_only_in_white_space_are_a_contradiction() -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_DOMAIN_ONLY, "id": "FPS-SMB-In-TCP", "profiles": "Any", "enabled": False},
             {**SMB_DOMAIN_ONLY, "id": "FPS-SMB-In-TCP ", "profiles": "Any", "enabled": True}]
    facts = collect(variant(rules=rules))
    for control in SMB_PORTS:
        verdict = judge(CATALOG[control], facts, {}, runner(facts))
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, control
        assert "firewall rule 'FPS-SMB-In-TCP' is listed 2 times" in verdict.reason


def test_the_judge_and_the_contradiction_check_read_profile_names_alike() -> None:
    from cwh.collect.facts import same_name
    from cwh.judge.firewall import canonical_profile

    for name in ("Private", "private", " Private", "Private\u00a0", "PRIVATE\t"):
        assert canonical_profile(name) == "Private"
        assert same_name(name) == same_name("Private")
    for name in ("Priv ate", "Pr\u0131vate", "Privat"):
        assert canonical_profile(name) is None and same_name(name) != same_name("Private")


# --- the review of issue 10, findings 4 and 12: port entries that cannot be read ----------------

SMB_RULE = {"id": "Vendor-SMB-In", "display_name": "Vendor SMB share (TCP-In)", "program": "System"}


@pytest.mark.parametrize("entry", [
    "44 5",                 # garbled
    "4\u00b2",              # '4²': str.isdigit() accepts the superscript, int() refuses it
    "\u2075",               # '⁵' alone
    "\u0664\u0664\u0665",   # Arabic-Indic 445: Windows writes ASCII digits only
    "\uff14\uff14\uff15",   # fullwidth 445
    "445-",                 # half a range
    "-445",
    "139-135",              # a range the wrong way round
    "70000",                # no such port
    "",                     # nothing at all
    "SMB",                  # no keyword Windows prints
])
def test_an_allow_rule_whose_port_cannot_be_read_is_not_reviewed(entry: str) -> None:
    """An enabled inbound Allow rule whose LocalPort is garbage did not count at all: CWH-NET-05
    was NotAFinding ("no enabled allow rule"), or ValueError left every NET control without
    evidence. What cannot be read may be the port: Not_Reviewed, the rule as evidence."""
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_RULE, "local_ports": [entry]}]
    facts = collect(variant(rules=rules))
    for control, verdict in verdicts(facts).items():
        assert verdict.status is Status.NOT_REVIEWED and verdict.error, (control, verdict)
        assert "did not complete" not in verdict.reason, verdict.reason
        assert "ports that cannot be read" in verdict.reason, verdict.reason
        raw = " ".join(e.raw for e in verdict.evidence)
        assert "Vendor SMB share (TCP-In)" in raw, (control, raw)


@pytest.mark.parametrize("entry, control", [
    ("445", "CWH-NET-05"), ("440-450", "CWH-NET-05"), ("Any", "CWH-NET-05"),
    ("RPCEPMap", "CWH-NET-03"), ("RPC-EPMap", "CWH-NET-03"), ("135-139", "CWH-NET-04"),
])
def test_ports_windows_writes_still_open_the_port(entry: str, control: str) -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_RULE, "local_ports": [entry]}]
    assert verdicts(collect(variant(rules=rules)))[control].status is Status.OPEN


@pytest.mark.parametrize("entry", ["RPC", "IPHTTPSIn", "PlayToDiscovery", "Teredo", "5000-5020"])
def test_keywords_and_ports_that_are_not_the_port_do_not_open_it(entry: str) -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_RULE, "local_ports": [entry]}]
    for control, verdict in verdicts(collect(variant(rules=rules))).items():
        assert verdict.status is Status.NOT_A_FINDING, (control, verdict.reason)


def test_an_unreadable_entry_beside_the_port_itself_still_opens_it() -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_RULE, "local_ports": ["44 5", "445"]}]
    assert verdicts(collect(variant(rules=rules)))["CWH-NET-05"].status is Status.OPEN


def test_a_disabled_rule_with_an_unreadable_port_opens_nothing() -> None:
    rules = [*load_image("hardened").data["firewall"]["rules"],
             {**SMB_RULE, "local_ports": ["44 5"], "enabled": False}]
    for control, verdict in verdicts(collect(variant(rules=rules))).items():
        assert verdict.status is Status.NOT_A_FINDING, (control, verdict.reason)


@pytest.mark.parametrize("ports, port, covered", [
    (["445"], 445, True), (["445"], 139, False), (["135-139"], 137, True),
    (["Any"], 1, True), ([], 445, True), (["any"], 445, True),
    (["80, 443"], 443, True), (["80,443"], 445, False),   # COM and netsh write lists
    (["RPCEPMap"], 135, True), (["rpcepmap"], 445, False), (["RPC"], 445, False),
    (["IPHTTPSIn"], 443, True), (["IPHTTPSIn"], 445, False),
    (["4\u00b2"], 42, None), (["445", "x"], 445, True), (["x", "445"], 139, None),
    (["\uff14\uff14\uff15"], 445, None), ([" 445 "], 445, True), (["4 45"], 445, None),
    (["80,"], 80, True), (["80,"], 443, None), ([None], 445, None), (["65536"], 445, None),
    (["0-65535"], 445, True),
])
def test_local_port_entries(ports, port, covered) -> None:
    from cwh.judge.firewall import local_ports_include

    assert local_ports_include(ports, port) is covered
