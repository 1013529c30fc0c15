"""The STIG policy faults (corpus.STIG_FAULTS), each on its own lab host beside a clean hardened
reference, judged through the real WinRM path in one lab: a touched rule is never NotAFinding
and says why; every other policy rule keeps the reference verdict."""

from __future__ import annotations

import re

import pytest

from cwh.judge.verdict import Status
from cwh.lab.image import load_image
from tests.faults.corpus import IMAGES, STIG_FAULTS
from tests.stig.harness import judge_lab_hosts

REFERENCE = "lab-hardened"
POLICY_KINDS = {"registry", "account_policy", "user_right", "user_rights_sids", "audit_policy",
                "feature", "service", "firewall_profiles", "time_source"}
SYSTEM = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    banner = load_image("hardened").get("registry")[SYSTEM]["LegalNoticeText"]["value"]
    images = {REFERENCE: "hardened"}
    images.update({f.host_name: str(IMAGES / f"{f.image}.yml") for f in STIG_FAULTS})
    return judge_lab_hosts(tmp_path_factory.mktemp("stig-faults"), images,
                           {"cwh_legal_notice_text": banner})


def _param(fault):
    return pytest.param(fault, id=fault.image)


def test_every_fault_image_exists_and_touches_rules_of_its_release():
    for fault in STIG_FAULTS:
        assert (IMAGES / f"{fault.image}.yml").is_file(), fault.image
        assert set(fault.expect) <= fault.touches and (not fault.touches or fault.why)


@pytest.mark.parametrize("fault", [_param(f) for f in STIG_FAULTS if f.touches])
def test_touched_rules_are_never_a_pass(judged, fault):
    host = judged[fault.host_name]
    assert host.facts.ok, host.facts.error
    for stig_id in sorted(fault.touches):
        verdict = host.verdicts[stig_id]
        allowed = {fault.expect[stig_id]} if stig_id in fault.expect else \
            {"Open", "Not_Reviewed"}
        assert str(verdict.status) in allowed, (stig_id, verdict.status, verdict.reason)
        assert re.search(fault.why, verdict.reason), (stig_id, fault.why, verdict.reason)
        if verdict.status is Status.NOT_REVIEWED:
            assert verdict.error, stig_id


@pytest.mark.parametrize("fault", [_param(f) for f in STIG_FAULTS if not f.moves_role])
def test_untouched_policy_rules_keep_the_reference_verdict(judged, fault):
    reference, host = judged[REFERENCE], judged[fault.host_name]
    moved = {r.stig_id: (str(reference.status(r.stig_id)), str(host.status(r.stig_id)),
                         host.verdicts[r.stig_id].reason[:160])
             for r in reference.rules(POLICY_KINDS) if r.stig_id not in fault.touches
             and host.status(r.stig_id) is not reference.status(r.stig_id)}
    assert not moved
