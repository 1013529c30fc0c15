"""Deadline-bounded sockets shared by the probes: resolve, connect, TLS over memory BIOs.

Every blocking call is armed with what is left of one overall deadline, so a probe ends within
its timeout however the far end behaves (drops packets, trickles bytes, never answers).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import ssl
import threading
import time
import warnings
from dataclasses import dataclass

# Names the probes and the lab use for protocol versions, in ascending order.
TLS_VERSIONS: dict[str, ssl.TLSVersion] = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}

# OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 signatures) and small keys at security level >= 1;
# the probes must still be able to talk to such servers to observe them.
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"

# warnings.catch_warnings swaps process-global state; serialise our own uses of it.
_WARNINGS_LOCK = threading.Lock()

# Bytes of the peer's first answer kept for parsing (a ServerHello or an alert fits easily).
_FIRST_BYTES_KEPT = 4096


def set_version_range(ctx: ssl.SSLContext, minimum: str, maximum: str) -> None:
    """Pin `ctx` to minimum..maximum (names from TLS_VERSIONS), hiding only the TLS 1.0/1.1
    DeprecationWarning, and only for this call."""
    lo, hi = tls_version(minimum), tls_version(maximum)
    if lo > hi:
        raise ValueError(f"minimum {minimum} is above maximum {maximum}")
    with _WARNINGS_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"ssl\.TLSVersion\.TLSv1", DeprecationWarning)
        # Widen first so that no intermediate state has minimum > maximum.
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = hi
        ctx.minimum_version = lo


def tls_version(name: str) -> ssl.TLSVersion:
    """The ssl.TLSVersion for a name such as "TLSv1.1"; ValueError for anything else."""
    try:
        return TLS_VERSIONS[name]
    except KeyError:
        raise ValueError(f"unknown TLS version {name!r}; use one of {list(TLS_VERSIONS)}") from None


def client_context(
    minimum: str = "TLSv1",
    maximum: str = "TLSv1.3",
    *,
    ciphers: str = LEGACY_CIPHERS,
    verify: bool = False,
    ca_bundle: str | None = None,
) -> ssl.SSLContext:
    """A client context for observation: any version in range, legacy ciphers, no hostname check.

    With verify=True the chain is verified against `ca_bundle` only, or the system store."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    set_version_range(ctx, minimum, maximum)
    ctx.set_ciphers(ciphers)
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        if ca_bundle is not None:
            ctx.load_verify_locations(cafile=ca_bundle)
        else:
            ctx.set_default_verify_paths()
    else:
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Deadline:
    """One point in time that all operations of a probe share."""

    def __init__(self, timeout: float) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        self.timeout = float(timeout)
        self.start = time.monotonic()
        self.end = self.start + self.timeout

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def elapsed_ms(self) -> float:
        return round((time.monotonic() - self.start) * 1000, 1)


@dataclass(frozen=True)
class ConnectAttempt:
    """One TCP connect to one resolved address."""

    address: str
    port: int
    outcome: str  # "open" | "refused" | "filtered" | "error"
    detail: str
    elapsed_ms: float

    def to_evidence(self) -> dict:
        return {
            "address": self.address,
            "port": self.port,
            "outcome": self.outcome,
            "detail": self.detail,
            "elapsed_ms": self.elapsed_ms,
        }


class ResolveError(Exception):
    """Name resolution failed or did not finish before the deadline."""


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address if `host` is an IP literal (brackets and zone id allowed), else None."""
    candidate = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def validate_target(address: str, port: int) -> None:
    if not isinstance(address, str) or not address.strip():
        raise ValueError(f"address must be a non-empty string, got {address!r}")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"port must be an int in 1..65535, got {port!r}")


def resolve(host: str, port: int, deadline: Deadline) -> list[tuple[int, tuple]]:
    """(family, sockaddr) pairs for host:port; the lookup is abandoned at the deadline."""
    host = host.strip("[]")
    if ip_literal(host) is not None:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        return [(info[0], info[4]) for info in infos]
    outcome: dict[str, object] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            outcome["error"] = exc

    # getaddrinfo has no timeout of its own; a stuck resolver must not stall the probe.
    worker = threading.Thread(target=lookup, name=f"cwh-resolve-{host}", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if worker.is_alive():
        raise ResolveError(f"resolving {host!r} did not finish within the timeout")
    if "error" in outcome:
        raise ResolveError(f"resolving {host!r} failed: {outcome['error']}")
    infos = outcome["infos"]
    assert isinstance(infos, list)
    return [(info[0], info[4]) for info in infos]


def describe_os_error(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    name = errno.errorcode.get(code, "") if isinstance(code, int) else ""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{name}: {text}" if name else f"{type(exc).__name__}: {text}"


def _connect_one(
    family: int, sockaddr: tuple, deadline: Deadline
) -> tuple[socket.socket | None, ConnectAttempt]:
    started = time.monotonic()
    sock = socket.socket(family, socket.SOCK_STREAM)
    outcome, detail = "open", "connected"
    try:
        sock.settimeout(deadline.remaining() or 0.001)
        sock.connect(sockaddr)
    except ConnectionRefusedError as exc:
        outcome, detail = "refused", describe_os_error(exc)
    except TimeoutError:
        outcome, detail = "filtered", "no answer to the TCP SYN within the timeout"
    except OSError as exc:
        outcome, detail = "error", describe_os_error(exc)
    elapsed = round((time.monotonic() - started) * 1000, 1)
    attempt = ConnectAttempt(str(sockaddr[0]), int(sockaddr[1]), outcome, detail, elapsed)
    if outcome != "open":
        sock.close()
        return None, attempt
    return sock, attempt


def connect(
    host: str, port: int, deadline: Deadline
) -> tuple[socket.socket | None, tuple[ConnectAttempt, ...], str | None]:
    """Connect to the first resolved address that answers.

    Returns (socket or None, attempts, resolution error or None)."""
    try:
        targets = resolve(host, port, deadline)
    except (ResolveError, OSError) as exc:
        return None, (), str(exc)
    attempts: list[ConnectAttempt] = []
    for family, sockaddr in targets:
        if deadline.remaining() <= 0:
            break
        sock, attempt = _connect_one(family, sockaddr, deadline)
        attempts.append(attempt)
        if sock is not None:
            return sock, tuple(attempts), None
    return None, tuple(attempts), None


def connect_failure(attempts: tuple[ConnectAttempt, ...], resolve_error: str | None) -> str:
    """One line describing why no connection was made."""
    if resolve_error:
        return resolve_error
    if not attempts:
        return "no address was tried before the timeout"
    return "; ".join(f"{a.address}:{a.port} {a.outcome} ({a.detail})" for a in attempts)


class Channel:
    """A connected socket, optionally carrying TLS, whose every operation respects a deadline.

    TLS runs over memory BIOs so that each network read is a plain recv() we can time and
    count: a probe must know whether the peer said anything before a handshake failed."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self.sock = sock
        self.deadline = deadline
        self.bytes_sent = 0
        self.bytes_received = 0
        self.first_bytes = bytearray()
        self.peer_closed = False
        self._tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()

    # -- raw socket -------------------------------------------------------------------------
    def _arm(self) -> None:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError("the probe's timeout expired")
        self.sock.settimeout(remaining)

    def _send_raw(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._arm()
            sent = self.sock.send(view)
            self.bytes_sent += sent
            view = view[sent:]

    def _recv_raw(self, size: int = 16384) -> bytes:
        self._arm()
        data = self.sock.recv(size)
        self.bytes_received += len(data)
        if len(self.first_bytes) < _FIRST_BYTES_KEPT:
            self.first_bytes += data[: _FIRST_BYTES_KEPT - len(self.first_bytes)]
        if not data:
            self.peer_closed = True
        return data

    def _flush(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._send_raw(pending)

    def _feed(self) -> None:
        data = self._recv_raw()
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    # -- TLS --------------------------------------------------------------------------------
    def start_tls(self, ctx: ssl.SSLContext, server_name: str | None) -> ssl.SSLObject:
        """Run a client handshake; raises ssl.SSLError, OSError or TimeoutError on failure."""
        tls = ctx.wrap_bio(self._incoming, self._outgoing, server_hostname=server_name)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()
        self._flush()
        self._tls = tls
        return tls

    @property
    def tls(self) -> ssl.SSLObject | None:
        return self._tls

    # -- application data -------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self._tls is None:
            self._send_raw(data)
            return
        self._tls.write(data)
        self._flush()

    def recv(self, size: int = 16384) -> bytes:
        """Up to `size` bytes; b"" once the peer has closed."""
        if self._tls is None:
            return self._recv_raw(size)
        while True:
            try:
                return self._tls.read(size)
            except ssl.SSLWantReadError:
                self._flush()
                self._feed()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def close(self) -> None:
        if self._tls is not None:
            # Best effort close_notify; never wait for the peer's.
            with contextlib.suppress(ssl.SSLError, OSError, ValueError):
                self._tls.unwrap()
            pending = self._outgoing.read()
            with contextlib.suppress(OSError):
                self.sock.setblocking(False)
                if pending:
                    self.sock.send(pending)
        self.sock.close()
