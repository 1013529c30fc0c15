"""Which products a host runs, and whether a control applies to it.

A product is detected when one of its server services is registered (in any state: a stopped
service is still an installation to harden) or one of its install paths exists; it is absent
only when the service list was read and every install path was answered as absent. Anything
else is unknown, and a control for an unknown product is Not_Reviewed, never Not_Applicable.

The inventory's `cwh_products` declares products, and a declaration can add a product that
detection missed but never remove one it found: a product the host positively shows is judged
even when the list omits it (one careless group-level `cwh_products: [automate]` must not turn
a ScreenConnect server's CVE checks into Not_Applicable). When the two disagree, every verdict
of a product control says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cwh.catalog.model import Control
from cwh.catalog.products import PRODUCTS, Product
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.collect.product_facts import product_paths
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed

SERVICES = "Win32_Service (collector)"
PATHS = "Get-Item on the products' install paths (collector)"
DECLARED = "inventory cwh_products"


@dataclass(frozen=True)
class Detection:
    """What the host's services and install paths say about one product."""

    product: Product
    present: bool | None  # None: unknown
    observed: str
    evidence: tuple[Evidence, ...]
    problem: str = ""  # why it is unknown
    services: tuple[str, ...] = ()  # the server services found (names as listed)
    paths: tuple[str, ...] = ()  # the install paths found

    def to_dict(self) -> dict[str, Any]:
        return {"present": self.present, "observed": self.observed, "problem": self.problem}


def _service_part(facts: HostFacts, product: Product) -> tuple[list[str] | None, Evidence, str]:
    wanted = {name.lower() for name in product.services}
    expected = "a server service: " + ", ".join(product.services)
    try:
        services = facts.services()
    except FactUnavailable as exc:
        return None, Evidence(SERVICES, product.title, "not available", expected, str(exc)), \
            f"the services could not be read ({exc})"
    found = [s for s in services if str(s.get("name", "")).lower() in wanted]
    labels = [f"{s.get('name')} ({s.get('state')})" for s in found]
    observed = ", ".join(labels) or "none of them registered"
    return labels, \
        Evidence(SERVICES, product.title, observed, expected, compact_json(found)), ""


def _path_part(facts: HostFacts, product: Product) -> tuple[list[str], bool, Evidence, str]:
    """(paths that exist, whether every path was answered, evidence, problem)."""
    expected = "an install path: " + ", ".join(product.paths)
    try:
        answers = product_paths(facts)
    except FactUnavailable as exc:
        return [], False, Evidence(PATHS, product.title, "not available", expected, str(exc)), \
            f"the install paths could not be checked ({exc})"
    mine = {str(a["path"]).lower(): a for a in answers}
    found, problems = [], []
    for path in product.paths:
        answer = mine.get(path.lower())
        if answer is None:
            problems.append(f"{path} was not in the answer")
        elif answer.get("exists") is True:
            found.append(str(answer.get("expanded") or path))
        elif answer.get("exists") is not False:
            where = answer.get("expanded") or path
            problems.append(f"{where}: {answer.get('error') or 'no answer'}")
    observed = ("exists: " + ", ".join(found)) if found else (
        "none exists" if not problems else "; ".join(problems))
    raw = compact_json([mine.get(p.lower()) for p in product.paths])
    return found, not problems, Evidence(PATHS, product.title, observed, expected, raw), \
        "; ".join(problems)


def detect(facts: HostFacts, product: Product) -> Detection:
    services, service_evidence, service_problem = _service_part(facts, product)
    paths, all_answered, path_evidence, path_problem = _path_part(facts, product)
    evidence = (service_evidence, path_evidence)
    if services or paths:
        what = [f"service {', '.join(services)}"] if services else []
        what += [f"path {', '.join(paths)}"] if paths else []
        names = tuple(label.rsplit(" (", 1)[0] for label in services or ())
        return Detection(product, True, f"{product.title} detected: {'; '.join(what)}", evidence,
                         services=names, paths=tuple(paths))
    if services is not None and all_answered:
        return Detection(product, False, f"{product.title} not detected: none of its services "
                         f"({', '.join(product.services)}) and none of its install paths", evidence)
    problem = "; ".join(p for p in (service_problem, path_problem) if p)
    return Detection(product, None, f"whether {product.title} is installed is unknown",
                     evidence, problem)


@dataclass(frozen=True)
class Applicability:
    """The gate's answer: a verdict that replaces the judgement (Not_Applicable, Not_Reviewed),
    or None and a note for the judged verdict."""

    verdict: Verdict | None = None
    note: str = ""
    details: Mapping[str, Any] | None = None

    def annotate(self, verdict: Verdict) -> Verdict:
        if not self.note and not self.details:
            return verdict
        reason = f"{verdict.reason}; {self.note}" if self.note else verdict.reason
        return replace(verdict, reason=reason,
                       details={**verdict.details, "products": dict(self.details or {})})


def _declared(inputs: Mapping[str, Any]) -> tuple[str, ...] | None:
    declared = inputs.get("cwh_products")
    return tuple(declared) if isinstance(declared, list) else None


def applicability(control: Control, facts: HostFacts, inputs: Mapping[str, Any]) -> Applicability:
    """Whether `control` applies to this host, from the declared or the detected products."""
    if not control.product_specific:
        return Applicability()
    titles = " or ".join(PRODUCTS[p].title for p in control.products)
    declared = _declared(inputs)
    if inputs.get("cwh_access") == "network":
        return _network_only(control, declared, titles)
    detections = {name: detect(facts, PRODUCTS[name]) for name in control.products}
    details: dict[str, Any] = {"applies_to": list(control.products), "declared": declared,
                               "detected": {n: d.to_dict() for n, d in detections.items()}}
    evidence = tuple(e for d in detections.values() for e in d.evidence)
    if declared is not None:
        shown = ", ".join(declared)
        mine = [p for p in control.products if p in declared]
        declared_evidence = Evidence(DECLARED, "cwh_products", f"[{shown}]",
                                     f"one of {list(control.products)}")
        found = [d for d in detections.values() if d.present is True]
        if not mine and found:
            note = (f"cwh_products declares [{shown}], but "
                    f"{'; '.join(d.observed for d in found)}: judged, since a declaration adds "
                    "products and never removes one the host shows")
            return Applicability(note=note, details=details)
        if not mine:
            reason = f"this control applies to {titles} servers; cwh_products declares " \
                     f"[{shown}] and the host shows none of them: " + \
                     "; ".join(d.observed + (f" ({d.problem})" if d.problem else "")
                               for d in detections.values())
            return Applicability(Verdict(Status.NOT_APPLICABLE, reason, observed=f"[{shown}]",
                                         evidence=(declared_evidence, *evidence),
                                         details={"products": details}))
        unconfirmed = [f"cwh_products declares {p}, but {detections[p].observed}"
                       + (f" ({detections[p].problem})" if detections[p].problem else "")
                       for p in mine if detections[p].present is not True]
        return Applicability(note="; ".join(unconfirmed), details=details)
    if any(d.present for d in detections.values()):
        return Applicability(note=database_only_note(control, detections), details=details)
    if all(d.present is False for d in detections.values()):
        reason = f"this control applies to {titles} servers, and the host runs none: " + \
            "; ".join(d.observed for d in detections.values())
        return Applicability(Verdict(Status.NOT_APPLICABLE, reason,
                                     expected=f"{titles} installed",
                                     observed="; ".join(d.observed for d in detections.values()),
                                     evidence=evidence, details={"products": details}))
    problems = "; ".join(f"{d.product.title}: {d.problem}" for d in detections.values()
                         if d.present is None)
    verdict = not_reviewed(f"whether this host runs {titles} is unknown, so whether the control "
                           f"applies is unknown: {problems} (declare it with cwh_products)",
                           evidence=evidence)
    return Applicability(replace(verdict, details={"products": details}))


def _network_only(control: Control, declared: tuple[str, ...] | None,
                  titles: str) -> Applicability:
    """A host the runner may only probe (cwh_access: network) has no facts to detect from: the
    declaration alone decides, and without one the control is judged (the exposure audit of a
    URL the inventory names)."""
    details = {"applies_to": list(control.products), "declared": declared,
               "detected": "not possible without host access (cwh_access: network)"}
    if declared is None or any(p in declared for p in control.products):
        return Applicability(details=details)
    shown = ", ".join(declared)
    return Applicability(Verdict(
        Status.NOT_APPLICABLE, f"this control applies to {titles} servers; cwh_products "
        f"declares [{shown}] for this network-only host", observed=f"[{shown}]",
        evidence=(Evidence(DECLARED, "cwh_products", f"[{shown}]",
                           f"one of {list(control.products)}"),),
        details={"products": details}))


# Automate's database service alone marks a separate MySQL server (the guide's 3306 row names
# one); only MySQL's own control is certainly about it.
DATABASE_SERVICES = {"automate": frozenset({"labmysql"})}
DATABASE_CONTROLS = frozenset({"CWH-CWA-04"})


def database_only_note(control: Control, detections: Mapping[str, Detection]) -> str:
    """The note for an application-server control on a host where only a product's database
    service was found (no application service, no install path): it may be a separate
    database server, which the roles model cannot declare yet, so it is judged and says so."""
    if control.id in DATABASE_CONTROLS:
        return ""
    for name, only in DATABASE_SERVICES.items():
        found = detections.get(name)
        if found is None or not found.present or found.paths:
            continue
        if found.services and all(s.casefold() in only for s in found.services):
            return (f"only {found.product.title}'s database service ({', '.join(found.services)}) "
                    "was found, none of its application server's services or install paths: "
                    "if this is a separate database server, this application-server control "
                    "does not apply to it (waive it); the database's own control is "
                    f"{', '.join(sorted(DATABASE_CONTROLS))}")
    return ""
