"""How a lab host's powershell.exe departs from a plain, fast, FullLanguage one: the image key
`powershell`, each entry a behaviour of real Windows PowerShell 5.1 the suite must survive.

- `language_mode: ConstrainedLanguage`: an AppLocker or WDAC policy puts every PowerShell the
  audit account starts into Constrained Language Mode. Method calls on types outside a short
  list of core types fail ("Cannot invoke method. Method invocation is supported only on core
  types in this language mode."); the bootstrap is answered as that PowerShell would answer it.
- `unrolled_arrays: true`: the document as an unprotected collector writes it. PowerShell
  unrolls arrays returned from functions and pipelines, so a one-element array reaches
  ConvertTo-Json as its element and an empty one as null, everywhere in every section.
- `slow_sections: {features: 3600}`: seconds a section takes on this host (Get-WindowsFeature
  while servicing is busy, SID lookups against an unreachable domain controller). The collector
  stops waiting for a section at the request's `section_budget_sec`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cwh.errors import ConfigError
from cwh.lab.winrm import CommandResult

LANGUAGE_MODES = ("FullLanguage", "ConstrainedLanguage")
KEYS = {"language_mode", "unrolled_arrays", "slow_sections"}
# Types whose methods Constrained Language Mode still lets a script call (the part of
# PowerShell's core-type list a bootstrap could meet). [Convert] and [Text.Encoding] are not.
CORE_TYPES = frozenset({
    "scriptblock", "string", "int", "long", "bool", "char", "byte", "datetime", "decimal",
    "double", "float", "guid", "hashtable", "regex", "timespan", "version", "xml", "array",
    "psobject", "pscustomobject", "ipaddress", "uri", "system.string", "system.int32",
    "system.management.automation.scriptblock",
})
_STATIC_CALL = re.compile(r"\[(?P<type>[A-Za-z][\w.]*)\]::(?P<member>\w+)(?:\.\w+)*\(")
# The guard a bootstrap runs first: `if ($ExecutionContext.SessionState.LanguageMode -ne
# 'FullLanguage') { '<marker>' + <the mode>; exit <n> }`.
_GUARD = re.compile(
    r"if\s*\(\s*(?P<mode>\$ExecutionContext\.SessionState\.LanguageMode)\s+-ne\s+"
    r"'FullLanguage'\s*\)\s*\{\s*'(?P<say>[^']*)'\s*\+\s*(?P=mode)\s*;\s*exit\s+(?P<code>[0-9]+)"
    r"\s*\}", re.I)


@dataclass(frozen=True)
class Behaviour:
    language_mode: str = "FullLanguage"
    unrolled_arrays: bool = False
    slow_sections: Mapping[str, float] = field(default_factory=dict)

    def runtime(self, sections: list[str], budget: float) -> float:
        """How long the collector runs: its sections run side by side, each stopped at the
        budget, so the slowest section (or the budget) sets the time."""
        return max((min(float(self.slow_sections.get(name, 0)), budget) for name in sections),
                   default=0.0)

    def timed_out(self, section: str, budget: float) -> bool:
        return float(self.slow_sections.get(section, 0)) > budget


def check(where: str, spec: Any) -> None:
    """ConfigError naming the image when its `powershell` key is not understood."""
    if spec is None:
        return
    if not isinstance(spec, dict) or set(spec) - KEYS:
        raise ConfigError(f"{where}: powershell must be a mapping of {', '.join(sorted(KEYS))}")
    if spec.get("language_mode", "FullLanguage") not in LANGUAGE_MODES:
        raise ConfigError(f"{where}: powershell.language_mode must be one of "
                          f"{', '.join(LANGUAGE_MODES)}")
    slow = spec.get("slow_sections") or {}
    if not isinstance(slow, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0
            for v in slow.values()):
        raise ConfigError(f"{where}: powershell.slow_sections maps section names to seconds")


def behaviour(spec: Mapping[str, Any] | None) -> Behaviour:
    spec = spec or {}
    return Behaviour(str(spec.get("language_mode", "FullLanguage")),
                     bool(spec.get("unrolled_arrays", False)),
                     dict(spec.get("slow_sections") or {}))


def unroll(value: Any) -> Any:
    """What an unprotected collector hands ConvertTo-Json: one-element arrays as their element,
    empty arrays as null, at every depth."""
    if isinstance(value, list):
        if not value:
            return None
        if len(value) == 1:
            return unroll(value[0])
        return [unroll(item) for item in value]
    if isinstance(value, dict):
        return {key: unroll(item) for key, item in value.items()}
    return value


def _clixml_error(lines: list[str]) -> bytes:
    """stderr of powershell.exe -EncodedCommand with redirected streams: the error record as
    CLIXML strings, one per line."""
    def escape(text: str) -> str:
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("'", "&apos;").replace('"', "&quot;"))
    body = "".join(f'<S S="Error">{escape(line)}_x000D__x000A_</S>' for line in lines)
    return ('#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/'
            f'powershell/2004/04">{body}</Objs>').encode()


def _blocked_call(statement: str) -> re.Match[str] | None:
    """The method call Constrained Language refuses first in one statement: arguments are
    evaluated before the call, so in nested calls the innermost goes first."""
    blocked = [m for m in _STATIC_CALL.finditer(statement)
               if m.group("type").lower() not in CORE_TYPES]
    return max(blocked, key=lambda m: m.start(), default=None)


def run_constrained(script: str, mode: str) -> CommandResult:
    """What Windows PowerShell 5.1 in `mode` does with the one-line bootstrap `script`: its
    statements run in order; a language-mode guard writes its line and exits; the first call
    the language mode refuses writes PowerShell's error, and the run ends with exit code 1
    (in the bootstrap that call is in the last statement, the one that runs the collector)."""
    offset = 0
    for statement in _statements(script):
        guard = _GUARD.search(statement)
        call = _blocked_call(statement)
        if guard and (call is None or guard.start() < call.start()):
            return CommandResult(stdout=f"{guard.group('say')}{mode}\r\n".encode(),
                                 exit_code=int(guard.group("code")))
        if call is not None:
            return CommandResult(stdout=b"", exit_code=1, stderr=_clixml_error([
                "Cannot invoke method. Method invocation is supported only on core types in "
                "this language mode.",
                f"At line:1 char:{offset + call.start() + 1}",
                f"+ {statement}",
                "+ " + " " * call.start() + "~" * len(call.group(0)),
                "    + CategoryInfo          : InvalidOperation: (:) [], RuntimeException",
                "    + FullyQualifiedErrorId : MethodInvocationNotSupportedInConstrainedLanguage",
                " ",
            ]))
        offset += len(statement) + 1
    return CommandResult(stdout=b"")  # nothing refused and nothing written


def _statements(script: str) -> list[str]:
    """Top-level statements of a one-line script (split at `;` outside quotes and braces)."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(script):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif char == ";" and depth == 0:
            parts.append(script[start:index])
            start = index + 1
    parts.append(script[start:])
    return parts
