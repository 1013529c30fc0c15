"""The Windows Server STIG as rule data: the committed releases in `cwh/catalog/stig/`, read into
rules the judges judge (docs/stig-rules.md defines the data).

A release names its benchmark (`MS_Windows_Server_2022_STIG`), its version and release; the
catalog's BENCHMARK_OS says which Windows Server it is for. Rules carry identifiers and the
requirement only; DISA's prose comes from the XCCDF the user passes (--stig-xccdf).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from cwh.catalog.model import BENCHMARK_OS, CAT_MARKERS
from cwh.errors import ConfigError

RELEASES_DIR = Path(__file__).with_name("stig")
ROLES = ("dc", "member", "standalone")
# A marker per kind of rule, so `-m "stig and audit_policy"` selects what the user means.
KIND_MARKERS = {
    "registry": "registry", "user_right": "user_rights", "audit_policy": "audit_policy",
    "account_policy": "account_policy", "service": "services", "feature": "features",
    "acl": "permissions", "certificate": "certificates", "accounts": "local_accounts",
    "group_members": "group_members", "device_guard": "device_guard", "firmware": "firmware",
    "tpm": "firmware", "os": "os", "volumes": "volumes", "time_source": "time_source",
    "ldap_policy": "directory", "applocker": "applocker", "files": "files", "shares": "shares",
    "firewall_profiles": "firewall", "user_rights_sids": "user_rights", "constant": "manual",
    "mixed": "mixed", "manual": "manual",
}


@dataclass(frozen=True)
class StigRule:
    """One rule of one release, as the converter wrote it."""

    benchmark_id: str
    vuln_id: str
    rule_id: str
    stig_id: str
    severity: str
    roles: tuple[str, ...]
    kind: str
    checks: tuple[Mapping[str, Any], ...] = field(hash=False)
    combine: str = "all"
    inputs: tuple[str, ...] = ()
    not_applicable_if: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)
    manual_reason: str | None = None

    @property
    def manual(self) -> bool:
        return self.kind == "manual"

    @property
    def os_version(self) -> str | None:
        return BENCHMARK_OS.get(self.benchmark_id)

    @property
    def markers(self) -> tuple[str, ...]:
        marks = ["stig", CAT_MARKERS[self.severity], KIND_MARKERS.get(self.kind, "mixed")]
        if self.manual:
            marks.append("manual")
        return tuple(dict.fromkeys(marks))

    def all_checks(self) -> tuple[Mapping[str, Any], ...]:
        """The checks and those of the Not_Applicable conditions: what must be collected."""
        extra = tuple(c for na in self.not_applicable_if for c in na.get("checks", ()))
        return self.checks + extra


@dataclass(frozen=True)
class Release:
    benchmark_id: str
    version: str
    release: str
    source_sha256: str
    rules: tuple[StigRule, ...] = field(repr=False)

    @property
    def os_version(self) -> str | None:
        return BENCHMARK_OS.get(self.benchmark_id)

    @property
    def short_version(self) -> str:
        return f"V{self.version}R{self.release}"

    def by_stig_id(self, stig_id: str) -> StigRule | None:
        return next((r for r in self.rules if r.stig_id == stig_id), None)


def _rule(benchmark_id: str, raw: Mapping[str, Any]) -> StigRule:
    return StigRule(
        benchmark_id=benchmark_id, vuln_id=raw["vuln_id"], rule_id=raw["rule_id"],
        stig_id=raw["stig_id"], severity=raw["severity"], roles=tuple(raw["roles"]),
        kind=raw["kind"], checks=tuple(raw.get("checks") or ()),
        combine=raw.get("combine", "all"), inputs=tuple(raw.get("inputs") or ()),
        not_applicable_if=tuple(raw.get("not_applicable_if") or ()),
        manual_reason=raw.get("manual_reason"))


def release_from_data(data: Mapping[str, Any], where: str = "rule data") -> Release:
    """A release from the converter's output (a file's JSON or convert_benchmark's result)."""
    try:
        benchmark_id = str(data["benchmark_id"])
        rules = tuple(_rule(benchmark_id, raw) for raw in data["rules"])
        return Release(benchmark_id, str(data["version"]), str(data["release"]),
                       str(data.get("source_sha256", "")), rules)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: not STIG rule data ({exc.__class__.__name__}: {exc})") \
            from None


@lru_cache(maxsize=16)
def load_release(path: str | Path) -> Release:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"STIG rule data {path}: cannot read ({exc})") from None
    return release_from_data(data, str(path))


@lru_cache(maxsize=1)
def committed_releases() -> dict[str, Release]:
    """The releases converted from ../shared/stig and committed, by benchmark id."""
    releases = [load_release(p) for p in sorted(RELEASES_DIR.glob("*.json"))]
    return {r.benchmark_id: r for r in releases}


def release_for_os(os_version: str | None, releases: Mapping[str, Release]) -> Release | None:
    """The release that applies to a Windows Server version (2016, 2019, 2022), if any."""
    return next((r for r in releases.values() if r.os_version == os_version), None)
