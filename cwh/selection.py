"""What a run selects, known before collection: the markers of every guide control and STIG rule,
the `-m` expression evaluated on them, and the one fact request per host that covers them.

The hosts are gathered before collection (a STIG rule test exists only for the rules of the
host's own benchmark, and the benchmark follows from the OS the facts report), so what to gather
is decided from the markers alone: everything the `-m` expression can select, for every release
the host might turn out to run. `-k` is applied by pytest afterwards, on the tests; it narrows
what is judged, not what is collected (one round trip either way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from cwh.catalog.model import CAT_MARKERS, Catalog, Control
from cwh.catalog.products import PRODUCT_NAMES
from cwh.catalog.stig_rules import KIND_MARKERS, Release, StigRule
from cwh.collect.needs import add_rule
from cwh.collect.request import FactRequest
from cwh.judge.external import markers_for

GUIDE_MARKER = "guide"  # a control of the hardening guide's catalog (CWH-*)
RULE_MARKER = "stig_rule"  # a rule of the host's Windows Server STIG (WNxx-...)
# The test that stands for a host's STIG rules when its benchmark is unknown (facts failed, an
# OS no release covers): Not_Reviewed with the reason, so the run can never pass without them.
NO_BENCHMARK_ID = "WINDOWS-SERVER-STIG"

MarkerFilter = Callable[[Iterable[str]], bool]


def guide_markers(control: Control, network_only: bool | None = None) -> tuple[str, ...]:
    """The control's markers on a host of this kind (cwh/judge/external.py markers_for: the
    exposure audit is `stig` on network-only hosts only), plus `guide`; None: on any host."""
    if network_only is None:
        return (*control.markers, GUIDE_MARKER)
    return (*markers_for(control, network_only), GUIDE_MARKER)


def rule_markers(rule: StigRule) -> tuple[str, ...]:
    """stig, stig_rule, the CAT, the kind's marker (each check's kind for a mixed rule), manual
    for a manual rule, and every product's (a Windows Server STIG rule applies to the server
    whichever product it runs, as the guide's shared Windows controls do)."""
    marks = ["stig", RULE_MARKER, CAT_MARKERS[rule.severity], KIND_MARKERS.get(rule.kind, "mixed"),
             *PRODUCT_NAMES]
    if rule.kind == "mixed":
        marks += [KIND_MARKERS.get(str(c.get("kind")), "mixed") for c in rule.checks
                  if c.get("kind") != "input"]
    if rule.manual:
        marks.append("manual")
    return tuple(dict.fromkeys(marks))


def marker_filter(expression: str | None) -> MarkerFilter:
    """A function telling whether pytest's `-m` expression selects a test with these markers
    (pytest's own parser and matcher, so the answer is the one pytest gives at collection)."""
    if not expression:
        return lambda names: True
    from _pytest.mark import MarkMatcher
    from _pytest.mark.expression import Expression
    from _pytest.mark.structures import Mark

    compiled = Expression.compile(expression)
    cache: dict[tuple[str, ...], bool] = {}

    def selects(names: Iterable[str]) -> bool:
        key = tuple(names)
        if key not in cache:
            cache[key] = compiled.evaluate(MarkMatcher.from_markers(
                [Mark(name, (), {}, _ispytest=True) for name in key]))
        return cache[key]

    return selects


def selected_controls(catalog: Catalog, selects: MarkerFilter) -> list[Control]:
    return [c for c in catalog.controls if selects(guide_markers(c))]


def selected_rules(release: Release, selects: MarkerFilter) -> list[StigRule]:
    return [r for r in release.rules if selects(rule_markers(r))]


def fact_request(catalog: Catalog, releases: Mapping[str, Release],
                 selects: MarkerFilter) -> FactRequest:
    """What every host is asked for: the selected guide controls' facts and what the selected
    rules of every candidate release need (the host's OS, hence its release, is not known yet)."""
    request = FactRequest()
    for control in selected_controls(catalog, selects):
        request.add_control(control)
    for release in releases.values():
        for rule in selected_rules(release, selects):
            add_rule(request, rule)
    return request


def any_rule_selected(releases: Mapping[str, Release], selects: MarkerFilter) -> bool:
    return any(selects(rule_markers(r)) for release in releases.values() for r in release.rules)


def stand_in_markers(releases: Mapping[str, Release], selects: MarkerFilter) -> \
        tuple[str, ...] | None:
    """Markers for a host's NO_BENCHMARK_ID test: those of a rule `-m` selects (so pytest selects
    the test exactly when the expression selects some rule the host might have), or None."""
    for release in releases.values():
        for rule in release.rules:
            marks = rule_markers(rule)
            if selects(marks):
                return marks
    return None


def probes_for(catalog: Catalog, cases: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """The runner probes the selected guide controls need, per host ((host, ID) cases)."""
    probes: dict[str, set[str]] = {}
    for host, control_id in cases:
        if control_id in catalog:
            check = catalog[control_id].check
            if isinstance(check, dict):
                probes.setdefault(host, set()).update(check.get("probes", ()))
    return probes
