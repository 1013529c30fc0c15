"""What the STIG's system kinds need collected (docs/stig-rules.md: acl, certificate, accounts,
group_members, device_guard, firmware, tpm, os, volumes, ldap_policy, applocker, files, shares):
the sections of collector.ps1 that answer them and the items those sections read.

ACLs are a generic request list, `acl_paths`: one item per object, `[target, path, from,
from_path, from_name, use]`. `target` is `file`, `directory`, `registry` or `directory_files`;
`path` may hold environment variables (`%SystemRoot%`), expanded on the host, which reports the
expanded path. `from` says where the host looks the real path up first: `registry` (the value
`from_path\\from_name`, when it exists) or `share` (the path of the share `from_path`); `use`
is `value` (the path itself) or `parent` (its directory). Anything that needs the ACL of a
path (web.config, backups, ...) asks with `acl_item()` and reads the answer with
`cwh.judge.stig.system_facts.acl_answer()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.collect.needs import needs
from cwh.collect.request import FactRequest

ACL_TARGETS = ("file", "directory", "registry", "directory_files")
# Where Windows records its build and installation type (the `os` kind reads both).
CURRENT_VERSION_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
OS_VALUES = {"build": "CurrentBuildNumber", "installation_type": "InstallationType"}

AclItem = tuple[str, str, str, str, str, str]


def acl_item(target: str, path: str, source: str = "", source_path: str = "",
             source_name: str = "", use: str = "") -> AclItem:
    """One `acl_paths` request item (see the module docstring)."""
    if target not in ACL_TARGETS:
        raise ValueError(f"an ACL target is one of {', '.join(ACL_TARGETS)}, not {target!r}")
    if source not in ("", "registry", "share") or use not in ("", "value", "parent"):
        raise ValueError(f"an ACL path comes from the registry or a share, not {source!r}")
    return (target, path, source, source_path, source_name, use or ("value" if source else ""))


def acl_items(check: Mapping[str, Any]) -> list[AclItem]:
    """The request items one `acl` check of the rule data needs (one per place DISA says the
    object may be found)."""
    target, path = str(check.get("target")), str(check.get("path"))
    if isinstance(check.get("path_from_registry"), Mapping):
        found = check["path_from_registry"]
        return [acl_item(target, path, "registry", found["path"], found["name"],
                         found.get("use", "value"))]
    if isinstance(check.get("paths_from_registry"), list):
        return [acl_item(target, path, "registry", found["path"], found["name"],
                         found.get("use", "value")) for found in check["paths_from_registry"]]
    if isinstance(check.get("path_from_share"), Mapping):
        share = check["path_from_share"]
        return [acl_item(target, path, "share", share["name"], "", share.get("use", "value"))]
    return [acl_item(target, path)]


@needs("acl")
def _acl(check: Mapping[str, Any], request: FactRequest) -> None:
    try:
        items = acl_items(check)
    except (KeyError, ValueError, TypeError):
        return  # rule data the judge will report as unreadable
    request.sections.add("acls")
    for item in items:
        request.want("acl_paths", item)


@needs("certificate")
def _certificate(check: Mapping[str, Any], request: FactRequest) -> None:
    store = str(check.get("store", ""))
    if store.isascii() and store.isalpha():
        request.sections.add("certificate_stores")
        request.want("certificate_stores", store)


@needs("accounts")
def _accounts(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("local_accounts")


@needs("group_members")
def _group_members(check: Mapping[str, Any], request: FactRequest) -> None:
    group = check.get("group")
    if isinstance(group, Mapping) and isinstance(group.get("sid"), str):
        request.sections.add("group_members")
        request.want("groups", group["sid"].upper())


@needs("os")
def _os(check: Mapping[str, Any], request: FactRequest) -> None:
    name = OS_VALUES.get(str(check.get("property")))
    if name is not None:
        request.sections.add("registry")
        request.registry.add((CURRENT_VERSION_KEY, name))


@needs("files")
def _files(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("file_search")
    for pattern in check.get("patterns") or ():
        request.want("file_patterns", str(pattern))


@needs("shares")
def _shares(check: Mapping[str, Any], request: FactRequest) -> None:
    request.sections.add("shares")
    found = check.get("path_from_registry")
    if isinstance(found, Mapping):
        request.sections.add("registry")
        request.registry.add((str(found["path"]), str(found["name"])))


def _section(name: str) -> Any:
    def add(check: Mapping[str, Any], request: FactRequest) -> None:
        request.sections.add(name)
    return add


for _kind, _name in (("device_guard", "device_guard"), ("firmware", "firmware"), ("tpm", "tpm"),
                     ("volumes", "volumes"), ("ldap_policy", "ldap_policy"),
                     ("applocker", "applocker")):
    needs(_kind)(_section(_name))
