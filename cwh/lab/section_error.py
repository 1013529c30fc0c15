"""The failure of one emulated collector section, shared by the modules that answer sections."""

from __future__ import annotations


class SectionFailure(Exception):
    """A section fails on the emulated host; the message is what PowerShell would report."""
