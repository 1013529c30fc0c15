"""pytest-xdist hooks: hand each worker the directory where workers share gathered hosts, and
tell the controller (which collects nothing itself) which host x control tests were selected,
so it can start the probes of the hosts it gathers.

A module of its own so the plugin loads without xdist (its hooks are unknown then)."""

from __future__ import annotations

from typing import Any

from cwh.audit import audit_of
from cwh.selection import probes_for


def pytest_configure_node(node: Any) -> None:
    audit = audit_of(node.config)
    if audit is not None and audit.share_dir is not None:
        node.workerinput["cwh_share_dir"] = str(audit.share_dir)


def case_of_nodeid(nodeid: str) -> tuple[str, str] | None:
    """(host, control or STIG ID) from a case's node ID, which ends in [<host>::<ID>]."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    host, _, control_id = nodeid[nodeid.index("[") + 1:-1].rpartition("::")
    return (host, control_id) if host else None


def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    audit = audit_of(node.config)
    if audit is None:
        return
    cases = [(nodeid, case) for nodeid in ids
             if (case := case_of_nodeid(nodeid)) and audit.is_case_id(case[1])]
    audit.selected = [nodeid for nodeid, _ in cases]
    if audit.gatherer is not None and not node.config.option.collectonly:
        audit.gatherer.start_probes(probes_for(audit.catalog, [c for _, c in cases]))
