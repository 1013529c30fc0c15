"""Collection for the STIG's system kinds: what the rules ask for (cwh/collect/needs_system.py),
and the collector's sections as PowerShell 5.1 runs them (each in a runspace of its own, which
only gets the *-Cwh* functions, $request and $MaxTextBytes)."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
import tree_sitter
import tree_sitter_powershell

from cwh.catalog.stig_rules import committed_releases
from cwh.collect.needs import add_rule
from cwh.collect.needs_system import acl_item, acl_items
from cwh.collect.request import FactRequest
from cwh.collect.script import collector_body
from cwh.lab.platform_sections import FILE_SEARCH_SHARE

SYSTEM_SECTIONS = ("acls", "certificate_stores", "local_accounts", "group_members",
                   "device_guard", "firmware", "tpm", "volumes", "ldap_policy", "applocker",
                   "file_search", "shares")


def _request_for_every_rule() -> dict:
    request = FactRequest()
    for release in committed_releases().values():
        for rule in release.rules:
            add_rule(request, rule)
    return json.loads(request.to_json())


def test_every_system_section_is_requested_by_the_rules_that_need_it():
    request = _request_for_every_rule()
    assert set(SYSTEM_SECTIONS) <= set(request["sections"])
    assert set(request["certificate_stores"]) == {"Root", "Disallowed", "My"}
    assert set(request["groups"]) == {"S-1-5-32-544", "S-1-5-32-551"}
    assert set(request["file_patterns"]) == {"*.p12", "*.pfx"}
    assert {"path": r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion",
            "name": "InstallationType"} in request["registry"]


def test_acl_items_say_where_the_host_looks_the_path_up():
    request = _request_for_every_rule()
    items = {tuple(i) for i in request["acl_paths"]}
    assert ("directory", "%SystemDrive%\\", "", "", "", "") in items
    assert ("file", "%SystemRoot%\\System32\\winevt\\Logs\\Security.evtx", "registry",
            "HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Security", "File",
            "value") in items
    assert ("directory_files", "%SystemRoot%\\NTDS", "registry",
            "HKLM\\SYSTEM\\CurrentControlSet\\Services\\NTDS\\Parameters", "DSA Database file",
            "parent") in items
    assert ("directory", "%SystemRoot%\\SYSVOL", "share", "SYSVOL", "", "parent") in items
    assert all(len(i) == 6 and all(isinstance(p, str) for p in i) for i in items)


def test_only_the_rules_of_a_kind_add_its_section():
    release = committed_releases()["MS_Windows_Server_2022_STIG"]
    request = FactRequest()
    add_rule(request, release.by_stig_id("WN22-00-000470"))  # Secure Boot
    assert request.sections == {"os", "identity", "firmware"} and not request.items


def test_acl_items_for_other_users_are_checked():
    assert acl_item("file", r"%ProgramFiles(x86)%\ScreenConnect\web.config") == \
        ("file", r"%ProgramFiles(x86)%\ScreenConnect\web.config", "", "", "", "")
    for bad in (("tree", "C:\\"), ("file", "C:\\x", "ftp")):
        with pytest.raises(ValueError):
            acl_item(*bad)
    with pytest.raises(KeyError):
        acl_items({"target": "file", "path": "x", "path_from_registry": {"path": "HKLM\\X"}})


# --- the PowerShell ---------------------------------------------------------------------------

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
# What a runspace has without defining it: automatic variables and what $SectionScript sets.
_RUNSPACE_VARIABLES = {"$_", "$null", "$true", "$false", "$request", "$maxtextbytes", "$matches",
                       "$lastexitcode", "$psitem", "$args", "$input"}


@cache
def _functions(script: str | None = None) -> dict[str, tuple[set[str], set[str]]]:
    """Each function's (variables read, variables it defines: parameters, assignments, loops)
    in `script` (default: the collector)."""
    source = (collector_body() if script is None else script).encode("utf-8")
    tree = _PARSER.parse(source)

    def text(node) -> str:
        return source[node.start_byte:node.end_byte].decode("utf-8").lower()

    def below(node, kind: str) -> list:
        found, stack = [], [node]
        while stack:
            current = stack.pop()
            if current.type == kind:
                found.append(current)
            stack.extend(current.children)
        return found

    functions = {}
    for function in below(tree.root_node, "function_statement"):
        name = next(text(c) for c in function.children if c.type == "function_name")
        used = {text(v) for v in below(function, "variable")}
        defined = {text(v) for a in below(function, "left_assignment_expression")
                   for v in below(a, "variable")}
        defined |= {text(c) for loop in below(function, "foreach_statement")
                    for c in loop.children if c.type == "variable"}
        defined |= {text(v) for p in below(function, "script_parameter")
                    for v in below(p, "variable")}
        functions[name] = (used, defined)
    return functions


def _script_scope_reads(name: str, script: str | None = None) -> set[str]:
    used, defined = _functions(script)[name]
    return {v for v in used - defined - _RUNSPACE_VARIABLES
            if not v.startswith(("$env:", "${env:", "@"))}


_RUNSPACE_FUNCTIONS = sorted(n for n in _functions() if "-cwh" in n and
                             n not in ("start-cwhsections",))  # Start- runs in the main scope


@pytest.mark.parametrize("name", _RUNSPACE_FUNCTIONS)
def test_no_section_function_reads_a_variable_its_runspace_does_not_have(name):
    assert not _script_scope_reads(name)


def test_the_checker_finds_a_script_scope_read():
    script = ("$Limit = 500\nfunction Get-CwhThing {\n    param([string]$Path)\n"
              "    $count = 0\n    if ($count -gt $Limit) { throw $Path }\n}\n")
    assert _script_scope_reads("get-cwhthing", script) == {"$limit"}


def test_the_system_sections_have_their_handlers_and_protect_their_arrays():
    body = collector_body()
    for name in SYSTEM_SECTIONS:
        assert re.search(rf"^\s*{name} = \{{ Get-Cwh\w+ \}}", body, re.M), name
    assert "return ,($property.Value)" in body  # Get-CwhMember hands arrays back whole


def test_the_file_search_limit_is_the_one_the_lab_plays():
    body = collector_body()
    assert f"[double]$request.section_budget_sec * {FILE_SEARCH_SHARE})" in body
    for switch in ("'/L'", "'/B'", "'/XJ'", "'/NDL'", "'/FP'", "'\"/UNILOG:'"):
        assert switch in body, switch
    assert "$process.Kill()" in body  # a search past its limit is stopped, and says so


def test_secure_boot_and_acl_errors_keep_their_exception_type():
    body = collector_body()
    assert "Confirm-SecureBootUEFI" in body and "error_type = $failure.error_type" in body
    assert "[IO.File]::GetAttributes($Path)" in body  # tells "not there" from "denied"
    assert "Get-Acl -LiteralPath" in body
