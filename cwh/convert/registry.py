"""Registry values: `Registry Hive:` / `Registry Path:` / `Value Name:` / `Value Type:` /
`Value:` blocks, what DISA says about a missing value, and DISA's own examples ("If it exists
and is configured with a value of "1", this is a finding") checked against the reading."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cwh.convert.result import Check, Recognised, Refusal
from cwh.convert.text import CheckText
from cwh.convert.values import ValueSpec, number, value_spec

HIVES = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU", "HKEY_USERS": "HKU"}
TYPES = {"REG_DWORD": "DWord", "REG_QWORD": "QWord", "REG_SZ": "String",
         "REG_EXPAND_SZ": "ExpandString", "REG_MULTI_SZ": "MultiString", "REG_BINARY": "Binary"}
NUMERIC_TYPES = {"DWord", "QWord"}

_HIVE = re.compile(r"^Registry Hive: (\S+)$", re.I)
_PATH = re.compile(r"^Registry Path: (.+)$", re.I)
_NAME = re.compile(r"^Value Name: (.+)$", re.I)
_TYPE = re.compile(r"^(?:Value )?Type: (REG_\w+)$", re.I)
_VALUE = re.compile(r"^Value: (.+)$", re.I)
_CONTINUATION = re.compile(r"^0x[0-9a-f]+ \(\d+\)", re.I)

_ABSENT_FINDING = re.compile(
    r"^(?:Verify the registry value below\. )?If (?:the following registry values? (?:does|do) "
    r"not exist or (?:is|are) not configured as specified|it does not exist or is not configured "
    r"as specified), this is a finding[.:]?$", re.I)
_NOT_CONFIGURED = re.compile(
    r"^If the following registry value is not configured as specified, this is a finding[.:]?$",
    re.I)
_VERIFY = re.compile(r"^Verify the registry value below\.$", re.I)
_ABSENT_OK = re.compile(r"^If the registry value name below does not exist, this is not a "
                        r"finding\.$", re.I)
_EXAMPLE = re.compile(r"^If it exists and is configured with a value of \"([^\"]+)\", this is "
                      r"(not )?a finding\.$", re.I)
_VALUE_IS_FINDING = re.compile(r"^A value of (0x[0-9a-f]+ \(\d+\)), [^,]+, is a finding\.$", re.I)
_POSSIBLE = re.compile(r"^Possible values for this setting are:$", re.I)
_POSSIBLE_ITEM = re.compile(r"^(\d+) - (.+)$")
_ADDITIONAL = re.compile(r"^Additional entries would not be a finding\.$", re.I)

_BANNER_TEXT = re.compile(r"^See message text below$", re.I)
_BANNER_TITLE = re.compile(r"^(?:See|Refer to) message title options below$", re.I)
_TITLES = re.compile(r'^((?:"[^"]+", )+)or an organization-defined equivalent\.$', re.I)
_TITLE_NOTES = (
    re.compile(r"^If an organization-defined title is used, it can in no case contravene or "
               r"modify the language of the banner text required in WN\d\d-SO-\d+\.$", re.I),
    re.compile(r"^Automated tools may only search for the titles defined above\. If an "
               r"organization-defined title is used, a manual review will be required\.$", re.I),
)
_SDDL = re.compile(r"^[OGDS]:[A-Z]{2}", re.I)
_KEY_VALUES = re.compile(r"^\w+=\w+(?:, ?\w+=\w+)+$")


@dataclass
class Block:
    hive: str
    path: str
    name: str
    type: str
    value: str
    lines: list[int]


def whitespace_sha256(text: str) -> str:
    """SHA-256 of the text with every run of whitespace made one space: how long texts (the
    logon banner) are compared without committing them."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def registry_path(hive: str, path: str) -> str:
    """`HKEY_LOCAL_MACHINE` + `\\SOFTWARE\\ Policies\\X\\` -> `HKLM\\SOFTWARE\\Policies\\X`."""
    if hive.upper() not in HIVES:
        raise Refusal("a registry hive the converter does not know")
    parts = [part.strip() for part in path.strip().strip("\\").split("\\")]
    if not all(parts):
        raise Refusal("a registry path with an empty key name")
    return "\\".join([HIVES[hive.upper()], *parts])


def blocks(ct: CheckText) -> list[Block]:
    """Every value block, in order; the hive and path carry over to the next value name."""
    found: list[Block] = []
    hive = path = None
    index = 0
    while index < len(ct.lines):
        line = ct.lines[index]
        if index in ct.taken:
            index += 1
            continue
        if match := _HIVE.match(line):
            hive = match.group(1)
            ct.take(index)
        elif match := _PATH.match(line):
            path = match.group(1)
            ct.take(index)
        elif match := _NAME.match(line):
            if hive is None or path is None:
                raise Refusal("a registry value name without a hive and path")
            index = _value_block(ct, index, hive, path, match.group(1).strip(), found)
            continue
        index += 1
    return found


def _value_block(ct: CheckText, index: int, hive: str, path: str, name: str,
                 found: list[Block]) -> int:
    taken = [index]
    type_ = value = None
    index += 1
    while index < len(ct.lines) and (type_ is None or value is None):
        line = ct.lines[index]
        if match := _TYPE.match(line):
            type_ = match.group(1).upper()
        elif match := _VALUE.match(line):
            value = match.group(1)
        else:
            break
        taken.append(index)
        index += 1
    if type_ is None or value is None:
        raise Refusal("a registry value block without its type or value")
    if type_ not in TYPES:
        raise Refusal("a registry value type the converter does not know")
    while index < len(ct.lines) and _CONTINUATION.match(ct.lines[index]):
        value += "\n" + ct.lines[index]
        taken.append(index)
        index += 1
    ct.take(*taken)
    found.append(Block(hive, path, name, TYPES[type_], value, taken))
    return index


def _absent(ct: CheckText, specs: list[ValueSpec]) -> str:
    """What a missing value means, from DISA's sentences; they must not contradict."""
    finding = ct.take_all(_ABSENT_FINDING) + ct.take_all(_NOT_CONFIGURED)
    compliant_sentence = ct.take_all(_ABSENT_OK)
    compliant_value = [s.absent_compliant for s in specs]
    ct.take_all(_VERIFY)
    if any(compliant_value) and not all(compliant_value):
        raise Refusal("only some values may be missing")
    compliant = compliant_sentence or any(compliant_value)
    if compliant and finding:
        raise Refusal("the text says both that a missing value is and is not a finding")
    if not compliant and not finding:
        raise Refusal("the text does not say what a missing value means")
    if compliant_sentence and not any(compliant_value) and specs:
        raise Refusal("a missing value is compliant by the sentence but not by the value")
    return "compliant" if compliant else "finding"


def _examples(ct: CheckText, specs: list[ValueSpec]) -> None:
    """DISA's worked examples must agree with the reading of the value."""
    if not ct.first(_EXAMPLE) and not ct.first(_VALUE_IS_FINDING) and not ct.first(_POSSIBLE):
        return
    if len(specs) != 1:
        raise Refusal("examples of values with several registry values")
    spec = specs[0]
    for index, match in list(ct.find(_EXAMPLE)):
        if spec.allows(number(match.group(1))) == (match.group(2) is None):
            raise Refusal("DISA's example value contradicts the reading of the value")
        ct.take(index)
    for index, match in list(ct.find(_VALUE_IS_FINDING)):
        if spec.allows(number(match.group(1))):
            raise Refusal("DISA's example value contradicts the reading of the value")
        ct.take(index)
    for index, _ in list(ct.find(_POSSIBLE)):
        ct.take(index)
        for item_index in range(index + 1, len(ct.lines)):
            item = _POSSIBLE_ITEM.match(ct.lines[item_index])
            if not item:
                break
            says_finding = "would be a finding" in item.group(2)
            if says_finding and spec.allows(int(item.group(1))):
                raise Refusal("DISA's list of possible values contradicts the reading")
            ct.take(item_index)


def _string_check(ct: CheckText, block: Block, check: Check, inputs: set[str]) -> None:
    text = block.value.strip()
    if _BANNER_TEXT.match(text):
        banner = [i for i in range(block.lines[-1] + 1, len(ct.lines)) if i not in ct.taken]
        if not banner:
            raise Refusal("the banner text is missing")
        ct.take(*banner)
        check.update(op="matches_input", input="cwh_legal_notice_text", normalize="whitespace",
                     default_sha256=whitespace_sha256(" ".join(ct.lines[i] for i in banner)))
        inputs.add("cwh_legal_notice_text")
        return
    if _BANNER_TITLE.match(text):
        found = ct.first(_TITLES)
        if not found:
            raise Refusal("the banner titles are not in the form the converter reads")
        ct.take(found[0])
        for note in _TITLE_NOTES:
            ct.take_all(note)
        titles = re.findall(r'"([^"]+)"', found[1].group(1))
        check.update(op="one_of", values=sorted(titles), also_input="cwh_legal_notice_caption")
        inputs.add("cwh_legal_notice_caption")
        return
    if _SDDL.match(text) and " " not in text:
        check.update(op="equals", value=text)
        return
    if _KEY_VALUES.match(text):
        pairs = dict(pair.strip().split("=", 1) for pair in text.split(","))
        check.update(op="key_values", values=dict(sorted(pairs.items())))
        return
    check.update(value_spec(text).fields(as_strings=True))
    if check["op"] in ("at_most", "at_least") and not isinstance(check["value"], int):
        raise Refusal("a bound on a string value")


def registry_checks(ct: CheckText) -> Recognised | None:
    """The registry values a rule requires, or None when the text has no value block."""
    if not ct.first(_PATH):
        return None
    found = blocks(ct)
    if not found:
        return None
    inputs: set[str] = set()
    checks: list[Check] = []
    specs: list[ValueSpec] = []
    for block in found:
        check: Check = {"kind": "registry", "path": registry_path(block.hive, block.path),
                        "name": block.name, "type": block.type}
        if block.type in NUMERIC_TYPES:
            spec = value_spec(block.value)
            specs.append(spec)
            check.update(spec.fields())
        elif block.type == "String":
            _string_check(ct, block, check, inputs)
        else:
            raise Refusal("a registry value type the converter does not compare")
        checks.append(check)
    _examples(ct, specs)
    absent = _absent(ct, specs)
    for check in checks:
        check["absent"] = absent
        if not check["path"].startswith("HKLM\\"):
            raise Refusal("a per-user registry value (HKCU); the collector reads HKLM only")
    if len({(c["path"], c["name"]) for c in checks}) != len(checks):
        raise Refusal("the same registry value is required twice")
    if ct.first(_ADDITIONAL):
        if len(checks) < 2:
            raise Refusal("'additional entries' with a single value")
        ct.take_all(_ADDITIONAL)
    return Recognised(checks=checks, inputs=inputs)


def fields_of(check: Check) -> dict[str, Any]:
    """The requirement part of a check (for condition copies across rules)."""
    return {k: v for k, v in check.items() if k != "roles"}
