"""The checklist model: one host's results laid out the way STIG checklists hold them.

Built once per host and rendered by `ckl` (STIG Viewer 2), `cklb` (STIG Viewer 3); `hdf` (Heimdall)
reuses the status rules and the evidence text. Everything here is plain, frozen data with every
text already cleaned for XML 1.0, so a renderer only lays it out.

One iSTIG per DISA benchmark the host's results reference (when that benchmark file was given),
holding every rule of the benchmark with its full text; plus one iSTIG for the hardening guide
itself, holding every control of the host's results.

Several controls can map to one STIG rule (CWH-TLS-01, -02, -03 and CWH-STIG-07 all map to IIS
V-218821). The rule's status is the worst of theirs, in this order (STATUS_PRECEDENCE):

    Open > Not_Reviewed > NotAFinding > Not_Applicable

- any Open makes the rule Open (a waived finding stays Open; the waiver is in COMMENTS);
- otherwise anything not reviewed (an error, a manual control) keeps the rule Not_Reviewed: one
  compliant part never vouches for a part nobody could check;
- NotAFinding needs at least one compliant part and every other part compliant or N/A;
- Not_Applicable only when every part is Not_Applicable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cwh.catalog.model import BENCHMARK_OS, Catalog, Combination, Condition, Control
from cwh.catalog.xccdf import Benchmark, Rule
from cwh.report.xml_text import clean, one_line, truncate, utf16_len

GUIDE_BENCHMARK_ID = "ConnectWise_ScreenConnect_Hardening"
GUIDE_TITLE = "ConnectWise ScreenConnect Hardening"
GUIDE_FILENAME = "catalog.yml"

STATUSES = ("NotAFinding", "Open", "Not_Applicable", "Not_Reviewed")
STATUS_PRECEDENCE = ("Open", "Not_Reviewed", "NotAFinding", "Not_Applicable")  # worst first
SEVERITIES = ("high", "medium", "low")

# STIG Manager truncates FINDING_DETAILS and COMMENTS at 32767 characters, counted as JavaScript
# (and Java) count them: UTF-16 code units. Stay below with room for the truncation note.
TEXT_LIMIT = 32000
FIELD_LIMIT = 4000  # one observed value or raw excerpt, so every part of a rule keeps its place
VERDICT_PART_LIMIT = 300  # expected / observed / reason in a one-line verdict (comments, JUnit)
SEPARATOR = "\n--------------------------------\n"  # Heimdall's own separator between results

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cwh:evidence-export")
_NAMESPACE_BYTES = _NAMESPACE.bytes
_CALVER = re.compile(r"^(\d{4})\.(\d{1,2})(?:\.|$)")
_IMPACT = {"high": 0.7, "medium": 0.5, "low": 0.3}


# --- text -------------------------------------------------------------------------------------

def _indent(text: str, prefix: str) -> str:
    return text.replace("\n", "\n" + prefix)


def severity_impact(severity: str) -> float:
    return _IMPACT.get(severity, 0.5)


# --- the model --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Vuln:
    """One rule of a checklist with its result (a CKL VULN, a CKLB rule)."""

    vuln_num: str  # group id V-..., or the control ID in the guide
    rule_id: str  # with the _rule suffix
    rule_ver: str  # STIG ID, or the control ID in the guide
    severity: str
    rule_title: str
    group_title: str = ""  # the SRG id for DISA rules
    discussion: str = ""
    check_content: str = ""
    fix_text: str = ""
    ia_controls: str = ""
    false_positives: str = ""
    false_negatives: str = ""
    documentable: str = "false"
    mitigations: str = ""
    potential_impact: str = ""
    third_party_tools: str = ""
    mitigation_control: str = ""
    responsibility: str = ""
    security_override_guidance: str = ""
    check_content_ref: str = "M"
    weight: str = "10.0"
    rule_class: str = "Unclass"
    stig_ref: str = ""
    target_key: str = ""
    stig_uuid: str = ""
    uuid: str = ""
    legacy_ids: tuple[str, ...] = ()
    ccis: tuple[str, ...] = ()
    status: str = "Not_Reviewed"
    finding_details: str = ""
    comments: str = ""
    severity_override: str = ""
    severity_justification: str = ""
    controls: tuple[str, ...] = ()  # the controls whose results make this status; () = not run
    checked_at: str = ""  # newest check time of those results (ISO 8601), or ""

    @property
    def evaluated(self) -> bool:
        return bool(self.controls)

    @property
    def rule_id_short(self) -> str:
        return self.rule_id.removesuffix("_rule")


@dataclass(frozen=True)
class IStig:
    """One benchmark in a checklist (CKL iSTIG, CKLB stigs[])."""

    benchmark_id: str  # SID stigid
    title: str
    version: str
    release_info: str  # "Release: N Benchmark Date: DD Mon YYYY"
    filename: str
    description: str
    uuid: str
    vulns: tuple[Vuln, ...]
    reference_identifier: str = ""
    classification: str = "UNCLASSIFIED"
    notice: str = "terms-of-use"
    source: str = "STIG.DOD.MIL"
    customname: str = ""
    is_guide: bool = False
    generated_at: str = ""  # newest check time of the host's results (ISO 8601)
    unmatched: tuple[str, ...] = ()  # "CWH-X -> V-1": references the benchmark file lacks

    @property
    def release(self) -> str:
        match = re.search(r"Release:\s*(\S+)", self.release_info)
        return match.group(1) if match else ""

    @property
    def display_name(self) -> str:
        return self.title.removesuffix(" Security Technical Implementation Guide").strip()

    @property
    def stig_ref(self) -> str:
        return f"{self.title} :: Version {self.version}, {self.release_info}"


def stable_uuid(*parts: str) -> str:
    """The same id for the same host, benchmark and rule on every run: uuid5, the same string
    str(uuid.uuid5(...)) gives, without a UUID object (one per rule per host in a fleet's
    checklists)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode("utf-8"))
                       .digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    hexed = digest.hex()
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"


# --- statuses ---------------------------------------------------------------------------------

def record_status(record: Mapping[str, Any]) -> str:
    status = str(record.get("status", ""))
    return status if status in STATUSES else "Not_Reviewed"


def combine_statuses(statuses: Iterable[str]) -> str:
    """The status of a rule several results map to: the worst by STATUS_PRECEDENCE."""
    present = {s if s in STATUSES else "Not_Reviewed" for s in statuses}
    if not present:
        return "Not_Reviewed"
    return next(s for s in STATUS_PRECEDENCE if s in present)


def is_error(record: Mapping[str, Any]) -> bool:
    return record_status(record) == "Not_Reviewed" and bool(record.get("error"))


# --- evidence text ----------------------------------------------------------------------------

def _field(label: str, value: Any, limit: int = FIELD_LIMIT) -> str:
    text = truncate(clean(value).strip(), limit, label.lower())
    return f"{label}: {_indent(text, '  ')}" if text else ""


def _waiver_state(waiver: Mapping[str, Any]) -> str:
    return "EXPIRED" if waiver.get("expired") else "active"


def status_line(record: Mapping[str, Any]) -> str:
    status = record_status(record)
    notes = []
    if str(record.get("status", "")) not in STATUSES:
        notes.append(f"the result said {clean(record.get('status'))!r}, which is no status")
    if is_error(record):
        notes.append("the check could not be completed")
    if record.get("manual") and status == "Not_Reviewed":
        notes.append("manual control: an assessor decides")
    waiver = record.get("waiver")
    if isinstance(waiver, Mapping) and status == "Open":
        notes.append(f"waived by {clean(waiver.get('id')) or 'a waiver'}, "
                     f"{_waiver_state(waiver)}")
    return status + (f" ({'; '.join(notes)})" if notes else "")


# evidence_text of a record, made once: JUnit, the checklists and the HDF each show it (50,000
# records in a fleet run), with two field limits (FIELD_LIMIT, and a little less inside a
# checklist's finding details), which give the same text whenever no field is longer than the
# smaller one. Keyed by id() with the record kept, so an id is never reused while cached; records
# are not changed once made.
_EVIDENCE_TEXTS: dict[int, tuple[Mapping[str, Any], str, int, int]] = {}


def evidence_text(record: Mapping[str, Any], field_limit: int = FIELD_LIMIT) -> str:
    """One control's result as readable text: what was expected, what was there, on which host
    and when, then each piece of evidence (last, so a cut for length only shortens the list)."""
    cached = _EVIDENCE_TEXTS.get(id(record))
    if cached is not None and cached[0] is record:
        _, text, limit, longest = cached
        if field_limit == limit or longest <= min(field_limit, limit):
            return text  # no field is cut at either limit: the same text
        return _evidence_text(record, field_limit)[0]
    text, longest = _evidence_text(record, field_limit)
    _EVIDENCE_TEXTS[id(record)] = (record, text, field_limit, longest)
    return text


def forget_evidence_texts() -> None:
    """Drop the cache (the run's reports are written)."""
    _EVIDENCE_TEXTS.clear()


def _evidence_text(record: Mapping[str, Any], field_limit: int) -> tuple[str, int]:
    """The text, and the length of its longest field before any cut (UTF-16 code units)."""
    longest = 0

    def cut(text: str, what: str) -> str:
        nonlocal longest
        size = utf16_len(text)
        longest = max(longest, size)
        return text if size <= field_limit else truncate(text, field_limit, what)

    lines = [f"{clean(record.get('control_id'))}: {clean(record.get('title'))}",
             f"Status: {status_line(record)}"]
    for label, key in (("Reason", "reason"), ("Requirement", "requirement"),
                       ("Expected", "expected"), ("Observed", "observed")):
        text = cut(clean(record.get(key)).strip(), label.lower())
        if text:
            lines.append(f"{label}: {_indent(text, '  ')}")
    os_name = clean(record.get("os")) or "unknown"
    os_version = clean(record.get("os_version"))
    lines.append(f"Host OS: {os_name}" + (f" (Windows Server {os_version})" if os_version else ""))
    checked = clean(record.get("checked_at"))
    nodeid = clean(record.get("nodeid"))
    lines.append(f"Checked: {checked or 'unknown time'} on {clean(record.get('host'))}"
                 + (f" by {nodeid}" if nodeid else ""))
    items = [e for e in record.get("evidence") or () if isinstance(e, Mapping)]
    if items:
        lines.append("Evidence:")
    for number, item in enumerate(items, start=1):
        head = ": ".join(p for p in (clean(item.get("source")), clean(item.get("location"))) if p)
        lines.append(f"  {number}. {_indent(head, '     ')}")
        for label in ("observed", "expected", "raw"):
            text = cut(clean(item.get(label)).strip(), label)
            if text:
                lines.append(f"     {label}: {_indent(text, '       ')}")
    return "\n".join(lines), longest


def comments_text(record: Mapping[str, Any]) -> str:
    """Waiver, attestation and assessor notes for one control (empty when there are none)."""
    control = clean(record.get("control_id"))
    lines = []
    waiver = record.get("waiver")
    if isinstance(waiver, Mapping):
        expires = clean(waiver.get("expires")) or "no date"
        lines.append(f"{control}: waiver {clean(waiver.get('id'))} accepts this finding; the "
                     "status stays Open.")
        lines.append(f"  Justification: {_indent(clean(waiver.get('justification')), '  ')}")
        lines.append(f"  Approver: {clean(waiver.get('approver'))}")
        if waiver.get("ticket"):
            lines.append(f"  Ticket: {clean(waiver.get('ticket'))}")
        if waiver.get("expired"):
            lines.append(f"  Expires: {expires}. EXPIRED: the finding counts again.")
        else:
            lines.append(f"  Expires: {expires} (active)")
    for item in record.get("evidence") or ():
        if isinstance(item, Mapping) and "attestation" in str(item.get("source", "")):
            note = clean(item.get("raw")).strip()
            lines.append(f"{control}: {clean(item.get('observed'))}"
                         + (f". Note: {_indent(note, '  ')}" if note else ""))
    if record.get("manual") and record_status(record) == "Not_Reviewed":
        lines.append(f"{control}: manual control; the evidence collected is in the finding "
                     "details, an assessor decides the status.")
    return "\n".join(lines)


def _details(records: list[Mapping[str, Any]], status: str, subject: str, provenance: str) -> str:
    if len(records) == 1:
        header = f"Result: {status}. {subject} checked automatically by {provenance}."
    else:
        parts = "\n".join(f"  {clean(r.get('control_id'))}: {status_line(r)}" for r in records)
        header = (f"Result: {status}, the worst of the {len(records)} results for {subject} "
                  "(the rule's own and those of the cwh controls that are the same check; "
                  f"Open > Not_Reviewed > NotAFinding > Not_Applicable), checked "
                  f"automatically by {provenance}:\n{parts}")
    budget = max(1000, (TEXT_LIMIT - utf16_len(header)) // len(records) - len(SEPARATOR))
    field_limit = min(FIELD_LIMIT, max(200, budget // 8))
    blocks = [truncate(evidence_text(r, field_limit), budget, "evidence") for r in records]
    return truncate(SEPARATOR.join([header, *blocks]), TEXT_LIMIT, "finding details")


def _short(value: Any, limit: int) -> str:
    text = one_line(value)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "\u2026"


def verdict_line(record: Mapping[str, Any], limit: int = VERDICT_PART_LIMIT, *,
                 with_id: bool = True) -> str:
    """One control's verdict on one line: status (with waiver or error notes), expected and
    observed; the reason where expected vs observed does not say it (N/A, not reviewed)."""
    status = record_status(record)
    parts = [(f"{one_line(record.get('control_id'))}: " if with_id else "")
             + status_line(record)]
    for label in ("expected", "observed"):
        if one_line(record.get(label)):
            parts.append(f"{label} {_short(record.get(label), limit)}")
    wants_reason = status in ("Not_Applicable", "Not_Reviewed") or len(parts) == 1
    if wants_reason and one_line(record.get("reason")):
        parts.append(f"reason: {_short(record.get('reason'), limit)}")
    return "; ".join(parts)


def _comments(records: list[Mapping[str, Any]], status: str, provenance: str) -> str:
    """The reviewer's statement: who assessed it, the verdict and why in a few lines, then the
    waiver, attestation and manual notes. Never empty for an assessed rule: STIG Manager (under
    its default "a finding needs a comment") imports a review without one as saved, not
    submitted."""
    hosts = ", ".join(dict.fromkeys(one_line(r.get("host")) for r in records))
    checked = _newest(records)
    head = (f"Assessed automatically by {provenance} on {hosts or 'an unnamed host'}"
            f"{' at ' + checked if checked else ''}: {status}. The evidence is in the finding "
            "details.")
    lines = [head, *(verdict_line(r) for r in records),
             *(c for c in (comments_text(r) for r in records) if c)]
    return truncate("\n".join(lines), TEXT_LIMIT, "comments")


# --- building ---------------------------------------------------------------------------------

def _newest(records: Iterable[Mapping[str, Any]]) -> str:
    return max((clean(r.get("checked_at")) for r in records), default="")


def _by_control(records: Iterable[Mapping[str, Any]], catalog: Catalog) -> \
        dict[str, list[Mapping[str, Any]]]:
    """The host's records grouped by control, in catalog order (unknown IDs last, sorted)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        grouped.setdefault(clean(record.get("control_id")) or "unknown-control", []).append(record)
    order = {c.id: i for i, c in enumerate(catalog.controls)}
    return dict(sorted(grouped.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def _refs(record: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    refs = []
    for ref in record.get("stig_refs") or ():
        if isinstance(ref, Mapping) and ref.get("benchmark") and ref.get("vuln_id"):
            refs.append((str(ref["benchmark"]), str(ref["vuln_id"]), str(ref.get("stig_id", ""))))
    return refs


def _benchmark_order(benchmark_id: str) -> tuple[int, str]:
    return (0 if benchmark_id in BENCHMARK_OS else 1, benchmark_id)


def _rule_vuln(rule: Rule, istig_uuid: str, stig_ref: str, host_key: str, benchmark_id: str,
               records: list[Mapping[str, Any]], provenance: str) -> Vuln:
    d = rule.description
    base = dict(
        vuln_num=clean(rule.vuln_id), rule_id=clean(rule.rule_id), rule_ver=clean(rule.stig_id),
        severity=rule.severity if rule.severity in SEVERITIES else "medium",
        rule_title=clean(rule.title), group_title=clean(rule.group_title),
        discussion=clean(d.get("VulnDiscussion")), check_content=clean(rule.check_content),
        fix_text=clean(rule.fix_text), ia_controls=clean(d.get("IAControls")),
        false_positives=clean(d.get("FalsePositives")),
        false_negatives=clean(d.get("FalseNegatives")),
        documentable=clean(d.get("Documentable")) or "false",
        mitigations=clean(d.get("Mitigations")), potential_impact=clean(d.get("PotentialImpacts")),
        third_party_tools=clean(d.get("ThirdPartyTools")),
        mitigation_control=clean(d.get("MitigationControl")),
        responsibility=clean(d.get("Responsibility")),
        security_override_guidance=clean(d.get("SeverityOverrideGuidance")),
        weight=clean(rule.weight) or "10.0", stig_ref=stig_ref, target_key=clean(rule.target_key),
        stig_uuid=istig_uuid, uuid=stable_uuid(host_key, benchmark_id, rule.vuln_id),
        legacy_ids=tuple(clean(i) for i in rule.legacy_ids),
        ccis=tuple(clean(i) for i in rule.ccis),
    )
    return assessed_vuln(base, records, f"{rule.vuln_id} ({rule.stig_id})", provenance)


def assessed_vuln(base: dict[str, Any], records: list[Mapping[str, Any]], subject: str,
                  provenance: str) -> Vuln:
    """The checklist entry `base` describes, with the verdict of the host's records for it
    (the worst of them), their finding details and comments; not reviewed when none."""
    if not records:
        return Vuln(**base)
    status = combine_statuses(record_status(r) for r in records)
    return Vuln(**base, status=status,
                finding_details=_details(records, status, subject, provenance),
                comments=_comments(records, status, provenance),
                controls=tuple(clean(r.get("control_id")) for r in records),
                checked_at=_newest(records))


def _benchmark_istig(benchmark: Benchmark, host_key: str,
                     by_rule: dict[str, list[Mapping[str, Any]]], provenance: str,
                     generated_at: str) -> IStig:
    bid = benchmark.benchmark_id
    istig_uuid = stable_uuid(host_key, bid, benchmark.version, benchmark.release_info)
    title = clean(benchmark.title) or bid
    release_info = clean(benchmark.release_info)
    stig_ref = f"{title} :: Version {clean(benchmark.version)}, {release_info}"
    vulns = tuple(_rule_vuln(rule, istig_uuid, stig_ref, host_key, bid,
                             by_rule.get(vuln_id, []), provenance)
                  for vuln_id, rule in benchmark.rules.items())
    unmatched = tuple(f"{clean(r.get('control_id'))} -> {v}" for v, recs in by_rule.items()
                      if v not in benchmark.rules for r in recs)
    keys = [r.target_key for r in benchmark.rules.values() if r.target_key]
    return IStig(
        benchmark_id=clean(bid), title=title, version=clean(benchmark.version),
        release_info=release_info, filename=clean(benchmark.path.name),
        description=clean(benchmark.description), uuid=istig_uuid, vulns=vulns,
        reference_identifier=clean(max(set(keys), key=keys.count)) if keys else "",
        generated_at=generated_at, unmatched=unmatched)


def guide_release(catalog_version: str, generated_at: str) -> tuple[str, str]:
    """(version, release_info) of the guide's checklist from the catalog version.

    Both numbers are plain integers: STIG Manager builds the revision from the first digits of a
    CKL's version but from the whole version of a CKLB, so "2026.11" would give two revisions.
    The catalog is versioned YYYY.MM.N: version YYYYMM, "Release: N Benchmark Date: 01 Mon YYYY"
    (the first of the catalog's month). Otherwise the digits before the last component (0 if
    none), the last component when numeric (else 1), and the date of the check.
    """
    raw = one_line(catalog_version)
    head, _, last = raw.rpartition(".")
    if not re.fullmatch(r"\d+", last):
        head, last = raw, "1"
    version = str(int("".join(re.findall(r"\d", head)) or "0"))
    match = _CALVER.match(raw)
    if match and 1 <= int(match.group(2)) <= 12:
        date = dt.date(int(match.group(1)), int(match.group(2)), 1)
    else:
        try:
            date = dt.datetime.fromisoformat(generated_at).date()
        except ValueError:
            date = dt.datetime.now(dt.UTC).date()
    return version, f"Release: {int(last)} Benchmark Date: {date.strftime('%d %b %Y')}"


def describe_check(control: Control | None) -> str:
    """What the catalog checks for a control, as text."""
    if control is None:
        return ""

    def walk(node: Any, depth: int) -> list[str]:
        pad = "  " * depth
        if isinstance(node, Combination):
            word = "all of" if node.mode == "all" else "any of"
            return [f"{pad}{word}:", *(ln for p in node.parts for ln in walk(p, depth + 1))]
        if isinstance(node, Condition):
            expected = "" if node.expected is None else f" {node.expected}"
            absent = " (absent counts as compliant)" if node.absent == "compliant" else ""
            who = f" [asked by the {node.source}]" if node.source != "both" else ""
            return [f"{pad}- {node.describe()} {node.operator.replace('_', ' ')}{expected}"
                    f"{absent}{who}"]
        if isinstance(node, Mapping):
            labels = {"needs": "facts read", "probes": "runner probes",
                      "inputs": "inventory inputs"}
            extras = "; ".join(
                f"{labels.get(k, k)}: "
                + (", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v))
                for k, v in node.items() if k != "method" and not isinstance(v, Mapping))
            return [f"{pad}- {node.get('method', 'custom check')}"
                    + (f" ({extras})" if extras else "")]
        return []

    lines = [f"Automated check (cwh handler {control.handler}):", *walk(control.check, 0)]
    if control.not_applicable_when:
        lines.append(f"Not applicable when {control.not_applicable_when.reason}.")
    if control.manual:
        lines.append("Manual in the STIG: evidence is collected automatically; without an "
                     "assessor's attestation the result stays Not_Reviewed.")
    return clean("\n".join(lines))


def record_refs(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(benchmark, vuln_id, stig_id) of every STIG reference of the records, once each."""
    return list(dict.fromkeys(ref for r in records for ref in _refs(r)))


def guide_texts(control: Control | None, record: Mapping[str, Any],
                refs: list[tuple[str, str, str]]) -> tuple[str, str]:
    """(discussion, check) of a guide control: where it comes from, and what cwh checks."""
    section = clean(record.get("guide_section")) or (control.guide_section if control else "")
    source = str(record.get("source") or (control.source if control else ""))
    stig_text = "; ".join(f"{vid} {sid} ({bid})" for bid, vid, sid in refs)
    if source == "stig":
        discussion = f"Source: DISA STIG{': ' + stig_text if stig_text else ''}. Checked as part " \
                     "of the ConnectWise ScreenConnect hardening audit."
    else:
        discussion = "Source: ConnectWise ScreenConnect hardening guide" \
                     + (f', section "{section}"' if section else "") + "." \
                     + (f" Related DISA STIG rules: {stig_text}." if stig_text else "")
    check = "\n".join(p for p in (
        describe_check(control),
        _field("Requirement", record.get("requirement")),
        _field("Expected", record.get("expected")),
    ) if p)
    cid = clean(record.get("control_id"))
    return clean(discussion), check or f"Automated check {cid}."


def _guide_vuln(control_id: str, control: Control | None, records: list[Mapping[str, Any]],
                istig_uuid: str, stig_ref: str, host_key: str,
                benchmarks: Mapping[str, Benchmark], provenance: str) -> Vuln:
    first = records[-1]
    title = clean(first.get("title")) or (control.title if control else control_id)
    severity = str(first.get("severity") or (control.severity if control else "medium"))
    refs = record_refs(records)
    ccis = tuple(dict.fromkeys(
        clean(cci) for bid, vid, _ in refs if bid in benchmarks and vid in benchmarks[bid].rules
        for cci in benchmarks[bid].rules[vid].ccis))
    discussion, check = guide_texts(control, first, refs)
    status = combine_statuses(record_status(r) for r in records)
    return Vuln(
        vuln_num=control_id, rule_id=f"{control_id}_rule", rule_ver=control_id,
        severity=severity if severity in SEVERITIES else "medium", rule_title=title,
        group_title=title, discussion=discussion, check_content=check,
        fix_text=clean(first.get("fix")) or (control.fix if control else ""),
        stig_ref=stig_ref, stig_uuid=istig_uuid,
        uuid=stable_uuid(host_key, GUIDE_BENCHMARK_ID, control_id), ccis=ccis, status=status,
        finding_details=_details(records, status, control_id, provenance),
        comments=_comments(records, status, provenance), controls=(control_id,),
        checked_at=_newest(records))


def _guide_istig(host_key: str, grouped: dict[str, list[Mapping[str, Any]]], catalog: Catalog,
                 benchmarks: Mapping[str, Benchmark], provenance: str, catalog_version: str,
                 suite_version: str, generated_at: str) -> IStig:
    version, release_info = guide_release(catalog_version, generated_at)
    istig_uuid = stable_uuid(host_key, GUIDE_BENCHMARK_ID, version, release_info)
    stig_ref = f"{GUIDE_TITLE} :: Version {version}, {release_info}"
    controls = {c.id: c for c in catalog.controls}
    vulns = tuple(_guide_vuln(cid, controls.get(cid), recs, istig_uuid, stig_ref, host_key,
                              benchmarks, provenance)
                  for cid, recs in grouped.items())
    return IStig(
        benchmark_id=GUIDE_BENCHMARK_ID, title=GUIDE_TITLE, version=version,
        release_info=release_info, filename=GUIDE_FILENAME,
        description=clean(f"The controls of the ConnectWise ScreenConnect hardening guide and the "
                          f"related DISA STIG rules, checked automatically by cwh "
                          f"{suite_version} (catalog {catalog_version})."),
        uuid=istig_uuid, vulns=vulns, source=clean(f"cwh {suite_version}"),
        notice="", is_guide=True, generated_at=generated_at)
