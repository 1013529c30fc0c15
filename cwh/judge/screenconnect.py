"""ScreenConnect itself: its services, its version (CVE-2024-1709/1708) and its web listener."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.outcome import Outcome, combine, to_verdict, unknown
from cwh.judge.verdict import Evidence, Verdict, compact_json, not_reviewed
from cwh.parse.primitives import dotted_version
from cwh.parse.webconfig import ListenUriError, app_setting, parse_listen_uri

SERVICES = "Win32_Service (collector)"
DEFAULT_WEB_LISTENER = "http://+:8040/"  # ScreenConnect's default on a fresh install


def parse_version(text: str) -> tuple[int, ...] | None:
    """'23.9.7.8804' -> (23, 9, 7, 8804); None when it is not a dotted version of ASCII digits
    (int() reads fullwidth `23.9.8` as 23.9.8; a version resource never holds that)."""
    return dotted_version(text)


def judge_services_running(control: Control, facts: HostFacts,
                           inputs: Mapping[str, Any]) -> Verdict:
    """CWH-SC-01: each server service exists (exact name: no thumbprint suffix, which marks the
    client agent), runs, and starts automatically."""
    try:
        listed = facts.services()
    except FactUnavailable as exc:
        return not_reviewed(f"could not read the services: {exc}")
    parts = []
    for name in control.check["services"]:
        # Service names are unique regardless of letter case: two entries whose names differ
        # only in case are one service described twice, and the answer is not trusted.
        entries = [s for s in listed if str(s.get("name", "")).lower() == name.lower()]
        expected = "Running, start mode Auto"
        if len(entries) > 1:
            reason = f"{name} is listed {len(entries)} times"
            parts.append(unknown(name, expected, reason, Evidence(
                SERVICES, name, "contradictory", expected, compact_json(entries))))
            continue
        service = entries[0] if entries else None
        if service is None:
            observed = "not installed"
            passed = False
        else:
            observed = f"{service.get('state')}, start mode {service.get('start_mode')}"
            passed = service.get("state") == "Running" and service.get("start_mode") == "Auto"
        evidence = Evidence(SERVICES, name, observed, expected, compact_json(service or {}))
        parts.append(Outcome(passed, (evidence,), expected, observed, label=name))
    return to_verdict(combine("all", parts))


def judge_version_at_least(control: Control, facts: HostFacts,
                           inputs: Mapping[str, Any]) -> Verdict:
    """CWH-SC-02: the file version of Bin\\ScreenConnect.Service.exe is at least the minimum."""
    minimum = str(control.check["minimum"])
    try:
        data = facts.screenconnect()
    except FactUnavailable as exc:
        return not_reviewed(f"could not read the ScreenConnect installation: {exc}")
    if not data.get("install_root") or not data.get("service_exe"):
        return not_reviewed("no ScreenConnect server installation was found (no service image "
                            "path, no default folder); the version cannot be judged")
    version_text = str(data.get("file_version") or "")
    version = parse_version(version_text)
    expected = f">= {minimum}"
    evidence = Evidence("FileVersion of ScreenConnect.Service.exe (collector)",
                        str(data.get("service_exe")), version_text or "no version resource",
                        expected, compact_json({k: data.get(k) for k in (
                            "install_root", "root_source", "file_version", "product_version")}))
    if version is None:
        return not_reviewed(f"the file version {version_text!r} is not a dotted version",
                            evidence=(evidence,))
    floor = parse_version(minimum) or ()
    passed = version[:len(floor)] >= floor
    return to_verdict(Outcome(passed, (evidence,), expected, version_text),
                      note=f"install root from the {data.get('root_source')}")


def judge_listener_scheme(control: Control, facts: HostFacts,
                          inputs: Mapping[str, Any]) -> Verdict:
    """CWH-SC-03: WebServerListenUri is https, or http on loopback behind a declared front end."""
    try:
        settings = facts.screenconnect_settings()
    except FactUnavailable as exc:
        return not_reviewed(f"could not read web.config: {exc}")
    raw = app_setting(settings, "WebServerListenUri")
    value = raw or DEFAULT_WEB_LISTENER
    expected = "https, or http on 127.0.0.1/localhost with cwh_tls_front_end: true"
    shown = value if raw else f"absent, so ScreenConnect's default {DEFAULT_WEB_LISTENER}"
    evidence = Evidence("web.config appSettings (collector)", "WebServerListenUri", shown, expected,
                        compact_json({"WebServerListenUri": raw}))
    try:
        listen = parse_listen_uri(value)
    except ListenUriError as exc:
        return not_reviewed(f"WebServerListenUri {value!r} is not understood: {exc}",
                            evidence=(evidence,))
    front_end = bool(inputs.get("cwh_tls_front_end"))
    if listen.scheme == "https":
        passed, note = True, ""
    elif listen.loopback:
        passed = front_end
        note = "" if front_end else ("http on loopback: declare the TLS front end with "
                                     "cwh_tls_front_end: true if there is one")
    else:
        passed, note = False, "plain HTTP on every interface"
    return to_verdict(Outcome(passed, (evidence,), expected, shown), note=note)
