"""Read DISA XCCDF benchmarks (the official STIG files) in place.

Used to cross-check the catalog's STIG references and to give checklists the full rule text.
The files are parsed with defusedxml because they come from outside the project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

XCCDF_NS = "http://checklists.nist.gov/xccdf/1.1"
DC_NS = "http://purl.org/dc/elements/1.1/"
_NS = {"x": XCCDF_NS, "dc": DC_NS}
_CCI_SYSTEMS = ("http://cyber.mil/cci", "http://iase.disa.mil/cci")
_LEGACY_SYSTEM = "http://cyber.mil/legacy"
# A rule description is pseudo-XML kept as text: <VulnDiscussion>...</VulnDiscussion>...
_DESCRIPTION_PART = re.compile(r"<(\w+)>(.*?)</\1>", re.S)


@dataclass(frozen=True)
class Rule:
    """One STIG rule (an XCCDF Group with its single Rule)."""

    vuln_id: str  # Group id, e.g. V-254467
    group_title: str  # SRG id
    rule_id: str  # SV-254467r849217_rule
    stig_id: str  # Rule version, e.g. WN22-SO-000230
    severity: str  # high | medium | low
    weight: str
    title: str
    description: dict[str, str]  # VulnDiscussion, Mitigations, ... from the pseudo-XML
    check_content: str
    fix_text: str
    ccis: tuple[str, ...]
    legacy_ids: tuple[str, ...]
    target_key: str  # reference/dc:identifier


@dataclass(frozen=True)
class Benchmark:
    """A parsed XCCDF benchmark file."""

    path: Path
    benchmark_id: str  # e.g. MS_Windows_Server_2022_STIG
    title: str
    version: str
    release_info: str  # "Release: 3 Benchmark Date: 07 Jun 2023"
    description: str
    rules: dict[str, Rule] = field(repr=False)  # keyed by vuln_id

    @property
    def release(self) -> str:
        match = re.search(r"Release:\s*(\S+)", self.release_info)
        return match.group(1) if match else ""

    @property
    def short_version(self) -> str:
        """V<version>R<release>, the form STIG Manager and file names use."""
        return f"V{self.version}R{self.release}"

    def by_stig_id(self, stig_id: str) -> Rule | None:
        return next((r for r in self.rules.values() if r.stig_id == stig_id), None)


def _text(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _parse_rule(group: Element) -> Rule | None:
    rule = group.find("x:Rule", _NS)
    if rule is None:
        return None
    description = dict(_DESCRIPTION_PART.findall(_text(rule.find("x:description", _NS))))
    idents = rule.findall("x:ident", _NS)
    return Rule(
        vuln_id=group.get("id", ""),
        group_title=_text(group.find("x:title", _NS)),
        rule_id=rule.get("id", ""),
        stig_id=_text(rule.find("x:version", _NS)),
        severity=rule.get("severity", ""),
        weight=rule.get("weight", "10.0"),
        title=_text(rule.find("x:title", _NS)),
        description={k: v.strip() for k, v in description.items()},
        check_content=_text(rule.find("x:check/x:check-content", _NS)),
        fix_text=_text(rule.find("x:fixtext", _NS)),
        ccis=tuple(_text(i) for i in idents if i.get("system") in _CCI_SYSTEMS),
        legacy_ids=tuple(_text(i) for i in idents if i.get("system") == _LEGACY_SYSTEM),
        target_key=_text(rule.find("x:reference/dc:identifier", _NS)),
    )


@lru_cache(maxsize=16)
def load_benchmark(path: str | Path) -> Benchmark:
    """Parse one XCCDF file. Raises OSError or ValueError with the path in the message."""
    path = Path(path)
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as exc:
        raise ValueError(f"{path}: not a readable XCCDF file ({exc})") from exc
    if root.tag != f"{{{XCCDF_NS}}}Benchmark":
        raise ValueError(f"{path}: not an XCCDF 1.1 Benchmark (root element {root.tag})")
    rules = {}
    for group in root.findall("x:Group", _NS):
        parsed = _parse_rule(group)
        if parsed is not None:
            rules[parsed.vuln_id] = parsed
    release_info = next(
        (_text(p) for p in root.findall("x:plain-text", _NS) if p.get("id") == "release-info"), ""
    )
    return Benchmark(
        path=path,
        benchmark_id=root.get("id", ""),
        title=_text(root.find("x:title", _NS)),
        version=_text(root.find("x:version", _NS)),
        release_info=release_info,
        description=_text(root.find("x:description", _NS)),
        rules=rules,
    )


def find_benchmarks(directory: str | Path) -> list[Benchmark]:
    """Every `*xccdf.xml` file in a directory, parsed."""
    return [load_benchmark(p) for p in sorted(Path(directory).glob("*xccdf.xml"))]
