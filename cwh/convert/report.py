"""The conversion report: per release, rules by kind, manual rules with their reasons, and the
automated share for member servers and for domain controllers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from cwh.catalog.stig_inputs import required


@dataclass(frozen=True)
class Share:
    role: str
    automated: int
    applicable: int

    @property
    def ratio(self) -> float:
        return self.automated / self.applicable if self.applicable else 0.0

    def describe(self, label: str) -> str:
        return (f"{label}: {self.automated} of {self.applicable} rules automated "
                f"({self.ratio:.1%})")


def share(release: dict[str, Any], role: str, without_required_inputs: bool = False) -> Share:
    """Automated rules among those that apply to `role` (dc, member or standalone); with
    `without_required_inputs`, rules waiting for an organization-defined value do not count as
    automated."""
    applicable = [r for r in release["rules"] if role in r["roles"]]
    automated = [r for r in applicable if r["kind"] != "manual"
                 and not (without_required_inputs and _needs_input(r))]
    return Share(role, len(automated), len(applicable))


def _share_line(release: dict[str, Any], role: str, label: str) -> str:
    strict = share(release, role, without_required_inputs=True)
    return (f"{share(release, role).describe(label)}; {strict.ratio:.1%} without the rules "
            "that need an organization-defined value")


def _needs_input(rule: dict[str, Any]) -> bool:
    return any(required(name) for name in rule["inputs"])


def render(release: dict[str, Any], source: str) -> str:
    rules = release["rules"]
    lines = [f"{release['benchmark_id']} V{release['version']}R{release['release']} "
             f"({len(rules)} rules) from {source}", "", "Rules by kind:"]
    for kind, count in sorted(Counter(r["kind"] for r in rules).items(),
                              key=lambda item: (-item[1], item[0])):
        lines.append(f"  {kind:<20} {count:>4}")
    manual = [r for r in rules if r["kind"] == "manual"]
    lines += ["", f"Manual rules ({len(manual)}):"]
    for rule in manual:
        lines.append(f"  {rule['stig_id']:<16} [{','.join(rule['roles'])}] "
                     f"{rule['manual_reason']}")
    waiting = [r["stig_id"] for r in rules if r["kind"] != "manual" and _needs_input(r)]
    lines += ["", f"Automated rules that need an organization-defined value without a default "
                  f"({len(waiting)}): {', '.join(waiting) or '-'}",
              "", _share_line(release, "member", "Member servers"),
              _share_line(release, "dc", "Domain controllers"),
              _share_line(release, "standalone", "Standalone servers"), ""]
    return "\n".join(lines)
