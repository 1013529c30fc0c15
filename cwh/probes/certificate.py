"""The certificate a TLS endpoint presents, and the facts an auditor checks about it.

The leaf is fetched without verification (so invalid certificates are still observed), then a
second handshake verifies the chain against the system store or an explicit CA bundle. Host
name matching is computed from the SANs, independently of chain validity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from cwh.probes._net import (
    Channel,
    ConnectAttempt,
    Deadline,
    client_context,
    connect,
    connect_failure,
    describe_os_error,
    ip_literal,
    validate_target,
)

MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


@dataclass(frozen=True)
class CertificateObservation:
    """The leaf certificate of address:port as presented for `server_name`.

    When `error` is set no certificate was obtained and every certificate field is None.
    chain_valid is None when the verification handshake itself could not be completed."""

    address: str
    port: int
    server_name: str
    trust_store: str
    checked_at: str
    warn_days: int
    error: str | None = None
    subject: str | None = None
    issuer: str | None = None
    sans: tuple[str, ...] = ()
    san_dns: tuple[str, ...] = ()
    san_ip: tuple[str, ...] = ()
    serial: str | None = None
    not_before: str | None = None
    not_after: str | None = None
    days_left: int | None = None
    sha256: str | None = None
    sha1: str | None = None
    key_type: str | None = None
    key_bits: int | None = None
    signature_hash: str | None = None
    self_signed: bool | None = None
    chain_valid: bool | None = None
    chain_error: str | None = None
    hostname_matches: bool | None = None
    expired: bool | None = None
    not_yet_valid: bool | None = None
    expiring_soon: bool | None = None
    key_strong_enough: bool | None = None
    tls_version: str | None = None
    cipher: str | None = None
    connect_attempts: tuple[ConnectAttempt, ...] = field(default=())
    elapsed_ms: float = 0.0
    timeout_s: float = 0.0

    def to_evidence(self) -> dict:
        evidence = {name: getattr(self, name) for name in self.__dataclass_fields__}
        evidence["probe"] = "tls_certificate"
        for name in ("sans", "san_dns", "san_ip"):
            evidence[name] = list(evidence[name])
        evidence["connect_attempts"] = [a.to_evidence() for a in self.connect_attempts]
        return evidence


def inspect_certificate(
    address: str,
    port: int,
    *,
    server_name: str,
    ca_bundle: str | None = None,
    timeout: float = 5.0,
    warn_days: int = 30,
    now: dt.datetime | None = None,
) -> CertificateObservation:
    """Fetch and describe the leaf certificate; `timeout` bounds the whole probe.

    `server_name` is sent as SNI (unless it is an IP literal) and is the name the SANs must
    match. `ca_bundle` replaces the system store for chain verification."""
    validate_target(address, port)
    if not server_name:
        raise ValueError("server_name is required")
    now = _utc(now)
    deadline = Deadline(timeout)
    base = {
        "address": address, "port": port, "server_name": server_name,
        "trust_store": ca_bundle or "system", "checked_at": now.isoformat(),
        "warn_days": warn_days, "timeout_s": deadline.timeout,
    }
    sni = None if ip_literal(server_name) is not None else server_name.rstrip(".")
    fetched = _fetch_leaf(address, port, sni, deadline)
    if isinstance(fetched, _FetchFailure):
        return CertificateObservation(
            **base, error=fetched.error, connect_attempts=fetched.attempts,
            elapsed_ms=deadline.elapsed_ms(),
        )
    try:
        facts = describe_certificate(fetched.der, server_name, now=now, warn_days=warn_days)
    except ValueError as exc:
        return CertificateObservation(
            **base, error=f"the server's certificate could not be parsed: {exc}",
            sha256=hashlib.sha256(fetched.der).hexdigest(), connect_attempts=fetched.attempts,
            elapsed_ms=deadline.elapsed_ms(),
        )
    chain_valid, chain_error = _verify_chain(address, port, sni, ca_bundle, deadline)
    return CertificateObservation(
        **base, **facts, chain_valid=chain_valid, chain_error=chain_error,
        tls_version=fetched.tls_version, cipher=fetched.cipher,
        connect_attempts=fetched.attempts, elapsed_ms=deadline.elapsed_ms(),
    )


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(dt.UTC)


@dataclass(frozen=True)
class _Fetched:
    der: bytes
    tls_version: str | None
    cipher: str | None
    attempts: tuple[ConnectAttempt, ...]


@dataclass(frozen=True)
class _FetchFailure:
    error: str
    attempts: tuple[ConnectAttempt, ...]


def _fetch_leaf(
    address: str, port: int, sni: str | None, deadline: Deadline
) -> _Fetched | _FetchFailure:
    sock, attempts, resolve_error = connect(address, port, deadline)
    if sock is None:
        reason = connect_failure(attempts, resolve_error)
        return _FetchFailure(f"no TCP connection: {reason}", attempts)
    channel = Channel(sock, deadline)
    try:
        tls = channel.start_tls(client_context(), sni)
        der = tls.getpeercert(binary_form=True)
        cipher = tls.cipher()
        version = tls.version()
    except ssl.SSLError as exc:
        return _FetchFailure(f"TLS handshake failed: {exc}", attempts)
    except TimeoutError:
        return _FetchFailure("TLS handshake did not finish within the timeout", attempts)
    except OSError as exc:
        return _FetchFailure(f"TLS handshake failed: {describe_os_error(exc)}", attempts)
    finally:
        channel.close()
    if not der:
        return _FetchFailure("the server sent no certificate", attempts)
    return _Fetched(der, version, cipher[0] if cipher else None, attempts)


def _verify_chain(
    address: str, port: int, sni: str | None, ca_bundle: str | None, deadline: Deadline
) -> tuple[bool | None, str | None]:
    """(True, None) if the chain the server sends verifies; (False, OpenSSL's verify message);
    or (None, why) when the verification handshake could not be completed."""
    try:
        ctx = client_context(verify=True, ca_bundle=ca_bundle)
    except (ssl.SSLError, OSError) as exc:
        return None, f"could not load the trust store {ca_bundle!r}: {exc}"
    sock, attempts, resolve_error = connect(address, port, deadline)
    if sock is None:
        reason = connect_failure(attempts, resolve_error)
        return None, f"verification handshake: no TCP connection: {reason}"
    channel = Channel(sock, deadline)
    try:
        channel.start_tls(ctx, sni)
    except ssl.SSLCertVerificationError as exc:
        return False, exc.verify_message or str(exc)
    except ssl.SSLError as exc:
        return None, f"verification handshake failed: {exc}"
    except TimeoutError:
        return None, "verification handshake did not finish within the timeout"
    except OSError as exc:
        return None, f"verification handshake failed: {describe_os_error(exc)}"
    finally:
        channel.close()
    return True, None


# -- pure helpers ---------------------------------------------------------------------------


def describe_certificate(
    der: bytes, server_name: str, *, now: dt.datetime, warn_days: int = 30
) -> dict:
    """Facts about a DER certificate as CertificateObservation field values."""
    cert = x509.load_der_x509_certificate(der)
    san_dns, san_ip = subject_alt_names(cert)
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    key_type, key_bits = key_description(cert.public_key())
    hash_algorithm = cert.signature_hash_algorithm
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": tuple([f"DNS:{n}" for n in san_dns] + [f"IP:{a}" for a in san_ip]),
        "san_dns": san_dns,
        "san_ip": san_ip,
        "serial": format(cert.serial_number, "x"),
        "not_before": not_before.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": (not_after - now).days,
        "sha256": hashlib.sha256(der).hexdigest(),
        "sha1": hashlib.sha1(der).hexdigest(),  # what Windows calls the thumbprint
        "key_type": key_type,
        "key_bits": key_bits,
        "signature_hash": hash_algorithm.name if hash_algorithm else None,
        "self_signed": is_self_signed(cert),
        "hostname_matches": hostname_matches(server_name, san_dns, san_ip),
        "expired": now > not_after,
        "not_yet_valid": now < not_before,
        # Also true once expired: "less than warn_days left" holds then too.
        "expiring_soon": not_after - now < dt.timedelta(days=warn_days),
        "key_strong_enough": key_strong_enough(key_type, key_bits),
    }


def subject_alt_names(cert: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(DNS names, IP addresses) from the SAN extension; empty when there is none."""
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return (), ()
    dns = tuple(ext.get_values_for_type(x509.DNSName))
    ips = tuple(str(ip) for ip in ext.get_values_for_type(x509.IPAddress))
    return dns, ips


def key_description(key: object) -> tuple[str, int | None]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, None


def key_strong_enough(key_type: str, key_bits: int | None) -> bool | None:
    """RSA >= 2048, EC >= 256, EdDSA yes, DSA no; None for a key type we do not know."""
    if key_type == "RSA":
        return key_bits is not None and key_bits >= MIN_RSA_BITS
    if key_type == "EC":
        return key_bits is not None and key_bits >= MIN_EC_BITS
    if key_type in ("Ed25519", "Ed448"):
        return True
    if key_type == "DSA":
        return False
    return None


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals subject and the certificate's own key verifies its signature."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except Exception:
        # Self-issued but signed by another key (or a key type we cannot check).
        return False
    return True


def hostname_matches(name: str, san_dns: tuple[str, ...], san_ip: tuple[str, ...]) -> bool:
    """RFC 6125 matching against SANs only (the subject CN is ignored, as browsers do).

    IP literals match IP SANs; names match DNS SANs, with a wildcard allowed only as the
    whole left-most label and never matching more than one label."""
    address = ip_literal(name)
    if address is not None:
        return any(ip_literal(candidate) == address for candidate in san_ip)
    wanted = name.rstrip(".").lower()
    return any(dns_name_matches(pattern, wanted) for pattern in san_dns)


def dns_name_matches(pattern: str, name: str) -> bool:
    pattern, name = pattern.rstrip(".").lower(), name.rstrip(".").lower()
    if not pattern or not name:
        return False
    if not pattern.startswith("*."):
        return "*" not in pattern and pattern == name
    suffix = pattern[2:]
    if "*" in suffix or suffix.count(".") < 1:
        return False  # "*.com" and nested wildcards are never valid
    head, _, rest = name.partition(".")
    return bool(head) and rest == suffix
