"""What the HTML pages say about a run, as plain values: per-host headers (facts, counts by
status and CAT, compliance, verdict) and the run's verdict in words.

Everything here is computed from records (cwh/report/record.py), the host assets the collector
keeps and the run metadata, so the pages can be made from results.json alone. No markup here:
the templates escape every value.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cwh.catalog.model import SEVERITIES
from cwh.report import exitcodes
from cwh.report.counting import counted_checks
from cwh.report.hostfiles import host_file_stems
from cwh.report.record import counts_as_error, counts_as_finding, is_waived

STATUSES = ("Open", "NotAFinding", "Not_Applicable", "Not_Reviewed")
STATUS_LABEL = {"Open": "Open", "NotAFinding": "Not a finding",
                "Not_Applicable": "Not applicable", "Not_Reviewed": "Not reviewed"}
# What a row is filtered and coloured by: the STIG status, with accepted (waived) findings apart.
BUCKETS = ("Open", "Waived", "Not_Reviewed", "NotAFinding", "Not_Applicable")
BUCKET_LABEL = {**STATUS_LABEL, "Waived": "Open, waived"}
CATS = ("CAT I", "CAT II", "CAT III")
# Win32_ComputerSystem.DomainRole
DOMAIN_ROLES = {0: "standalone workstation", 1: "member workstation", 2: "standalone server",
                3: "member server", 4: "backup domain controller",
                5: "primary domain controller"}
_THRESHOLD = {"cat1": "CAT I", "cat2": "CAT II or CAT I", "cat3": "any severity"}
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff\ufffe\uffff]")


def shown(value: Any) -> str:
    """A value as text a reader can trust: None as empty, control characters, bidi overrides and
    lone surrogates as \\xNN / \\uNNNN (so a host cannot hide or reorder what it says)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # nothing _UNPRINTABLE matches is printable: the common, fast case
        return text

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text.replace("\r\n", "\n"))


def one_line(value: Any, limit: int = 0) -> str:
    """shown(value) on one line: every run of white space one space."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isprintable() or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = " ".join(shown(text).split())
    if limit and len(text) > limit:
        return text[:limit - 1] + "…"
    return text


def bucket(record: Mapping[str, Any]) -> str:
    if record["status"] == "Open" and is_waived(record):
        return "Waived"
    return record["status"] if record["status"] in STATUSES else "Not_Reviewed"


def status_text(record: Mapping[str, Any]) -> str:
    """The status as a reader needs it: waived and expired waivers, errors and manual checks."""
    status = STATUS_LABEL.get(record["status"], shown(record["status"]))
    waiver = record.get("waiver") or {}
    if record["status"] == "Open" and waiver:
        until = one_line(waiver.get("expires"))
        if waiver.get("expired"):
            return f"{status} (waiver {one_line(waiver.get('id'))} expired {until})"
        return f"Open, waived ({one_line(waiver.get('id'))} until {until})"
    if record["status"] == "Not_Reviewed":
        return f"{status}: error" if counts_as_error(record) else f"{status}: manual review"
    return status


def compliance(records: list[Mapping[str, Any]]) -> float | None:
    """Not a finding over everything that applies: Not_Reviewed and Open (waived too) count
    against, Not_Applicable does not."""
    applicable = [r for r in records if r["status"] != "Not_Applicable"]
    if not applicable:
        return None
    return 100 * sum(r["status"] == "NotAFinding" for r in applicable) / len(applicable)


def compliance_text(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.0f}%" if value in (0, 100) or 1 <= value <= 99 else f"{value:.1f}%"


@dataclass(frozen=True)
class Verdict:
    code: int
    word: str
    sentence: str

    @property
    def css(self) -> str:
        return {exitcodes.OK: "ok", exitcodes.FINDINGS: "findings"}.get(self.code, "incomplete")


def verdict(code: int, records: list[Mapping[str, Any]], fail_on: str = "cat3",
            subject: str = "") -> Verdict:
    """The exit code in words, with the numbers behind it."""
    hosts = len({r["host"] for r in records})
    where = subject or f"{hosts} host{'s' if hosts != 1 else ''}"
    threshold = _THRESHOLD.get(fail_on, fail_on)
    findings = [r for r in records if counts_as_finding(r)]
    gating = [r for r in findings if exitcodes.decide([r], 0, fail_on) == exitcodes.FINDINGS]
    errors = [r for r in records if counts_as_error(r)]
    failing_hosts = len({r["host"] for r in gating})
    if code == exitcodes.OK:
        rest = f"; {len(findings)} open below the threshold ({threshold})" if findings else ""
        return Verdict(code, "Compliant", f"Every one of {len(records)} results on {where} is "
                       f"Not a finding, Not applicable, waived or awaiting manual review{rest}.")
    if code == exitcodes.FINDINGS:
        on = f" on {failing_hosts} of {hosts} hosts" if not subject else ""
        return Verdict(code, "Findings", f"{len(gating)} open finding"
                       f"{'s' if len(gating) != 1 else ''} at {threshold}{on}.")
    if code == exitcodes.SCAN_ERROR:
        error_hosts = len({r["host"] for r in errors})
        on = f" on {error_hosts} of {hosts} hosts" if not subject else ""
        besides = f" ({len(gating)} open findings at {threshold} besides)" if gating else ""
        return Verdict(code, "Incomplete", f"{len(errors)} result{'s' if len(errors) != 1 else ''}"
                       f"{on} could not be evaluated, so this scan is incomplete{besides}.")
    if code == exitcodes.NOTHING_SELECTED:
        return Verdict(code, "Nothing audited", "No control ran for any host.")
    if code == exitcodes.INTERRUPTED:
        return Verdict(code, "Interrupted", "The run stopped before it finished: what is shown "
                       "is partial and proves nothing about what is missing.")
    if code == exitcodes.INTERNAL_ERROR:
        return Verdict(code, "Internal error", "The suite failed: the results are incomplete.")
    if code == exitcodes.USAGE_ERROR:
        return Verdict(code, "Usage error", "The options or inputs were wrong.")
    return Verdict(code, f"Exit code {code}", "")


@dataclass
class HostView:
    """One host's header and rows."""

    name: str
    stem: str
    facts: list[tuple[str, str]]
    benchmarks: list[str]
    records: list[dict[str, Any]]
    verdict: Verdict
    error: str = ""
    warnings: list[str] = field(default_factory=list)  # about the collection (hosts.<h>.warnings)
    buckets: Counter[str] = field(default_factory=Counter)
    by_cat: dict[str, Counter[str]] = field(default_factory=dict)
    compliance: float | None = None

    @property
    def page(self) -> str:
        return f"hosts/{self.stem}.html"

    @property
    def compliance_text(self) -> str:
        return compliance_text(self.compliance)

    def bars(self) -> list[tuple[str, int]]:
        return [(b, self.buckets[b]) for b in BUCKETS if self.buckets[b]]


def _domain_role(asset: Mapping[str, Any]) -> str:
    try:
        text = DOMAIN_ROLES.get(int(asset.get("domain_role")), "")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        text = ""
    domain = one_line(asset.get("domain"))
    if domain:
        kind = "domain" if asset.get("part_of_domain") else "workgroup"
        text = f"{text}, {kind} {domain}" if text else f"{kind} {domain}"
    return text or "unknown"


def host_facts(name: str, asset: Mapping[str, Any] | None,
               error: str = "") -> list[tuple[str, str]]:
    """What the header says the machine is: from the facts the run gathered, else unknown."""
    asset = asset or {}
    os_name = one_line(asset.get("os")) or "unknown (no facts)"
    if error and not asset.get("os_version"):
        os_name = "unknown (no facts: see the scan error)"
    reported = ", ".join(one_line(a) for a in (asset.get("ip_addresses") or ()) if a)
    address = one_line(asset.get("address")) or name
    names = " / ".join(dict.fromkeys(one_line(asset.get(k)) for k in ("hostname", "fqdn")
                                     if asset.get(k)))
    facts = [("OS and build", os_name),
             ("Address", address + (f" (the host reports {reported})" if reported else "")),
             ("Computer name", names or "unknown"),
             ("Domain role", _domain_role(asset))]
    if asset.get("role"):
        facts.append(("Role (inventory)", one_line(asset.get("role"))))
    if asset.get("marking"):
        facts.append(("Marking", one_line(asset.get("marking"))))
    return facts


def _warnings(asset: Mapping[str, Any] | None) -> list[str]:
    """The host's collection warnings (hosts.<host>.warnings in results.json), one line each."""
    found = (asset or {}).get("warnings")
    return [one_line(w) for w in found] if isinstance(found, list) else []


def host_benchmarks(records: Iterable[Mapping[str, Any]], versions: Mapping[str, str],
                    catalog_version: str) -> list[str]:
    """The benchmarks this host's results refer to, each with the version the run was given."""
    found = sorted({ref.get("benchmark", "") for r in records for ref in r.get("stig_refs", ())
                    if ref.get("benchmark")})
    named = [f"{one_line(b)} {versions[b]}" for b in found if b in versions]
    unknown = [one_line(b) for b in found if b not in versions]
    if unknown:
        named.append(f"{', '.join(unknown)} (version unknown: no --stig-xccdf given)")
    return [*named, f"ScreenConnect hardening guide, catalog {one_line(catalog_version)}"]


def host_view(name: str, stem: str, records: list[dict[str, Any]], asset: Mapping[str, Any] | None,
              *, run_code: int, fail_on: str, versions: Mapping[str, str],
              catalog_version: str, error: str = "") -> HostView:
    records = sorted(records, key=lambda r: (_ORDER[bucket(r)], r["control_id"]))
    pytest_status = run_code if run_code in (exitcodes.INTERRUPTED, exitcodes.INTERNAL_ERROR) \
        else 0
    code = exitcodes.decide(records, pytest_status, fail_on)
    # Each check once: a guide control and the STIG rules that are the same check count as
    # those rules (cwh/report/counting.py); every record is still a row.
    checks = [{"status": c.status, "cat": SEVERITIES.get(c.severity, ""),
               "waiver": {"expired": False} if c.waived else None}
              for c in counted_checks(records)]
    by_cat: dict[str, Counter[str]] = {cat: Counter() for cat in CATS}
    for check in checks:
        by_cat.setdefault(check["cat"], Counter())[bucket(check)] += 1
    return HostView(
        name=name, stem=stem, facts=host_facts(name, asset, error),
        benchmarks=host_benchmarks(records, versions, catalog_version), records=records,
        verdict=verdict(code, records, fail_on, subject="this host"), error=one_line(error),
        warnings=_warnings(asset),
        buckets=Counter(bucket(c) for c in checks), by_cat=by_cat,
        compliance=compliance(checks))


_ORDER = {b: i for i, b in enumerate(BUCKETS)}


def host_views(records: list[dict[str, Any]], assets: Mapping[str, Mapping[str, Any]],
               host_errors: Mapping[str, str], *, run_code: int, fail_on: str,
               versions: Mapping[str, str], catalog_version: str,
               hosts: Iterable[str] = ()) -> list[HostView]:
    """One view per host that has results (or was targeted), worst verdict first. A host's
    page has the stem of its other per-host files (hosts/<stem>.html beside <stem>.ckl)."""
    by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_host[record["host"]].append(record)
    names = set(by_host) | set(hosts)
    stems = host_file_stems(sorted(names))
    views = [host_view(n, stems[n], by_host.get(n, []), assets.get(n), run_code=run_code,
                       fail_on=fail_on, versions=versions, catalog_version=catalog_version,
                       error=host_errors.get(n, "")) for n in names]
    rank = {exitcodes.SCAN_ERROR: 0, exitcodes.FINDINGS: 1}
    return sorted(views, key=lambda v: (rank.get(v.verdict.code, 2), v.name))


def run_facts(run: Mapping[str, Any], hosts: int, results: int) -> list[tuple[str, str]]:
    """The run's metadata in words (never a Python repr)."""
    waivers = run.get("waivers")
    benchmarks = run.get("benchmarks") or []
    markers = one_line(run.get("markers"))
    fail_on = str(run.get("fail_on") or "cat3")
    return [
        ("Started", one_line(run.get("started")).replace("T", " ").replace("+00:00", " UTC")),
        ("Hosts", f"{hosts} host{'s' if hosts != 1 else ''}, {results} results"),
        ("Inventory", one_line(run.get("inventory")) or "none"),
        ("Controls selected", f"marker expression {markers}" if markers else "all controls"),
        ("Fails on", f"open findings at {_THRESHOLD.get(fail_on, fail_on)} "
                     f"(--fail-on {fail_on})"),
        ("Waivers", one_line(waivers) if waivers else "none (no --waivers file)"),
        ("DISA benchmarks", ", ".join(one_line(b) for b in benchmarks) if benchmarks
         else "none given (--stig-xccdf): STIG IDs come from the catalog"),
        ("Suite", f"{one_line(run.get('suite_version'))}, catalog "
                  f"{one_line(run.get('catalog_version'))}"),
    ]


def control_rows(records: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, Counter[str]]]:
    """Per control across the fleet: how many hosts in each bucket, most open first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    titles: dict[str, str] = {}
    for record in records:
        counts[record["control_id"]][bucket(record)] += 1
        titles[record["control_id"]] = one_line(record.get("title"))
    return sorted(((c, titles[c], n) for c, n in counts.items()),
                  key=lambda row: (-row[2]["Open"], -row[2]["Not_Reviewed"], row[0]))
