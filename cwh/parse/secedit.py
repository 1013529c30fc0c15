"""Parse what `secedit /export /areas SECURITYPOLICY USER_RIGHTS` writes.

The file is an INF: `[Section]` headers and `Key = Value` lines (UTF-16LE with BOM on disk; the
collector hands us the decoded text). A user right assigned to no one is absent from
`[Privilege Rights]` or present with an empty value; a missing *section* means the export was
incomplete, which is an error, never "nothing assigned".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_ENTRY = re.compile(r"^(?P<key>[^=;]+?)\s*=\s*(?P<value>.*?)\s*$")


class SeceditParseError(ValueError):
    """The text is not a usable secedit export."""


@dataclass(frozen=True)
class SecurityPolicy:
    sections: dict[str, dict[str, str]]

    def value(self, section: str, key: str) -> str | None:
        """The raw value of `key`, or None when the line is absent (section must exist)."""
        entries = self._section(section)
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
        if not raw:
            return []
        return [entry.strip().lstrip("*") for entry in raw.split(",") if entry.strip()]

    def _section(self, section: str) -> dict[str, str]:
        for name, entries in self.sections.items():
            if name.lower() == section.lower():
                return entries
        raise SeceditParseError(f"the secedit export has no [{section}] section")


def parse_inf(text: str, required: tuple[str, ...] = ("System Access", "Privilege Rights")) -> \
        SecurityPolicy:
    """Parse the export; raises SeceditParseError when it is empty, not an INF, or incomplete."""
    if not text or not text.strip():
        raise SeceditParseError("the secedit export is empty")
    text = text.lstrip("\ufeff")
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(";"):
            continue
        header = _SECTION.match(line)
        if header:
            current = sections.setdefault(header.group("name").strip(), {})
            continue
        entry = _ENTRY.match(line)
        if current is None or entry is None:
            raise SeceditParseError(f"line {number} is not INF syntax: {line[:60]!r}")
        current[entry.group("key").strip()] = entry.group("value")
    if "Unicode" not in sections and "Version" not in sections:
        raise SeceditParseError("the text has no [Unicode] or [Version] section: "
                                "not a secedit export")
    policy = SecurityPolicy(sections)
    for section in required:
        policy._section(section)
    return policy
