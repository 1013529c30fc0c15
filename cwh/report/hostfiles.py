"""File names for per-host artifacts (checklists, HDF files, host pages) that no two hosts of a
run can share, on any file system."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict

_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
             *(f"lpt{i}" for i in range(1, 10))}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def host_file_stems(hosts: list[str]) -> dict[str, str]:
    """A distinct file name stem per inventory host; artifacts append their suffix to it.

    A name that is already a safe file name is kept as it is (10.20.30.11, sc01.corp.example):
    suffixes are appended, never put in place of what looks like the last extension. Any other
    name (characters outside A-Za-z0-9._-, a trailing dot, a Windows device name) is sanitised
    and gets a digest of the real name, so two names that sanitise alike (sc:01, sc/01) stay apart
    and never take a safe name's place; names that differ only in case get one too, since Windows
    and macOS would write them to one file."""
    stems: dict[str, str] = {}
    for host in sorted(set(hosts)):
        safe = bool(_SAFE_NAME.fullmatch(host)) and not host.endswith(".") and \
            host.split(".", 1)[0].lower() not in _RESERVED
        cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", host).strip("._-")[:150] or "host"
        stems[host] = host if safe else f"{cleaned}-{_digest(host)}"
    folded: dict[str, list[str]] = defaultdict(list)
    for host, stem in stems.items():
        folded[stem.casefold()].append(host)
    for clashing in (group for group in folded.values() if len(group) > 1):
        for host in clashing:
            stems[host] = f"{stems[host]}-{_digest(host)}"
    taken: set[str] = set()
    for host in sorted(stems):  # a host literally named like another's made-safe name
        while stems[host].casefold() in taken:
            stems[host] = f"{stems[host]}-{_digest(stems[host])}"
        taken.add(stems[host].casefold())
    return stems


def host_file_names(hosts: list[str], suffix: str = ".json") -> dict[str, str]:
    """host_file_stems with the artifact's suffix appended."""
    return {host: stem + suffix for host, stem in host_file_stems(hosts).items()}
