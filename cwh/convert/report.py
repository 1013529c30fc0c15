"""The conversion report: per release, rules by kind, manual rules with their reasons, and the
automated share for member servers and for domain controllers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from cwh.convert.inputs import required


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


def share(release: dict[str, Any], role: str) -> Share:
    """Automated rules among those that apply to `role` (dc, member or standalone)."""
    applicable = [r for r in release["rules"] if role in r["roles"]]
    automated = [r for r in applicable if r["kind"] != "manual"]
    return Share(role, len(automated), len(applicable))


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
              "", share(release, "member").describe("Member servers"),
              share(release, "dc").describe("Domain controllers"),
              share(release, "standalone").describe("Standalone servers"), ""]
    return "\n".join(lines)
