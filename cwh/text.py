"""Text from hosts made safe to print: a host must not be able to rewrite a terminal or CI log."""

from __future__ import annotations

import re

# C0 and C1 controls (tab, newline and carriage return included: verdicts are one line) and the
# bidirectional overrides that can make a name display as something else.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Escape controls and bidi overrides as \\xNN / \\uNNNN; everything else is kept."""
    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)
