"""Faults a lab host can be told to show (inventory `cwh_lab_fault`, comma separated).

Transport faults are the WinRM endpoint's (refused, hanging, HTTP 500, ...). Output faults
damage what the collector returns after it ran, the ways real hosts and networks damage it.
Facts that are wrong on the host itself (wrong registry types, hostile strings, localized names,
XML bombs) belong in an image instead, because that is where they live on a real server.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib
from collections.abc import Callable

from cwh.collect.document import DocumentError, parse_output
from cwh.errors import ConfigError
from cwh.lab.emulator import encode_document
from cwh.lab.winrm import FAULTS as TRANSPORT_FAULTS
from cwh.lab.winrm import CommandResult

OutputFilter = Callable[[dict | None, bytes], CommandResult]


def _empty(document: dict | None, output: bytes) -> CommandResult:
    return CommandResult(stdout=b"")


def _truncated(document: dict | None, output: bytes) -> CommandResult:
    return CommandResult(stdout=output[: len(output) // 2])


def _invalid_json(document: dict | None, output: bytes) -> CommandResult:
    blob = gzip.compress(b'{"schema": 1, "sections": {"os": ')
    return CommandResult(stdout=b"CWH-FACTS-GZIP:" + base64.b64encode(blob) + b"\r\n")


def _no_marker(document: dict | None, output: bytes) -> CommandResult:
    return CommandResult(stdout=b"Windows PowerShell\r\nCopyright (C) Microsoft Corporation.\r\n")


def _garbage(document: dict | None, output: bytes) -> CommandResult:
    return CommandResult(stdout=b"CWH-FACTS-GZIP:!!!not-base64!!!\r\n")


def _exit_nonzero(document: dict | None, output: bytes) -> CommandResult:
    return CommandResult(stdout=output, stderr=b"Exception: boom", exit_code=1)


def _slow(document: dict | None, output: bytes) -> CommandResult:
    return CommandResult(stdout=output, runtime_s=3600.0)


def _huge(document: dict | None, output: bytes) -> CommandResult:
    """The document padded past the suite's decompressed-size cap (a gzip bomb, 70 MB of
    spaces in ~70 KB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    blob = compressor.compress(json.dumps(document).encode())
    for _ in range(70):
        blob += compressor.compress(b" " * (1 << 20))
    blob += compressor.flush()
    return CommandResult(stdout=b"CWH-FACTS-GZIP:" + base64.b64encode(blob) + b"\r\n")


def _utf16(document: dict | None, output: bytes) -> CommandResult:
    """The output line as UTF-16LE with a BOM (the console's encoding switched to Unicode)."""
    return CommandResult(stdout=output.decode("ascii").encode("utf-16"))


def _codepage(document: dict | None, output: bytes) -> CommandResult:
    """The JSON inside the gzip written in OEM code page 850 instead of UTF-8."""
    text = json.dumps(document, ensure_ascii=False)
    blob = gzip.compress(text.encode("cp850", "replace"))
    return CommandResult(stdout=b"CWH-FACTS-GZIP:" + base64.b64encode(blob) + b"\r\n")


def _trailing_garbage(document: dict | None, output: bytes) -> CommandResult:
    """A whole document, then console noise on the following lines."""
    return CommandResult(stdout=output + b"\x1b[0m\x00\xff\xfegarbage after the document\r\n")


def _wrapped(document: dict | None, output: bytes) -> CommandResult:
    """The output line wrapped at a console width of 120 columns."""
    line = output.rstrip(b"\r\n")
    return CommandResult(stdout=b"\r\n".join(line[i:i + 120] for i in range(0, len(line), 120))
                         + b"\r\n")


def _stderr_progress(document: dict | None, output: bytes) -> CommandResult:
    """A good answer with CLIXML progress records on stderr, as module loading writes them."""
    return CommandResult(stdout=output, stderr=b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns='
                         b'"http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" '
                         b'RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject'
                         b"</T></TN></Obj></Objs>\r\n")


def _edited(edit: Callable[[dict], None]) -> OutputFilter:
    """A fault that changes the (decoded) document before it is encoded again."""
    def apply(document: dict | None, output: bytes) -> CommandResult:
        changed = json.loads(json.dumps(document))
        edit(changed)
        return CommandResult(stdout=encode_document(changed))
    return apply


def _schema_2(document: dict) -> None:
    document["schema"] = 2


def _registry_contradiction(document: dict) -> None:
    """Every value that exists is reported inside a key that does not."""
    for value in document["sections"]["registry"]["data"]["values"]:
        if value["value_exists"]:
            value["key_exists"] = False


def _registry_twice(document: dict) -> None:
    """Every value answered a second time, its path in upper case and its data different:
    registry paths are case-insensitive, so each value has two contradictory answers."""
    values = document["sections"]["registry"]["data"]["values"]
    for value in list(values):
        twin = {**value, "path": value["path"].upper()}
        if value["value_exists"]:
            twin["value"] = [] if value["value"] else 1
        else:
            twin.update(key_exists=True, value_exists=True, kind="DWord", value=1)
        values.append(twin)


def _no_privilege_rights(document: dict) -> None:
    """The secedit export without its [Privilege Rights] section (an incomplete export)."""
    data = document["sections"]["secedit"]["data"]
    data["inf"] = re.sub(r"\[Privilege Rights\][^\[]*", "", data["inf"])


def _section_change(name: str, how: str) -> OutputFilter:
    def apply(document: dict | None, output: bytes) -> CommandResult:
        changed = json.loads(json.dumps(document))
        sections = changed["sections"]
        if how == "missing":
            sections.pop(name, None)
        elif how == "error":
            sections[name] = {"ok": False, "error": "Access is denied.", "ms": 3}
        elif how == "null" and name in sections:
            sections[name]["data"] = None
        return CommandResult(stdout=encode_document(changed))
    return apply


OUTPUT_FAULTS: dict[str, OutputFilter] = {
    "empty_output": _empty,
    "truncated_output": _truncated,
    "invalid_json": _invalid_json,
    "no_marker": _no_marker,
    "garbage_output": _garbage,
    "exit_nonzero": _exit_nonzero,
    "never_finishes": _slow,
    "huge_output": _huge,
    "utf16_output": _utf16,
    "codepage_document": _codepage,
    "trailing_garbage": _trailing_garbage,
    "wrapped_output": _wrapped,
    "stderr_progress": _stderr_progress,
    "schema_2": _edited(_schema_2),
    "registry_contradiction": _edited(_registry_contradiction),
    "registry_answered_twice": _edited(_registry_twice),
    "secedit_no_privilege_rights": _edited(_no_privilege_rights),
}
SECTION_FAULTS = ("missing", "error", "null")  # used as e.g. "section_error:secedit"


def _combine(filters: list[OutputFilter]) -> OutputFilter | None:
    if not filters:
        return None

    def apply(document: dict | None, output: bytes) -> CommandResult:
        result = CommandResult(stdout=output)
        for fault in filters:
            result = fault(document, result.stdout)
            if result.exit_code or result.runtime_s or not result.stdout:
                return result
            document = _decode(result.stdout) or document
        return result
    return apply


def _decode(output: bytes) -> dict | None:
    try:
        return parse_output(output, b"", 0)
    except DocumentError:
        return None


def split_faults(spec: str | None, host: str) -> tuple[str | None, OutputFilter | None]:
    """(transport fault for the endpoint, output filter for the emulator) from the inventory."""
    if not spec:
        return None, None
    transport: str | None = None
    filters: list[OutputFilter] = []
    for name in (part.strip() for part in spec.split(",") if part.strip()):
        if name in TRANSPORT_FAULTS:
            if transport is not None:
                raise ConfigError(f"lab host {host}: only one transport fault at a time")
            transport = name
        elif name in OUTPUT_FAULTS:
            filters.append(OUTPUT_FAULTS[name])
        elif ":" in name and name.split(":", 1)[0].removeprefix("section_") in SECTION_FAULTS:
            kind, section = name.split(":", 1)
            filters.append(_section_change(section, kind.removeprefix("section_")))
        else:
            known = sorted(TRANSPORT_FAULTS) + sorted(OUTPUT_FAULTS) + \
                [f"section_{k}:<section>" for k in SECTION_FAULTS]
            raise ConfigError(f"lab host {host}: unknown cwh_lab_fault {name!r} "
                              f"(known: {', '.join(known)})")
    return transport, _combine(filters)
