"""The control catalog: load `catalog.yml`, validate it, and answer questions about controls."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from cwh.catalog.products import PRODUCT_NAMES, products_problem
from cwh.errors import ConfigError
from cwh.parse.primitives import ascii_int

CATALOG_PATH = Path(__file__).with_name("catalog.yml")

SEVERITIES = {"high": "CAT I", "medium": "CAT II", "low": "CAT III"}
_SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}
CAT_MARKERS = {"high": "cat1", "medium": "cat2", "low": "cat3"}
AREAS = ("gpo", "password", "tls", "accounts", "smb", "firewall", "network", "web", "screenconnect",
         "external", "automate")
HANDLERS = ("policy", "accounts", "network", "tls_probe", "web", "screenconnect", "external",
            "automate")

# Windows Server STIG benchmarks apply by OS; the others (IIS) apply whatever the OS.
BENCHMARK_OS = {
    "Windows_Server_2016_STIG": "2016",
    "Windows_Server_2019_STIG": "2019",
    "MS_Windows_Server_2022_STIG": "2022",
}
OS_BY_BUILD = {14393: "2016", 17763: "2019", 20348: "2022"}

OPERATORS = ("equals", "not_equals", "at_least", "at_most", "one_of", "assigned_to_none",
             "not_installed", "installed", "all_enabled")
REGISTRY_TYPES = ("DWord", "QWord", "String", "ExpandString", "MultiString", "Binary")
_METHOD_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    # method: (required fields, optional fields) besides method/operator/source/guide/input
    "registry": ({"path", "name", "type", "expected"}, {"absent"}),
    "secedit": ({"section", "key", "expected"}, set()),
    "user_right": ({"right"}, set()),
    "windows_feature": ({"name"}, set()),
    "firewall_profiles": (set(), set()),
}
_METHOD_OPERATORS = {
    "registry": {"equals", "not_equals", "at_least", "at_most", "one_of"},
    "secedit": {"equals", "not_equals", "at_least", "at_most", "one_of"},
    "user_right": {"assigned_to_none"},
    "windows_feature": {"not_installed", "installed"},
    "firewall_profiles": {"all_enabled"},
}


@dataclass(frozen=True)
class StigRef:
    benchmark: str
    vuln_id: str
    stig_id: str
    severity: str | None = None  # only where it differs from the control's

    @property
    def os_version(self) -> str | None:
        return BENCHMARK_OS.get(self.benchmark)


@dataclass(frozen=True)
class Condition:
    """One comparison against one fact."""

    method: str
    operator: str
    params: Mapping[str, Any] = field(hash=False)
    expected: Any = None
    absent: str = "finding"  # registry only: what an absent value means
    source: str = "both"  # who asks for it: stig, guide or both
    guide: Any = None  # the guide's value where it differs from `expected`
    input: str | None = None  # inventory variable that may set `expected`

    def describe(self) -> str:
        """Where the fact lives, for evidence: `HKLM\\...\\Lsa\\RestrictAnonymous`."""
        p = self.params
        if self.method == "registry":
            return f"{p['path']}\\{p['name']}"
        if self.method == "secedit":
            return f"secedit [{p['section']}] {p['key']}"
        if self.method == "user_right":
            return f"secedit [Privilege Rights] {p['right']}"
        if self.method == "windows_feature":
            return f"Windows feature {p['name']}"
        return "firewall profiles (Domain, Private, Public)"


@dataclass(frozen=True)
class Combination:
    mode: str  # all | any
    parts: tuple[Check, ...]


Check = Condition | Combination


@dataclass(frozen=True)
class NotApplicableRule:
    condition: Check
    reason: str


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    area: str
    handler: str
    severity: str
    source: str  # guide | stig: which document the control comes from
    fix: str
    stig: tuple[StigRef, ...]
    check: Check | Mapping[str, Any] = field(hash=False)
    guide_section: str = ""
    manual: bool = False
    not_applicable_when: NotApplicableRule | None = None
    # The products the control applies to; the default, every product, is for the Windows
    # settings (GPO, TLS, accounts, ...) both guides share.
    products: tuple[str, ...] = PRODUCT_NAMES

    @property
    def product_specific(self) -> bool:
        """True when some product's hosts are outside the control (so detection matters)."""
        return set(self.products) != set(PRODUCT_NAMES)

    def refs_for(self, os_version: str | None) -> tuple[StigRef, ...]:
        """The STIG references that apply to a host of this OS version."""
        return tuple(r for r in self.stig if r.os_version in (None, os_version))

    def severity_for(self, os_version: str | None) -> str:
        """Severity on this OS: a reference may differ (CWH-ACCT-01 is CAT II on 2022)."""
        overrides = {r.severity for r in self.refs_for(os_version) if r.severity}
        return overrides.pop() if len(overrides) == 1 else self.severity

    @property
    def marker_severity(self) -> str:
        """Highest severity on any OS: `-m cat1` never misses a control that is CAT I somewhere."""
        candidates = [self.severity, *(r.severity for r in self.stig if r.severity)]
        return max(candidates, key=_SEVERITY_RANK.__getitem__)

    @property
    def markers(self) -> tuple[str, ...]:
        marks = ["stig", CAT_MARKERS[self.marker_severity], self.area]
        # One marker per product the control applies to (`-m automate`); the area marker
        # `screenconnect` is the same word and the same meaning, so it appears once.
        marks += [p for p in self.products if p not in marks]
        if self.manual:
            marks.append("manual")
        return tuple(marks)

    def conditions(self) -> Iterable[Condition]:
        """Every condition in the check and the applicability rule."""
        def walk(node: Any) -> Iterable[Condition]:
            if isinstance(node, Combination):
                for part in node.parts:
                    yield from walk(part)
            elif isinstance(node, Condition):
                yield node

        yield from walk(self.check)
        if self.not_applicable_when:
            yield from walk(self.not_applicable_when.condition)


@dataclass(frozen=True)
class Catalog:
    version: str
    controls: tuple[Control, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {c.id: c for c in self.controls})

    def __getitem__(self, control_id: str) -> Control:
        try:
            return self._by_id[control_id]  # type: ignore[attr-defined]
        except KeyError:
            raise ConfigError(f"unknown control ID {control_id}") from None

    def __contains__(self, control_id: object) -> bool:
        return control_id in self._by_id  # type: ignore[attr-defined]

    @property
    def ids(self) -> set[str]:
        return set(self._by_id)  # type: ignore[attr-defined]

    def for_handler(self, handler: str) -> list[Control]:
        return [c for c in self.controls if c.handler == handler]


# --- loading and validation -------------------------------------------------------------------

def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"catalog {where}: {message}")


def _parse_check(where: str, raw: Any, *, structured: bool) -> Check | Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(where, "check must be a mapping")
    for mode in ("all", "any"):
        if mode in raw:
            parts = raw[mode]
            if set(raw) != {mode} or not isinstance(parts, list) or len(parts) < 2:
                raise _fail(where, f"'{mode}' must be the only key and list two or more conditions")
            return Combination(mode, tuple(_parse_check(where, p, structured=True) for p in parts))
    method = raw.get("method")
    if method not in _METHOD_FIELDS:
        if structured:
            raise _fail(where, f"unknown method {method!r} in a policy condition")
        return dict(raw)  # handlers with code of their own read their parameters as they are
    required, optional = _METHOD_FIELDS[method]
    operator = raw.get("operator", "equals")
    if operator not in _METHOD_OPERATORS[method]:
        raise _fail(where, f"operator {operator!r} does not apply to method {method}")
    common = {"method", "operator", "source", "guide", "input"}
    missing = required - set(raw)
    unknown = set(raw) - required - optional - common
    if missing:
        raise _fail(where, f"{method} condition lacks {sorted(missing)}")
    if unknown:
        raise _fail(where, f"{method} condition has unknown field {sorted(unknown)[0]!r}")
    if method == "registry":
        if raw["type"] not in REGISTRY_TYPES:
            raise _fail(where, f"registry type {raw['type']!r} is not one of {REGISTRY_TYPES}")
        if not str(raw["path"]).startswith("HKLM\\"):
            raise _fail(where, "registry paths must start with HKLM\\")
    absent = raw.get("absent", "finding")
    if absent not in ("finding", "compliant"):
        raise _fail(where, "absent must be finding or compliant")
    source = raw.get("source", "both")
    if source not in ("stig", "guide", "both"):
        raise _fail(where, "source must be stig, guide or both")
    if operator == "one_of" and not isinstance(raw.get("expected"), list):
        raise _fail(where, "one_of needs a list as expected")
    params = {k: v for k, v in raw.items() if k in required | optional and k not in
              {"expected", "absent"}}
    return Condition(
        method=method,
        operator=operator,
        params=params,
        expected=raw.get("expected"),
        absent=absent,
        source=source,
        guide=raw.get("guide"),
        input=raw.get("input"),
    )


def _parse_control(raw: Any, index: int) -> Control:
    if not isinstance(raw, dict) or "id" not in raw:
        raise _fail(f"entry {index}", "each control needs an id")
    where = raw["id"]
    required = {"id", "title", "area", "handler", "severity", "source", "fix", "check"}
    optional = {"stig", "guide_section", "manual", "not_applicable_when", "products"}
    missing = required - set(raw)
    if missing:
        raise _fail(where, f"missing {sorted(missing)}")
    unknown = set(raw) - required - optional
    if unknown:
        raise _fail(where, f"unknown key {sorted(unknown)[0]!r}")
    if raw["severity"] not in SEVERITIES:
        raise _fail(where, f"severity must be one of {list(SEVERITIES)}")
    if raw["area"] not in AREAS:
        raise _fail(where, f"area must be one of {AREAS}")
    if raw["handler"] not in HANDLERS:
        raise _fail(where, f"handler must be one of {HANDLERS}")
    if raw["source"] not in ("guide", "stig"):
        raise _fail(where, "source must be guide or stig")
    refs = []
    for ref in raw.get("stig") or ():
        if not isinstance(ref, dict) or not {"benchmark", "vuln_id", "stig_id"} <= set(ref):
            raise _fail(where, "each stig reference needs benchmark, vuln_id and stig_id")
        if ref.get("severity") not in (None, *SEVERITIES):
            raise _fail(where, f"stig reference severity {ref['severity']!r} is not valid")
        refs.append(StigRef(ref["benchmark"], ref["vuln_id"], ref["stig_id"], ref.get("severity")))
    products = raw.get("products", list(PRODUCT_NAMES))
    if (problem := products_problem(products)) is not None:
        raise _fail(where, f"products {problem}")
    structured = raw["handler"] == "policy"
    check = _parse_check(where, raw["check"], structured=structured)
    na = raw.get("not_applicable_when")
    na_rule = None
    if na is not None:
        if not isinstance(na, dict) or set(na) != {"condition", "reason"}:
            raise _fail(where, "not_applicable_when needs exactly condition and reason")
        na_rule = NotApplicableRule(_parse_check(where, na["condition"], structured=True),
                                    str(na["reason"]))
    return Control(
        id=raw["id"],
        title=raw["title"],
        area=raw["area"],
        handler=raw["handler"],
        severity=raw["severity"],
        source=raw["source"],
        fix=" ".join(str(raw["fix"]).split()),
        stig=tuple(refs),
        check=check,
        guide_section=raw.get("guide_section", ""),
        manual=bool(raw.get("manual", False)),
        not_applicable_when=na_rule,
        products=tuple(p for p in PRODUCT_NAMES if p in products),
    )


def parse_catalog(data: Any) -> Catalog:
    if not isinstance(data, dict) or "controls" not in data or "catalog_version" not in data:
        raise _fail("file", "expected catalog_version and controls at the top")
    controls = [_parse_control(raw, i) for i, raw in enumerate(data["controls"])]
    seen: set[str] = set()
    for control in controls:
        if control.id in seen:
            raise _fail(control.id, "duplicate control ID")
        seen.add(control.id)
    return Catalog(str(data["catalog_version"]), tuple(controls))


@lru_cache(maxsize=4)
def load_catalog(path: str | Path = CATALOG_PATH) -> Catalog:
    """Load and validate the catalog; ConfigError names the control and the problem."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"catalog {path}: cannot load ({exc})") from None
    return parse_catalog(data)


def os_version_from_build(build: Any) -> str | None:
    """Windows Server release from the OS build number (never from the localized caption);
    the build must be ASCII digits (int() would also read fullwidth digits or `20_348`)."""
    number = ascii_int(build)
    return OS_BY_BUILD.get(number) if number is not None else None
