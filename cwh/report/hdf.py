"""HDF: the Heimdall Data Format "exec JSON" that Heimdall Lite and the SAF CLI load.

One profile for the hardening guide (a control per cwh control) and one per DISA benchmark the
records reference (a control per referenced STIG rule, tagged gid/rid/stig_id/cci as MITRE's
baselines tag them). Each control has one result per host: for a STIG rule that several cwh
controls check, the host's result is their combined status (checklist.STATUS_PRECEDENCE), so
Heimdall, the CKL and the CKLB say the same thing.

Status mapping: NotAFinding -> passed; Open -> failed (a waiver is named in the message);
Not_Reviewed -> skipped with skip_message; Not_Reviewed because the check failed -> error with a
message (never a backtrace: nothing crashed); Not_Applicable -> a skipped result saying why, and
impact 0 when every host's result for the control is Not_Applicable (impact belongs to the
control, not to one host: a control N/A on one host and Open on another keeps its impact, else
Heimdall would hide the finding).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import BENCHMARK_OS, Catalog
from cwh.catalog.xccdf import Benchmark
from cwh.report.checklist import (
    GUIDE_BENCHMARK_ID,
    GUIDE_TITLE,
    SEPARATOR,
    SEVERITIES,
    STATUS_PRECEDENCE,
    TEXT_LIMIT,
    clean,
    combine_statuses,
    comments_text,
    evidence_text,
    guide_texts,
    is_error,
    record_refs,
    record_status,
    severity_impact,
    truncate,
)

HDF_STATUS = {"NotAFinding": "passed", "Open": "failed", "Not_Reviewed": "skipped",
              "Not_Applicable": "skipped"}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # high first


def profile_sha256(profile: Mapping[str, Any]) -> str:
    """sha256 of the profile's canonical JSON (sorted keys, no whitespace, UTF-8), sha256 left
    out."""
    body = {k: v for k, v in profile.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _seconds(value: Any) -> float:
    """A duration as a finite float (JSON has no NaN); 0.0 for anything else."""
    try:
        seconds = float(value or 0)
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds >= 0 else 0.0


def hdf_status(records: list[Mapping[str, Any]]) -> str:
    """The result status for one host's records of one control (several for a shared rule)."""
    status = combine_statuses(record_status(r) for r in records)
    if status == "Not_Reviewed" and any(is_error(r) for r in records):
        return "error"
    return HDF_STATUS[status]


def _result(host: str, records: list[Mapping[str, Any]], subject: str, started: str) -> dict:
    status = combine_statuses(record_status(r) for r in records)
    text = SEPARATOR.join(evidence_text(r) for r in records)
    notes = "\n".join(c for c in (comments_text(r) for r in records) if c)
    message = truncate(clean(text + (f"\n{notes}" if notes else "")), TEXT_LIMIT, "evidence")
    reasons = "; ".join(clean(r.get("reason")) for r in records if r.get("reason"))
    result: dict[str, Any] = {
        "status": hdf_status(records),
        "code_desc": clean(f"{host}: {subject}"),
        "start_time": max((clean(r.get("checked_at")) for r in records), default="") or started,
        "run_time": round(sum(_seconds(r.get("duration")) for r in records), 4),
        "resource_id": clean(host),
    }
    if status == "Not_Applicable":
        result["skip_message"] = truncate(f"Not applicable on {clean(host)}: {reasons}\n{message}",
                                          TEXT_LIMIT, "evidence")
    elif status == "Not_Reviewed" and result["status"] == "skipped":
        result["skip_message"] = truncate(f"Not reviewed on {clean(host)}: {reasons}\n{message}",
                                          TEXT_LIMIT, "evidence")
    else:
        result["message"] = message
    return result


def _impact(severity: str, results: list[list[Mapping[str, Any]]]) -> float:
    every_na = all(combine_statuses(record_status(r) for r in recs) == "Not_Applicable"
                   for recs in results)
    return 0.0 if results and every_na else severity_impact(severity)


def _by_host(records: list[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    hosts: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        hosts.setdefault(clean(record.get("host")) or "unknown-host", []).append(record)
    return dict(sorted(hosts.items()))


def _descriptions(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"label": label, "data": clean(data)} for label, data in pairs if data]


def _profile(name: str, title: str, version: str, summary: str, maintainer: str,
             controls: list[dict], groups: list[dict]) -> dict:
    profile: dict[str, Any] = {
        "name": name, "title": title, "version": version, "maintainer": maintainer,
        "summary": summary, "license": None, "copyright": None,
        "supports": [{"platform-family": "windows"}], "attributes": [], "depends": [],
        "groups": groups, "status": "loaded", "controls": controls,
    }
    profile["sha256"] = profile_sha256(profile)
    return profile


def _worst_severity(records: list[Mapping[str, Any]], default: str) -> str:
    found = [str(r.get("severity")) for r in records if r.get("severity") in _RANK]
    return min(found, key=_RANK.__getitem__) if found else default


def _guide_profile(records: list[Mapping[str, Any]], catalog: Catalog,
                   benchmarks: Mapping[str, Benchmark], started: str) -> dict:
    known = {c.id: c for c in catalog.controls}
    order = {cid: i for i, cid in enumerate(known)}
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        grouped.setdefault(clean(record.get("control_id")) or "unknown-control", []).append(record)
    controls, areas = [], {}
    for cid in sorted(grouped, key=lambda c: (order.get(c, len(order)), c)):
        recs, control = grouped[cid], known.get(cid)
        first = recs[-1]
        severity = _worst_severity(recs, control.severity if control else "medium")
        refs = record_refs(recs)
        ccis = list(dict.fromkeys(
            cci for bid, vid, _ in refs if bid in benchmarks and vid in benchmarks[bid].rules
            for cci in benchmarks[bid].rules[vid].ccis))
        discussion, check = guide_texts(control, first, refs)
        results = list(_by_host(recs).items())
        tags: dict[str, Any] = {
            "severity": severity, "gid": cid, "rid": f"{cid}_rule", "stig_id": cid,
            "stig_refs": [f"{bid} {vid} {sid}" for bid, vid, sid in refs],
            "area": clean(first.get("area")), "source": clean(first.get("source")),
            "guide_section": clean(first.get("guide_section")),
        }
        if ccis:
            tags["cci"] = ccis
        title = clean(first.get("title")) or (control.title if control else cid)
        controls.append({
            "id": cid, "title": title,
            "desc": discussion,
            "descriptions": _descriptions(("default", discussion), ("check", check),
                                          ("fix", clean(first.get("fix")))),
            "impact": _impact(severity, [r for _, r in results]),
            "refs": [], "tags": tags, "code": "",
            "source_location": {"ref": "cwh/catalog/catalog.yml"},
            "results": [_result(host, host_recs, f"{cid} {title}", started)
                        for host, host_recs in results],
        })
        areas.setdefault(clean(first.get("area")) or "other", []).append(cid)
    groups = [{"id": area, "title": f"cwh {area} controls", "controls": ids}
              for area, ids in areas.items()]
    version = catalog.version
    return _profile(GUIDE_BENCHMARK_ID, GUIDE_TITLE, version,
                    f"ConnectWise ScreenConnect hardening guide and related STIG rules, catalog "
                    f"{version}", "cwh", controls, groups)


def _stig_profile(bid: str, by_rule: dict[str, list[Mapping[str, Any]]],
                  benchmark: Benchmark | None, started: str) -> dict:
    rules = benchmark.rules if benchmark else {}
    order = {vid: i for i, vid in enumerate(rules)}
    controls = []
    for vid in sorted(by_rule, key=lambda v: (order.get(v, len(order)), v)):
        recs = by_rule[vid]
        rule = rules.get(vid)
        stig_id = next((clean(ref.get("stig_id")) for r in recs for ref in r.get("stig_refs") or ()
                        if isinstance(ref, Mapping) and ref.get("vuln_id") == vid), "")
        cids = list(dict.fromkeys(clean(r.get("control_id")) for r in recs))
        severity = rule.severity if rule and rule.severity in _RANK else \
            _worst_severity(recs, "medium")
        tags: dict[str, Any] = {"severity": severity, "gid": vid,
                                "stig_id": clean(rule.stig_id) if rule else stig_id,
                                "cwh_controls": cids}
        if rule:
            tags.update(rid=clean(rule.rule_id), gtitle=clean(rule.group_title),
                        cci=[clean(c) for c in rule.ccis])
            if rule.legacy_ids:
                tags["legacy"] = [clean(i) for i in rule.legacy_ids]
        title = clean(rule.title) if rule else \
            f"{stig_id}: " + "; ".join(clean(r.get("title")) for r in recs)
        discussion = clean(rule.description.get("VulnDiscussion", "")) if rule else ""
        results = list(_by_host(recs).items())
        controls.append({
            "id": vid, "title": title,
            "desc": discussion,
            "descriptions": _descriptions(("default", discussion),
                                          ("check", rule.check_content if rule else ""),
                                          ("fix", rule.fix_text if rule else "")),
            "impact": _impact(severity, [r for _, r in results]),
            "refs": [], "tags": tags, "code": "",
            "source_location": {"ref": benchmark.path.name} if benchmark else {},
            "results": [_result(host, host_recs,
                                f"{vid} {tags['stig_id']} checked by " + ", ".join(
                                    dict.fromkeys(clean(r.get("control_id")) for r in host_recs)),
                                started)
                        for host, host_recs in results],
        })
    ids = [c["id"] for c in controls]
    if benchmark:
        return _profile(bid, clean(benchmark.title), benchmark.short_version,
                        clean(f"{benchmark.title} :: Version {benchmark.version}, "
                              f"{benchmark.release_info}; only the rules cwh checks"), "DISA",
                        controls, [{"id": benchmark.path.name, "title": clean(benchmark.title),
                                    "controls": ids}])
    return _profile(bid, bid, "", f"{bid} (benchmark file not given; rule text omitted)", "DISA",
                    controls, [{"id": bid, "controls": ids}])


def render_hdf(records: list[dict], catalog: Catalog, benchmarks: dict[str, Benchmark], *,
               suite_version: str, started: str, duration: float | None) -> dict:
    """The run as Heimdall exec JSON (write it with json.dumps)."""
    records = [r for r in records if isinstance(r, Mapping)]
    by_benchmark: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for record in records:
        refs = dict.fromkeys((str(ref.get("benchmark")), str(ref.get("vuln_id")))
                             for ref in record.get("stig_refs") or ()
                             if isinstance(ref, Mapping) and ref.get("benchmark")
                             and ref.get("vuln_id"))
        for bid, vid in refs:
            by_benchmark.setdefault(bid, {}).setdefault(vid, []).append(record)
    profiles = [_guide_profile(records, catalog, benchmarks, clean(started))]
    for bid in sorted(by_benchmark, key=lambda b: (0 if b in BENCHMARK_OS else 1, b)):
        profiles.append(_stig_profile(bid, by_benchmark[bid], benchmarks.get(bid), clean(started)))
    hosts = sorted({clean(r.get("host")) for r in records})
    statistics: dict[str, Any] = {}
    if duration is not None:
        statistics["duration"] = _seconds(duration)
    return {
        "platform": {"name": "cwh", "release": clean(suite_version),
                     "target_id": ", ".join(hosts)},
        "version": clean(suite_version),
        "statistics": statistics,
        "profiles": profiles,
        "passthrough": {"cwh": {"started": clean(started), "catalog_version": catalog.version,
                                "status_precedence": list(STATUS_PRECEDENCE), "hosts": hosts}},
    }
