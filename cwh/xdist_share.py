"""pytest-xdist hook: hand each worker the directory where workers share gathered hosts.

A module of its own so the plugin loads without xdist (its hooks are unknown then)."""

from __future__ import annotations

from typing import Any

from cwh.audit import audit_of


def pytest_configure_node(node: Any) -> None:
    audit = audit_of(node.config)
    if audit is not None and audit.share_dir is not None:
        node.workerinput["cwh_share_dir"] = str(audit.share_dir)
