"""Lab host images: YAML descriptions of what a Windows host looks like to the collector.

An image holds facts only (registry, security policy, groups, OS, ...). The lab answers the
collector from them and never fills a gap: whatever the image does not say is reported the way
Windows would report it (an absent key is absent; an unknown feature is an error).
The format is documented in docs/lab-images.md.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cwh.errors import ConfigError
from cwh.lab import powershell

IMAGES_DIR = Path(__file__).with_name("images")
TOP_LEVEL = {
    "description", "os", "identity", "user", "registry", "security_policy", "local_groups",
    "features", "firewall", "services", "iis", "screenconnect", "http_sslcert", "certificates",
    "software", "profiles", "tcp_listeners", "network", "faults", "extends", "winrm",
    "powershell",
    # STIG policy (cwh/lab/policy_sections.py)
    "audit_policy", "lsa_accounts", "lsa_errors", "service_query_error",
    # products (cwh/lab/product_sections.py)
    "automate", "paths", "udp_listeners",
}
# The STIG's system kinds (cwh/lab/system_sections.py).
TOP_LEVEL |= {"environment", "acls", "certificate_stores", "accounts", "device_guard",
              "firmware", "tpm", "volumes", "ldap_policy", "applocker", "files_on_disk",
              "shares"}
ADMINISTRATORS = "S-1-5-32-544"


@dataclass(frozen=True)
class Image:
    name: str
    path: Path
    data: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def _merge(base: Any, override: Any) -> Any:
    """Deep-merge mappings so an image can extend another and change a few facts."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return override


def _resolve(name_or_path: str, relative_to: Path | None) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yml", ".yaml"):
        if not candidate.is_absolute() and relative_to is not None:
            candidate = relative_to / candidate
        return candidate
    return IMAGES_DIR / f"{name_or_path}.yml"


def _validate(path: Path, data: dict[str, Any]) -> None:
    unknown = set(data) - TOP_LEVEL
    if unknown:
        raise ConfigError(f"lab image {path}: unknown key {sorted(unknown)[0]!r} "
                          f"(allowed: {', '.join(sorted(TOP_LEVEL))})")
    powershell.check(f"lab image {path}", data.get("powershell"))
    for key, values in (data.get("registry") or {}).items():
        if not str(key).startswith("HKLM\\"):
            raise ConfigError(f"lab image {path}: registry key {key!r} must start with HKLM\\")
        for name, entry in (values or {}).items():
            if entry is None or str(name).startswith("_"):
                continue  # null removes a value an extended image had
            if not isinstance(entry, dict) or "type" not in entry or "value" not in entry:
                raise ConfigError(f"lab image {path}: {key}\\{name} needs type and value")


def load_image(name_or_path: str, relative_to: Path | None = None) -> Image:
    """Load an image by bundled name (hardened, drifted) or by path; ConfigError when invalid."""
    path = _resolve(name_or_path, relative_to)
    try:
        stat = path.stat()
    except OSError as exc:
        raise ConfigError(f"lab image {name_or_path}: cannot read {path} ({exc.strerror})") \
            from None
    # A fleet of hundreds of hosts shares a few images: parse each file once (an edited file
    # is parsed again), and give every host its own copy, since faults change a host's image.
    data = copy.deepcopy(_parsed(path.resolve(), stat.st_mtime_ns, stat.st_size))
    if not isinstance(data, dict):
        raise ConfigError(f"lab image {path}: expected a mapping")
    parent = data.pop("extends", None)
    if parent:
        data = _merge(load_image(parent, path.parent).data, data)
    _validate(path, data)
    return Image(path.stem, path, data)


@functools.lru_cache(maxsize=64)
def _parsed(path: Path, mtime_ns: int, size: int) -> Any:
    """One file's YAML, as parsed (callers copy before changing it)."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"lab image {path}: cannot read {path} ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"lab image {path}: not valid YAML ({exc})") from None
