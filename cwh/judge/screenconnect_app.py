"""ScreenConnect's application-level settings from the security advisories (screenconnect.md
section 8.3): below 26.1, web.config must not hold a plaintext `<machineKey>` (the ViewState
code injection of 25.2.3 and earlier used publicly disclosed keys; CVE-2026-3564: keys kept in
configuration files could be extracted, and 26.1 encrypts them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cwh.catalog.model import Control
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.judge.outcome import Outcome, to_verdict
from cwh.judge.screenconnect import parse_version
from cwh.judge.verdict import Evidence, Status, Verdict, compact_json, not_reviewed
from cwh.parse.machinekey import WebConfigError, machine_keys

VERSION_SOURCE = "FileVersion of ScreenConnect.Service.exe (collector)"
WEB_CONFIG = "web.config <system.web><machineKey> (collector)"


def _version(data: Mapping[str, Any]) -> tuple[tuple[int, ...] | None, Evidence]:
    text = str(data.get("file_version") or "")
    return parse_version(text), Evidence(VERSION_SOURCE, str(data.get("service_exe") or
                                                             data.get("install_root")),
                                         text or "no version resource")


def judge_machine_key_plaintext(control: Control, facts: HostFacts,
                                inputs: Mapping[str, Any]) -> Verdict:
    """CWH-SC-04: below 26.1, no plaintext validationKey / decryptionKey in web.config."""
    below = str(control.check.get("below", "26.1"))
    floor = parse_version(below) or ()
    try:
        data = facts.screenconnect()
    except FactUnavailable as exc:
        return not_reviewed(f"could not read the ScreenConnect installation: {exc}")
    if not data.get("install_root"):
        return not_reviewed("no ScreenConnect server installation was found (no service image "
                            "path, no default folder)")
    if not data.get("service_exe"):
        return not_reviewed("ScreenConnect.Service.exe has no version resource or was not "
                            "found, so the version cannot be judged, nor whether the machine "
                            "keys are encrypted")
    version, version_evidence = _version(data)
    if version is None:
        return not_reviewed(f"the file version {version_evidence.observed!r} is not a dotted "
                            "version, so whether the keys are encrypted is unknown",
                            evidence=(version_evidence,))
    shown = ".".join(map(str, version))
    if version[:len(floor)] >= floor:
        return Verdict(Status.NOT_APPLICABLE, f"ScreenConnect {shown} is {below} or later, which "
                       "encrypts the machine keys in its configuration (CVE-2026-3564)",
                       observed=shown, evidence=(version_evidence,))
    text = data.get("web_config_text")
    if not isinstance(text, str):
        return not_reviewed(f"web.config was not found under {data['install_root']}",
                            evidence=(version_evidence,))
    expected = "no plaintext validationKey or decryptionKey"
    try:
        keys = machine_keys(text)
    except WebConfigError as exc:
        return not_reviewed(f"web.config could not be read: {exc}", evidence=(version_evidence,))
    plaintext = [k for k in keys if k.plaintext and not k.protected]
    elsewhere = [k for k in keys if k.config_source is not None]
    observed = "; ".join(k.describe() for k in keys) or \
        "no <machineKey> element (ASP.NET generates the keys for this machine)"
    # The raw excerpt names the elements and the key lengths, never the keys.
    evidence = (Evidence(WEB_CONFIG, str(data.get("web_config_path") or "web.config"), observed,
                         expected, compact_json([k.describe() for k in keys])),
                Evidence(VERSION_SOURCE, "below which the check applies", shown, f"< {below}"))
    if plaintext:
        return to_verdict(Outcome(False, evidence, expected, observed),
                          note=f"ScreenConnect {shown} keeps these keys readable to anyone who "
                               "can read web.config or its backups; rotate them after upgrading")
    if elsewhere:
        return not_reviewed(f"the machine keys are kept in another file, which was not read: "
                            f"{observed}", evidence=evidence, expected=expected,
                            observed=observed)
    return to_verdict(Outcome(True, evidence, expected, observed))
