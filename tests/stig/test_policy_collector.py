"""collector.ps1's STIG policy sections, read as PowerShell 5.1 would run them in their
runspaces: every function they call is copied into the runspace (named *-Cwh*), every request
key they read is always sent (Set-StrictMode), and no lookup can hold the section hostage."""

from __future__ import annotations

import json
import re

from cwh.collect.request import FactRequest
from cwh.collect.script import collector_body

POLICY_FUNCTIONS = ("Get-CwhAuditPolicy", "Get-CwhServiceStates", "Get-CwhAccountSids",
                    "Resolve-CwhAccount", "Resolve-CwhRightHolders", "Get-CwhAccountDomainSids")


def function_body(name: str) -> str:
    body = collector_body()
    start = body.index(f"function {name} {{")
    following = re.compile(r"^(?:function \w+-Cwh|# --- )", re.M).search(body, start + 1)
    return body[start:following.start() if following else None]


def test_the_policy_functions_exist_and_are_copied_into_each_runspace():
    for name in POLICY_FUNCTIONS:
        assert re.fullmatch(r"\w+-Cwh\w+", name)  # Start-CwhSections copies '*-Cwh*' only
        assert f"function {name} {{" in collector_body()


def test_every_request_key_the_collector_reads_is_always_sent():
    sent = set(json.loads(FactRequest().to_json()))
    read = set(re.findall(r"\$request\.(\w+)", collector_body()))
    assert read <= sent, read - sent
    assert {"service_names", "account_names"} <= read


def test_no_policy_function_reads_a_script_variable_the_runspace_does_not_have():
    for name in POLICY_FUNCTIONS:
        text = function_body(name)
        assert "$script:" not in text and "$CwhDomainLookup" not in text, name


def test_auditpol_report_and_backup_each_fail_alone():
    text = function_body("Get-CwhAuditPolicy")
    assert "@('/get', '/category:*', '/r')" in text and "'/backup'" in text
    assert text.count("catch {") == 2 and "Remove-Item -LiteralPath $file" in text


def test_the_domain_sid_lookups_are_bounded_and_an_abandoned_one_ends_the_process():
    text = function_body("Get-CwhAccountDomainSids")
    assert ".BeginInvoke()" in text and "AsyncWaitHandle.WaitOne(" in text
    assert "SetData('CwhAbandonedLookup', $true)" in text
    main = collector_body().split("# --- main", 1)[1]
    exit_block = main[main.index("GetData('CwhAbandonedLookup')"):]
    assert "[Environment]::Exit(0)" in exit_block
    # no localized name is looked up: domains by DNS name, the machine by RID 500
    assert "Domain Admins" not in text and "SID LIKE 'S-1-5-21-%-500'" in text


def test_right_holder_lookups_stop_at_a_share_of_the_budget():
    text = function_body("Resolve-CwhRightHolders")
    assert "section_budget_sec / 3" in text and "not looked up" in text


def test_a_service_query_that_lists_nothing_fails_instead_of_reading_as_none_installed():
    assert "throw 'Win32_Service listed no services at all'" in \
        function_body("Get-CwhServiceStates")
