"""Judge every STIG rule of a lab host's benchmark through the real path: the lab's WinRM
endpoint, pywinrm, the collector's one round trip with a request built from the rules
(cwh/collect/needs.py), the facts document, and judge_rule.

The bundled images stand for real servers: `hardened` (Windows Server 2022, standalone) must be
NotAFinding on every automated rule that applies to it, `drifted` (2019, standalone) Open on
every one. Tests of each kind family use `judged_lab` and filter the rules of their kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cwh.catalog.stig_rules import Release, StigRule, committed_releases, release_for_os
from cwh.collect.collect import collect_host
from cwh.collect.facts import HostFacts
from cwh.collect.needs import add_rule
from cwh.collect.request import FactRequest
from cwh.inventory import load_inventory
from cwh.judge.stig import judge_rule
from cwh.judge.verdict import Status, Verdict
from cwh.lab.expectations import lab_stig_inputs
from cwh.lab.process import LabServer
from tests.e2e.audit_run import lab_host, write_inventory

# The organization-defined values inventory/lab.yml declares for its lab hosts (README,
# docs/stig-rules.md): the bench (bench/fleet.py) and these tests read the same ones.
LAB_INPUTS: dict[str, Any] = lab_stig_inputs()


@dataclass
class JudgedHost:
    name: str
    release: Release
    facts: HostFacts
    verdicts: dict[str, Verdict]  # by STIG ID

    def rules(self, kinds: set[str] | None = None) -> list[StigRule]:
        """The automated rules of these kinds (every check of the rule is one of them)."""
        return [r for r in self.release.rules if not r.manual and
                (kinds is None or {str(c.get("kind")) for c in r.checks} <= kinds | {"input"})]

    def status(self, stig_id: str) -> Status:
        return self.verdicts[stig_id].status


def _request(releases: list[Release]) -> FactRequest:
    request = FactRequest()
    for release in releases:
        for rule in release.rules:
            add_rule(request, rule)
    return request


def judge_lab_hosts(tmp_path: Path, images: dict[str, str],
                    inputs: dict[str, Any] | None = None) -> dict[str, JudgedHost]:
    """Start the lab for these hosts (name -> image), collect each once with what every rule of
    every committed release needs, and judge the rules of the release for the host's OS."""
    hosts = {name: lab_host(image, transport="ntlm") for name, image in images.items()}
    inventory = write_inventory(tmp_path, hosts, {**LAB_INPUTS, **(inputs or {})})
    targets = load_inventory(str(inventory)).targets
    releases = committed_releases()
    request = _request(list(releases.values()))
    judged: dict[str, JudgedHost] = {}
    with LabServer(str(inventory), None, tmp_path / "lab", None) as lab:
        lab.start()
        for target in targets:
            facts = collect_host(target, request)
            release = release_for_os(facts.os_version, releases)
            assert release is not None, f"{target.name}: no release for {facts.os_summary()}"
            variables = {k: v for k, v in target.vars.items() if k.startswith("cwh_")}
            verdicts = {r.stig_id: judge_rule(r, facts, variables) for r in release.rules}
            judged[target.name] = JudgedHost(target.name, release, facts, verdicts)
    return judged


def open_or_wrong(host: JudgedHost, kinds: set[str], wanted: Status) -> list[str]:
    """Rules of these kinds that do not have the wanted status on this host, with the reason."""
    return [f"{r.stig_id}: {host.verdicts[r.stig_id].status} ({host.verdicts[r.stig_id].reason})"
            for r in host.rules(kinds)
            if host.verdicts[r.stig_id].status not in (wanted, Status.NOT_APPLICABLE)]
