"""What the corpus run says about the Windows behaviours the lab plays (issue 10, items 11-13,
18): beyond "never a pass", the verdicts name the behaviour, and no secret of it leaks."""

from __future__ import annotations

import pytest

from tests.faults.corpus import corpus_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return corpus_run(tmp_path_factory)


def test_not_configured_inbound_action_passes_on_windows_default_and_says_so(run):
    record = run.by_control("f-firewall-inbound-not-configured")["CWH-NET-05"]
    assert record["status"] == "NotAFinding"
    assert "DefaultInboundAction NotConfigured (Windows' default: Block)" in record["observed"]


def test_a_rule_for_a_profile_not_in_force_is_named_as_not_counted(run):
    record = run.by_control("f-firewall-rule-inactive-profile")["CWH-NET-05"]
    assert record["status"] == "NotAFinding"
    assert "in force for Private" in record["observed"]


@pytest.mark.parametrize(("host", "why"), [
    ("f-netsh-german", "registry only, no corroboration (netsh output not understood"),
    ("f-hostile-netsh", "registry only, no corroboration (netsh output not understood"),
    ("f-sslbinding-registry-unreadable", "netsh only, no corroboration (reading the registry"),
])
def test_a_binding_judged_on_one_source_says_so(run, host: str, why: str):
    record = run.by_control(host)["CWH-WEB-05"]
    assert record["status"] == "NotAFinding" and why in record["reason"]


def test_the_hardened_reference_reads_the_current_netsh_format_and_the_registry(run):
    record = run.by_control("ref")["CWH-WEB-05"]
    assert record["status"] == "NotAFinding" and "no corroboration" not in record["reason"]


def test_shared_configuration_credentials_never_reach_any_output(run):
    text = run.artifacts_text()
    assert "\\\\fs01.corp.example\\iis-shared" in text  # the path is evidence
    for secret in ("c2hhcmVkLWNvbmZpZy1zZWNyZXQ=", "svc-iisconfig"):
        assert secret not in text
