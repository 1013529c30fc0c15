"""What a recogniser hands back: checks it read with confidence, or a refusal with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Check = dict[str, Any]


class Refusal(Exception):
    """The text has the shape a recogniser knows but says something it cannot read with
    confidence; the rule becomes manual with this reason (our words, never DISA's)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Recognised:
    """Checks read from a rule's text."""

    checks: list[Check]
    combine: str = "all"
    inputs: set[str] = field(default_factory=set)
    not_applicable_if: list[dict[str, Any]] = field(default_factory=list)
    roles: list[str] | None = None  # when the text narrows the rule's roles
