"""A rule's check text as lines the recognisers take one by one.

Every recogniser marks the lines it understood. Whatever is left must be harmless: a line that
states a condition ("... this is a finding", "... this is NA", "... is acceptable") and that no
recogniser took means the converter did not read the whole requirement, and the rule is refused
(manual) instead of half-converted. Instructions on how to look ("Open PowerShell", "Run
gpedit.msc") carry no condition and may stay untaken.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u2026": "...", "\u00a0": " ", "\u200b": "",
}
_SPACES = re.compile(r"[ \t]+")

# A line states a condition when it says what is or is not a finding, NA or acceptable.
_CONDITION = re.compile(
    r"\bfinding\b|\bNA\b|\bN/A\b|not applicable|\bapplicable\b|\bapplies\b|acceptable|"
    r"\bexclud|\bexcept\b|\bexception\b|does not apply|is not required|would not be|"
    r"\bmust\b|\bshould\b|may be set|may include|are allowed|is allowed|\bpermitted\b",
    re.I)

# Lines that look like conditions but only point elsewhere or explain; each was read in all
# three benchmarks and carries no requirement of its own rule.
_HARMLESS = tuple(re.compile(p, re.I) for p in (
    # the prerequisite is its own rule (WNxx-SO-000050)
    r"^Security Option \"Audit: Force audit policy subcategory settings .* must be set to "
    r"\"Enabled\" \(WN\d\d-SO-\d+\) for the detailed auditing subcategories to be effective\.?$",
    # the default ACLs are judged as listed; the named security option is its own rule
    r"^The default permissions are adequate when the Security Option \"Network access: Let "
    r"everyone permissions apply to anonymous users\" is set to \"Disabled\" \(WN\d\d-SO-\d+\)\.$",
    # a reminder of other rules (application account passwords)
    r"^The application account must meet requirements for application account passwords, such "
    r"as length \(WN\d\d-00-\d+\) and required frequency of changes \(WN\d\d-00-\d+\)\.$",
    r"^Passwords for (application )?accounts with this user right must be protected as highly "
    r"privileged accounts\.$",
    # the conditions of an application exception (read with the exception itself)
    r"^Vendor documentation must support the requirement for having the user right\.$",
    r"^The requirement must be documented with the (ISSO|Information System Security Officer "
    r"\(ISSO\))\.$",
    # the collector answers as an administrator; the way to look is not a condition
    r"must be run (from|with) an elevated",
    r"^\(The name of the built-in Administrator account must be changed to something other than "
    r"\"Administrator\" per STIG requirements\.\)$",
    r"^Error messages (should|must) display related to Bind and user not authenticated\.$",
    # side effects of a registry setting, not conditions of it
    r"^This setting may cause issues with some network scanning tools if local administrative "
    r"accounts are used remotely\. Scans (should|must) use domain accounts where possible\.",
    r"^Clients with this setting enabled will not be able to communicate via digitally encrypted "
    r"or signed protocols with servers that do not support these algorithms\.",
))


def normalise(text: str) -> str:
    """One spelling for quotes, dashes and spaces, so phrasings compare as written."""
    for old, new in _REPLACEMENTS.items():
        text = text.replace(old, new)
    return text


@dataclass
class CheckText:
    """The non-empty lines of a check text, each taken at most once."""

    lines: list[str]
    taken: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> CheckText:
        lines = [_SPACES.sub(" ", line).strip() for line in normalise(text).splitlines()]
        return cls([line for line in lines if line])

    def find(self, pattern: str | re.Pattern[str], start: int = 0) -> Iterator[
            tuple[int, re.Match[str]]]:
        """Untaken lines matching `pattern` (searched, case-insensitive), with their index."""
        regex = re.compile(pattern, re.I) if isinstance(pattern, str) else pattern
        for index in range(start, len(self.lines)):
            if index in self.taken:
                continue
            match = regex.search(self.lines[index])
            if match:
                yield index, match

    def first(self, pattern: str | re.Pattern[str], start: int = 0) -> tuple[
            int, re.Match[str]] | None:
        return next(self.find(pattern, start), None)

    def take(self, *indices: int) -> None:
        self.taken.update(indices)

    def take_all(self, pattern: str | re.Pattern[str]) -> int:
        """Take every untaken line matching `pattern`; how many were taken."""
        found = [index for index, _ in self.find(pattern)]
        self.take(*found)
        return len(found)

    def has(self, pattern: str) -> bool:
        """Whether any line (taken or not) matches: for telling shapes apart."""
        regex = re.compile(pattern, re.I)
        return any(regex.search(line) for line in self.lines)

    def unread_conditions(self) -> list[int]:
        """Untaken lines that state a condition and are not known to be harmless."""
        return [index for index, line in enumerate(self.lines)
                if index not in self.taken and _CONDITION.search(line)
                and not any(p.search(line) for p in _HARMLESS)]

    def snapshot(self) -> set[int]:
        return set(self.taken)

    def restore(self, snapshot: set[int]) -> None:
        self.taken = set(snapshot)
