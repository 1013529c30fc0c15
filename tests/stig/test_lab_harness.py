"""The harness itself: one collection per lab host, the host's own release chosen from its OS."""

from __future__ import annotations

import pytest

from tests.stig.harness import judge_lab_hosts


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    return judge_lab_hosts(tmp_path_factory.mktemp("stig-lab"),
                           {"lab-hardened": "hardened", "lab-drifted": "drifted"})


def test_each_host_is_judged_by_its_own_release(judged):
    assert judged["lab-hardened"].release.benchmark_id == "MS_Windows_Server_2022_STIG"
    assert judged["lab-drifted"].release.benchmark_id == "Windows_Server_2019_STIG"
    for host in judged.values():
        assert host.facts.ok, host.facts.error
        assert set(host.verdicts) == {r.stig_id for r in host.release.rules}
