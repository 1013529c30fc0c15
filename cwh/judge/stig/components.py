"""The `feature` and `service` checks: a Windows feature's install state (Get-WindowsFeature)
and services by name (Win32_Service), docs/stig-rules.md "feature" and "service".

A feature is compliant as `installed: false` only when Windows says Available or Removed;
Installed and the pending states (still installed until a restart) are findings, anything else
unknown. A service that does not exist does not meet a state; a name listed twice with different
data, or a state that is not one Windows reports, is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list, unique_entries
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.verdict import Evidence, compact_json

FEATURE_SOURCE = "Get-WindowsFeature (collector over WinRM)"
SERVICE_SOURCE = "Get-CimInstance Win32_Service (collector over WinRM)"
NOT_INSTALLED = ("Available", "Removed")
INSTALLED = ("Installed", "InstallPending", "UninstallPending")
SERVICE_STATES = ("Running", "Stopped", "Paused", "Start Pending", "Stop Pending",
                  "Continue Pending", "Pause Pending", "Unknown")
START_MODES = ("Auto", "Manual", "Disabled", "Boot", "System")


@check_judge("feature")
def judge_feature(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    name = str(check["name"])
    wanted_installed = check.get("installed", False) is True
    expected = "installed" if wanted_installed else "not installed (Available or Removed)"
    state = facts.feature_state(name)
    evidence = Evidence(FEATURE_SOURCE, name, state, expected, f"InstallState = {state}")
    if state in NOT_INSTALLED or state in INSTALLED:
        installed = state in INSTALLED
        note = "" if state in ("Installed", *NOT_INSTALLED) else \
            " (installed until the pending restart)"
        return Outcome(installed == wanted_installed, (evidence,), expected, state + note,
                       label=name)
    return Outcome(None, (evidence,), expected, state,
                   f"{name}: install state {state!r} is not one Windows reports", label=name)


def service_entries(facts: HostFacts) -> dict[str, list[dict[str, Any]]]:
    """Win32_Service's answer for each requested name (casefolded) -> the services found."""
    data = facts.section("service_states")
    if not isinstance(data, dict) or not isinstance(data.get("listed"), int) or \
            isinstance(data.get("listed"), bool) or data["listed"] < 1:
        raise FactUnavailable("the service query listed no services at all: a failed query, "
                              "not a host without services")
    return unique_entries(((item["name"].casefold(), item["name"],
                            [f for f in as_list(item.get("found")) if isinstance(f, dict)])
                           for item in map(_service_answer, as_list(data.get("services")))),
                          "the service")


def _service_answer(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise FactUnavailable(f"a service answer is malformed: {item!r}")
    return item


def _one_service(check: Mapping[str, Any], name: str,
                 entries: Mapping[str, list[dict[str, Any]]]) -> tuple[bool | None, str]:
    """(meets the requirement, what was seen) for one service name."""
    if name.casefold() not in entries:
        return None, f"{name}: not in the collector's answer (not requested)"
    found = entries[name.casefold()]
    if check.get("present") is False:
        return (not found), f"{name}: {'installed' if found else 'not installed'}"
    if not found:
        return False, f"{name}: not installed"
    shapes = {compact_json(f) for f in found}
    if len(shapes) > 1:
        return None, f"{name}: listed {len(found)} times with different data: contradictory"
    state, mode = found[0].get("state"), found[0].get("start_mode")
    if state not in SERVICE_STATES or (check.get("start_mode") and mode not in START_MODES):
        return None, f"{name}: state {state!r}, start mode {mode!r} not understood"
    passed = state == check.get("state", state) and \
        mode == check.get("start_mode", mode)
    return passed, f"{name}: {state}, start mode {mode}"


def _service_names(check: Mapping[str, Any], context: RuleContext) -> list[str]:
    if check.get("name"):
        return [str(check["name"])]
    names = context.inputs.get(str(check.get("names_input")))
    return [str(n) for n in as_list(names)]


@check_judge("service")
def judge_service(check: Mapping[str, Any], facts: HostFacts, context: RuleContext) -> Outcome:
    names = _service_names(check, context)
    wanted = "absent" if check.get("present") is False else " and ".join(
        f"{k.replace('_', ' ')} {check[k]}" for k in ("state", "start_mode") if check.get(k))
    which = f"one of {', '.join(names)}" if check.get("match") == "any" and len(names) > 1 \
        else ", ".join(names) or "no service named"
    expected = f"{which}: {wanted}"
    label = check.get("name") or check.get("names_input") or "service"
    if not names:
        evidence = Evidence(SERVICE_SOURCE, str(label), "no service named", expected,
                            f"{check.get('names_input')} is empty")
        return Outcome(False, (evidence,), expected, "no service named", label=str(label))
    entries = service_entries(facts)
    results = [_one_service(check, name, entries) for name in names]
    observed = "; ".join(seen for _, seen in results)
    passes = [passed for passed, _ in results]
    if check.get("match") == "any":
        passed = True if True in passes else (None if None in passes else False)
    else:
        passed = False if False in passes else (None if None in passes else True)
    raw = compact_json({n: entries.get(n.casefold()) for n in names})
    evidence = Evidence(SERVICE_SOURCE, ", ".join(names), observed, expected, raw)
    return Outcome(passed, (evidence,), expected, observed,
                   observed if passed is None else "", label=str(label))
