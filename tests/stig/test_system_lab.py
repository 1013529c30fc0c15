"""The bundled lab hosts through the real path (tests/stig/harness.py: WinRM, the collector's one
round trip, the facts document, judge_rule) on every automated rule of the STIG's system kinds:
lab-hardened (2022) NotAFinding, lab-drifted (2019) Open, Not_Applicable only where the host's
role or DISA's own condition says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from cwh.catalog.stig_rules import committed_releases
from cwh.judge.verdict import Status
from cwh.lab.expectations import EXEMPTIONS, Exemption, exemption
from tests.stig.harness import LAB_INPUTS, JudgedHost, judge_lab_hosts

KINDS = {"acl", "certificate", "accounts", "group_members", "device_guard", "firmware", "tpm",
         "os", "volumes", "ldap_policy", "applocker", "files", "shares"}
IMAGES = {"lab-hardened": "hardened", "lab-drifted": "drifted"}


def _exemption(host: JudgedHost, stig_id: str) -> Exemption | None:
    """Where the image's verdict is not its name's (cwh/lab/expectations.py), and why."""
    return exemption(IMAGES[host.name], stig_id)


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> dict[str, JudgedHost]:
    return judge_lab_hosts(tmp_path_factory.mktemp("stig-system"), IMAGES)


def _wrong(host: JudgedHost, wanted: Status) -> list[str]:
    wrong = []
    for rule in host.rules(KINDS):
        verdict = host.verdicts[rule.stig_id]
        exempt = _exemption(host, rule.stig_id)
        expected = exempt.status if exempt else wanted
        if verdict.status is Status.NOT_APPLICABLE:
            continue  # judged by test_not_applicable_only_where_the_role_or_disa_says_so
        if verdict.status is not expected:
            wrong.append(f"{rule.stig_id}: {verdict.status} ({verdict.reason[:300]})")
    return wrong


def test_the_lab_inventory_declares_what_the_rules_need():
    assert LAB_INPUTS["cwh_application_accounts"] == ["svc-backup"]
    assert LAB_INPUTS["cwh_backup_operators"] == []


def test_hardened_is_not_a_finding_on_every_rule_of_the_system_kinds(judged):
    host = judged["lab-hardened"]
    assert len(host.rules(KINDS)) >= 33  # every rule of these kinds in the release
    assert not _wrong(host, Status.NOT_A_FINDING)


def test_drifted_is_open_on_every_rule_of_the_system_kinds(judged):
    host = judged["lab-drifted"]
    assert len(host.rules(KINDS)) >= 33  # every rule of these kinds in the release
    assert not _wrong(host, Status.OPEN)


def test_not_applicable_only_where_the_role_or_disa_says_so(judged):
    for host in judged.values():
        for rule in host.rules(KINDS):
            verdict = host.verdicts[rule.stig_id]
            if verdict.status is not Status.NOT_APPLICABLE:
                continue
            exempt = _exemption(host, rule.stig_id)
            if exempt is not None:  # DISA's own condition, e.g. "If none exist, this is NA"
                assert exempt.status is Status.NOT_APPLICABLE, (rule.stig_id, verdict.reason)
                assert exempt.reason_has in verdict.reason, (rule.stig_id, verdict.reason)
            else:  # the lab hosts are standalone: only dc / member rules are NA by role
                assert "standalone" not in rule.roles, (rule.stig_id, verdict.reason)
                assert "this host is a standalone (workgroup) server" in verdict.reason


def test_every_pass_and_finding_names_what_was_read_and_where(judged):
    for host in judged.values():
        for rule in host.rules(KINDS):
            verdict = host.verdicts[rule.stig_id]
            if verdict.status in (Status.NOT_A_FINDING, Status.OPEN):
                assert verdict.evidence and verdict.observed, rule.stig_id
                assert all(e.source and e.location for e in verdict.evidence), rule.stig_id


def test_the_drifted_findings_are_the_drift_the_image_states(judged):
    host = judged["lab-drifted"]
    reasons = {rule.stig_id: host.verdicts[rule.stig_id].reason for rule in host.rules(KINDS)}
    assert "AU (S-1-5-11) holds Modify" in reasons["WN19-00-000140"]
    assert "Program Files (x86)" in reasons["WN19-00-000150"]
    assert "sc-drifted-iis.pfx" in reasons["WN19-00-000240"]
    assert "E: is exFAT" in reasons["WN19-00-000130"]
    assert "'BIOS'" in reasons["WN19-00-000460"]
    assert "adm-jdoe" in reasons["WN19-00-000190"] and "never" in reasons["WN19-00-000190"]
    assert "scan" in reasons["WN19-00-000200"]
    assert "svc-backup" in reasons["WN19-00-000040"]


def test_every_exemption_is_a_rule_of_its_images_release_and_documented():
    """cwh/lab/expectations.py is the one list: each entry names a rule of the image's own
    release, says why in one line, and docs/lab-images.md shows it."""
    releases = {"hardened": "MS_Windows_Server_2022_STIG", "drifted": "Windows_Server_2019_STIG"}
    docs = (Path(__file__).parents[2] / "docs" / "lab-images.md").read_text()
    for entry in EXEMPTIONS:
        release = committed_releases()[releases[entry.image]]
        assert not release.by_stig_id(entry.stig_id).manual, entry
        assert entry.why and "\n" not in entry.why, entry
        assert f"| `{entry.image}` | {entry.stig_id} " in docs, entry
        assert f"| {entry.status.value} |" in docs.split(entry.stig_id, 1)[1].splitlines()[0]
