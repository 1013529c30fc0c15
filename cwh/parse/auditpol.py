"""Parse what auditpol writes about the system audit policy: `auditpol /get /category:* /r` (the
report) and `auditpol /backup /file:...` (the backup), both CSV with one row per subcategory.

The report's columns are `Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion
Setting,Exclusion Setting`; the backup (the [MS-GPAC] audit.csv format) adds `Setting Value`.
On a localized Windows the header, the subcategory names and the Inclusion Setting words are
translated (German: `Computername,Richtlinienziel,Unterkategorie,...`, "Erfolg und Fehler");
the GUID and the backup's Setting Value are not. So rows are found by GUID, never by name, and
the setting is read from the English words only where auditpol printed them; anything else is
left for the backup's number (0 none, 1 success, 2 failure, 3 both, 4 none: [MS-GPAC] 2.2.1.3.1).
A word the suite does not know is never translated by guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cwh.parse.primitives import ascii_int

_GUID = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-"
                   r"[0-9A-Fa-f]{12}\}")
_PER_USER_TARGET = re.compile(r"^S-1-[0-9-]+$|[\\@]")
REPORT_COLUMNS = 6
BACKUP_COLUMNS = 7
# What auditpol prints in English, as (success audited, failure audited).
ENGLISH_SETTINGS: dict[str, tuple[bool, bool]] = {
    "No Auditing": (False, False), "Success": (True, False), "Failure": (False, True),
    "Success and Failure": (True, True),
}
_VALUE_SETTINGS: dict[int, tuple[bool, bool]] = {
    0: (False, False), 1: (True, False), 2: (False, True), 3: (True, True), 4: (False, False),
}


class AuditpolParseError(ValueError):
    """The text is not auditpol's CSV (or not the part of it the suite reads)."""


@dataclass(frozen=True)
class AuditRow:
    guid: str  # upper case, with braces
    subcategory: str  # as printed (translated on a localized Windows)
    inclusion: str  # the Inclusion Setting as printed
    setting_value: int | None  # the backup's Setting Value; None in the report
    line: str  # the raw row, for evidence

    def english_setting(self) -> tuple[bool, bool] | None:
        """(success, failure) from the English words; None for any other text."""
        return ENGLISH_SETTINGS.get(self.inclusion)

    def value_setting(self) -> tuple[bool, bool] | None:
        """(success, failure) from the backup's number; None without one or for an unknown one."""
        return None if self.setting_value is None else _VALUE_SETTINGS.get(self.setting_value)


def describe_setting(setting: tuple[bool, bool]) -> str:
    return {(False, False): "No Auditing", (True, False): "Success", (False, True): "Failure",
            (True, True): "Success and Failure"}[setting]


def parse_report(text: str) -> dict[str, list[AuditRow]]:
    """`auditpol /get /category:* /r`: rows by GUID (a GUID listed twice keeps both rows)."""
    return _parse(text, REPORT_COLUMNS, "auditpol /get /r")


def parse_backup(text: str) -> dict[str, list[AuditRow]]:
    """`auditpol /backup`: the system policy's rows by GUID; options and per-user rows are
    left out."""
    return _parse(text, BACKUP_COLUMNS, "auditpol /backup")


def _parse(text: str, columns: int, what: str) -> dict[str, list[AuditRow]]:
    if not isinstance(text, str) or not text.strip():
        raise AuditpolParseError(f"{what} wrote nothing")
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines() if line.strip()]
    header = lines[0]
    if _GUID.search(header) or header.count(",") != columns - 1:
        raise AuditpolParseError(f"{what}: the first line is not a header of {columns} "
                                 f"columns: {header[:80]!r}")
    rows: dict[str, list[AuditRow]] = {}
    for line in lines[1:]:
        guids = _GUID.findall(line)
        if not guids:
            continue  # the backup's options (Option:CrashOnAuditFail) and resource SACLs
        if len(guids) > 1:
            raise AuditpolParseError(f"{what}: a row names {len(guids)} GUIDs: {line[:120]!r}")
        row = _row(line, guids[0], columns, what)
        if row is not None:
            rows.setdefault(row.guid, []).append(row)
    if not rows:
        raise AuditpolParseError(f"{what}: no subcategory rows")
    return rows


def _row(line: str, guid: str, columns: int, what: str) -> AuditRow | None:
    before, _, after = line.partition(guid)
    head = before.split(",")
    if len(head) < 4 or head[-1] != "" or not after.startswith(","):
        raise AuditpolParseError(f"{what}: a row is not in auditpol's layout: {line[:120]!r}")
    target, subcategory = head[1].strip(), ",".join(head[2:-1]).strip()
    if _PER_USER_TARGET.search(target):
        return None  # a per-user policy row (backup), not the system policy
    tail = after[1:].split(",")
    wanted = columns - 4  # the columns after the GUID
    if len(tail) < wanted:
        raise AuditpolParseError(f"{what}: a row has too few columns: {line[:120]!r}")
    # A translated setting could hold a comma: the fixed columns are counted from the end.
    inclusion = ",".join(tail[:len(tail) - wanted + 1]).strip()
    value = None
    if columns == BACKUP_COLUMNS:
        raw = tail[-1].strip()
        value = ascii_int(raw)
        if value is None or value < 0:
            raise AuditpolParseError(f"{what}: Setting Value {raw!r} is not a number: "
                                     f"{line[:120]!r}")
    return AuditRow(guid.upper(), subcategory, inclusion, value, line)
