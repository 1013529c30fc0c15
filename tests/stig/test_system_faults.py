"""The fault corpus's facts of the STIG's system kinds (tests/faults/corpus.py,
STIG_SYSTEM_FAULTS), each image on a lab host beside a clean hardened one, judged through the
real path: a touched rule is never NotAFinding and says why; every other rule of the system
kinds keeps the clean host's verdict."""

from __future__ import annotations

import re
import time

import pytest

from cwh.judge.verdict import Status
from tests.faults.corpus import IMAGES, STIG_SYSTEM_FAULTS
from tests.stig.harness import JudgedHost, judge_lab_hosts
from tests.stig.test_system_lab import KINDS

REFERENCE = "ref"


@pytest.fixture(scope="module")
def judged(tmp_path_factory) -> dict[str, JudgedHost]:
    images = {REFERENCE: "hardened"}
    images.update({f"f-{name}": str(IMAGES / f"{name}.yml") for name in STIG_SYSTEM_FAULTS})
    return judge_lab_hosts(tmp_path_factory.mktemp("stig-system-faults"), images)


@pytest.mark.parametrize("name", sorted(STIG_SYSTEM_FAULTS))
def test_a_touched_rule_is_never_a_pass_and_says_why(judged, name):
    touched, why = STIG_SYSTEM_FAULTS[name]
    host = judged[f"f-{name}"]
    for stig_id in sorted(touched):
        verdict = host.verdicts[stig_id]
        assert verdict.status in (Status.OPEN, Status.NOT_REVIEWED), (stig_id, verdict.reason)
        assert re.search(why, verdict.reason), (stig_id, why, verdict.reason)


@pytest.mark.parametrize("name", sorted(STIG_SYSTEM_FAULTS))
def test_no_other_rule_of_the_system_kinds_moves(judged, name):
    touched, _ = STIG_SYSTEM_FAULTS[name]
    reference, host = judged[REFERENCE], judged[f"f-{name}"]
    moved = {r.stig_id: (reference.status(r.stig_id), host.status(r.stig_id),
                         host.verdicts[r.stig_id].reason[:200])
             for r in reference.rules(KINDS) if r.stig_id not in touched
             and host.status(r.stig_id) is not reference.status(r.stig_id)}
    assert not moved


def test_a_file_search_that_hangs_costs_only_itself(tmp_path):
    started = time.monotonic()
    judged = judge_lab_hosts(tmp_path, {"f-hang": str(IMAGES /
                                                       "stig-file-search-section-hangs.yml")},
                             {"cwh_command_timeout_sec": 8})
    host = judged["f-hang"]
    verdict = host.verdicts["WN22-00-000240"]
    assert verdict.status is Status.NOT_REVIEWED
    assert "did not finish within the collector's budget of 4.4 s" in verdict.reason
    for stig_id in ("WN22-00-000140", "WN22-00-000470", "WN22-PK-000010", "WN22-00-000200"):
        assert host.status(stig_id) is Status.NOT_A_FINDING, stig_id  # the others arrived
    assert time.monotonic() - started < 30
