"""Text any checklist reader accepts: XML 1.0's character rules, and lengths counted as STIG
Viewer and STIG Manager count them (UTF-16 code units)."""

from __future__ import annotations

import re
from typing import Any

_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(value: Any) -> str:
    """Text any XML 1.0 or JSON consumer accepts: line ends as \\n, and characters XML forbids
    (NUL, ESC and other C0 controls, lone surrogates, U+FFFE/U+FFFF) shown as \\xNN / \\uNNNN."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.isascii() and text.isprintable():  # most texts: nothing to change, found in C
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_INVALID.sub(_escape_char, text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (STIG Viewer's limits count those), computed in C."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def truncate(text: str, limit: int, what: str = "text") -> str:
    """Cut `text` to at most `limit` UTF-16 code units, saying that (and how much) was cut."""
    total = utf16_len(text)
    if total <= limit:
        return text
    note = f"\n[... {what} truncated: {total} characters in all; results.json has everything]"
    room = max(0, limit - utf16_len(note))
    keep = text[:room]
    excess = utf16_len(keep) - room  # characters outside the BMP count twice
    if excess > 0:
        keep = keep[:-excess]
    return keep + note


def one_line(value: Any) -> str:
    """`clean` text on one line, its runs of white space one space."""
    return " ".join(clean(value).split())
