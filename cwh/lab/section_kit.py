"""What every module answering collector sections shares: the case-insensitive lookups Windows
names need, a registry value as the collector reads it, the context a section may read besides
the image (the lab's certificates, the collector body the host received), and the certificate
store as Get-ChildItem Cert:\\LocalMachine\\My lists it.

The emulator and the section modules (policy, platform, system, product) all build on this, so
none of them needs another's internals and the emulator imports its sections like any module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cwh.collect.script import collector_body
from cwh.lab.image import Image


def find_named(mapping: dict, key: str) -> tuple[str, Any] | None:
    """Case-insensitive lookup, as the registry and Windows names behave."""
    for name, value in (mapping or {}).items():
        if str(name).lower() == key.lower():
            return name, value
    return None


def registry_value(image: Image, path: str, name: str) -> dict:
    result: dict[str, Any] = {"path": path, "name": name, "key_exists": False,
                              "value_exists": False, "kind": None, "value": None, "error": None}
    if path[:5].upper() != "HKLM\\":
        result["error"] = f"only HKLM paths are supported: {path}"
        return result
    found = find_named(image.get("registry") or {}, path)
    if found is None or found[1] is None:  # null removes a key an extended image had
        return result
    key_values = found[1]
    if key_values.get("_access_denied"):
        result["error"] = "Requested registry access is not allowed."
        return result
    result["key_exists"] = True
    entry = find_named({k: v for k, v in key_values.items() if not k.startswith("_")}, name)
    if entry is None or entry[1] is None:
        return result
    result.update(value_exists=True, kind=entry[1]["type"], value=entry[1]["value"])
    return result


class Context:
    """What a section may read besides the image: the lab's generated certificates, and the
    collector script as the host received it (what PowerShell's behaviour depends on)."""

    def __init__(self, certificates: dict[str, Any] | None = None,
                 collector_body: str | None = None) -> None:
        self.certificates = certificates or {}
        self.collector_body = collector_body

    def body(self) -> str:
        return self.collector_body if self.collector_body is not None else collector_body()

    def running(self, body: str) -> Context:
        """The same context for a run of this collector body."""
        return Context(self.certificates, body)


def windows_round_trip(moment: dt.datetime) -> str:
    """DateTime.ToUniversalTime().ToString('o'): 7 fractional digits and Z."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond * 10:07d}Z"


def certificates_section(image: Image, request: dict, context: Context) -> dict:
    entries = []
    for name, issued in context.certificates.items():
        cert = issued.certificate
        key = cert.public_key()
        entries.append({
            "thumbprint": issued.sha1_hex().upper(),
            "subject": cert.subject.rfc4514_string().replace(",", ", "),
            "issuer": cert.issuer.rfc4514_string().replace(",", ", "),
            "not_before": windows_round_trip(cert.not_valid_before_utc),
            "not_after": windows_round_trip(cert.not_valid_after_utc),
            "has_private_key": True,
            "dns_names": issued.names(),
            # What PublicKey.Oid.FriendlyName says on Windows.
            "key_algorithm": "RSA" if isinstance(key, rsa.RSAPublicKey) else "ECC",
            # GetRSAPublicKey()/GetECDsaPublicKey().KeySize; PublicKey.Key would throw for ECC.
            "key_bits": key.key_size if isinstance(key, (rsa.RSAPublicKey,
                                                         ec.EllipticCurvePublicKey)) else None,
            "key_error": None,
            "lab_name": name,
        })
    return {"store": "LocalMachine\\My", "certificates": entries}
