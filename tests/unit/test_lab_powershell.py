"""cwh.lab.powershell: the lab's powershell.exe plays Windows behaviours the collector must
survive (issue 10, items 16, 17 and 19): Constrained Language Mode, arrays PowerShell unrolls,
and sections that take longer than the collector waits."""

from __future__ import annotations

import pytest

from cwh.collect.document import DocumentError, parse_output, stderr_text
from cwh.collect.facts import HostFacts
from cwh.collect.request import request_for, section_budget
from cwh.collect.script import BOOTSTRAP_SCRIPT, bootstrap_command, build_collector, stdin_payload
from cwh.errors import ConfigError
from cwh.lab.emulator import ImageCommandHandler, run_collector
from cwh.lab.image import load_image
from cwh.lab.powershell import Behaviour, check, run_constrained, unroll
from tests.unit.helpers import CATALOG, image, image_request

# The bootstrap as it was before it checked the language mode (issue 10, item 16).
OLD_BOOTSTRAP = ("$ProgressPreference='SilentlyContinue';"
                 "$b=(@($input) -join '') -replace '\\s','';"
                 "& ([ScriptBlock]::Create([Text.Encoding]::UTF8.GetString("
                 "[Convert]::FromBase64String($b))))")
CLM = {"language_mode": "ConstrainedLanguage"}


def _run(img, request_json: str | None = None):
    process = ImageCommandHandler(img).start(bootstrap_command(), skip_cmd_shell=False)
    script = build_collector(request_json or request_for(CATALOG.controls).to_json())
    return process.run(stdin_payload(script))


# --- Constrained Language Mode ----------------------------------------------------------------

def test_the_old_bootstrap_dies_at_frombase64string_in_constrained_language() -> None:
    result = run_constrained(OLD_BOOTSTRAP, "ConstrainedLanguage")
    assert result.stdout == b"" and result.exit_code == 1
    said = stderr_text(result.stderr)
    assert said.startswith("Cannot invoke method. Method invocation is supported only on core "
                           "types in this language mode.")
    assert "MethodInvocationNotSupportedInConstrainedLanguage" in said
    assert f"char:{OLD_BOOTSTRAP.index('[Convert]') + 1}" in said
    # ... which the suite used to report as a command line cut short by cmd.exe.
    with pytest.raises(DocumentError, match=r"cmd\.exe"):
        parse_output(result.stdout, result.stderr, result.exit_code)


def test_the_bootstrap_says_which_language_mode_stopped_it() -> None:
    result = _run(image("hardened", powershell=CLM))
    assert result.stdout == b"CWH-LANGUAGE-MODE:ConstrainedLanguage\r\n"
    with pytest.raises(DocumentError) as caught:
        parse_output(result.stdout, result.stderr, result.exit_code)
    message = str(caught.value)
    assert "runs in ConstrainedLanguage mode" in message
    assert "AppLocker" in message and "exempt" in message and "cmd.exe" not in message


def test_the_guard_comes_before_the_first_call_constrained_language_refuses() -> None:
    guard = BOOTSTRAP_SCRIPT.index("$ExecutionContext.SessionState.LanguageMode")
    assert guard < BOOTSTRAP_SCRIPT.index("[Text.Encoding]")
    assert guard < BOOTSTRAP_SCRIPT.index("[Convert]")
    assert BOOTSTRAP_SCRIPT.index("$input") < guard  # stdin is read first: Send still lands
    assert len(bootstrap_command()) < 2000


def test_full_language_hosts_are_unchanged() -> None:
    result = _run(image("hardened", powershell={"language_mode": "FullLanguage"}))
    assert result.exit_code == 0 and parse_output(result.stdout, b"", 0)["sections"]


# --- arrays as PowerShell unrolls them --------------------------------------------------------

def test_unroll_makes_one_element_arrays_scalars_and_empty_ones_null() -> None:
    assert unroll({"a": [1], "b": [], "c": [1, 2], "d": [[3]], "e": [{"f": ["x"]}],
                   "g": "text", "h": None}) == \
        {"a": 1, "b": None, "c": [1, 2], "d": 3, "e": {"f": "x"}, "g": "text", "h": None}


def test_an_unrolled_document_is_read_the_same() -> None:
    """Accessors read what PowerShell made of one-element and empty arrays as the lists they
    were; the lab makes every section that way under `unrolled_arrays`."""
    edges = {"local_groups": {"S-1-5-32-544": {"name": "BUILTIN\\Administrators", "members": [
                 {"name": "SC-HARDENED\\Administrator", "sid": "S-1-5-21-1-2-3-500"}]}},
             "software": [], "profiles": [{"sid": "S-1-5-21-1-2-3-500", "path": "C:\\Users\\a",
                                           "browser_data": ["AppData\\Local\\Microsoft\\Edge"
                                                            "\\User Data"]}]}
    plain = HostFacts("p", run_collector(image("hardened", **edges), image_request()))
    unrolled = HostFacts("u", run_collector(image("hardened", **edges,
                                                  powershell={"unrolled_arrays": True}),
                                            image_request()))
    assert unrolled.document["sections"]["local_admins"]["data"]["members"] == \
        plain.local_admins()["members"][0]  # a lone object, not a list
    assert unrolled.local_admins()["members"] == plain.local_admins()["members"]
    assert unrolled.internet_apps() == plain.internet_apps()
    assert unrolled.internet_apps()["installed"] == []


# --- slow sections ----------------------------------------------------------------------------

def test_a_section_slower_than_the_budget_times_out_alone() -> None:
    img = image("hardened", powershell={"slow_sections": {"features": 3600,
                                                          "local_admins": 2}})
    result = _run(img, request_for(CATALOG.controls).to_json(command_timeout_sec=10))
    budget = section_budget(10)
    assert budget == 6.0
    assert result.runtime_s == budget  # the collector waits out the budget, no longer
    document = parse_output(result.stdout, result.stderr, result.exit_code)
    features = document["sections"]["features"]
    assert features["ok"] is False and features["timed_out"] is True
    assert "did not finish within the collector's budget of 6 s" in features["error"]
    assert document["sections"]["local_admins"]["ok"] is True  # slow, but within the budget
    assert all(s["ok"] for n, s in document["sections"].items() if n != "features")


@pytest.mark.parametrize(("timeout", "budget"), [(120, 94.0), (30, 22.0), (10, 6.0), (3, 1.0),
                                                 (1, 1.0)])
def test_the_budget_leaves_time_inside_the_command_deadline(timeout: int, budget: float) -> None:
    assert section_budget(timeout) == budget
    assert budget < timeout or timeout == 1


def test_runtime_is_the_slowest_section_or_the_budget() -> None:
    host = Behaviour(slow_sections={"features": 3600, "secedit": 4})
    assert host.runtime(["os", "secedit"], 10) == 4
    assert host.runtime(["os", "features"], 10) == 10
    assert host.runtime(["os"], 10) == 0


def test_a_request_without_the_budget_fails_like_strict_mode() -> None:
    request = request_for(CATALOG.controls).to_json().replace('"section_budget_sec":94.0,', "")
    result = _run(load_image("hardened"), request)
    assert result.exit_code == 1 and result.stdout == b""
    assert b"The property 'section_budget_sec' cannot be found" in result.stderr


# --- the image key --------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [["ConstrainedLanguage"], {"language_mode": "NoLanguage"},
                                  {"slow": 1}, {"slow_sections": {"features": "long"}},
                                  {"slow_sections": {"features": -1}}])
def test_a_bad_powershell_key_is_a_config_error(spec: object) -> None:
    with pytest.raises(ConfigError, match="powershell"):
        check("lab image x.yml", spec)
