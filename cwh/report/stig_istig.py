"""A checklist iSTIG for a Windows Server STIG release from the rule data alone (no XCCDF).

Every rule of the release is there, with its identifiers and severity from the data; DISA's
prose is not (it is never committed): the rule title and check content say what the suite
checks (cwh/report/rule_text.py), discussion and fix text point to the XCCDF. A rule the run
judged carries its status, finding details and comments like any other; the rest are
Not_Reviewed with empty details, as with the XCCDF.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cwh.catalog.stig_rules import Release, StigRule
from cwh.report.checklist import IStig, Vuln, assessed_vuln, stable_uuid
from cwh.report.rule_text import requirement_text, rule_title
from cwh.report.xml_text import clean

NO_TEXT = ("DISA's text is not part of cwh (it is never committed); pass the benchmark with "
           "--stig-xccdf to see it here.")


def release_title(release: Release) -> str:
    return f"Microsoft Windows Server {release.os_version} Security Technical Implementation Guide"


def release_info(release: Release) -> str:
    # "Release: N " followed by more text: STIG Manager reads the release from that pattern.
    return f"Release: {release.release} Benchmark Date: not known (no XCCDF given)"


@lru_cache(maxsize=4096)
def _texts(rule: StigRule) -> tuple[str, str]:
    """(title, check content) of a rule: the same for every host, made once."""
    return clean(rule_title(rule)), clean(requirement_text(rule))


def _vuln(rule: StigRule, istig_uuid: str, stig_ref: str, host_key: str,
          records: list[Mapping[str, Any]], provenance: str) -> Vuln:
    title, check = _texts(rule)
    base: dict[str, Any] = dict(
        vuln_num=clean(rule.vuln_id), rule_id=clean(rule.rule_id), rule_ver=clean(rule.stig_id),
        severity=rule.severity, rule_title=title,
        discussion=NO_TEXT, check_content=check, fix_text=NO_TEXT,
        stig_ref=stig_ref, stig_uuid=istig_uuid,
        uuid=stable_uuid(host_key, rule.benchmark_id, rule.vuln_id))
    return assessed_vuln(base, records, f"{rule.vuln_id} ({rule.stig_id})", provenance)


def release_istig(release: Release, host_key: str,
                  by_rule: dict[str, list[Mapping[str, Any]]], provenance: str,
                  generated_at: str) -> IStig:
    """Every rule of the release; `by_rule` maps a Vuln ID to the host's records for it."""
    bid = release.benchmark_id
    info = release_info(release)
    istig_uuid = stable_uuid(host_key, bid, release.version, info)
    title = release_title(release)
    stig_ref = f"{title} :: Version {release.version}, {info}"
    vulns = tuple(_vuln(rule, istig_uuid, stig_ref, host_key, by_rule.get(rule.vuln_id, []),
                        provenance) for rule in release.rules)
    known = {r.vuln_id for r in release.rules}
    unmatched = tuple(f"{clean(r.get('control_id'))} -> {v}" for v, recs in by_rule.items()
                      if v not in known for r in recs)
    return IStig(benchmark_id=bid, title=title, version=release.version, release_info=info,
                 filename=f"{bid}-{release.short_version}.json (cwh rule data)",
                 description=clean(f"{bid} {release.short_version} as cwh's rule data: every "
                                   f"rule with its identifiers and severity. {NO_TEXT}"),
                 uuid=istig_uuid, vulns=vulns, generated_at=generated_at, unmatched=unmatched)
