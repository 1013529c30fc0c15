"""File names for per-host artifacts that no two hosts of a run can share."""

from __future__ import annotations

import hashlib
import re

_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}
_STEM_LIMIT = 150


def host_file_names(hosts: list[str], suffix: str = ".json") -> dict[str, str]:
    """A file name per host that no other host of the run can share, on any file system.

    The name is the host name itself where that is a safe file name (IPs and FQDNs stay as they
    are: the suffix is appended, never substituted for a "last extension"). Where it is not
    (characters outside A-Za-z0-9._-, a leading dot, a Windows device name, a very long name), or
    where two hosts differ only in case, the name is made safe and a digest of the real host name
    is appended, so two hosts never map to one file.
    """
    stems: dict[str, str] = {}
    for host in sorted(set(hosts)):
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", host).lstrip(".")[:_STEM_LIMIT] or "host"
        lossy = safe != host or safe.split(".")[0].upper() in _RESERVED
        stems[host] = f"{safe}-{_digest(host)}" if lossy else safe
    folded: dict[str, list[str]] = {}
    for host, stem in stems.items():
        folded.setdefault(stem.casefold(), []).append(host)
    for clash in (hosts for hosts in folded.values() if len(hosts) > 1):
        for host in clash:
            stems[host] = f"{stems[host]}-{_digest(host)}"
    names = {host: stem + suffix for host, stem in stems.items()}
    taken: set[str] = set()
    for host in sorted(names):  # a host literally named like another's made-safe name
        while names[host].casefold() in taken:
            names[host] = f"{names[host].removesuffix(suffix)}-{_digest(names[host])}{suffix}"
        taken.add(names[host].casefold())
    return names


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
