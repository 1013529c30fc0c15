"""pytest-xdist hooks: hand each worker the directory where workers share gathered hosts, and
tell the controller (which collects nothing itself) which host x control tests were selected.

A module of its own so the plugin loads without xdist (its hooks are unknown then)."""

from __future__ import annotations

from typing import Any

from cwh.audit import audit_of


def pytest_configure_node(node: Any) -> None:
    audit = audit_of(node.config)
    if audit is not None and audit.share_dir is not None:
        node.workerinput["cwh_share_dir"] = str(audit.share_dir)


def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    audit = audit_of(node.config)
    if audit is not None:
        # Case IDs end in [<host>::<control ID>]; any other test is not an audited control.
        audit.selected = [i for i in ids
                          if i.endswith("]") and i[:-1].rpartition("::")[2] in audit.catalog.ids]
