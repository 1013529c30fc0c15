"""How a lab host's http.sys certificate bindings look to the collector: netsh's console text
(English, optionally in the current builds' format) and the registry subkeys under
HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters."""

from __future__ import annotations

import base64
from typing import Any

# What netsh prints inside each binding on current builds (Windows Server 2022): http.sys's
# extended properties, each group opened by a bare "Extended Properties:" line.
NETSH_EXTENDED_PROPERTIES = [
    "    Disable QUIC                 : Not Set",
    "    Disable TLS1.2               : Not Set",
    "    Disable TLS1.3               : Not Set",
    "    Disable OCSP Stapling        : Not Set",
    "    Enable Token Binding         : Not Set",
    "    Log Extended Events          : Not Set",
    "    Disable Legacy TLS Versions  : Not Set",
    "    Enable Session Ticket        : Not Set",
    "    Extended Properties:",
    "    PropertyId                   : 0",
    "    Receive Window               : 1048576",
    "    Extended Properties:",
    "    PropertyId                   : 1",
    "    Max Settings Per Frame       : 2796202",
    "    Max Settings Per Minute      : 4294967295",
]
_ZERO_APP_ID = "{00000000-0000-0000-0000-000000000000}"


def _is_hostname(endpoint: str) -> bool:
    return not endpoint[0].isdigit() and not endpoint.startswith("[")


def render_netsh_sslcert(bindings: list[dict], *, extended: bool = False) -> str:
    """`netsh http show sslcert` as English Windows prints it (`extended`: as current builds
    do, with the Extended Properties groups inside each binding)."""
    lines = ["", "SSL Certificate bindings:", "-------------------------", ""]
    for binding in bindings:
        label = "Hostname:port" if _is_hostname(binding["endpoint"]) else "IP:port"
        lines += [
            f"    {label:<24}: {binding['endpoint']}",
            f"    {'Certificate Hash':<24}: {binding['cert_hash']}",
            f"    {'Application ID':<24}: {_ZERO_APP_ID}",
            f"    {'Certificate Store Name':<24}: MY",
            "    Verify Client Certificate Revocation    : Enabled",
            "    Verify Revocation Using Cached Client Certificate Only    : Disabled",
            "    Usage Check    : Enabled",
            "    Revocation Freshness Time : 0",
            "    URL Retrieval Timeout   : 0",
            "    Ctl Identifier          : (null)",
            "    Ctl Store Name          : (null)",
            "    DS Mapper Usage    : Disabled",
            "    Negotiate Client Certificate    : Disabled",
            "    Reject Connections          : Disabled",
            "    Disable HTTP2          : Not Set",
            *(NETSH_EXTENDED_PROPERTIES if extended else []),
            "",
        ]
    return "\r\n".join(lines) + "\r\n"


def registry_binding(endpoint: str, cert_hash: str | None) -> dict:
    """One http.sys binding subkey as the collector reports it: every value with its kind."""
    def binary(data: bytes) -> dict:
        return {"kind": "Binary", "value": base64.b64encode(data).decode("ascii")}
    values: dict[str, Any] = {}
    if cert_hash:
        values["SslCertHash"] = binary(bytes.fromhex(cert_hash))
    values.update({
        "AppId": binary(bytes(16)),
        "DefaultCertCheckMode": {"kind": "DWord", "value": 0},
        "DefaultRevocationFreshnessTime": {"kind": "DWord", "value": 0},
        "DefaultRevocationUrlRetrievalTimeout": {"kind": "DWord", "value": 0},
        "DefaultFlags": {"kind": "DWord", "value": 0},
        "SslCertStoreName": {"kind": "String", "value": "MY"},
    })
    store = "SslSniBindingInfo" if _is_hostname(endpoint) else "SslBindingInfo"
    return {"store": store, "endpoint": endpoint, "values": values}
