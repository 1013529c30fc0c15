"""TLS protocol-version probes: does the server accept a handshake at exactly one version?

A refusal only counts when the server itself said no (an alert, a different version in its
ServerHello, non-TLS bytes, or a reset / EOF right after our ClientHello). A failure before
the server answered proves nothing and is reported as "inconclusive". `client_capability`
proves that this client can speak a version at all, against a throwaway local server.
"""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cwh.certs import issue
from cwh.probes._net import (
    LEGACY_CIPHERS,
    TLS_VERSIONS,
    Channel,
    ConnectAttempt,
    Deadline,
    client_context,
    connect,
    connect_failure,
    describe_os_error,
    ip_literal,
    set_version_range,
    tls_version,
    validate_target,
)

__all__ = [
    "LEGACY_CIPHERS",
    "TLS_VERSIONS",
    "CapabilityObservation",
    "ServerAnswer",
    "TlsVersionObservation",
    "clear_capability_cache",
    "client_capability",
    "parse_server_answer",
    "probe_tls_version",
    "server_context",
    "set_version_range",
]

_WIRE_VERSIONS = {
    0x0300: "SSLv3",
    0x0301: "TLSv1",
    0x0302: "TLSv1.1",
    0x0303: "TLSv1.2",
    0x0304: "TLSv1.3",
}

# RFC 8446 section 6 (plus the TLS 1.2-era codes still sent by older stacks).
_ALERTS = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
    22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure",
    41: "no_certificate", 42: "bad_certificate", 43: "unsupported_certificate",
    44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
    47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
    51: "decrypt_error", 60: "export_restriction", 70: "protocol_version",
    71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
    110: "unsupported_extension", 112: "unrecognized_name",
    113: "bad_certificate_status_response", 115: "unknown_psk_identity",
    116: "certificate_required", 120: "no_application_protocol",
}

_CONTENT_ALERT, _CONTENT_HANDSHAKE = 21, 22
_TLS_CONTENT_TYPES = {20, 21, 22, 23}
_SUPPORTED_VERSIONS_EXT = 0x002B


@dataclass(frozen=True)
class ServerAnswer:
    """What the first bytes from the server were, read off the wire (before decryption).

    kind: "none" (nothing received), "alert", "server_hello", "handshake_other",
    "not_tls" (e.g. an HTTP error page) or "partial" (too short to tell)."""

    kind: str
    alert_level: str | None = None
    alert: str | None = None
    selected_version: str | None = None
    first_bytes_hex: str = ""

    def to_evidence(self) -> dict:
        return {
            "kind": self.kind,
            "alert_level": self.alert_level,
            "alert": self.alert,
            "selected_version": self.selected_version,
            "first_bytes_hex": self.first_bytes_hex,
        }


def parse_server_answer(data: bytes) -> ServerAnswer:
    """Classify the server's first TLS record: an alert, a ServerHello (and its version), or
    something that is not TLS at all."""
    excerpt = data[:64].hex()
    if not data:
        return ServerAnswer("none")
    if data[0] not in _TLS_CONTENT_TYPES or (len(data) >= 2 and data[1] != 3):
        return ServerAnswer("not_tls", first_bytes_hex=excerpt)
    if len(data) < 7:
        return ServerAnswer("partial", first_bytes_hex=excerpt)
    if data[0] == _CONTENT_ALERT:
        level = {1: "warning", 2: "fatal"}.get(data[5], f"unknown({data[5]})")
        alert = _ALERTS.get(data[6], f"unknown({data[6]})")
        return ServerAnswer("alert", alert_level=level, alert=alert, first_bytes_hex=excerpt)
    if data[0] == _CONTENT_HANDSHAKE and data[5] == 2:
        length = int.from_bytes(data[6:9], "big")
        body = data[9 : 9 + length]
        version = _server_hello_version(body) if len(body) == length else None
        if version is None:
            return ServerAnswer("partial", first_bytes_hex=excerpt)
        return ServerAnswer("server_hello", selected_version=version, first_bytes_hex=excerpt)
    return ServerAnswer("handshake_other", first_bytes_hex=excerpt)


def _server_hello_version(body: bytes) -> str | None:
    """The version a ServerHello body selects: supported_versions if present, else legacy."""
    if len(body) < 2 + 32 + 1:
        return None
    legacy = int.from_bytes(body[0:2], "big")
    pos = 2 + 32
    pos += 1 + body[pos]  # session id
    pos += 2 + 1  # cipher suite, compression method
    if len(body) < pos + 2:
        # No extensions block: the legacy field is the version (TLS 1.0-1.2 servers).
        return _wire_name(legacy) if len(body) >= pos else None
    end = min(len(body), pos + 2 + int.from_bytes(body[pos : pos + 2], "big"))
    pos += 2
    while pos + 4 <= end:
        ext_type = int.from_bytes(body[pos : pos + 2], "big")
        ext_len = int.from_bytes(body[pos + 2 : pos + 4], "big")
        if ext_type == _SUPPORTED_VERSIONS_EXT and ext_len == 2 and pos + 6 <= end:
            return _wire_name(int.from_bytes(body[pos + 4 : pos + 6], "big"))
        pos += 4 + ext_len
    return _wire_name(legacy)


def _wire_name(value: int) -> str:
    return _WIRE_VERSIONS.get(value, f"0x{value:04x}")


@dataclass(frozen=True)
class TlsVersionObservation:
    """One handshake attempt pinned to exactly one protocol version.

    outcome: "accepted" (completed at that version), "refused" (the server said no) or
    "inconclusive" (we could not tell: local error before the server answered, no TCP
    connection, no answer in time, or an error after the server picked our version)."""

    address: str
    port: int
    server_name: str | None
    version: str
    outcome: str
    detail: str
    negotiated_version: str | None = None
    cipher: str | None = None
    ssl_reason: str | None = None
    server_answer: ServerAnswer = field(default_factory=lambda: ServerAnswer("none"))
    bytes_sent: int = 0
    bytes_received: int = 0
    client_ciphers: str = LEGACY_CIPHERS
    openssl_version: str = ssl.OPENSSL_VERSION
    connect_attempts: tuple[ConnectAttempt, ...] = ()
    elapsed_ms: float = 0.0
    timeout_s: float = 0.0

    def to_evidence(self) -> dict:
        return {
            "probe": "tls_version",
            "address": self.address,
            "port": self.port,
            "server_name": self.server_name,
            "sent": f"ClientHello pinned to {self.version} (ciphers {self.client_ciphers!r})",
            "version": self.version,
            "outcome": self.outcome,
            "detail": self.detail,
            "negotiated_version": self.negotiated_version,
            "cipher": self.cipher,
            "ssl_reason": self.ssl_reason,
            "server_answer": self.server_answer.to_evidence(),
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "openssl_version": self.openssl_version,
            "connect_attempts": [a.to_evidence() for a in self.connect_attempts],
            "elapsed_ms": self.elapsed_ms,
            "timeout_s": self.timeout_s,
        }


def probe_tls_version(
    address: str,
    port: int,
    version: str,
    *,
    server_name: str | None = None,
    timeout: float = 5.0,
    ciphers: str = LEGACY_CIPHERS,
) -> TlsVersionObservation:
    """Attempt a handshake at exactly `version` ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3").

    `server_name` is sent as SNI; when None, `address` is used if it is a host name.
    `ciphers` is the OpenSSL cipher string; the default allows legacy handshakes."""
    validate_target(address, port)
    tls_version(version)
    deadline = Deadline(timeout)
    sni = server_name if server_name is not None else _default_sni(address)
    base = {
        "address": address, "port": port, "server_name": sni, "version": version,
        "client_ciphers": ciphers, "timeout_s": deadline.timeout,
    }
    try:
        ctx = client_context(version, version, ciphers=ciphers)
    except (ssl.SSLError, ValueError) as exc:
        # e.g. a cipher string OpenSSL rejects: nothing was sent, nothing learned.
        return TlsVersionObservation(
            **base, outcome="inconclusive", detail=f"could not build the client context: {exc}",
            ssl_reason=getattr(exc, "reason", None), elapsed_ms=deadline.elapsed_ms(),
        )
    sock, attempts, resolve_error = connect(address, port, deadline)
    if sock is None:
        return TlsVersionObservation(
            **base, outcome="inconclusive",
            detail=f"no TCP connection: {connect_failure(attempts, resolve_error)}",
            connect_attempts=attempts, elapsed_ms=deadline.elapsed_ms(),
        )
    channel = Channel(sock, deadline)
    try:
        return _handshake(channel, ctx, sni, base, attempts)
    finally:
        channel.close()


def _default_sni(address: str) -> str | None:
    return None if ip_literal(address) is not None else address.rstrip(".")


def _handshake(
    channel: Channel, ctx: ssl.SSLContext, sni: str | None, base: dict,
    attempts: tuple[ConnectAttempt, ...],
) -> TlsVersionObservation:
    error: BaseException | None = None
    negotiated = cipher = None
    try:
        tls = channel.start_tls(ctx, sni)
        negotiated = tls.version()
        cipher_info = tls.cipher()
        cipher = cipher_info[0] if cipher_info else None
    except (ssl.SSLError, OSError) as exc:  # TimeoutError is an OSError
        error = exc
    answer = parse_server_answer(bytes(channel.first_bytes))
    outcome, detail = _classify(base["version"], negotiated, error, answer, channel)
    return TlsVersionObservation(
        **base,
        outcome=outcome,
        detail=detail,
        negotiated_version=negotiated,
        cipher=cipher,
        ssl_reason=getattr(error, "reason", None) if error else None,
        server_answer=answer,
        bytes_sent=channel.bytes_sent,
        bytes_received=channel.bytes_received,
        connect_attempts=attempts,
        elapsed_ms=channel.deadline.elapsed_ms(),
    )


def _classify(
    requested: str,
    negotiated: str | None,
    error: BaseException | None,
    answer: ServerAnswer,
    channel: Channel,
) -> tuple[str, str]:
    """(outcome, detail) from what happened on the wire; see TlsVersionObservation."""
    if error is None:
        if negotiated == requested:
            return "accepted", f"handshake completed at {negotiated}"
        return "inconclusive", f"negotiated {negotiated} although pinned to {requested}"
    text = _error_text(error)
    if channel.bytes_sent == 0:
        return "inconclusive", f"local error before the ClientHello was sent: {text}"
    if answer.kind == "alert":
        return "refused", f"server sent {answer.alert_level} alert {answer.alert}: {text}"
    if answer.kind == "server_hello":
        if answer.selected_version == requested:
            return "inconclusive", (
                f"server selected {requested} but the handshake failed afterwards: {text}"
            )
        return "refused", f"server selected {answer.selected_version}, not {requested}: {text}"
    if answer.kind == "not_tls":
        return "refused", f"server answered with non-TLS data: {text}"
    if answer.kind == "none" and isinstance(error, ConnectionResetError):
        return "refused", f"connection reset by the server after the ClientHello: {text}"
    if answer.kind == "none" and channel.peer_closed:
        return "refused", f"server closed the connection after the ClientHello: {text}"
    if isinstance(error, TimeoutError):
        return "inconclusive", f"no complete answer within the timeout: {text}"
    return "inconclusive", f"could not tell from the server's answer ({answer.kind}): {text}"


def _error_text(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError):
        return str(error)
    if isinstance(error, TimeoutError):
        return "timed out"
    return describe_os_error(error)


# -- client capability self-test ------------------------------------------------------------


@dataclass(frozen=True)
class CapabilityObservation:
    """Whether this process's TLS client can complete a handshake at `version` at all."""

    version: str
    capable: bool
    detail: str
    client_ciphers: str = LEGACY_CIPHERS
    openssl_version: str = ssl.OPENSSL_VERSION
    probe: TlsVersionObservation | None = None

    def to_evidence(self) -> dict:
        return {
            "probe": "tls_client_capability",
            "version": self.version,
            "capable": self.capable,
            "detail": self.detail,
            "client_ciphers": self.client_ciphers,
            "openssl_version": self.openssl_version,
            "self_test": self.probe.to_evidence() if self.probe else None,
        }


_capability_cache: dict[tuple[str, str], CapabilityObservation] = {}
_capability_lock = threading.Lock()


def client_capability(
    version: str, *, ciphers: str = LEGACY_CIPHERS, timeout: float = 5.0
) -> CapabilityObservation:
    """Handshake with a local server pinned to exactly `version`, using the same client
    settings as probe_tls_version(ciphers=...). Cached per process per (version, ciphers).

    Pass a restrictive `ciphers` (e.g. "DEFAULT", OpenSSL 3's security level 2) to see a
    client that cannot speak TLS 1.0/1.1."""
    tls_version(version)
    key = (version, ciphers)
    with _capability_lock:
        if key not in _capability_cache:
            _capability_cache[key] = _self_test(version, ciphers, timeout)
        return _capability_cache[key]


def clear_capability_cache() -> None:
    with _capability_lock:
        _capability_cache.clear()


def server_context(
    cert_file: str, key_file: str, minimum: str, maximum: str, *, ciphers: str = LEGACY_CIPHERS
) -> ssl.SSLContext:
    """A server context for local test servers; ciphers are set before the key is loaded so
    that weak keys load at @SECLEVEL=0."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    set_version_range(ctx, minimum, maximum)
    ctx.set_ciphers(ciphers)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx


def _self_test(version: str, ciphers: str, timeout: float) -> CapabilityObservation:
    def result(capable: bool, detail: str, probe: TlsVersionObservation | None = None):
        return CapabilityObservation(version, capable, detail, ciphers, probe=probe)

    try:
        ctx = _self_test_server_context(version)
        listener = socket.create_server(("127.0.0.1", 0))
    except (ssl.SSLError, OSError, ValueError) as exc:
        return result(False, f"could not start the local {version} server: {exc}")
    with listener:
        listener.settimeout(timeout)
        server = threading.Thread(
            target=_serve_one_handshake, args=(listener, ctx, timeout),
            name=f"cwh-tls-selftest-{version}", daemon=True,
        )
        server.start()
        port = listener.getsockname()[1]
        probe = probe_tls_version("127.0.0.1", port, version, timeout=timeout, ciphers=ciphers)
        server.join(timeout)
    if probe.outcome == "accepted":
        return result(True, f"completed a {version} handshake with a local server", probe)
    return result(False, f"could not complete a {version} handshake locally: {probe.detail}", probe)


_self_test_cert: tuple[bytes, bytes] | None = None


def _self_test_server_context(version: str) -> ssl.SSLContext:
    global _self_test_cert
    if _self_test_cert is None:
        issued = issue(["127.0.0.1"])
        _self_test_cert = (issued.cert_pem, issued.key_pem)
    with tempfile.TemporaryDirectory(prefix="cwh-tls-selftest-") as tmp:
        cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_file.write_bytes(_self_test_cert[0])
        key_file.write_bytes(_self_test_cert[1])
        return server_context(str(cert_file), str(key_file), version, version)


def _serve_one_handshake(listener: socket.socket, ctx: ssl.SSLContext, timeout: float) -> None:
    try:
        conn, _ = listener.accept()
    except OSError:
        return
    conn.settimeout(timeout)
    try:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)  # wait for the client to close
    except (ssl.SSLError, OSError):
        pass
    finally:
        conn.close()
