"""Which facts a set of controls needs: the request the collector script receives."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cwh.catalog.model import Control
from cwh.catalog.products import install_paths, service_patterns

COLLECTOR_VERSION = "4"
# Every host report needs these: the OS picks the STIG benchmark, identity fills checklist ASSETs.
BASE_SECTIONS = ("os", "identity")
METHOD_SECTIONS = {
    "registry": ("registry",),
    "secedit": ("secedit",),
    "user_right": ("secedit",),
    "windows_feature": ("features",),
    "firewall_profiles": ("firewall_profiles",),
}
SECTION_ORDER = ("os", "identity", "registry", "secedit", "local_admins", "features",
                 "firewall_profiles", "firewall_rules", "tcp_listeners", "services", "iis",
                 "screenconnect", "http_sslcert", "certificates", "internet_apps",
                 "audit_policy", "service_states", "account_sids",
                 "products", "udp_listeners", "firewall_addresses")
# The STIG's system kinds (cwh/collect/needs_system.py).
SECTION_ORDER += ("acls", "certificate_stores", "local_accounts", "group_members",
                  "device_guard", "firmware", "tpm", "volumes", "ldap_policy", "applocker",
                  "file_search", "shares")
# What tells which products a host runs (cwh/catalog/products.py): asked for by every control
# that applies to some products only.
PRODUCT_SECTIONS = ("services", "products")
MAX_TEXT_BYTES = 4 * 1024 * 1024
# Evidence for CWH-ACCT-02: Internet applications an administrator could use.
INTERNET_APP_PATTERNS = ("*Chrome*", "*Firefox*", "*Edge*", "*Opera*", "*Brave*", "*Vivaldi*",
                         "*Thunderbird*", "*Outlook*", "Microsoft 365*", "Microsoft Office*")
BROWSER_DATA_PATHS = (
    r"AppData\Local\Google\Chrome\User Data",
    r"AppData\Local\Microsoft\Edge\User Data",
    r"AppData\Roaming\Mozilla\Firefox\Profiles",
    r"AppData\Local\Microsoft\Outlook",
    r"AppData\Roaming\Thunderbird\Profiles",
)
SERVICE_PATTERNS = ("ScreenConnect*", "W3SVC",
                    *(p for p in service_patterns() if not p.startswith("ScreenConnect")))
DEFAULT_COMMAND_TIMEOUT_SEC = 120
# Lists of items the STIG rules' checks ask for (audit subcategories, ACL paths, certificate
# stores, ...), each named here so the request always carries every key (Set-StrictMode reads
# them all) and filled by cwh/collect/needs.py.
ITEM_LISTS: tuple[str, ...] = (
    "service_names",  # services by name (service_states)
    "account_names",  # inventory principals to translate to SIDs (account_sids)
)
# acl_paths: [target, path, from, from_path, from_name, use] (cwh/collect/needs_system.py);
# certificate_stores: LocalMachine store names; groups: group SIDs; file_patterns: wildcards.
ITEM_LISTS += ("acl_paths", "certificate_stores", "groups", "file_patterns")


def section_budget(command_timeout_sec: float) -> float:
    """How long the collector waits for its sections (all run side by side) before it writes
    the document without the ones still running. It must leave time, inside the suite's own
    deadline for the command, for powershell.exe to start, read the collector from stdin, and
    serialize and send the document: a fifth of the deadline plus two seconds."""
    return max(1.0, round(command_timeout_sec * 0.8 - 2, 1))


@dataclass
class FactRequest:
    sections: set[str] = field(default_factory=lambda: set(BASE_SECTIONS))
    registry: set[tuple[str, str]] = field(default_factory=set)
    features: set[str] = field(default_factory=set)
    items: dict[str, set[Any]] = field(default_factory=dict)

    def want(self, list_name: str, item: Any) -> None:
        """Ask for one item of a named list (hashable: a string or a tuple of strings)."""
        if list_name not in ITEM_LISTS:
            raise ValueError(f"no request list named {list_name!r} (cwh/collect/request.py)")
        self.items.setdefault(list_name, set()).add(item)

    def add_control(self, control: Control) -> None:
        for condition in control.conditions():
            self.sections.update(METHOD_SECTIONS[condition.method])
            if condition.method == "registry":
                self.registry.add((condition.params["path"], condition.params["name"]))
            elif condition.method == "windows_feature":
                self.features.add(condition.params["name"])
        if control.product_specific:
            self.sections.update(PRODUCT_SECTIONS)
        if isinstance(control.check, dict):
            self.sections.update(control.check.get("needs", ()))
            for item in control.check.get("registry", ()):
                self.registry.add((item["path"], item["name"]))
            for item in control.check.get("acl_paths", ()):  # [target, path, from, ...]
                self.sections.add("acls")
                self.want("acl_paths", tuple(str(part) for part in item))

    def to_json(self, command_timeout_sec: float = DEFAULT_COMMAND_TIMEOUT_SEC) -> str:
        """The request as the collector reads it; every key is always present (StrictMode)."""
        return json.dumps({
            "collector_version": COLLECTOR_VERSION,
            "section_budget_sec": section_budget(command_timeout_sec),
            "sections": [s for s in SECTION_ORDER if s in self.sections],
            "registry": [{"path": p, "name": n} for p, n in sorted(self.registry)],
            "features": sorted(self.features),
            "services": list(SERVICE_PATTERNS),
            "internet_app_patterns": list(INTERNET_APP_PATTERNS),
            "browser_data_paths": list(BROWSER_DATA_PATHS),
            "product_paths": list(install_paths()),
            "max_text_bytes": MAX_TEXT_BYTES,
            **{name: [_item_json(i) for i in sorted(self.items.get(name, ()))]
               for name in ITEM_LISTS},
        }, separators=(",", ":"))


def _item_json(item: Any) -> Any:
    return list(item) if isinstance(item, tuple) else item


def request_for(controls: Iterable[Control]) -> FactRequest:
    request = FactRequest()
    for control in controls:
        request.add_control(control)
    return request
