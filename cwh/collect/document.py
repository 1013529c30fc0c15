"""Turn the collector's raw output into the facts document, or say exactly why it can't.

Empty output with exit code 0 is what a truncated command line looks like on Windows, so it is an
error here, never "no findings". So are a missing marker, bad base64, bad gzip, bad JSON and a
document without its sections.

A complete document is kept whatever the exit code: each section carries its own ok/error, and a
non-zero exit after the document was written (a failing profile script, a module's exit handler)
says nothing about the sections. The exit code and stderr become warnings on the host instead.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import html
import json
import re
import zlib
from typing import Any

MARKER = b"CWH-FACTS-GZIP:"
LANGUAGE_MODE_MARKER = b"CWH-LANGUAGE-MODE:"  # written by the bootstrap (cwh/collect/script.py)
SCHEMA = 1
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


class DocumentError(ValueError):
    """The output is not a usable facts document; the message says what was wrong."""


def excerpt(data: bytes | str, limit: int = 160) -> str:
    """A short, single-line, printable excerpt of host output for error messages."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", text).strip()
    return text if len(text) <= limit else text[:limit] + "..."


def _decompress(blob: bytes) -> bytes:
    # Bounded so a hostile or broken host cannot exhaust memory with a gzip bomb.
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = decompressor.decompress(blob, MAX_DOCUMENT_BYTES + 1)
    if len(data) > MAX_DOCUMENT_BYTES or decompressor.unconsumed_tail:
        raise DocumentError(f"the facts document is larger than {MAX_DOCUMENT_BYTES} bytes")
    if not decompressor.eof:
        raise DocumentError("the facts document is truncated (incomplete gzip stream)")
    return data


def language_mode_message(mode: str) -> str:
    return (f"PowerShell on the host runs in {mode} mode, which refuses the .NET calls the "
            "collector makes, so nothing was collected. An application-control policy "
            "(AppLocker or Windows Defender Application Control) imposes this mode on the audit "
            "account: exempt that account from the policy on this server (or let the policy "
            "allow FullLanguage for it), or audit this host by other means")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique: ConvertTo-Json never repeats one, and json.loads
    would silently keep the last (`"ok": false, ..., "ok": true`)."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DocumentError(f"the facts document repeats the key {key!r} in one object: "
                                "not what the collector writes")
        result[key] = value
    return result


def parse_output(stdout: bytes, stderr: bytes, exit_code: int) -> dict[str, Any]:
    """Parse the collector's stdout; raises DocumentError naming the problem."""
    if not stdout.strip():
        detail = f"; stderr: {excerpt(stderr)}" if stderr.strip() else ""
        raise DocumentError(
            f"the collector produced no output (exit code {exit_code}){detail}; a command line "
            "cut short by cmd.exe looks exactly like this"
        )
    line = next((ln.strip() for ln in stdout.splitlines() if ln.strip().startswith(MARKER)), None)
    mode = next((ln.strip()[len(LANGUAGE_MODE_MARKER):] for ln in stdout.splitlines()
                 if ln.strip().startswith(LANGUAGE_MODE_MARKER)), None)
    if line is None and mode is not None:
        raise DocumentError(language_mode_message(excerpt(mode, 40)))
    if line is None:
        detail = f"; stderr: {excerpt(stderr)}" if stderr.strip() else ""
        raise DocumentError(
            f"no facts document in the output (exit code {exit_code}, output begins "
            f"{excerpt(stdout)!r}){detail}"
        )
    try:
        blob = base64.b64decode(line[len(MARKER):], validate=True)
    except (binascii.Error, ValueError):
        raise DocumentError("the facts document is not valid base64 (output damaged)") from None
    try:
        raw = _decompress(blob)
    except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise DocumentError(f"the facts document is not valid gzip ({exc})") from None
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_object)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DocumentError(f"the facts document is not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise DocumentError(f"the facts document is not schema {SCHEMA}")
    if not isinstance(document.get("sections"), dict):
        raise DocumentError("the facts document has no sections")
    return document


_CLIXML_STRING = re.compile(r'<S S="(?P<stream>[^"]*)">(?P<text>.*?)</S>', re.S)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def stderr_text(stderr: bytes) -> str:
    """What stderr says, as text: PowerShell's CLIXML (`#< CLIXML` then serialized records)
    reduced to its error and warning strings; progress records say nothing and are dropped."""
    text = stderr.decode("utf-8", "replace")
    if not text.lstrip().startswith("#< CLIXML"):
        return excerpt(text, 400)
    parts = []
    for match in _CLIXML_STRING.finditer(text):
        if match.group("stream").lower() in ("error", "warning", "verbose", "debug"):
            value = html.unescape(_CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)),
                                                     match.group("text")))
            parts.append(value)
    # Error records are laid out for a console (indents, ~~~ under the failing code).
    return excerpt(re.sub(r"\s+", " ", " ".join(parts)), 400)


def collection_warnings(stderr: bytes, exit_code: int) -> list[str]:
    """Warnings about a run that still produced a complete document."""
    said = stderr_text(stderr)
    if exit_code != 0:
        return [f"the collector exited with code {exit_code} after writing a complete facts "
                f"document (each section's own result stands); stderr: {said or 'empty'}"]
    if said:
        return [f"the collector wrote to stderr: {said}"]
    return []
