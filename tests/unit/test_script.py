"""cwh.collect.script and request: a short constant bootstrap command line, the collector on stdin,
and PowerShell that parses."""

from __future__ import annotations

import base64
import gzip
import json
import re

import pytest
import tree_sitter
import tree_sitter_powershell

from cwh.collect.request import (
    BASE_SECTIONS,
    COLLECTOR_VERSION,
    SECTION_ORDER,
    FactRequest,
    request_for,
)
from cwh.collect.script import (
    BOOTSTRAP_SCRIPT,
    CMD_LINE_LIMIT,
    COLLECTOR_PATH,
    POWERSHELL,
    bootstrap_command,
    build_collector,
    collector_body,
    collector_version,
    decode_stdin_payload,
    encoded_command,
    ps_literal,
    split_collector,
    stdin_payload,
)
from cwh.lab.emulator import EMULATED_COLLECTOR_VERSION
from tests.unit.helpers import CATALOG, LSA, SCHANNEL


def _decode_command(command: str) -> str:
    prefix = f"{POWERSHELL} -EncodedCommand "
    assert command.startswith(prefix)
    return base64.b64decode(command[len(prefix):]).decode("utf-16-le")


# --- the command line -----------------------------------------------------------------------

def test_bootstrap_command_is_short() -> None:
    command = bootstrap_command()
    assert len(command) < 2000  # a quarter of cmd.exe's limit
    assert len(command) < CMD_LINE_LIMIT


def test_bootstrap_command_is_constant() -> None:
    first = bootstrap_command()
    build_collector(request_for(CATALOG.controls).to_json())  # a big request changes nothing
    assert bootstrap_command() == first
    assert encoded_command(BOOTSTRAP_SCRIPT) == first


def test_bootstrap_command_decodes_to_the_bootstrap_script() -> None:
    script = _decode_command(bootstrap_command())
    assert script == BOOTSTRAP_SCRIPT
    assert "$input" in script and "FromBase64String" in script
    assert "-replace '\\s',''" in script  # PowerShell sees \s, not a Python escape


def test_encoded_command_is_utf16le_base64() -> None:
    command = encoded_command("Write-Output 'grüße'")
    assert _decode_command(command) == "Write-Output 'grüße'"
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", command.rsplit(" ", 1)[1])


# --- stdin ------------------------------------------------------------------------------------

@pytest.mark.parametrize("script", [
    "Get-LocalGroupMember -Group 'Administratoren'",
    "Write-Output 'grüße'",
    "Write-Output '管理员'",
    "",
    "x" * 10_000,
])
def test_stdin_payload_round_trip(script: str) -> None:
    payload = stdin_payload(script)
    assert payload.decode("ascii")  # ASCII only: immune to the console code page
    assert decode_stdin_payload(payload) == script


def test_stdin_payload_lines_are_short_and_crlf() -> None:
    payload = stdin_payload("Write-Output '管理员'\n" * 50)
    lines = payload.split(b"\r\n")
    assert lines[-1] == b""
    assert all(0 < len(line) <= 76 for line in lines[:-1])
    # the bootstrap joins $input and removes whitespace: do the same
    joined = re.sub(rb"\s", b"", payload)
    assert gzip.decompress(base64.b64decode(joined)).decode("utf-8") == \
        "Write-Output '管理员'\n" * 50


@pytest.mark.parametrize("payload", [b"not base64 at all!", b"//79", b"QUJD=\r\nRA=="])
def test_decode_stdin_payload_rejects_garbage(payload: bytes) -> None:
    with pytest.raises(ValueError):
        decode_stdin_payload(payload)


# --- the collector script -----------------------------------------------------------------------

def test_ps_literal() -> None:
    assert ps_literal("O'Brien") == "'O''Brien'"
    assert ps_literal("$env:SystemRoot `n") == "'$env:SystemRoot `n'"


def test_build_and_split_round_trip_with_single_quotes() -> None:
    request = FactRequest()
    request.sections.add("registry")
    request.registry.add((r"HKLM\SOFTWARE\O'Brien's Key", "It's"))
    request_json = request.to_json()
    assert "'" in request_json
    script = build_collector(request_json)
    first, _, body = script.partition("\n")
    assert first.startswith("$CwhRequest = '") and "''" in first
    assert split_collector(script) == (request_json, collector_body())
    assert body == collector_body()


def test_split_collector_round_trips_the_real_request() -> None:
    request_json = request_for(CATALOG.controls).to_json()
    assert split_collector(build_collector(request_json)) == (request_json, collector_body())


@pytest.mark.parametrize("script", [
    "Get-Process",
    "$CwhRequest = \"{}\"\n# cwh-collector-version: 1\n",
    "$CwhRequest = '{'x'}'\n# cwh-collector-version: 1\n",  # an unescaped quote
    "$CwhRequest = '{}';Remove-Item C:\\ -Recurse\n# body\n",
    "$CwhRequest = '{}'; Remove-Item C:\\ -Recurse; '\n# body\n",  # code between quotes
])
def test_split_collector_refuses_other_scripts(script: str) -> None:
    assert split_collector(script) is None


def test_collector_version_reads_the_first_line() -> None:
    assert collector_version("# cwh-collector-version: 7\n# rest\n") == "7"
    assert collector_version("# cwh-collector-version:   12  \r\nSet-StrictMode\n") == "12"
    assert collector_version("# a comment\n# cwh-collector-version: 1\n") is None
    assert collector_version("") is None


def test_collector_versions_agree() -> None:
    assert collector_version(collector_body()) == COLLECTOR_VERSION == EMULATED_COLLECTOR_VERSION
    assert not collector_body().startswith("\ufeff")


def test_collector_has_a_handler_for_every_section() -> None:
    body = collector_body()
    block = body.split("$handlers = [ordered]@{", 1)[1].split("\n}", 1)[0]
    handlers = set(re.findall(r"^\s*(\w+) = \{ Get-Cwh\w+ \}", block, re.M))
    assert handlers == set(SECTION_ORDER)
    for name in re.findall(r"\{ (Get-Cwh\w+) \}", block):
        assert f"function {name} {{" in body


def test_collector_reports_every_registry_kind() -> None:
    body = collector_body()
    assert "DoNotExpandEnvironmentNames" in body  # ExpandString stays unexpanded
    for kind in ("DWord", "QWord", "MultiString", "Binary"):
        assert f"'{kind}'" in body
    assert "ConvertTo-Json -InputObject $document -Depth" in body


# --- the request ----------------------------------------------------------------------------

def test_request_for_the_catalog() -> None:
    request = json.loads(request_for(CATALOG.controls).to_json())
    assert request["collector_version"] == COLLECTOR_VERSION
    assert request["sections"] == [s for s in SECTION_ORDER if s in request["sections"]]
    assert {"os", "identity", "registry", "secedit", "features", "firewall_profiles",
            "local_admins", "internet_apps"} <= set(request["sections"])
    assert {"path": LSA, "name": "RestrictAnonymous"} in request["registry"]
    assert {"path": SCHANNEL + r"\SSL 3.0\Server", "name": "Enabled"} in request["registry"]
    assert request["features"] == ["FS-SMB1"]
    for key in ("services", "internet_app_patterns", "browser_data_paths", "max_text_bytes"):
        assert key in request


def test_request_for_one_control_asks_only_for_its_facts() -> None:
    request = json.loads(request_for([CATALOG["CWH-PWD-01"]]).to_json())
    assert request["sections"] == [*BASE_SECTIONS, "secedit"]
    assert request["registry"] == [] and request["features"] == []


def test_applicability_facts_are_requested() -> None:
    request = json.loads(request_for([CATALOG["CWH-STIG-05"]]).to_json())
    assert "features" in request["sections"] and request["features"] == ["FS-SMB1"]


# --- PowerShell syntax -----------------------------------------------------------------------

def _parse_errors(source: str) -> list[str]:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    data = source.encode("utf-8")
    tree = parser.parse(data)
    lines = data.split(b"\n")
    problems: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            row, column = node.start_point
            kind = f"MISSING {node.type}" if node.is_missing else "ERROR"
            text = lines[row].decode("utf-8", "replace").strip() if row < len(lines) else ""
            problems.append(f"{kind} at line {row + 1}, column {column + 1}: {text}")
        stack.extend(node.children)
    assert problems or not tree.root_node.has_error
    return sorted(problems)


def test_the_syntax_checker_finds_errors() -> None:
    assert _parse_errors("function Broken {\n  if ($x -eq 1) {\n    'a'\n")
    assert _parse_errors("$a = @(1, 2")


def test_collector_parses_without_errors() -> None:
    problems = _parse_errors(COLLECTOR_PATH.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


def test_bootstrap_script_parses_without_errors() -> None:
    problems = _parse_errors(_decode_command(bootstrap_command()))
    assert not problems, "\n".join(problems)


def test_built_collector_parses_without_errors() -> None:
    request = request_for(CATALOG.controls)
    request.registry.add((r"HKLM\SOFTWARE\O'Brien", "It's"))
    problems = _parse_errors(build_collector(request.to_json()))
    assert not problems, "\n".join(problems)


# --- what PowerShell 5.1 does to the collector (issue 10, items 17 and 19) --------------------

def _main_loop() -> str:
    return collector_body().split("# --- main", 1)[1]


def test_no_function_returns_an_unprotected_array() -> None:
    """`return @(...)` unrolls: one element reaches the caller as a scalar, none as $null."""
    body = collector_body()
    code = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"\breturn\s+@\(", code)
    assert "'MultiString' { return ,[string[]]@($Raw) }" in body


def test_sections_run_side_by_side_within_the_request_budget() -> None:
    main = _main_loop()
    assert "$budget = [double]$request.section_budget_sec" in main
    assert "CreateRunspacePool($iss)" in main and ".BeginInvoke()" in main
    assert "AsyncWaitHandle.WaitOne($left)" in main
    # A section still running at the budget is reported and stopped, not waited for ...
    assert "timed_out = $true" in main and ".BeginStop($null, $null)" in main
    # ... and its foreground thread cannot keep powershell.exe alive after the document.
    assert main.index("[Console]::Out.Write('CWH-FACTS-GZIP:") < main.index(
        "[Environment]::Exit(0)")


def test_each_runspace_gets_what_the_collector_sets_up_for_itself() -> None:
    main = _main_loop()
    section_script = main.split("$SectionScript = @'", 1)[1].split("'@", 1)[0]
    assert "Set-StrictMode -Version 2.0" in section_script
    assert "$PSDefaultParameterValues[$entry.Key]" in section_script
    assert "ConvertFrom-Json -InputObject $CwhRequest" in section_script
    assert "Get-Variable -Name '*Preference'" in main  # whatever the top of the script sets
    assert "SessionStateFunctionEntry" in main and "-like '*-Cwh*'" in main


def test_the_request_carries_the_section_budget() -> None:
    request = json.loads(request_for(CATALOG.controls).to_json(command_timeout_sec=30))
    assert request["section_budget_sec"] == 22.0
    assert json.loads(request_for(CATALOG.controls).to_json())["section_budget_sec"] == 94.0


def test_the_full_profile_collector_travels_in_one_send() -> None:
    """Every STIG rule of every committed release plus the guide's controls: still one WinRS
    Send (each Send is one more request), thanks to the gzip under the base64."""
    from cwh.catalog.stig_rules import committed_releases
    from cwh.collect.needs import add_rule
    from cwh.transport.session import send_chunk_bytes

    request = request_for(CATALOG.controls)
    for release in committed_releases().values():
        for rule in release.rules:
            add_rule(request, rule)
    payload = stdin_payload(build_collector(request.to_json()))
    assert len(payload) <= send_chunk_bytes()
    assert decode_stdin_payload(payload) == build_collector(request.to_json())


def test_the_lab_answers_a_payload_that_is_not_gzip_as_gzipstream_does() -> None:
    from cwh.lab.emulator import CollectorProcess
    from cwh.lab.image import load_image

    plain = base64.b64encode(b"Write-Output 1").decode() + "\r\n"
    result = CollectorProcess(load_image("hardened")).run(plain.encode())
    assert result.exit_code == 1 and b"magic number in GZip header" in result.stderr
