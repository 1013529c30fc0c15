"""Parse what `secedit /export /areas SECURITYPOLICY USER_RIGHTS` writes.

The file is an INF: `[Section]` headers and `Key = Value` lines (UTF-16LE with BOM on disk; the
collector hands us the decoded text). A user right assigned to no one is absent from
`[Privilege Rights]` or present with an empty value; a missing *section* means the export was
incomplete, which is an error, never "nothing assigned".

secedit writes each key once. A key that appears twice with different values (in any letter
case: Windows reads INF keys case-insensitively) is a contradiction, and a right whose value is
not a list of accounts (`SeTcbPrivilege = , ,`) is garbage: both are errors for that key,
carrying the raw lines, never a value that could read as compliant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_ENTRY = re.compile(r"^(?P<key>[^=;]+?)\s*=\s*(?P<value>.*?)\s*$")
_SID = re.compile(r"S-1-[0-9]{1,14}(?:-[0-9]{1,10}){1,15}")


class SeceditParseError(ValueError):
    """The text is not a usable secedit export, or one key of it is unusable; `lines` holds the
    raw lines that show why (empty when the whole export is at fault)."""

    def __init__(self, message: str, lines: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.lines = lines


@dataclass(frozen=True)
class SecurityPolicy:
    sections: dict[str, dict[str, str]]
    # (section, key) in lower case -> every raw line of a key given more than one value
    conflicts: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def value(self, section: str, key: str) -> str | None:
        """The raw value of `key`, or None when the line is absent (section must exist);
        SeceditParseError when the export gives the key contradictory values."""
        entries = self._section(section)
        lines = self.conflicts.get((section.lower(), key.lower()))
        if lines:
            raise SeceditParseError(f"[{section}] {key} is given {len(lines)} different values "
                                    f"in one export: contradictory, not trusted", lines)
        for name, value in entries.items():
            if name.lower() == key.lower():
                return value
        return None

    def right(self, right: str) -> list[str]:
        """Accounts holding a user right: SIDs keep their `*` prefix stripped, names stay names.

        Windows always assigns some rights (logon, backup, ...), so an empty [Privilege Rights]
        means the export is broken, not that nobody holds this one."""
        if not self._section("Privilege Rights"):
            raise SeceditParseError("the [Privilege Rights] section is empty: the export is "
                                    "incomplete")
        raw = self.value("Privilege Rights", right)
        if raw is None or raw == "":
            return []
        return parse_accounts(right, raw)

    def _section(self, section: str) -> dict[str, str]:
        for name, entries in self.sections.items():
            if name.lower() == section.lower():
                return entries
        raise SeceditParseError(f"the secedit export has no [{section}] section")


def parse_accounts(right: str, raw: str) -> list[str]:
    """`*S-1-5-32-544,svc-backup` -> ['S-1-5-32-544', 'svc-backup']; SeceditParseError for an
    empty entry (`, ,`, a trailing comma) or a `*` that is not followed by a SID."""
    accounts = []
    for entry in raw.split(","):
        entry = entry.strip()
        if not entry or (entry.startswith("*") and not _SID.fullmatch(entry[1:])):
            raise SeceditParseError(f"{right} = {raw!r} is not a list of accounts",
                                    (f"{right} = {raw}",))
        accounts.append(entry.removeprefix("*"))
    return accounts


def parse_inf(text: str, required: tuple[str, ...] = ("System Access", "Privilege Rights")) -> \
        SecurityPolicy:
    """Parse the export; raises SeceditParseError when it is empty, not an INF, or incomplete."""
    if not text or not text.strip():
        raise SeceditParseError("the secedit export is empty")
    text = text.lstrip("\ufeff")
    sections: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}  # lower-case section name -> as first written
    seen: dict[tuple[str, str], list[str]] = {}  # every raw line of each key
    current: dict[str, str] | None = None
    current_name = ""
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        header = _SECTION.match(line)
        if header:
            current_name = header.group("name").strip()
            current = sections.setdefault(names.setdefault(current_name.lower(), current_name),
                                          {})
            continue
        entry = _ENTRY.match(line)
        if current is None or entry is None:
            raise SeceditParseError(f"line {number} is not INF syntax: {line[:60]!r}")
        key, value = entry.group("key").strip(), entry.group("value")
        seen.setdefault((current_name.lower(), key.lower()), []).append(f"line {number}: {line}")
        if not any(name.lower() == key.lower() for name in current):
            current[key] = value  # a second value for the key becomes a conflict below
    if "unicode" not in names and "version" not in names:
        raise SeceditParseError("the text has no [Unicode] or [Version] section: "
                                "not a secedit export")
    conflicts = {where: tuple(lines) for where, lines in seen.items()
                 if len({_value_of(line) for line in lines}) > 1}
    policy = SecurityPolicy(sections, conflicts)
    for section in required:
        policy._section(section)
    return policy


def _value_of(raw_line: str) -> str:
    match = _ENTRY.match(raw_line.split(": ", 1)[1])
    return match.group("value") if match else raw_line
