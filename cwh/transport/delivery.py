"""How a script reaches a Windows host over WinRS: a short bootstrap command line, and the script
itself on stdin.

WinRS hands the command line to cmd.exe, which stops at 8191 characters, and an encoded script
past about 3,000 characters fails silently. So the command line only carries a fixed bootstrap
(under 2,000 characters) that reads the real script from stdin as base64 of gzip and runs it;
the script can grow without ever meeting the limit. The transport sends these; what the script
is (the collector and its request) is cwh/collect/script.py's.
"""

from __future__ import annotations

import base64
import gzip
from functools import cache

CMD_LINE_LIMIT = 8191
POWERSHELL = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass"
LANGUAGE_MODE_MARKER = "CWH-LANGUAGE-MODE:"
# $input enumerates stdin; base64 keeps the script safe from console code pages, and gzip under
# it keeps a growing collector inside one WinRS Send (every Send is one more request). Under an
# AppLocker or WDAC policy PowerShell runs in Constrained Language Mode, where the .NET calls
# below fail: the guard, which uses only what that mode allows, says so first and stops (after
# reading stdin, so the client's Send always finds the command still there).
BOOTSTRAP_SCRIPT = (
    "$ProgressPreference='SilentlyContinue';"
    "$b=(@($input) -join '') -replace '\\s','';"
    "if($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage'){"
    f"'{LANGUAGE_MODE_MARKER}'+$ExecutionContext.SessionState.LanguageMode;exit 1}};"
    "$m=New-Object IO.MemoryStream(,[Convert]::FromBase64String($b));"
    "$z=New-Object IO.Compression.GZipStream($m,[IO.Compression.CompressionMode]::Decompress);"
    "& ([ScriptBlock]::Create((New-Object IO.StreamReader($z,[Text.Encoding]::UTF8)).ReadToEnd()))"
)


def ps_literal(value: str) -> str:
    """A PowerShell single-quoted string literal: nothing inside is expanded."""
    return "'" + str(value).replace("'", "''") + "'"


def encoded_command(script: str) -> str:
    """`powershell -EncodedCommand <base64 of UTF-16LE>`, the form WinRS runs without quoting."""
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"{POWERSHELL} -EncodedCommand {encoded}"


@cache
def bootstrap_command() -> str:
    command = encoded_command(BOOTSTRAP_SCRIPT)
    # If this ever grew past the limit every host would return empty output: fail loudly here.
    assert len(command) < CMD_LINE_LIMIT // 4, "bootstrap command line is too long"
    return command


def stdin_payload(script: str) -> bytes:
    """The script as the bootstrap expects it on stdin: base64 of gzip of UTF-8, CRLF-terminated
    lines. mtime=0 keeps the payload the same for the same script."""
    packed = gzip.compress(script.encode("utf-8"), compresslevel=9, mtime=0)
    encoded = base64.b64encode(packed).decode("ascii")
    lines = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def decode_stdin_payload(payload: bytes) -> str:
    """The inverse of stdin_payload (used by the lab, which stands in for powershell.exe);
    ValueError when it is not base64 of gzip of UTF-8."""
    packed = base64.b64decode(b"".join(payload.split()), validate=True)
    try:
        return gzip.decompress(packed).decode("utf-8")
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"not a gzip stream: {exc}") from None
