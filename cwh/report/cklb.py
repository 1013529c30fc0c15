"""CKLB: the STIG Viewer 3 checklist (JSON), in the layout of the real files in
evidence-formats.md 2.2-2.6. Ids are uuid5 values from the host, benchmark and rule, so a rerun
produces the same ids and a checklist tool sees the same checklist, updated.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from cwh.report.asset import Asset
from cwh.report.checklist import IStig, Vuln, stable_uuid

CKLB_VERSION = "1.0"
STATUS = {"NotAFinding": "not_a_finding", "Open": "open", "Not_Applicable": "not_applicable",
          "Not_Reviewed": "not_reviewed"}


def _timestamp(value: str, fallback: str) -> str:
    """ISO 8601 in UTC with milliseconds and Z, as STIG Viewer 3 writes createdAt/updatedAt."""
    for candidate in (value, fallback):
        try:
            moment = dt.datetime.fromisoformat(candidate)
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return "1970-01-01T00:00:00.000Z"


def _target_data(asset: Asset) -> dict[str, Any]:
    return {
        "target_type": asset.asset_type,
        "host_name": asset.host_name,
        "ip_address": asset.host_ip,
        "mac_address": asset.host_mac,
        "fqdn": asset.host_fqdn,
        "comments": asset.target_comment,
        "role": asset.role,
        "is_web_database": asset.web_or_database,
        "technology_area": asset.tech_area,
        "web_db_site": asset.web_db_site,
        "web_db_instance": asset.web_db_instance,
        "classification": asset.marking or None,
    }


def _rule_own(vuln: Vuln, filename: str) -> dict[str, Any]:
    """The part of a rule's entry that only the rule decides (the same for every host)."""
    return {
        # As the CKL's TargetKey and STIGRef say (null where the CKL leaves them empty).
        "target_key": vuln.target_key or None,
        "stig_ref": vuln.stig_ref or None,
        "group_id": vuln.vuln_num,
        "group_id_src": vuln.vuln_num,
        "rule_id": vuln.rule_id_short,
        "rule_id_src": vuln.rule_id,
        "weight": vuln.weight,
        "classification": "Unclassified",
        "severity": vuln.severity,
        "rule_version": vuln.rule_ver,
        "group_title": vuln.rule_title,
        "rule_title": vuln.rule_title,
        "fix_text": vuln.fix_text,
        "false_positives": vuln.false_positives,
        "false_negatives": vuln.false_negatives,
        "discussion": vuln.discussion,
        "check_content": vuln.check_content,
        "documentable": vuln.documentable,
        "mitigations": vuln.mitigations,
        "potential_impacts": vuln.potential_impact,
        "third_party_tools": vuln.third_party_tools,
        "mitigation_control": vuln.mitigation_control,
        "responsibility": vuln.responsibility,
        "security_override_guidance": vuln.security_override_guidance,
        "ia_controls": vuln.ia_controls,
        "check_content_ref": {"href": filename, "name": vuln.check_content_ref},
        "legacy_ids": list(vuln.legacy_ids),
        "ccis": list(vuln.ccis),
        "group_tree": [{"id": vuln.vuln_num, "title": vuln.group_title,
                        "description": "<GroupDescription></GroupDescription>"}],
    }


def _rule_host(vuln: Vuln, istig: IStig) -> dict[str, Any]:
    """The part of a rule's entry that is the host's (after the rule's own part)."""
    when = _timestamp(vuln.checked_at, istig.generated_at)
    return {
        "reference_identifier": vuln.target_key or istig.reference_identifier,
        "createdAt": when,
        "updatedAt": when,
        "STIGUuid": istig.uuid,
        "status": STATUS.get(vuln.status, "not_reviewed"),
        "overrides": ({"severity": {"severity": vuln.severity_override,
                                    "reason": vuln.severity_justification}}
                      if vuln.severity_override else {}),
        "comments": vuln.comments,
        "finding_details": vuln.finding_details,
    }


def _rule(vuln: Vuln, istig: IStig) -> dict[str, Any]:
    return {"uuid": vuln.uuid, "stig_uuid": istig.uuid, **_rule_own(vuln, istig.filename),
            **_rule_host(vuln, istig)}


def _stig_head(istig: IStig) -> dict[str, Any]:
    return {
        "stig_name": istig.title,
        "display_name": istig.display_name,
        "stig_id": istig.benchmark_id,
        "version": istig.version,
        "release_info": istig.release_info,
        "uuid": istig.uuid,
        "reference_identifier": istig.reference_identifier,
        "size": len(istig.vulns),
    }


def _stig(istig: IStig) -> dict[str, Any]:
    return {**_stig_head(istig), "rules": [_rule(vuln, istig) for vuln in istig.vulns]}


def _head(asset: Asset, istigs: list[IStig]) -> dict[str, Any]:
    ids = [istig.benchmark_id for istig in istigs]
    host_key = asset.inventory_name or asset.host_name
    return {
        "title": f"{asset.host_name} - {', '.join(ids)}",
        "id": stable_uuid(host_key, "cklb", *sorted(ids)),
        "cklb_version": CKLB_VERSION,
        "active": False,
        "mode": 1,
        "has_path": True,
        "target_data": _target_data(asset),
    }


def render_cklb(asset: Asset, istigs: list[IStig]) -> dict:
    """The STIG Viewer 3 checklist as a JSON-ready dict (write it with json.dumps)."""
    return {**_head(asset, istigs), "stigs": [_stig(istig) for istig in istigs]}


# --- as text ----------------------------------------------------------------------------------
# A fleet's CKLBs hold the same rules for every host: a rule's own part of its entry is encoded
# once per rule, the host's part per host. render_cklb_text(...) is json.dumps(render_cklb(...))
# compact, byte for byte (tests/evidence/test_evidence_cklb.py holds them equal).

def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _members(data: dict[str, Any]) -> str:
    """A dict's compact JSON without its braces."""
    return _compact(data)[1:-1]


# Every Vuln field but the host's own (_rule_host's, the ids: _rule_own reads none of these),
# so the key holds whatever _rule_own may read.
_HOST_FIELDS = frozenset({"uuid", "stig_uuid", "checked_at", "status", "severity_override",
                          "severity_justification", "comments", "finding_details", "controls"})
_OWN_FIELDS = tuple(f for f in Vuln.__dataclass_fields__ if f not in _HOST_FIELDS)
_OWN_TEXTS: dict[tuple[Any, ...], str] = {}


def _own_text(vuln: Vuln, filename: str) -> str:
    key = (filename, *(getattr(vuln, name) for name in _OWN_FIELDS))
    text = _OWN_TEXTS.get(key)
    if text is None:
        if len(_OWN_TEXTS) >= 4096:
            _OWN_TEXTS.clear()
        text = _OWN_TEXTS[key] = _members(_rule_own(vuln, filename))
    return text


def _rule_text(vuln: Vuln, istig: IStig) -> str:
    head = _members({"uuid": vuln.uuid, "stig_uuid": istig.uuid})
    return f"{{{head},{_own_text(vuln, istig.filename)},{_members(_rule_host(vuln, istig))}}}"


def render_cklb_text(asset: Asset, istigs: list[IStig]) -> str:
    """json.dumps(render_cklb(asset, istigs)) compact, each rule's own part encoded once."""
    stigs = ",".join(f'{{{_members(_stig_head(istig))},"rules":['
                     + ",".join(_rule_text(vuln, istig) for vuln in istig.vulns) + "]}"
                     for istig in istigs)
    return f'{{{_members(_head(asset, istigs))},"stigs":[{stigs}]}}'
