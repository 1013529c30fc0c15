"""Shared helpers for the probe and listener tests: addresses, certificates, small servers.

Plain context managers rather than fixtures, so tests import them explicitly (no conftest).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import itertools
import shutil
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cwh.certs import Issued, issue, make_ca
from cwh.lab.listeners import TlsSettings, WebEndpoint
from cwh.probes.tls import LEGACY_CIPHERS, server_context

# Python's built-in client cipher string (Modules/_ssl.c): no SHA-1 suites, so a client
# pinned to TLS 1.0/1.1 has nothing to offer and fails before sending its ClientHello.
PYTHON_DEFAULT_CIPHERS = (
    "@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM"
)
# OpenSSL's DEFAULT at its default security level: offers TLS 1.0 suites but rejects the
# server's SHA-1 signature after the ServerHello (LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED).
OPENSSL_DEFAULT_CIPHERS = "DEFAULT"

SERVER_NAME = "sc.lab.test"
SC_SERVER = "ScreenConnect/23.9.7.8804-2863243764"

_addresses = itertools.count(1)
_workdir = Path(tempfile.mkdtemp(prefix="cwh-probe-tests-"))
atexit.register(shutil.rmtree, _workdir, ignore_errors=True)


def next_address() -> str:
    """A fresh loopback address per use, so tests never share a port space."""
    n = next(_addresses)
    return f"127.77.{n // 250}.{n % 250 + 1}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class LabCa:
    issued: Issued
    bundle: str  # path to the CA's PEM, for ca_bundle=


@functools.cache
def lab_ca() -> LabCa:
    ca = make_ca("CWH Probe Test CA")
    bundle, _ = ca.write(_workdir, "test-ca")
    return LabCa(ca, str(bundle))


@functools.cache
def leaf(names: tuple[str, ...] = (SERVER_NAME, "127.0.0.1"), key_type: str = "rsa",
         key_size: int = 2048, self_signed: bool = False) -> Issued:
    """A cached CA-issued (or self-signed) leaf; validity yesterday .. in a year."""
    return issue(list(names), ca=None if self_signed else lab_ca().issued,
                 key_type=key_type, key_size=key_size)


def leaf_valid_between(not_before: dt.datetime, not_after: dt.datetime) -> Issued:
    return issue([SERVER_NAME, "127.0.0.1"], ca=lab_ca().issued,
                 not_before=not_before, not_after=not_after)


@contextlib.contextmanager
def web_endpoint(
    *, tls: Issued | None = None, min_version: str = "TLSv1.2", max_version: str = "TLSv1.3",
    server_header: str | None = None, options_allowed: bool = False,
    internal_redirect: str | None = None, io_timeout: float = 5.0,
    product_version: str | None = None,
) -> Iterator[WebEndpoint]:
    settings = TlsSettings(tls.cert_pem, tls.key_pem, min_version, max_version) if tls else None
    endpoint = WebEndpoint(
        next_address(), 0, tls=settings, server_header=server_header,
        options_allowed=options_allowed, internal_redirect=internal_redirect,
        io_timeout=io_timeout, product_version=product_version,
    )
    with endpoint:
        yield endpoint


@dataclass
class Server:
    """A running helper server: where it listens and what it saw."""

    address: str
    port: int
    seen: list = field(default_factory=list)


def _serve_forever(listener: socket.socket, handle: Callable[[socket.socket], None],
                   stopped: threading.Event) -> None:
    while not stopped.is_set():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        conn.settimeout(5.0)
        threading.Thread(target=_handle_quietly, args=(handle, conn), daemon=True).start()


def _handle_quietly(handle: Callable[[socket.socket], None], conn: socket.socket) -> None:
    with conn, contextlib.suppress(OSError, ssl.SSLError):
        handle(conn)


@contextlib.contextmanager
def raw_server(handle: Callable[[socket.socket], None]) -> Iterator[Server]:
    """A TCP server running `handle(conn)` per connection: for misbehaving peers."""
    address = next_address()
    listener = socket.create_server((address, 0))
    stopped = threading.Event()
    thread = threading.Thread(target=_serve_forever, args=(listener, handle, stopped),
                              daemon=True)
    thread.start()
    try:
        yield Server(address, listener.getsockname()[1])
    finally:
        stopped.set()
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux; close() does not
        listener.close()
        thread.join(2)


@contextlib.contextmanager
def ssl_server(
    min_version: str, max_version: str, *, cert: Issued | None = None,
    ciphers: str = LEGACY_CIPHERS,
) -> Iterator[Server]:
    """A plain `ssl` server (independent of the lab listeners) that completes handshakes,
    records the SNI it was sent, and waits for the client to hang up."""
    cert = cert or leaf()
    cert_file, key_file = cert.write(_workdir, f"ssl-server-{next(_addresses)}")
    ctx = server_context(str(cert_file), str(key_file), min_version, max_version,
                         ciphers=ciphers)
    names: list = []
    ctx.sni_callback = lambda _sock, name, _ctx: names.append(name)

    def handle(conn: socket.socket) -> None:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    with raw_server(handle) as server:
        server.seen = names
        yield server


def read_then_reset(conn: socket.socket) -> None:
    """Read the ClientHello, then abort with a TCP RST (SO_LINGER 0)."""
    conn.recv(4096)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def read_then_close(conn: socket.socket) -> None:
    """Read the ClientHello, then close politely (FIN): an EOF for the client."""
    conn.recv(4096)


def stay_silent(conn: socket.socket) -> None:
    """Accept and never answer, until the client goes away."""
    conn.settimeout(10)
    with contextlib.suppress(TimeoutError):
        while conn.recv(4096):
            pass


def answer_with(payload: bytes, *, then_hold: float = 0.0) -> Callable[[socket.socket], None]:
    """Read a request, send `payload`, optionally keep the connection open a while."""

    def handle(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(payload)
        if then_hold:
            conn.settimeout(then_hold)
            with contextlib.suppress(TimeoutError):
                conn.recv(1)

    return handle


def free_port(address: str) -> int:
    with socket.create_server((address, 0)) as sock:
        return sock.getsockname()[1]
