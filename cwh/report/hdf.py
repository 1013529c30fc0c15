"""HDF: the Heimdall Data Format "exec JSON" that Heimdall Lite and the SAF CLI load.

Each host is its own evaluation (`render_host_hdf`): one profile for the hardening guide (a control
per cwh control, first, so the SAF CLI, which reads only a file's first profile, counts exactly
the host's results) and one per DISA benchmark the host's records reference (a control per
referenced STIG rule, tagged gid/rid/stig_id/cci as MITRE's baselines tag them, and nist when a
CCI list gives the mapping). Every control has exactly one result, the host's: for a STIG rule
that several cwh controls check it is their combined status (checklist.STATUS_PRECEDENCE), so
Heimdall, the CKL and the CKLB say the same thing.

The fleet file (`render_fleet_hdf`) holds every host's profiles side by side. Heimdall treats
controls of one file that share an id as one control shown once, so there each control id (and
profile name) carries the host: `CWH-GPO-01@lab-hardened`; tags.gid keeps the plain id.

Status mapping: NotAFinding -> passed; Open -> failed (a waiver is named in the message);
Not_Reviewed -> skipped with skip_message; Not_Reviewed because the check failed -> error with a
message (never a backtrace: nothing crashed); Not_Applicable -> impact 0 and a skipped result
saying why.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import BENCHMARK_OS, Catalog
from cwh.catalog.stig_rules import Release
from cwh.catalog.xccdf import Benchmark
from cwh.report.asset import Asset
from cwh.report.cci import CciList
from cwh.report.checklist import (
    GUIDE_BENCHMARK_ID,
    GUIDE_TITLE,
    SEPARATOR,
    SEVERITIES,
    STATUS_PRECEDENCE,
    TEXT_LIMIT,
    combine_statuses,
    comments_text,
    evidence_text,
    guide_release,
    guide_texts,
    is_error,
    record_refs,
    record_status,
    severity_impact,
)
from cwh.report.counting import guide_counted_through
from cwh.report.hdf_text import ControlPieces
from cwh.report.rule_text import requirement_text
from cwh.report.stig_istig import release_title
from cwh.report.xml_text import clean, truncate

HDF_STATUS = {"NotAFinding": "passed", "Open": "failed", "Not_Reviewed": "skipped",
              "Not_Applicable": "skipped"}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # high first
_DATE = re.compile(r"Benchmark Date:\s*(.+?)\s*$")
NO_NIST = ("no NIST SP 800-53 tags: no DISA CCI list was given (--cci-list), and cwh does not "
           "invent the mapping")


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


def _impact(severity: str, records: list[Mapping[str, Any]]) -> float:
    """0 when the host's result is Not_Applicable (Heimdall then shows Not Applicable)."""
    status = combine_statuses(record_status(r) for r in records)
    return 0.0 if records and status == "Not_Applicable" else severity_impact(severity)


def _descriptions(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"label": label, "data": clean(data)} for label, data in pairs if data]


def _profile(name: str, title: str, version: str | None, summary: str, maintainer: str,
             controls: list[dict], groups: list[dict],
             pieces: ControlPieces | None = None) -> dict:
    profile: dict[str, Any] = {
        "name": name, "title": title, "version": version, "maintainer": maintainer,
        "summary": summary, "license": None, "copyright": None,
        "supports": [{"platform-family": "windows"}], "attributes": [], "depends": [],
        "groups": groups, "status": "loaded", "controls": controls,
    }
    profile["sha256"] = pieces.sha256(profile) if pieces is not None else profile_sha256(profile)
    return profile


def _worst_severity(records: list[Mapping[str, Any]], default: str) -> str:
    found = [str(r.get("severity")) for r in records if r.get("severity") in _RANK]
    return min(found, key=_RANK.__getitem__) if found else default


def _nist_tags(tags: dict[str, Any], ccis: list[str], nist: CciList | None) -> None:
    """tags.nist from the CCIs, only where DISA's CCI list maps them; never guessed."""
    mapped = nist.nist_for(ccis) if nist else []
    if mapped:
        tags["nist"] = mapped


def _nist_note(nist: CciList | None) -> str:
    return nist.describe() if nist else NO_NIST


def _guide_profile(host: str, records: list[Mapping[str, Any]], catalog: Catalog,
                   benchmarks: Mapping[str, Benchmark], nist: CciList | None,
                   started: str, pieces: ControlPieces | None = None) -> dict:
    known = {c.id: c for c in catalog.controls}
    order = {cid: i for i, cid in enumerate(known)}
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if record.get("record_type", "guide_control") != "guide_control":
            continue  # a STIG rule: a control of its benchmark's profile
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
        tags: dict[str, Any] = {
            "severity": severity, "gid": cid, "rid": f"{cid}_rule", "stig_id": cid,
            "stig_refs": [f"{bid} {vid} {sid}" for bid, vid, sid in refs],
            "area": clean(first.get("area")), "source": clean(first.get("source")),
            "guide_section": clean(first.get("guide_section")),
        }
        if ccis:
            tags["cci"] = ccis
        _nist_tags(tags, ccis, nist)
        title = clean(first.get("title")) or (control.title if control else cid)
        controls.append({
            "id": cid, "title": title,
            "desc": discussion,
            "descriptions": _descriptions(("default", discussion), ("check", check),
                                          ("fix", clean(first.get("fix")))),
            "impact": _impact(severity, recs),
            "refs": [], "tags": tags, "code": "",
            "source_location": {"ref": "cwh/catalog/catalog.yml"},
            "results": [_result(host, recs, f"{cid} {title}", started)],
        })
        areas.setdefault(clean(first.get("area")) or "other", []).append(cid)
    groups = [{"id": area, "title": f"cwh {area} controls", "controls": ids}
              for area, ids in areas.items()]
    version = catalog.version
    return _profile(GUIDE_BENCHMARK_ID, GUIDE_TITLE, version,
                    f"ConnectWise ScreenConnect hardening guide and related STIG rules, catalog "
                    f"{version}; {_nist_note(nist)}", "cwh", controls, groups, pieces)


def benchmark_version(benchmark: Benchmark) -> str:
    """The benchmark's version and release as semver (V1R3 -> 1.3.0): Heimdall's HDF-to-CKL
    converter reads a profile version's major as the STIG version and its minor as the release."""
    version, release = clean(benchmark.version), clean(benchmark.release)
    if version.isdigit() and release.isdigit():
        return f"{int(version)}.{int(release)}.0"
    return clean(f"{version} {benchmark.release_info}".strip())


def _rule_title(rule: Any, stig_id: str, recs: list[Mapping[str, Any]]) -> str:
    """The rule's own title, else (no benchmark file) the title of the rule's own record (what
    the suite checks), else the titles of the controls checking it, each once."""
    if rule:
        return clean(rule.title)
    own = [r for r in recs if r.get("record_type") == "stig_rule" and r.get("title")]
    if own:
        return clean(own[0]["title"])
    titles = dict.fromkeys(clean(r.get("title")) for r in recs if r.get("title"))
    return f"{stig_id}: " + "; ".join(titles) if titles else stig_id


def _stig_profile(host: str, bid: str, by_rule: dict[str, list[Mapping[str, Any]]],
                  benchmark: Benchmark | None, nist: CciList | None, started: str,
                  release: Release | None = None, pieces: ControlPieces | None = None) -> dict:
    rules = benchmark.rules if benchmark else {}
    data = {r.vuln_id: r for r in release.rules} if release else {}
    order = {vid: i for i, vid in enumerate(rules or data)}
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
            _nist_tags(tags, tags["cci"], nist)
        if rule is None and vid in data:
            tags["rid"] = clean(data[vid].rule_id)
            tags["stig_id"] = clean(data[vid].stig_id)
            tags["kind"] = data[vid].kind
        title = _rule_title(rule, tags["stig_id"], recs)
        discussion = clean(rule.description.get("VulnDiscussion", "")) if rule else ""
        check = rule.check_content if rule else (requirement_text(data[vid]) if vid in data
                                                 else "")
        controls.append({
            "id": vid, "title": title,
            "desc": discussion,
            "descriptions": _descriptions(("default", discussion), ("check", check),
                                          ("fix", rule.fix_text if rule else "")),
            "impact": _impact(severity, recs),
            "refs": [], "tags": tags, "code": "",
            "source_location": {"ref": benchmark.path.name} if benchmark else {},
            "results": [_result(host, recs, f"{vid} {tags['stig_id']} checked by "
                                + ", ".join(cids), started)],
        })
    ids = [c["id"] for c in controls]
    if benchmark:
        return _profile(bid, clean(benchmark.title), benchmark_version(benchmark),
                        clean(f"{benchmark.title} :: Version {benchmark.version}, "
                              f"{benchmark.release_info}; only the rules cwh checks; "
                              f"{_nist_note(nist)}"), "DISA",
                        controls, [{"id": benchmark.path.name, "title": clean(benchmark.title),
                                    "controls": ids}], pieces)
    if release:
        return _profile(bid, release_title(release),
                        f"{int(release.version)}.{int(release.release)}.0"
                        if release.version.isdigit() and release.release.isdigit() else None,
                        f"{bid} {release.short_version} from cwh's rule data; DISA's rule text "
                        "is not part of cwh (pass the benchmark with --stig-xccdf): titles and "
                        f"checks say what cwh checks; {_nist_note(nist)}", "DISA", controls,
                        [{"id": bid, "controls": ids}], pieces)
    return _profile(bid, bid, None,
                    f"{bid}: the benchmark file was not given (--stig-xccdf), so its version and "
                    "rule text are unknown; titles are those of the cwh controls checking each "
                    "rule", "DISA", controls, [{"id": bid, "controls": ids}], pieces)


def _by_benchmark(records: list[Mapping[str, Any]]) -> dict[str, dict[str, list[Mapping]]]:
    found: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    # A rule's own record first: its result message leads with the rule's verdict.
    for record in sorted(records, key=lambda r: r.get("record_type") != "stig_rule"):
        refs = dict.fromkeys((str(ref.get("benchmark")), str(ref.get("vuln_id")))
                             for ref in record.get("stig_refs") or ()
                             if isinstance(ref, Mapping) and ref.get("benchmark")
                             and ref.get("vuln_id"))
        for bid, vid in refs:
            found.setdefault(bid, {}).setdefault(vid, []).append(record)
    return dict(sorted(found.items(), key=lambda kv: (0 if kv[0] in BENCHMARK_OS else 1, kv[0])))


def _host_profiles(host: str, records: list[Mapping[str, Any]], catalog: Catalog,
                   benchmarks: Mapping[str, Benchmark], nist: CciList | None,
                   started: str, releases: Mapping[str, Release] | None = None,
                   pieces: ControlPieces | None = None) -> list[dict]:
    releases = releases or {}
    # Each check once (cwh/report/counting.py): a guide control counted through the STIG rules
    # that are the same check is shown in those rules' results (and tags.cwh_controls), not as
    # a control of its own, so Heimdall's totals count it once.
    through = guide_counted_through(records)
    guide = [r for r in records if str(r.get("control_id")) not in through]
    profiles = [_guide_profile(host, guide, catalog, benchmarks, nist, started, pieces)]
    for bid, by_rule in _by_benchmark(records).items():
        profiles.append(_stig_profile(host, bid, by_rule, benchmarks.get(bid), nist, started,
                                      releases.get(bid), pieces))
    return profiles


def _host_of(record: Mapping[str, Any]) -> str:
    return clean(record.get("host")) or "unknown-host"


def _profile_metadata(profile: Mapping[str, Any], benchmark: Benchmark | None,
                      catalog_version: str, started: str,
                      release: Release | None = None) -> dict[str, Any]:
    """passthrough.metadata.profiles[] as Heimdall's checklist export reads it (integers)."""
    entry: dict[str, Any] = {"name": profile["name"], "title": profile["title"]}
    if profile["name"] == GUIDE_BENCHMARK_ID:
        version, release_info = guide_release(catalog_version, started)
    elif benchmark is not None:
        version, release_info = clean(benchmark.version), clean(benchmark.release_info)
    elif release is not None:
        version, release_info = release.version, f"Release: {release.release}"
    else:
        return entry
    release = re.search(r"Release:\s*(\d+)", release_info)
    date = _DATE.search(release_info)
    if version.isdigit():
        entry["version"] = int(version)
    if release:
        entry["releasenumber"] = int(release.group(1))
    if date:
        entry["releasedate"] = date.group(1)
    return entry


def _checklist_metadata(asset: Asset | None, profiles: list[dict],
                        benchmarks: Mapping[str, Benchmark], catalog_version: str,
                        started: str,
                        releases: Mapping[str, Release] | None = None) -> dict[str, Any]:
    """What `saf convert hdf2ckl` (Heimdall's checklist export) reads for the CKL's ASSET and
    STIG_INFO, so the checklist it makes names the host and the benchmark releases."""
    releases = releases or {}
    metadata: dict[str, Any] = {
        "profiles": [_profile_metadata(p, benchmarks.get(p["name"]), catalog_version, started,
                                       releases.get(p["name"]))
                     for p in profiles],
    }
    if asset is not None:
        metadata.update(
            hostname=asset.host_name, hostip=asset.host_ip, hostmac=asset.host_mac,
            hostfqdn=asset.host_fqdn, role=asset.role, assettype=asset.asset_type,
            techarea=asset.tech_area, targetcomment=asset.target_comment,
            webordatabase="true" if asset.web_or_database else "false",
            webdbsite=asset.web_db_site, webdbinstance=asset.web_db_instance)
        if asset.marking:
            metadata["marking"] = asset.marking
    return metadata


def _document(profiles: list[dict], target: str, catalog: Catalog, suite_version: str,
              started: str, duration: float | None, hosts: list[str],
              nist: CciList | None) -> dict:
    statistics: dict[str, Any] = {}
    if duration is not None:
        statistics["duration"] = _seconds(duration)
    return {
        "platform": {"name": "cwh", "release": clean(suite_version), "target_id": target},
        "version": clean(suite_version),
        "statistics": statistics,
        "profiles": profiles,
        "passthrough": {"cwh": {"started": clean(started), "catalog_version": catalog.version,
                                "status_precedence": list(STATUS_PRECEDENCE), "hosts": hosts,
                                "nist": _nist_note(nist)}},
    }


def render_host_hdf(host: str, records: list[dict], catalog: Catalog,
                    benchmarks: dict[str, Benchmark], *, suite_version: str, started: str,
                    duration: float | None, asset: Asset | None = None,
                    nist: CciList | None = None,
                    releases: Mapping[str, Release] | None = None,
                    pieces: ControlPieces | None = None) -> dict:
    """One host's evaluation as Heimdall exec JSON (write it with json.dumps). Records of other
    hosts are ignored. `asset` fills passthrough.metadata for Heimdall's checklist export;
    `releases` (the rule data) give a STIG profile its version and rule identifiers when the
    benchmark file is not given. `pieces` encodes each control once for the profiles' sha256
    and keeps the encoding for writing the document (cwh/report/hdf_text.py)."""
    mine = [r for r in records if isinstance(r, Mapping) and _host_of(r) == clean(host)]
    profiles = _host_profiles(clean(host), mine, catalog, benchmarks, nist, clean(started),
                              releases, pieces)
    document = _document(profiles, clean(host), catalog, suite_version, clean(started), duration,
                         [clean(host)], nist)
    document["passthrough"]["metadata"] = _checklist_metadata(
        asset, profiles, benchmarks, catalog.version, clean(started), releases)
    return document


def _for_fleet(profile: dict, host: str) -> dict:
    """A host's profile renamed so it stays apart from the other hosts' in one file. Shallow:
    the renamed parts are new, the rest (results, tags, texts) is shared with the host's own
    document, which nothing changes after rendering."""
    renamed = {k: v for k, v in profile.items() if k != "sha256"}
    renamed["name"] = f"{profile['name']}@{host}"
    renamed["title"] = f"{profile['title']} ({host})"
    renamed["controls"] = [{**control, "id": f"{control['id']}@{host}"}
                           for control in profile["controls"]]
    renamed["groups"] = [{**group, "controls": [f"{cid}@{host}" for cid in group["controls"]]}
                         for group in profile["groups"]]
    renamed["sha256"] = profile_sha256(renamed)
    return renamed


def render_fleet_hdf(records: list[dict], catalog: Catalog, benchmarks: dict[str, Benchmark], *,
                     suite_version: str, started: str, duration: float | None,
                     nist: CciList | None = None,
                     releases: Mapping[str, Release] | None = None,
                     host_profiles: Mapping[str, list[dict]] | None = None) -> dict:
    """Every host's profiles in one exec JSON, each control id and profile name carrying its
    host, so Heimdall counts each host's controls apart (its totals are the sum of the per-host
    files'). The SAF CLI reads only a file's first profile: gate on the per-host files.
    `host_profiles` (the profiles of render_host_hdf's documents, by host) saves rendering
    every host twice."""
    by_host: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        if isinstance(record, Mapping):
            by_host.setdefault(_host_of(record), []).append(record)
    hosts = sorted(by_host)
    known = host_profiles or {}
    profiles = [_for_fleet(profile, host) for host in hosts
                for profile in (known[host] if host in known else _host_profiles(
                    host, by_host[host], catalog, benchmarks, nist, clean(started), releases))]
    return _document(profiles, ", ".join(hosts), catalog, suite_version, clean(started), duration,
                     hosts, nist)


def fleet_frame(hosts: list[str], catalog: Catalog, *, suite_version: str, started: str,
                duration: float | None, nist: CciList | None = None) -> tuple[str, str]:
    """The fleet file's JSON around its profiles, (before, after): a fleet run's profiles are
    written one host at a time between the two (fleet_profiles), so the fleet never has to be
    in memory at once. The result is what render_fleet_hdf gives, compactly written."""
    clean_hosts = [clean(h) for h in hosts]
    document = _document([], ", ".join(clean_hosts), catalog, suite_version, clean(started),
                         duration, clean_hosts, nist)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    marker = '"profiles":[]'
    before, after = text.split(marker, 1)
    return before + '"profiles":[', "]" + after


def fleet_profiles(host: str, profiles: list[dict]) -> list[dict]:
    """A host's profiles (render_host_hdf's) as the fleet file holds them."""
    return [_for_fleet(profile, clean(host)) for profile in profiles]

