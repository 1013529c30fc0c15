"""http.sys certificate bindings as the registry holds them (HKLM\\SYSTEM\\CurrentControlSet\\
Services\\HTTP\\Parameters): the locale-independent source for CWH-WEB-05.

http.sys keeps one subkey per binding under SslBindingInfo (`0.0.0.0:443`, `[::]:443`,
`10.0.0.5:8040`), SslSniBindingInfo (`host.example.com:443`) and SslCcsBindingInfo (Central
Certificate Store, no certificate of its own). The values mirror HTTP_SERVICE_CONFIG_SSL_PARAM:
`SslCertHash` (REG_BINARY, the thumbprint's bytes), `AppId` (REG_BINARY, the GUID as Windows
lays it out in memory), `SslCertStoreName` (REG_SZ; absent means MY), and DWORD defaults. The
collector reports every value with its registry kind; this module turns that into the same
SslBinding that `cwh.parse.netsh` reads from netsh's console text, so the two can be compared.

Whatever does not have that shape raises HttpSysRegistryError: a binding the judge cannot read
could be the one that serves the port.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cwh.parse.netsh import Kind, NetshParseError, SslBinding, parse_sslcert

STORES: dict[str, Kind] = {
    "SslBindingInfo": "ip",
    "SslSniBindingInfo": "hostname",
    "SslCcsBindingInfo": "ccs",
}
MAX_BINDINGS = 20000
HTTP_PARAMETERS = r"HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters"


class HttpSysRegistryError(ValueError):
    """The registry answer is not a list of http.sys bindings this module can vouch for."""


def parse_registry_bindings(data: Any) -> list[SslBinding]:
    """The bindings in the collector's registry answer, in its order; HttpSysRegistryError."""
    if not isinstance(data, Mapping) or "bindings" not in data:
        raise HttpSysRegistryError("the registry answer has no binding list")
    entries = data["bindings"]
    if entries is None:
        entries = []
    elif isinstance(entries, Mapping):  # PowerShell 5.1 turns a one-element array into it
        entries = [entries]
    if not isinstance(entries, list):
        raise HttpSysRegistryError("the registry binding list is not a list")
    if len(entries) > MAX_BINDINGS:
        raise HttpSysRegistryError(f"{len(entries)} registry bindings, over the "
                                   f"{MAX_BINDINGS} cap; refused")
    return [_binding(entry) for entry in entries]


def _binding(entry: Any) -> SslBinding:
    if not isinstance(entry, Mapping):
        raise HttpSysRegistryError(f"a registry binding is not an object: {str(entry)[:80]!r}")
    store, endpoint, values = entry.get("store"), entry.get("endpoint"), entry.get("values")
    kind = STORES.get(store) if isinstance(store, str) else None
    if kind is None:
        raise HttpSysRegistryError(f"unknown binding store {str(store)[:60]!r}")
    if not isinstance(endpoint, str):
        raise HttpSysRegistryError(f"a {store} binding has no name")
    if not isinstance(values, Mapping):
        raise HttpSysRegistryError(f"the {store} binding {endpoint[:80]!r} has no values")
    host, _, port_text = endpoint.rpartition(":")
    if not host and kind != "ccs":
        raise HttpSysRegistryError(f"the {store} binding {endpoint[:80]!r} is not host:port")
    port_text = port_text if host else endpoint
    if not (port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535):
        raise HttpSysRegistryError(f"the {store} binding {endpoint[:80]!r}: port "
                                   f"{port_text[:20]!r} is not 1-65535")
    cert_hash = None if kind == "ccs" else _cert_hash(values, endpoint)
    return SslBinding(endpoint=port_text if kind == "ccs" else endpoint, kind=kind,
                      port=int(port_text), cert_hash=cert_hash, app_id=_app_id(values),
                      store=_store_name(values))


def _cert_hash(values: Mapping[str, Any], endpoint: str) -> str:
    value = _value(values, "SslCertHash")
    if value is None:
        raise HttpSysRegistryError(f"the binding {endpoint[:80]!r} has no SslCertHash")
    kind, raw = value
    if kind != "Binary":
        raise HttpSysRegistryError(f"SslCertHash of {endpoint[:80]} is {str(kind)[:20]}, not "
                                   "Binary")
    try:
        data = base64.b64decode(str(raw), validate=True)
    except (binascii.Error, ValueError):
        raise HttpSysRegistryError(f"SslCertHash of {endpoint[:80]} is not base64") from None
    if not data:
        raise HttpSysRegistryError(f"SslCertHash of {endpoint[:80]} is empty")
    return data.hex()


def _app_id(values: Mapping[str, Any]) -> str | None:
    """The AppId as netsh prints it ({...}); None when absent or not a 16-byte GUID (it is
    shown, never judged)."""
    value = _value(values, "AppId")
    if value is None or value[0] != "Binary":
        return None
    try:
        data = base64.b64decode(str(value[1]), validate=True)
        return "{" + str(uuid.UUID(bytes_le=data)) + "}"
    except (binascii.Error, ValueError):
        return None


def _store_name(values: Mapping[str, Any]) -> str | None:
    value = _value(values, "SslCertStoreName")
    if value is None or value[0] not in ("String", "ExpandString") or not value[1]:
        return None
    return str(value[1])


def _value(values: Mapping[str, Any], name: str) -> tuple[Any, Any] | None:
    """(kind, value) of a registry value, found case-insensitively as the registry does."""
    for key, item in values.items():
        if str(key).lower() == name.lower():
            if not isinstance(item, Mapping):
                raise HttpSysRegistryError(f"the registry value {name} is not kind and value")
            return item.get("kind"), item.get("value")
    return None


def bindings_at_port(bindings: list[SslBinding], port: int) -> frozenset[tuple[str, str, str]]:
    """What two sources must agree on for a port: each binding's kind, endpoint (compared
    case-insensitively, as host names are) and certificate hash."""
    return frozenset((b.kind, b.endpoint.lower(), b.cert_hash or "") for b in bindings
                     if b.port == port)


@dataclass(frozen=True)
class BindingSource:
    """The bindings one source gave (`bindings` None: not available, `problem` says why).

    `garbled`: the source answered, but not in a form this suite can read. For the registry,
    the primary source, that is never set aside; netsh's console text is translated on
    non-English Windows, so a netsh text that is not understood only loses its corroboration.
    """

    name: str
    where: str
    bindings: tuple[SslBinding, ...] | None
    problem: str = ""
    garbled: bool = False


def binding_sources(section: Mapping[str, Any]) -> tuple[BindingSource, BindingSource]:
    """(registry, netsh) from the collector's http_sslcert section."""
    return _registry_source(section.get("registry")), _netsh_source(section)


def _registry_source(answer: Any) -> BindingSource:
    where = "registry " + HTTP_PARAMETERS
    if not isinstance(answer, Mapping):
        return BindingSource("registry", where, None, "the collector did not read the registry")
    if answer.get("error"):
        return BindingSource("registry", where, None,
                             f"reading the registry failed: {answer['error']}")
    try:
        return BindingSource("registry", where, tuple(parse_registry_bindings(answer)))
    except HttpSysRegistryError as exc:
        return BindingSource("registry", where, None, f"the registry answer is garbled: {exc}",
                             garbled=True)


def _netsh_source(data: Mapping[str, Any]) -> BindingSource:
    output, where = data.get("output"), "netsh http show sslcert"
    if not isinstance(output, str):
        return BindingSource("netsh", where, None, str(data.get("netsh_error") or
                                                       "netsh http show sslcert returned no text"))
    try:
        return BindingSource("netsh", where, tuple(parse_sslcert(output)))
    except NetshParseError as exc:
        return BindingSource("netsh", where, None, f"netsh output not understood: {exc}")
