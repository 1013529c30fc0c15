"""The PowerShell that reaches the host: the collector with its request, delivered as
cwh/transport/delivery.py delivers any script (a bootstrap command line, the script on stdin).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

# Re-exported: what the collector's readers (the document parser, the lab) also need to know
# of its delivery.
from cwh.transport.delivery import (
    BOOTSTRAP_SCRIPT,
    CMD_LINE_LIMIT,
    LANGUAGE_MODE_MARKER,
    POWERSHELL,
    bootstrap_command,
    decode_stdin_payload,
    encoded_command,
    ps_literal,
    stdin_payload,
)

__all__ = [
    "BOOTSTRAP_SCRIPT", "CMD_LINE_LIMIT", "COLLECTOR_PATH", "LANGUAGE_MODE_MARKER", "POWERSHELL",
    "bootstrap_command", "build_collector", "collector_body", "collector_version",
    "decode_stdin_payload", "encoded_command", "ps_literal", "split_collector", "stdin_payload",
]

COLLECTOR_PATH = Path(__file__).with_name("collector.ps1")


@cache
def collector_body() -> str:
    return COLLECTOR_PATH.read_text(encoding="utf-8")


def collector_version(script_body: str) -> str | None:
    """The version stated on the collector's first line (`# cwh-collector-version: N`)."""
    first = script_body.split("\n", 1)[0].strip()
    prefix = "# cwh-collector-version:"
    return first[len(prefix):].strip() if first.startswith(prefix) else None


def build_collector(request_json: str) -> str:
    """The full script: one line defining $CwhRequest, then the collector."""
    return f"$CwhRequest = {ps_literal(request_json)}\n{collector_body()}"


def split_collector(script: str) -> tuple[str, str] | None:
    """(request JSON, body) when `script` has the shape build_collector makes, else None."""
    first, _, body = script.partition("\n")
    prefix = "$CwhRequest = '"
    if not (first.startswith(prefix) and first.endswith("'")):
        return None
    literal = first[len(prefix) - 1:]
    inner = literal[1:-1]
    if "'" in inner.replace("''", ""):
        return None
    return inner.replace("''", "'"), body
