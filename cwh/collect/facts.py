"""One host's facts, read from the collector's document, with the source of each stated.

Accessors raise FactUnavailable when a fact could not be collected (host unreachable, section
failed, value unreadable); judges turn that into Not_Reviewed. They never return a default that
could read as compliant.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cwh.catalog.model import os_version_from_build
from cwh.parse.httpsys import BindingSource, binding_sources
from cwh.parse.primitives import windows_utc
from cwh.parse.secedit import SeceditParseError, SecurityPolicy, parse_inf
from cwh.parse.webconfig import WebConfigError, parse_app_settings


class FactUnavailable(Exception):
    """A fact the judge needs is missing; the message says why (becomes Not_Reviewed)."""


@dataclass(frozen=True)
class RegistryValue:
    path: str
    name: str
    key_exists: bool
    value_exists: bool
    kind: str | None
    value: Any

    @property
    def location(self) -> str:
        return f"{self.path}\\{self.name}"

    def describe(self) -> str:
        if not self.key_exists:
            return "key absent"
        if not self.value_exists:
            return "value absent"
        shown = f"0x{self.value:X} ({self.value})" if self.kind in ("DWord", "QWord") and \
            isinstance(self.value, int) and self.value > 9 else json.dumps(self.value)
        return f"{self.kind} {shown}"


def unique_entries(entries: Iterable[tuple[str, str, Any]], what: str) -> dict[str, Any]:
    """`(key, name, value)` entries as {key: value}. Windows may list one thing twice (a key
    folded alike); the same answer twice is one, two different answers are a contradiction:
    FactUnavailable naming `what` and the entry, never one of them picked."""
    found: dict[str, Any] = {}
    for key, name, value in entries:
        if key in found and found[key] != value:
            raise FactUnavailable(f"{what} {name!r} is answered twice with different data: "
                                  "contradictory, not trusted")
        found[key] = value
    return found


def as_list(value: Any) -> list:
    """PowerShell 5.1 turns one-element arrays into scalars and empty ones into null."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 65535


def same_name(name: str) -> str:
    """What a name Windows looks up by (a firewall profile or rule, a service) is reduced to
    before two are compared: case and surrounding white space do not count (profile names are
    parsed as enum values, which ignores both). casefold is looser than Windows' upper-casing,
    so two names that Windows tells apart may fall together here: that makes a contradiction
    out of two distinct entries (Not_Reviewed), never one entry out of a contradiction. The
    firewall judge maps profile names through this same key."""
    return name.strip().casefold()


def _refuse_contradictions(what: str, entries: list[dict[str, Any]], key: str) -> None:
    """FactUnavailable when two entries carry the same `key` (as same_name reduces it) with
    different values: one answer says two things, so neither is trusted. The raw entries go
    into the message, as the evidence."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        if isinstance(entry.get(key), str):
            groups.setdefault(same_name(entry[key]), []).append(entry)
    for group in groups.values():
        values = {json.dumps({k: v for k, v in e.items() if k != key}, sort_keys=True,
                             default=str) for e in group}
        if len(values) > 1:
            raw = json.dumps(group, ensure_ascii=False, sort_keys=True, default=str)
            raw = raw if len(raw) <= 700 else raw[:700] + "..."
            raise FactUnavailable(
                f"the {what} {group[0][key]!r} is listed {len(group)} times with different "
                f"values ({', '.join(repr(e[key]) for e in group)}; Windows treats these names "
                f"alike): contradictory, not trusted: {raw}")


class HostFacts:
    """The facts document of one host, or the reason there is none."""

    def __init__(self, host: str, document: dict[str, Any] | None = None,
                 error: str | None = None) -> None:
        if document is None and error is None:
            raise ValueError("HostFacts needs a document or an error")
        self.host = host
        self.document = document
        self.error = error

    @classmethod
    def failed(cls, host: str, error: str) -> HostFacts:
        return cls(host, None, error)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def warnings(self) -> list[str]:
        """What went wrong around a collection that still produced a complete document (a
        non-zero exit code, stderr): for the host record and the run summary."""
        collection = (self.document or {}).get("_collection")
        found = collection.get("warnings") if isinstance(collection, dict) else None
        return [str(w) for w in found] if isinstance(found, list) else []

    def section(self, name: str) -> Any:
        """The data of a section; FactUnavailable names the host error or the section's error."""
        if self.document is None:
            raise FactUnavailable(self.error or "no facts")
        entry = self.document["sections"].get(name)
        if not isinstance(entry, dict):
            raise FactUnavailable(f"the facts document has no '{name}' section")
        if entry.get("ok") is not True:
            raise FactUnavailable(f"collecting '{name}' failed on the host: "
                                  f"{entry.get('error') or 'no error text'}")
        data = entry.get("data")
        if data is None:
            raise FactUnavailable(f"the '{name}' section came back empty (null)")
        return data

    def _object(self, name: str) -> dict[str, Any]:
        """A section whose data must be an object (PowerShell hashtable)."""
        data = self.section(name)
        if not isinstance(data, dict):
            raise FactUnavailable(f"the '{name}' section is not an object: "
                                  f"{type(data).__name__}")
        return data

    # --- system ---------------------------------------------------------------------------

    @cached_property
    def os_version(self) -> str | None:
        """2016 / 2019 / 2022 from the build number, or None when unknown or not collected."""
        try:
            return os_version_from_build(self._object("os").get("build"))
        except FactUnavailable:
            return None

    def os_summary(self) -> str:
        try:
            os_data = self._object("os")
        except FactUnavailable as exc:
            return f"unknown ({exc})"
        return f"{os_data.get('caption')} (build {os_data.get('build')})"

    def identity(self) -> dict[str, Any]:
        return self._object("identity")

    # --- registry --------------------------------------------------------------------------

    def _registry_answers(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """The registry section's answers by (path, name) in lower case, in answer order: made
        once per host, not scanned again for each of the 100 or so values a STIG run reads.
        Made again when the section's list is not the one indexed (a document changed)."""
        values = self._object("registry").get("values")
        cached = self.__dict__.get("_registry_index")
        if cached is not None and cached[0] is values and cached[1] == len(as_list(values)):
            return cached[2]
        index: dict[tuple[str, str], list[dict[str, Any]]] = {}
        items = as_list(values)
        for item in items:
            if isinstance(item, dict):
                key = (str(item.get("path", "")).lower(), str(item.get("name", "")).lower())
                index.setdefault(key, []).append(item)
        self.__dict__["_registry_index"] = (values, len(items), index)
        return index

    def registry(self, path: str, name: str) -> RegistryValue:
        answers = self._registry_answers().get((path.lower(), name.lower()), [])
        if not answers:
            raise FactUnavailable(f"{path}\\{name} was not in the collector's answer")
        # Registry paths and value names are case-insensitive: two answers for one value that
        # disagree are a contradiction, whichever of them a first-match would have picked.
        shapes = {json.dumps({k: v for k, v in item.items() if k not in ("path", "name")},
                             sort_keys=True, default=str) for item in answers} \
            if len(answers) > 1 else set()
        if len(shapes) > 1:
            raise FactUnavailable(f"{path}\\{name} is answered {len(answers)} times with "
                                  f"different data: contradictory, not trusted "
                                  f"({'; '.join(sorted(shapes))[:300]})")
        item = answers[0]
        if item.get("error"):
            raise FactUnavailable(f"reading {path}\\{name} failed: {item['error']}")
        key_exists, value_exists = item.get("key_exists"), item.get("value_exists")
        if not isinstance(key_exists, bool) or not isinstance(value_exists, bool):
            raise FactUnavailable(f"{path}\\{name}: the collector did not say whether "
                                  "the key and value exist")
        if value_exists and not key_exists:
            raise FactUnavailable(f"{path}\\{name}: the answer says the value exists "
                                  "in a key that does not: contradictory, not trusted")
        kind, value = item.get("kind"), item.get("value")
        if value_exists and (kind is None or value is None):
            # An empty REG_MULTI_SZ comes back as null from a collector that lets PowerShell
            # unroll it: indistinguishable from "no data", so never read as an empty list.
            raise FactUnavailable(f"{path}\\{name}: the value exists but its type or "
                                  "data was not returned")
        if kind == "MultiString" and isinstance(value, str):
            value = [value]  # a one-element REG_MULTI_SZ unrolled to its string
        return RegistryValue(path, name, key_exists, value_exists, kind, value)

    # --- security policy -------------------------------------------------------------------

    @cached_property
    def _policy(self) -> SecurityPolicy | FactUnavailable:
        try:
            data = self.section("secedit")
            inf = data.get("inf") if isinstance(data, dict) else None
            if not isinstance(inf, str):
                return FactUnavailable("the secedit section holds no INF text")
            return parse_inf(inf)
        except FactUnavailable as exc:
            return exc
        except SeceditParseError as exc:
            return FactUnavailable(f"the secedit export could not be read: {exc}")

    def security_policy(self) -> SecurityPolicy:
        policy = self._policy
        if isinstance(policy, FactUnavailable):
            raise policy
        return policy

    # --- other sections --------------------------------------------------------------------

    def feature_state(self, name: str) -> str:
        features = self._object("features").get("features") or {}
        entry = features.get(name) if isinstance(features, dict) else None
        if not isinstance(entry, dict):
            raise FactUnavailable(f"Windows feature {name} was not in the collector's answer")
        if entry.get("error") or not entry.get("install_state"):
            raise FactUnavailable(f"Windows feature {name}: {entry.get('error') or 'no state'}")
        return str(entry["install_state"])

    def firewall_profiles(self) -> list[dict[str, Any]]:
        profiles = as_list(self._object("firewall_profiles").get("profiles"))
        if not profiles or not all(isinstance(p, dict) for p in profiles):
            raise FactUnavailable("the firewall profile list is empty or malformed")
        _refuse_contradictions("firewall profile", profiles, "name")
        return profiles

    def firewall_active_profile(self) -> tuple[str | None, str | None]:
        """(ActiveProfile as Windows printed it, e.g. "Domain, Public"; the error when it could
        not be read). Either may be None: the judge then considers every profile."""
        data = self._object("firewall_profiles")
        active, error = data.get("active_profile"), data.get("active_profile_error")
        if "active_profile" not in data:
            error = "the collector did not report the active profile"
        return (active if isinstance(active, str) else None,
                str(error) if error is not None else None)

    def local_admins(self) -> dict[str, Any]:
        data = self._object("local_admins")
        if not isinstance(data, dict) or not isinstance(data.get("group_sid"), str):
            raise FactUnavailable("the local Administrators answer is malformed")
        data = dict(data)
        data["members"] = [m for m in as_list(data.get("members")) if isinstance(m, dict)]
        return data

    def internet_apps(self) -> dict[str, Any]:
        data = self._object("internet_apps")
        if not isinstance(data, dict):
            raise FactUnavailable("the internet_apps answer is malformed")
        profiles = [{**p, "browser_data": as_list(p.get("browser_data"))}
                    if isinstance(p, dict) else p for p in as_list(data.get("profiles"))]
        return {"installed": as_list(data.get("installed")), "profiles": profiles}

    # --- network, web and ScreenConnect (section B and C) ----------------------------------

    def firewall_rules(self) -> list[dict[str, Any]]:
        rules = as_list(self._object("firewall_rules").get("rules"))
        if not all(isinstance(r, dict) for r in rules):
            raise FactUnavailable("the firewall rule list is malformed")
        if not rules:
            # Windows ships dozens of built-in inbound rules, and a NetSecurity query that failed
            # without stopping the collector returns exactly this: nothing.
            raise FactUnavailable("the firewall answered no inbound rules at all, which a Windows "
                                  "server never has: read as a failed query, not as 'no allow "
                                  "rule'")
        _refuse_contradictions("firewall rule", rules, "id")
        return [{**r, "local_ports": [str(p) for p in as_list(r.get("local_ports"))]}
                for r in rules]

    def tcp_listeners(self) -> list[dict[str, Any]]:
        listeners = as_list(self._object("tcp_listeners").get("listeners"))
        if not listeners or not all(isinstance(x, dict) for x in listeners):
            # A Windows server always listens somewhere (135, 445, 5985): empty means broken.
            raise FactUnavailable("the TCP listener list is empty or malformed")
        garbled = [x.get("port") for x in listeners if not _is_port(x.get("port"))]
        if garbled:
            raise FactUnavailable(f"the TCP listener list holds ports that are not port numbers: "
                                  f"{garbled[:5]!r}")
        return listeners

    def services(self) -> list[dict[str, Any]]:
        """Win32_Service entries as the host listed them (duplicates included: judges decide
        what a name listed twice means)."""
        data = self._object("services")
        if "services" not in data:
            raise FactUnavailable("the services answer holds no service list")
        listed = data.get("listed")
        if listed is not None and (not isinstance(listed, int) or listed < 1):
            # Every Windows host has services: a query that listed none is broken.
            raise FactUnavailable(f"Win32_Service listed {listed!r} services: a failed query, "
                                  "not a host without products")
        services = as_list(data.get("services"))
        if not all(isinstance(s, dict) for s in services):
            raise FactUnavailable("the service list is malformed")
        return services

    def iis(self) -> dict[str, Any]:
        data = self._object("iis")
        if not isinstance(data, dict) or not isinstance(data.get("installed"), bool):
            raise FactUnavailable("the IIS answer does not say whether IIS is installed")
        return data

    def screenconnect(self) -> dict[str, Any]:
        data = self._object("screenconnect")
        if not isinstance(data, dict) or "install_root" not in data:
            raise FactUnavailable("the ScreenConnect answer is malformed")
        return data

    @cached_property
    def _sc_settings(self) -> dict[str, str] | FactUnavailable:
        try:
            data = self.screenconnect()
        except FactUnavailable as exc:
            return exc
        text = data.get("web_config_text")
        if not data.get("install_root"):
            return FactUnavailable("no ScreenConnect installation was found on the host")
        if not isinstance(text, str):
            return FactUnavailable(f"web.config was not found under {data['install_root']}")
        try:
            return parse_app_settings(text)
        except WebConfigError as exc:
            return FactUnavailable(f"web.config could not be read: {exc}")

    def screenconnect_settings(self) -> dict[str, str]:
        """web.config appSettings; FactUnavailable when the file is missing or unreadable."""
        settings = self._sc_settings
        if isinstance(settings, FactUnavailable):
            raise settings
        return settings

    def ssl_binding_sources(self) -> tuple[BindingSource, BindingSource]:
        """http.sys's certificate bindings from the registry (primary, locale-independent) and
        from `netsh http show sslcert` (corroboration), each with its own problem if any."""
        return binding_sources(self._object("http_sslcert"))

    def certificates(self) -> list[dict[str, Any]]:
        """Cert:\\LocalMachine\\My as listed; a thumbprint listed twice with different data
        makes the whole store answer untrustworthy."""
        certificates = as_list(self._object("certificates").get("certificates"))
        if not all(isinstance(c, dict) for c in certificates):
            raise FactUnavailable("the certificate list is malformed")
        seen: dict[str, dict[str, Any]] = {}
        for cert in certificates:
            thumbprint = str(cert.get("thumbprint", "")).lower()
            if thumbprint in seen and seen[thumbprint] != cert:
                raise FactUnavailable(f"certificate {thumbprint} is listed twice with different "
                                      "data: contradictory, not trusted")
            seen[thumbprint] = cert
        return [{**c, "dns_names": as_list(c.get("dns_names"))} for c in certificates]

    def store_certificate(self, thumbprint: str) -> StoreCertificate:
        """One certificate of LocalMachine\\My, its dates and key read exactly as the collector
        writes them; FactUnavailable when it is not there or its answer is garbled."""
        wanted = thumbprint.lower()
        for cert in self.certificates():
            if str(cert.get("thumbprint", "")).lower() == wanted:
                return StoreCertificate.from_entry(cert)
        raise FactUnavailable(f"certificate {thumbprint} is not in LocalMachine\\My")


@dataclass(frozen=True)
class StoreCertificate:
    """A certificate as the collector read it from the store (dates in UTC)."""

    thumbprint: str
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime
    key_algorithm: str
    key_bits: int | None  # None: the collector could not read the key
    has_private_key: bool
    dns_names: tuple[str, ...]

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> StoreCertificate:
        thumbprint = str(entry.get("thumbprint", ""))
        not_before, not_after = (windows_utc(entry.get(k)) for k in ("not_before", "not_after"))
        if not_before is None or not_after is None:
            raise FactUnavailable(f"certificate {thumbprint}: validity dates not understood "
                                  f"({entry.get('not_before')!r}, {entry.get('not_after')!r})")
        bits = entry.get("key_bits")
        if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int)):
            raise FactUnavailable(f"certificate {thumbprint}: key size {bits!r} is not a number")
        return cls(thumbprint, str(entry.get("subject", "")), not_before, not_after,
                   str(entry.get("key_algorithm") or "unknown"), bits,
                   entry.get("has_private_key") is True,
                   tuple(str(n) for n in as_list(entry.get("dns_names"))))
