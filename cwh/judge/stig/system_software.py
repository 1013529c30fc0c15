"""The software kinds (docs/stig-rules.md): `applocker` (the effective AppLocker policy enforces
at least one rule collection that holds a rule, and the Application Identity service runs) and
`files` (no certificate file such as *.pfx on a local fixed drive).

The AppLocker policy arrives as the XML Get-AppLockerPolicy -Effective -Xml writes and is read
with defusedxml (no entities, no DTD). A file search that stopped at its time or count limit, or
could not read a directory, proves nothing about the files it did not see: unknown, unless a
file it did see is already a finding.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.system_facts import OVER_WINRM, compact, section
from cwh.judge.verdict import Evidence

RULE_ELEMENTS = ("FilePathRule", "FilePublisherRule", "FileHashRule")


def enforced_collections(policy_xml: str) -> tuple[list[str], list[str]]:
    """(collections enforcing at least one rule, every collection as "Type: mode, n rules");
    FactUnavailable when the XML is not an AppLocker policy."""
    try:
        root: Element = SafeElementTree.fromstring(policy_xml)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise FactUnavailable(f"the AppLocker policy XML cannot be read: {exc}") from None
    if root.tag != "AppLockerPolicy":
        raise FactUnavailable(f"the AppLocker answer is a <{root.tag}>, not an AppLockerPolicy")
    enforced, described = [], []
    for collection in root.findall("RuleCollection"):
        kind = collection.get("Type", "?")
        mode = collection.get("EnforcementMode", "NotConfigured")
        rules = [r for r in collection if r.tag in RULE_ELEMENTS]
        described.append(f"{kind}: {mode}, {len(rules)} rules")
        if mode == "Enabled" and rules:
            enforced.append(kind)
    return enforced, described


@check_judge("applocker")
def judge_applocker(check: Mapping[str, Any], facts: HostFacts,
                    context: RuleContext) -> Outcome:
    if check.get("op") != "enforced":
        raise FactUnavailable(f"rule data: the suite cannot judge AppLocker op {check.get('op')!r}")
    data = section(facts, "applocker")
    xml = data.get("policy_xml")
    if not isinstance(xml, str) or not xml.strip():
        raise FactUnavailable(f"the effective AppLocker policy was not returned "
                              f"({data.get('policy_error') or 'no XML'})")
    enforced, described = enforced_collections(xml)
    service = data.get("appidsvc")
    expected = "an enforced AppLocker rule collection with rules, and AppIDSvc running"
    source = f"Get-AppLockerPolicy -Effective -Xml and Win32_Service ({OVER_WINRM})"
    if service is not None and not isinstance(service, dict):
        raise FactUnavailable(f"the AppIDSvc answer is malformed: {service!r}")
    state = service.get("state") if service else "not installed"
    if not isinstance(state, str):
        raise FactUnavailable(f"the state of AppIDSvc is not known ({compact(service)})")
    observed = f"{'; '.join(described) or 'no rule collections'}; AppIDSvc {state}"
    passed = bool(enforced) and state == "Running"
    evidence = Evidence(source, "AppLocker effective policy", observed, expected, xml[:1500])
    return Outcome(passed, (evidence,), expected, observed, "", "AppLocker")


def _matches(path: str, patterns: list[str]) -> bool:
    name = path.replace("/", "\\").rsplit("\\", 1)[-1].casefold()
    return any(fnmatch.fnmatchcase(name, p.casefold()) for p in patterns)


@check_judge("files")
def judge_files(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    if check.get("op") != "none":
        raise FactUnavailable(f"rule data: the suite cannot judge files op {check.get('op')!r}")
    data = section(facts, "file_search")
    patterns = [str(p) for p in check.get("patterns") or ()]
    searched = {str(p).casefold() for p in as_list(data.get("patterns"))}
    if not patterns or not {p.casefold() for p in patterns} <= searched:
        raise FactUnavailable(f"the host searched for {sorted(searched)}, not for {patterns}")
    exceptions = {str(p).casefold() for p in context.inputs.get(check.get("exceptions_input"))
                  or ()} if check.get("exceptions_input") else set()
    found = [str(m) for m in as_list(data.get("matches"))]
    findings = [f for f in found if _matches(f, patterns) and f.casefold() not in exceptions]
    allowed = [f for f in found if _matches(f, patterns) and f.casefold() in exceptions]
    roots = ", ".join(str(r) for r in as_list(data.get("roots"))) or "no drive"
    expected = f"no {' or '.join(patterns)} file on the local fixed drives" + \
        (f" other than {check['exceptions_input']}" if check.get("exceptions_input") else "")
    source = f"file search ({OVER_WINRM})"
    summary = (f"searched {roots} with {data.get('method') or 'a file search'} in "
               f"{data.get('seconds')} s (limit {data.get('limit_seconds')} s)"
               + (f"; documented: {', '.join(allowed)}" if allowed else ""))
    if findings:
        observed = "found: " + "; ".join(findings[:20]) + \
            (f" (and {len(findings) - 20} more)" if len(findings) > 20 else "")
        return Outcome(False, (Evidence(source, roots, observed, expected, summary),), expected,
                       observed, "", "files")
    incomplete = []
    if data.get("complete") is not True:
        incomplete.append(str(data.get("stopped") or "the search did not report itself complete"))
    if not as_list(data.get("roots")):
        incomplete.append("no local fixed drive was searched")
    for failure in as_list(data.get("errors"))[:5]:
        incomplete.append(f"not read: {failure}")
    if incomplete:
        reason = "the search is incomplete, so 'none found' proves nothing: " + \
            "; ".join(incomplete)
        return Outcome(None, (Evidence(source, roots, "incomplete search", expected,
                                       summary + "; " + reason),),
                       expected, "incomplete search", reason, "files")
    observed = f"none found ({summary})"
    return Outcome(True, (Evidence(source, roots, observed, expected),), expected, observed, "",
                   "files")
