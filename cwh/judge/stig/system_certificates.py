"""The `certificate` kind (docs/stig-rules.md): certificates of a LocalMachine store by
thumbprint (`all_present`, `none_present`), or one issued to the host (`any_issued_to_host`).

A store the collector could not read, a listing with a thumbprint that is not 40 hex digits,
or a certificate whose dates are not in the collector's format makes the store unknown: a
garbled listing is never read as "the certificate is there" or "it is not".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from cwh.collect.facts import FactUnavailable, HostFacts, as_list
from cwh.judge.outcome import Outcome
from cwh.judge.stig import RuleContext, check_judge
from cwh.judge.stig.system_facts import (
    OVER_WINRM,
    collected_at,
    entries,
    host_fqdn,
    one,
    section,
)
from cwh.judge.verdict import Evidence
from cwh.parse.primitives import windows_utc

_THUMBPRINT = re.compile(r"[0-9A-F]{40}")
_CN = re.compile(r"(?:^|,\s*)CN=([^,]+)", re.I)


def store_listing(facts: HostFacts, store: str) -> tuple[list[dict[str, Any]], dt.datetime]:
    """The certificates of Cert:\\LocalMachine\\<store> and when they were read."""
    data = section(facts, "certificate_stores")
    wanted = [s for s in entries(data, "stores", "certificate store")
              if str(s.get("store", "")).lower() == store.lower()]
    found = one(wanted, f"Cert:\\LocalMachine\\{store}")
    if found.get("error"):
        raise FactUnavailable(f"reading Cert:\\LocalMachine\\{store} failed: {found['error']}")
    if "certificates" not in found:
        raise FactUnavailable(f"the answer for Cert:\\LocalMachine\\{store} lists nothing")
    certificates = as_list(found.get("certificates"))
    for cert in certificates:
        thumbprint = cert.get("thumbprint") if isinstance(cert, dict) else None
        if not isinstance(thumbprint, str) or not _THUMBPRINT.fullmatch(thumbprint.upper()):
            raise FactUnavailable(f"Cert:\\LocalMachine\\{store} lists a certificate whose "
                                  f"thumbprint is not 40 hex digits: {str(cert)[:200]}")
        for key in ("not_before", "not_after"):
            if windows_utc(cert.get(key)) is None:
                raise FactUnavailable(f"certificate {thumbprint} in {store}: {key} "
                                      f"{cert.get(key)!r} is not a date the collector writes")
    return certificates, collected_at(data, "certificate_stores")


def _label(cert: Mapping[str, Any]) -> str:
    return f"{cert.get('thumbprint')} ({cert.get('subject')}, valid to " \
           f"{str(cert.get('not_after'))[:10]})"


def _thumbprint_outcome(check: Mapping[str, Any], certificates: list[dict[str, Any]],
                        now: dt.datetime) -> Outcome:
    store, op = check["store"], check["op"]
    wanted = [str(t).upper() for t in check.get("thumbprints") or ()]
    if not wanted or not all(_THUMBPRINT.fullmatch(t) for t in wanted):
        raise FactUnavailable(f"rule data: thumbprints {wanted} are not 40 hex digits each")
    by_thumbprint = {str(c["thumbprint"]).upper(): c for c in certificates}
    present = [t for t in wanted if t in by_thumbprint]
    location = f"Cert:\\LocalMachine\\{store}"
    listing = "; ".join(_label(by_thumbprint[t]) for t in present) or "none of them"
    if op == "none_present":
        expected = f"none of {', '.join(wanted)}"
        passed = not present
        observed = f"present: {listing}" if present else "none of them present"
    elif op == "all_present":
        expected = f"all of {', '.join(wanted)}"
        missing = [t for t in wanted if t not in by_thumbprint]
        excused = []
        if check.get("expired_absent") == "compliant":
            dates = check.get("not_after") or {}
            for thumbprint in list(missing):
                if thumbprint not in dates:
                    raise FactUnavailable(f"rule data: {thumbprint} has no expiry date, which "
                                          "expired_absent needs")
                if dt.date.fromisoformat(str(dates[thumbprint])) < now.date():
                    missing.remove(thumbprint)
                    excused.append(f"{thumbprint} (expired {dates[thumbprint]}, may be absent)")
            expected += " (an expired one may be absent)"
        passed = not missing
        observed = f"present: {listing}" + (f"; missing: {', '.join(missing)}" if missing else "")
        if excused:
            observed += f"; absent but expired: {', '.join(excused)}"
    else:
        raise FactUnavailable(f"rule data: the suite cannot judge certificate op {op!r}")
    evidence = Evidence(f"Get-ChildItem {location} ({OVER_WINRM})", location, observed, expected,
                        f"{len(certificates)} certificates in the store")
    return Outcome(passed, (evidence,), expected, observed, "", location)


def _names(cert: Mapping[str, Any]) -> set[str]:
    names = {str(n).strip().rstrip(".").lower() for n in as_list(cert.get("dns_names"))}
    names |= {m.strip().rstrip(".").lower() for m in _CN.findall(str(cert.get("subject", "")))}
    return names


def _issued_to_host(check: Mapping[str, Any], facts: HostFacts,
                    certificates: list[dict[str, Any]]) -> Outcome:
    location = f"Cert:\\LocalMachine\\{check['store']}"
    fqdn = host_fqdn(facts)
    if fqdn is None:
        raise FactUnavailable("the host's fully qualified DNS name is not known (identity "
                              "section), so no certificate can be matched to it")
    issued = [c for c in certificates if fqdn in _names(c)]
    expected = f"a certificate issued to {fqdn} (subject CN or DNS name)"
    observed = "; ".join(_label(c) for c in issued) if issued else \
        f"none of {len(certificates)} certificates names {fqdn}"
    evidence = Evidence(f"Get-ChildItem {location} ({OVER_WINRM})", location, observed, expected)
    return Outcome(bool(issued), (evidence,), expected, observed, "", location)


@check_judge("certificate")
def judge_certificate(check: Mapping[str, Any], facts: HostFacts,
                      context: RuleContext) -> Outcome:
    store = str(check.get("store", ""))
    certificates, now = store_listing(facts, store)
    if check.get("op") == "any_issued_to_host":
        return _issued_to_host(check, facts, certificates)
    return _thumbprint_outcome(check, certificates, now)
