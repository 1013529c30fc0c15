"""cwh.lab.emulator: the lab's powershell.exe answers the collector from a host image, and
nothing else; it never invents a fact."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwh.collect.document import DocumentError, parse_output
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.collect.request import request_for
from cwh.collect.script import bootstrap_command, build_collector, collector_body, stdin_payload
from cwh.judge.policy import judge_policy
from cwh.judge.verdict import Status
from cwh.lab.emulator import (
    EMULATED_COLLECTOR_VERSION,
    CollectorProcess,
    ImageCommandHandler,
    UnknownCommand,
    render_secedit_inf,
    run_collector,
)
from cwh.lab.image import load_image
from cwh.parse.secedit import parse_inf
from tests.unit.helpers import CATALOG, LSA, SCHANNEL, image, image_request

ALL_CONTROLS = [c for c in CATALOG.controls if c.handler in ("policy", "accounts")]


def run(img, script: str):
    process = ImageCommandHandler(img).start(bootstrap_command(), skip_cmd_shell=False)
    assert isinstance(process, CollectorProcess) and process.reads_stdin
    return process.run(stdin_payload(script))


def collect(img) -> dict:
    result = run(img, build_collector(request_for(ALL_CONTROLS).to_json()))
    return parse_output(result.stdout, result.stderr, result.exit_code)


@pytest.mark.parametrize(("name", "computer", "build"), [("hardened", "SC-HARDENED", "20348"),
                                                        ("drifted", "SC-DRIFTED", "17763")])
def test_bundled_images_answer_the_collector(name: str, computer: str, build: str) -> None:
    result = run(load_image(name), build_collector(request_for(ALL_CONTROLS).to_json()))
    assert result.exit_code == 0 and result.stderr == b""
    doc = parse_output(result.stdout, result.stderr, result.exit_code)
    requested = image_request()["sections"]
    assert list(doc["sections"]) == requested
    assert all(doc["sections"][s]["ok"] is True for s in requested), doc["sections"]
    assert doc["computer"] == computer
    facts = HostFacts(name, doc)
    assert facts.section("os")["build"] == build
    assert facts.os_version == {"20348": "2022", "17763": "2019"}[build]


def test_answer_is_one_marker_line() -> None:
    result = run(load_image("hardened"), build_collector(request_for(ALL_CONTROLS).to_json()))
    assert result.stdout.startswith(b"CWH-FACTS-GZIP:") and result.stdout.endswith(b"\r\n")
    assert result.stdout.count(b"\n") == 1


@pytest.mark.parametrize("script", ["Get-Process | Select-Object -First 1",
                                    "# cwh-collector-version: 1\nWrite-Output hi"])
def test_any_other_script_is_an_error(script: str) -> None:
    result = run(load_image("hardened"), script)
    assert result.exit_code != 0
    assert result.stdout == b""
    assert b"only runs the cwh collector script" in result.stderr
    with pytest.raises(DocumentError):
        parse_output(result.stdout, result.stderr, result.exit_code)


def test_stdin_that_is_not_base64_is_an_error() -> None:
    process = ImageCommandHandler(load_image("hardened")).start(bootstrap_command(),
                                                                 skip_cmd_shell=True)
    result = process.run(b"Write-Output 'not base64'\r\n")
    assert result.exit_code != 0
    assert b"FromBase64String" in result.stderr


@pytest.mark.parametrize("command_line", ["ipconfig /all", "powershell.exe -Command Get-Date",
                                          bootstrap_command() + " -NoExit"])
def test_other_command_lines_answer_like_cmd(command_line: str) -> None:
    process = ImageCommandHandler(load_image("hardened")).start(command_line,
                                                                 skip_cmd_shell=False)
    assert isinstance(process, UnknownCommand)
    result = process.run(b"")
    word = command_line.split(" ", 1)[0]
    assert result.exit_code != 0 and result.stdout == b""
    assert f"'{word}' is not recognized as an internal or external command".encode() in \
        result.stderr


def test_collector_version_mismatch_is_an_error() -> None:
    current, other = EMULATED_COLLECTOR_VERSION, str(int(EMULATED_COLLECTOR_VERSION) + 1)
    body = collector_body().replace(f"# cwh-collector-version: {current}",
                                    f"# cwh-collector-version: {other}", 1)
    script = build_collector(request_for(ALL_CONTROLS).to_json()).replace(collector_body(), body)
    result = run(load_image("hardened"), script)
    assert result.exit_code != 0 and result.stdout == b""
    assert f"the collector is version {other}, the lab emulates version {current}".encode() in \
        result.stderr


def test_bad_request_json_is_an_error() -> None:
    result = run(load_image("hardened"), build_collector("{not json"))
    assert result.exit_code != 0
    assert b"ConvertFrom-Json" in result.stderr


def test_unknown_section_fails_rather_than_being_empty() -> None:
    request = image_request()
    request["sections"].append("bitlocker")
    doc = run_collector(load_image("hardened"), request)
    assert doc["sections"]["bitlocker"] == {"ok": False,
                                           "error": "the collector has no section 'bitlocker'"}


# --- facts the images hold ----------------------------------------------------------------------

def test_non_admin_makes_secedit_fail_not_empty() -> None:
    user = {"name": "SC-HARDENED\\reader", "sid": "S-1-5-21-1-2-3-1020", "is_admin": False}
    doc = run_collector(image("hardened", user=user), image_request())
    section = doc["sections"]["secedit"]
    assert section["ok"] is False
    assert "Access is denied" in section["error"]
    assert "data" not in section
    facts = HostFacts("lab", doc)
    with pytest.raises(FactUnavailable, match="Access is denied"):
        facts.security_policy()
    verdict = judge_policy(CATALOG["CWH-GPO-05"], facts, {})
    assert verdict.status is Status.NOT_REVIEWED and verdict.error


def test_image_without_security_policy_fails_secedit() -> None:
    doc = run_collector(image("hardened", security_policy=None), image_request())
    assert doc["sections"]["secedit"]["ok"] is False


def _registry_answer(img, path: str, name: str) -> dict:
    request = image_request([])
    request["sections"] = ["registry"]
    request["registry"] = [{"path": path, "name": name}]
    [answer] = run_collector(img, request)["sections"]["registry"]["data"]["values"]
    return answer


def test_registry_lookup_is_case_insensitive() -> None:
    path = "HKLM\\" + LSA.split("\\", 1)[1].lower()
    answer = _registry_answer(load_image("hardened"), path, "RESTRICTANONYMOUS")
    assert answer["key_exists"] and answer["value_exists"]
    assert (answer["kind"], answer["value"]) == ("DWord", 1)
    assert answer["path"] == path  # the answer echoes the request
    assert answer["error"] is None


def test_registry_hive_is_case_insensitive_like_the_collector() -> None:
    answer = _registry_answer(load_image("hardened"), LSA.lower(), "RestrictAnonymous")
    assert answer["error"] is None and answer["value"] == 1


def test_key_without_values() -> None:
    answer = _registry_answer(load_image("drifted"),
                              r"HKLM\SOFTWARE\Policies\Microsoft\Windows\Explorer",
                              "NoAutoplayfornonVolume")
    assert answer == {"path": r"HKLM\SOFTWARE\Policies\Microsoft\Windows\Explorer",
                      "name": "NoAutoplayfornonVolume", "key_exists": True,
                      "value_exists": False, "kind": None, "value": None, "error": None}


def test_absent_key() -> None:
    answer = _registry_answer(load_image("drifted"), SCHANNEL + r"\TLS 1.0\Server", "Enabled")
    assert answer["key_exists"] is False and answer["value_exists"] is False


def test_non_hklm_path_is_an_error() -> None:
    answer = _registry_answer(load_image("hardened"), r"HKCU\Software\Policies", "X")
    assert answer["error"] == r"only HKLM paths are supported: HKCU\Software\Policies"


def test_access_denied_key() -> None:
    registry = {LSA: {"_access_denied": True, "RestrictAnonymous": {"type": "DWord",
                                                                    "value": 1}}}
    answer = _registry_answer(image("hardened", registry=registry), LSA, "RestrictAnonymous")
    assert answer["error"] == "Requested registry access is not allowed."
    assert answer["value_exists"] is False


def test_null_in_an_extending_image_removes_a_key(tmp_path: Path) -> None:
    path = tmp_path / "no-tls10.yml"
    path.write_text(
        "extends: hardened\n"
        "description: hardened, but the TLS 1.0 key was deleted\n"
        "registry:\n"
        "  HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols"
        "\\TLS 1.0\\Server: null\n"
        "  HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa:\n"
        "    RestrictAnonymous: {type: DWord, value: 0}\n", encoding="utf-8")
    img = load_image(str(path))
    assert load_image("hardened").get("registry")[SCHANNEL + r"\TLS 1.0\Server"]  # was there
    tls10 = _registry_answer(img, SCHANNEL + r"\TLS 1.0\Server", "Enabled")
    assert tls10["key_exists"] is False and tls10["value_exists"] is False
    assert _registry_answer(img, LSA, "RestrictAnonymous")["value"] == 0  # overridden
    # the rest of the parent is still there
    assert _registry_answer(img, LSA, "RestrictAnonymousSAM")["value"] == 1
    tls11 = _registry_answer(img, SCHANNEL + r"\TLS 1.1\Server", "Enabled")
    assert tls11["value_exists"] is True


def test_unknown_feature_is_an_error_not_a_state() -> None:
    request = image_request([])
    request["sections"] = ["features"]
    request["features"] = ["FS-SMB1", "Web-Server"]
    features = run_collector(load_image("hardened"), request)["sections"]["features"]["data"]
    assert features["features"]["FS-SMB1"]["install_state"] == "Installed"
    assert features["features"]["Web-Server"]["install_state"] is None
    assert "no feature named Web-Server" in features["features"]["Web-Server"]["error"]


def test_orphaned_sid_switches_to_adsi() -> None:
    members = [{"name": "SC\\Administrator", "sid": "S-1-5-21-9-9-9-500"},
               {"sid": "S-1-5-21-7-7-7-1105", "orphaned": True}]
    groups = {"S-1-5-32-544": {"name": "VORDEFINIERT\\Administratoren", "members": members}}
    doc = run_collector(image("hardened", local_groups=groups), image_request())
    data = doc["sections"]["local_admins"]["data"]
    assert data["method"] == "ADSI" and "Get-LocalGroupMember failed" in data["note"]
    assert data["group_name"] == "VORDEFINIERT\\Administratoren"
    assert data["members"][1] == {"name": None, "sid": "S-1-5-21-7-7-7-1105",
                                  "object_class": None, "member_type": "Other",
                                  "principal_source": None,
                                  "resolved": False}


def test_missing_administrators_group_fails_the_section() -> None:
    doc = run_collector(image("hardened", local_groups={}), image_request())
    assert doc["sections"]["local_admins"]["ok"] is False


def test_rendered_secedit_is_a_parsable_export() -> None:
    text = render_secedit_inf(load_image("drifted").get("security_policy"))
    assert text.startswith("[Unicode]\r\nUnicode=yes\r\n") and "\r\n[Version]\r\n" in text
    policy = parse_inf(text)
    assert policy.value("System Access", "MinimumPasswordLength") == "8"
    assert policy.right("SeServiceLogonRight") == ["S-1-5-80-0", "svc-backup"]
    assert policy.right("SeTcbPrivilege") == ["S-1-5-21-1004336348-1177238915-682003330-1017"]


def test_rendered_secedit_omits_rights_assigned_to_no_one() -> None:
    text = render_secedit_inf({"System Access": {"PasswordComplexity": True},
                               "Privilege Rights": {"SeTcbPrivilege": None,
                                                    "SeBackupPrivilege": ["*S-1-5-32-544"]}})
    assert "SeTcbPrivilege" not in text
    assert "PasswordComplexity = 1" in text
    assert parse_inf(text).right("SeTcbPrivilege") == []


def test_firewall_profiles_shape() -> None:
    doc = collect(load_image("drifted"))
    data = doc["sections"]["firewall_profiles"]["data"]
    assert {p["name"]: (p["enabled"], p["default_inbound_action"]) for p in data["profiles"]} == \
        {"Domain": ("True", "Block"), "Private": ("False", "NotConfigured"),
         "Public": ("True", "Allow")}
    assert data["active_profile"] == "Public" and data["active_profile_error"] is None


def test_internet_apps_match_the_request_patterns() -> None:
    doc = collect(load_image("hardened"))
    data = doc["sections"]["internet_apps"]["data"]
    assert [a["name"] for a in data["installed"]] == ["Microsoft Edge"]  # not ScreenConnect
    jdoe = next(p for p in data["profiles"] if p["path"] == "C:\\Users\\jdoe")
    assert jdoe["browser_data"] == ["AppData\\Local\\Microsoft\\Edge\\User Data"]


def test_images_are_parsed_once_but_every_host_gets_its_own_copy(tmp_path):
    first, second = load_image("drifted"), load_image("drifted")
    assert first.data == second.data
    first.data["registry"].clear()  # what a fault does to one host's image
    assert load_image("drifted").data["registry"] == second.data["registry"] != {}
    # An edited image file is read again, not served from the cache.
    path = tmp_path / "mine.yml"
    path.write_text("extends: hardened\nidentity: {hostname: ONE}\n")
    assert load_image(str(path)).data["identity"]["hostname"] == "ONE"
    path.write_text("extends: hardened\nidentity: {hostname: TWO-LONGER}\n")
    assert load_image(str(path)).data["identity"]["hostname"] == "TWO-LONGER"


def test_an_edited_parent_image_is_read_again(tmp_path):
    base, child = tmp_path / "base.yml", tmp_path / "child.yml"
    base.write_text("extends: hardened\nidentity: {hostname: OLD}\n")
    child.write_text("extends: base.yml\nos: {caption: Child}\n")
    assert load_image(str(child)).data["identity"]["hostname"] == "OLD"
    base.write_text("extends: hardened\nidentity: {hostname: NEW-NAME}\n")
    assert load_image(str(child)).data["identity"]["hostname"] == "NEW-NAME"


def test_localized_object_class_text_keeps_the_member_type() -> None:
    """Get-LocalGroupMember prints ObjectClass in the system's language; the collector's
    member_type (from the module's own LocalUser/LocalGroup strings) is the type."""
    members = [{"name": "SC\\Administrator", "sid": "S-1-5-21-9-9-9-500"},
               {"name": "CORP\\adm-admins", "sid": "S-1-5-21-7-7-7-5100", "object_class": "Group",
                "principal_source": "ActiveDirectory"}]
    groups = {"S-1-5-32-544": {"name": "VORDEFINIERT\\Administratoren", "members": members,
                               "object_class_text": {"User": "Benutzer", "Group": "Gruppe"}}}
    doc = run_collector(image("hardened", local_groups=groups), image_request())
    shaped = doc["sections"]["local_admins"]["data"]["members"]
    assert [(m["object_class"], m["member_type"]) for m in shaped] == [("Benutzer", "User"),
                                                                       ("Gruppe", "Group")]


def test_the_collector_reads_the_member_type_without_the_language() -> None:
    body = collector_body()
    assert "(New-Object Microsoft.PowerShell.Commands.LocalGroup).ObjectClass" in body
    assert "member_type = Get-CwhMemberType" in body
