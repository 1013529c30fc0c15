"""Waivers: accepted findings, with who accepted them, why, and until when.

A waived finding keeps its status (Open) everywhere, shows the waiver beside it, and does not fail
the run. After its expiry date the finding counts again and the reports say the waiver expired.
A waiver file with an unknown control, a missing approver or justification, or a bad date stops
the run before anything connects. A waiver runs 3 years at most (MAX_YEARS): `expires` later
than that from today (9999-12-31) is refused, so no finding is accepted for ever; 3 years is
the longest authorization to operate under the RMF, which a risk acceptance cannot outlive.

Format (YAML):

    waivers:
      - id: W-2026-014                 # optional; defaults to W-<position>
        control: CWH-NET-05
        hosts: [sc-legacy-*, backup]   # host or group names, globs
        justification: SMB stays open for the backup agent until it is replaced
        approver: J. Smith (ISSO)
        ticket: CHG-1234
        expires: 2027-03-31
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cwh.dates import as_date, years_after
from cwh.errors import ConfigError
from cwh.user_yaml import load_user_yaml

REQUIRED = ("control", "hosts", "justification", "approver", "expires")
OPTIONAL = ("id", "ticket")
MAX_YEARS = 3


@dataclass(frozen=True)
class Waiver:
    id: str
    control: str
    hosts: tuple[str, ...]
    justification: str
    approver: str
    ticket: str
    expires: dt.date

    def covers(self, host: str, groups: Iterable[str]) -> bool:
        names = (host, *groups)
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.hosts for name in names)

    def record(self, today: dt.date) -> dict[str, Any]:
        """What results and reports carry about this waiver."""
        return {"id": self.id, "justification": self.justification, "approver": self.approver,
                "ticket": self.ticket, "expires": self.expires.isoformat(),
                "expired": today > self.expires}


def _date(where: str, value: Any) -> dt.date:
    try:
        expires = as_date(value)
    except ValueError:
        raise ConfigError(f"{where}: expires must be a date (YYYY-MM-DD), got {value!r}") from None
    if expires > years_after(dt.date.today(), MAX_YEARS):
        raise ConfigError(f"{where}: expires {expires.isoformat()} is more than {MAX_YEARS} years "
                          f"away: a waiver runs {MAX_YEARS} years at most (approve it again "
                          "before then)")
    return expires


def _text(where: str, entry: dict, key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise ConfigError(f"{where}: '{key}' is required and must be text")
    return str(value).strip()


def parse_waivers(path: str | Path, data: Any, known_controls: set[str]) -> list[Waiver]:
    if not isinstance(data, dict) or not isinstance(data.get("waivers"), list):
        raise ConfigError(f"waivers {path}: expected a top-level 'waivers:' list")
    waivers = []
    for index, entry in enumerate(data["waivers"], start=1):
        if not isinstance(entry, dict):
            raise ConfigError(f"waivers {path}: entry {index} must be a mapping")
        where = f"waivers {path}: entry {index}" + (f" ({entry['id']})" if entry.get("id") else "")
        unknown = set(entry) - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            raise ConfigError(f"{where}: unknown field {sorted(map(str, unknown))[0]!r}")
        for key in REQUIRED:
            if key not in entry:
                raise ConfigError(f"{where}: '{key}' is required")
        control = _text(where, entry, "control")
        if control not in known_controls:
            raise ConfigError(f"{where}: unknown control ID {control}")
        hosts = entry["hosts"]
        hosts = [hosts] if isinstance(hosts, str) else hosts
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) and h
                                                               for h in hosts):
            raise ConfigError(f"{where}: 'hosts' must list host or group names (globs allowed)")
        waivers.append(Waiver(
            id=str(entry.get("id") or f"W-{index}"),
            control=control,
            hosts=tuple(hosts),
            justification=_text(where, entry, "justification"),
            approver=_text(where, entry, "approver"),
            ticket=str(entry.get("ticket") or ""),
            expires=_date(where, entry["expires"]),
        ))
    return waivers


def load_waivers(path: str | Path, known_controls: set[str]) -> list[Waiver]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"waivers {path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"waivers {path}: not UTF-8 text (byte {exc.start + 1})") from None
    try:
        return parse_waivers(path, load_user_yaml(text), known_controls)
    except ConfigError as exc:
        message = str(exc)
        raise ConfigError(message if message.startswith("waivers ") else
                          f"waivers {path}: {message}") from None
    except Exception as exc:  # last resort: one line, never a traceback with the file's text
        raise ConfigError(f"waivers {path}: cannot be understood ({type(exc).__name__} while "
                          "reading it; please report this)") from None


def waiver_for(waivers: Iterable[Waiver], host: str, groups: Iterable[str],
               control: str) -> Waiver | None:
    """The first waiver for this host and control; an unexpired one wins over an expired one."""
    matching = [w for w in waivers if w.control == control and w.covers(host, groups)]
    return max(matching, key=lambda w: w.expires, default=None)
