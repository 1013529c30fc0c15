"""Real network listeners that stand in for what a lab Windows host exposes.

Each lab host gets its own loopback address (127.x.y.z) and, on it, a ScreenConnect-like web
endpoint, the relay port, and SMB/RPC ports that are open, refused or filtered. The caller
remaps privileged ports (445 -> any free port), so nothing here needs root.

One selector thread accepts for every listener in the process; each accepted connection is
served by a short-lived thread with socket timeouts, so idle listeners cost no thread and a
silent client cannot pin one for long.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import os
import re
import selectors
import socket
import ssl
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from cwh.probes.tls import LEGACY_CIPHERS, TLS_VERSIONS, server_context

_MAX_REQUEST_HEAD = 16384
_METHOD_START = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}(?: |$)")
_STOP_JOIN_S = 1.0


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class _Reactor:
    """The process-wide accept loop. Selector changes run on its own thread, via call()."""

    _instance: _Reactor | None = None
    _instance_lock = threading.Lock()

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._pending: deque[tuple[Callable[[], None], threading.Event, list]] = deque()
        self._thread = threading.Thread(target=self._run, name="cwh-lab-accept", daemon=True)
        self._thread.start()

    @classmethod
    def get(cls) -> _Reactor:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    @classmethod
    def _forget(cls) -> None:
        # A forked child has no accept thread; let it build its own loop.
        cls._instance = None

    def call(self, fn: Callable[[], None], timeout: float = 5.0) -> None:
        """Run fn on the loop thread and wait for it (re-raising what it raised)."""
        if threading.current_thread() is self._thread:
            fn()
            return
        done, errors = threading.Event(), []
        self._pending.append((fn, done, errors))
        with contextlib.suppress(BlockingIOError):  # a full pipe means a wake-up is pending
            self._wake_w.send(b"\0")
        if not done.wait(timeout):
            raise RuntimeError("the lab accept loop did not respond")
        if errors:
            raise errors[0]

    def register(self, sock: socket.socket, on_readable: Callable[[], None]) -> None:
        self.call(lambda: self._selector.register(sock, selectors.EVENT_READ, on_readable))

    def unregister(self, sock: socket.socket) -> None:
        def drop() -> None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)

        self.call(drop)

    def _run(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.data is None:
                    self._run_pending()
                else:
                    try:
                        key.data()
                    except Exception:  # one broken listener must not stop the others
                        continue

    def _run_pending(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while self._wake_r.recv(4096):
                pass
        while self._pending:
            fn, done, errors = self._pending.popleft()
            try:
                fn()
            except Exception as exc:
                errors.append(exc)
            done.set()


os.register_at_fork(after_in_child=_Reactor._forget)


class _Port:
    """Start/stop/port/context-manager plumbing shared by all listeners."""

    def __init__(self, address: str, port: int = 0) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int in 0..65535, got {port!r}")
        self._address = address
        self._requested_port = port
        self._bound_port: int | None = None
        self._running = False

    @property
    def address(self) -> str:
        return self._address

    @property
    def port(self) -> int:
        """The bound port once started (port 0 picks a free one; kept after stop()), else the
        requested port."""
        return self._bound_port if self._bound_port is not None else self._requested_port

    @property
    def running(self) -> bool:
        return self._running

    def _started(self, port: int) -> None:
        self._bound_port, self._running = port, True

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._address!r}, {self.port})"


class _AcceptingListener(_Port):
    """A listening socket served by the shared accept loop; subclasses implement _serve()."""

    def __init__(self, address: str, port: int = 0, *, io_timeout: float = 5.0) -> None:
        super().__init__(address, port)
        if not io_timeout > 0:
            raise ValueError("io_timeout must be positive")
        self.io_timeout = io_timeout
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._conns: dict[int, socket.socket] = {}
        self._workers: set[threading.Thread] = set()
        self._stopping = False

    def start(self) -> Self:
        """Bind and listen; connections are accepted from the moment this returns."""
        if self._sock is not None:
            raise RuntimeError(f"{self!r} is already started")
        self._prepare()
        sock = socket.create_server(
            (self._address, self._requested_port), family=_family(self._address), backlog=128
        )
        sock.setblocking(False)
        self._stopping = False
        self._sock = sock
        self._started(sock.getsockname()[1])
        try:
            _Reactor.get().register(sock, functools.partial(self._accept_all, sock))
        except Exception:
            self._sock, self._running = None, False
            sock.close()
            raise
        return self

    def stop(self) -> None:
        """Stop accepting, cut open connections, and wait briefly for their threads."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self._stopping = True
        _Reactor.get().unregister(sock)
        sock.close()
        with self._lock:
            conns, workers = list(self._conns.values()), list(self._workers)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes a worker blocked in recv
        deadline = time.monotonic() + _STOP_JOIN_S
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self._running = False

    def _prepare(self) -> None:
        """Hook for set-up that must succeed before listening (e.g. loading certificates)."""

    def _serve(self, conn: socket.socket, key: int) -> None:
        raise NotImplementedError

    def _accept_all(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # closed under us by stop()
            if self._stopping:
                conn.close()
                continue
            conn.settimeout(self.io_timeout)
            worker = threading.Thread(
                target=self._run_connection, args=(conn,), daemon=True,
                name=f"cwh-lab-conn-{self._address}:{self.port}",
            )
            with self._lock:
                self._conns[id(worker)] = conn
                self._workers.add(worker)
            worker.start()

    def _run_connection(self, conn: socket.socket) -> None:
        key = id(threading.current_thread())
        try:
            self._serve(conn, key)
        except (OSError, ValueError, ssl.SSLError):
            pass  # clients of a lab endpoint hang up and misbehave; that is their right
        finally:
            with self._lock:
                current = self._conns.pop(key, conn)
                self._workers.discard(threading.current_thread())
            current.close()
            conn.close()

    def _replace_connection(self, key: int, conn: socket.socket) -> None:
        """Track a wrapped socket (TLS detaches the original) so stop() can still cut it."""
        with self._lock:
            self._conns[key] = conn


class TcpListener(_AcceptingListener):
    """Accepts TCP connections (the relay, an exposed 135/139/445), reads and discards what
    arrives, and closes after `idle_timeout` seconds of silence."""

    def __init__(
        self, address: str, port: int = 0, *, idle_timeout: float = 1.0, max_lifetime: float = 30.0
    ) -> None:
        super().__init__(address, port, io_timeout=idle_timeout)
        self.max_lifetime = max_lifetime

    def _serve(self, conn: socket.socket, key: int) -> None:
        ends = time.monotonic() + self.max_lifetime
        while time.monotonic() < ends:
            try:
                if not conn.recv(4096):
                    return
            except TimeoutError:
                return


@dataclass(frozen=True)
class TlsSettings:
    """Certificate, key and protocol range of a lab TLS endpoint (versions: "TLSv1".."TLSv1.3").

    The cipher string defaults to @SECLEVEL=0 so that TLS 1.0/1.1 and weak keys work, as they
    do on an unhardened Windows host."""

    cert_pem: bytes
    key_pem: bytes
    min_version: str = "TLSv1.2"
    max_version: str = "TLSv1.3"
    ciphers: str = LEGACY_CIPHERS

    def __post_init__(self) -> None:
        for version in (self.min_version, self.max_version):
            if version not in TLS_VERSIONS:
                raise ValueError(f"unknown TLS version {version!r}")

    def server_context(self) -> ssl.SSLContext:
        # ssl loads keys only from files; they live just long enough to be read.
        with tempfile.TemporaryDirectory(prefix="cwh-lab-tls-") as tmp:
            cert_file, key_file = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
            cert_file.write_bytes(self.cert_pem)
            key_file.touch(mode=0o600)
            key_file.write_bytes(self.key_pem)
            return server_context(
                str(cert_file), str(key_file), self.min_version, self.max_version,
                ciphers=self.ciphers,
            )


_REASONS = {
    200: "OK", 302: "Found", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
    501: "Not Implemented", 505: "HTTP Version Not Supported",
}
_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>ScreenConnect</title></head>"
    b"<body><p>Lab stand-in for the ScreenConnect web interface.</p></body></html>\n"
)
_OPTIONS_VERBS = "OPTIONS, TRACE, GET, HEAD, POST"


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


# The start of ScreenConnect's Script.ashx as the login page loads it: the SC object, then the
# SC.context whose productVersion names the server's version (a public copy of a 21.13 server's
# script has it there; community detectors read it). Padding puts it past the first reads.
_SCRIPT_HEAD = b'SC = {"service":{},"context":{"scriptBaseUrl":"",'
_SCRIPT_PADDING = b"/* lab stand-in for ScreenConnect's Script.ashx */\n" * 400


def script_body(product_version: str | None) -> bytes:
    """A Script.ashx body naming `product_version` (none when None)."""
    named = f'"productVersion":"{product_version}",'.encode() if product_version is not None \
        else b""
    return _SCRIPT_PADDING + _SCRIPT_HEAD + named + b'"loginUrl":"/Login"}};\n'


class WebEndpoint(_AcceptingListener):
    """A minimal HTTP/1.0 and 1.1 server answering like the ScreenConnect web UI.

    GET/HEAD/POST -> 200 page (`/Script.ashx`: the login page's script, naming
    `product_version` when set; a path naming the setup wizard: 404, though no audit should
    ask); OPTIONS -> 200 with Allow and Public when `options_allowed`, else 405 without them; a
    request with no or an empty Host header -> 302 to `internal_redirect` when set (the leak
    the guide's curl probe looks for; with `redirect_path`, only for a request to that path
    without its trailing slash, as IIS leaks only in the redirect it makes for a directory such
    as /aspnet_client); other methods -> 501. One request per connection.
    Every request head is kept in `requests` (and passed to `on_request`), so tests can see
    exactly what a client sent."""

    def __init__(
        self,
        address: str,
        port: int = 0,
        *,
        tls: TlsSettings | None,
        server_header: str | None,
        options_allowed: bool,
        internal_redirect: str | None = None,
        redirect_path: str | None = None,
        product_version: str | None = None,
        io_timeout: float = 5.0,
        on_request: Callable[[dict], None] | None = None,
    ) -> None:
        super().__init__(address, port, io_timeout=io_timeout)
        self.tls = tls
        self.server_header = server_header
        self.options_allowed = options_allowed
        self.internal_redirect = internal_redirect
        self.redirect_path = redirect_path
        self.product_version = product_version
        self.on_request = on_request
        self.requests: deque[dict] = deque(maxlen=1000)
        self._context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{scheme}://{host}:{self.port}/"

    def _prepare(self) -> None:
        self._context = self.tls.server_context() if self.tls else None
        if self._context is not None:
            self._context.sni_callback = _note_sni

    def _serve(self, conn: socket.socket, key: int) -> None:
        if self._context is not None:
            conn = self._context.wrap_socket(
                conn, server_side=True, do_handshake_on_connect=False
            )
            self._replace_connection(key, conn)
            conn.do_handshake()
        head = _read_head(conn, time.monotonic() + self.io_timeout)
        if head is None:
            return
        self._record(head, conn)
        conn.sendall(self.render(self.respond(head)))

    def _record(self, head: bytes, conn: socket.socket) -> None:
        lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
        sni = getattr(conn, "cwh_sni", None)
        entry = {"listener": f"{self.address}:{self.port}", "request_line": lines[0],
                 "headers": [line for line in lines[1:] if line], "sni": sni,
                 "ts": time.time()}
        self.requests.append(entry)
        if self.on_request is not None:
            with contextlib.suppress(Exception):  # a broken log must not break the endpoint
                self.on_request(entry)

    def respond(self, head: bytes) -> Response:
        """The response to a raw request head (request line and headers)."""
        parsed = _parse_request(head)
        if parsed is None:
            return self._response(400)
        method, version, headers = parsed
        if version not in ("HTTP/1.0", "HTTP/1.1"):
            return self._response(505)
        if method == "OPTIONS":
            return self._options()
        if method not in ("GET", "HEAD", "POST"):
            return self._response(501)
        path = _request_path(head)
        if self.internal_redirect and not headers.get("host", "").strip() and (
                self.redirect_path is None
                or path.split("?", 1)[0].lower() == self.redirect_path.lower()):
            return self._response(302, [("Location", self.internal_redirect)])
        if "setupwizard" in path.lower():
            return self._response(404)
        if path.lower().split("?", 1)[0].endswith("/script.ashx"):
            return self._response(200, [("Content-Type", "text/javascript; charset=utf-8")],
                                  script_body(self.product_version),
                                  head_only=method == "HEAD")
        return self._response(200, [("Content-Type", "text/html; charset=utf-8")], _PAGE,
                              head_only=method == "HEAD")

    def _options(self) -> Response:
        if not self.options_allowed:
            return self._response(405)
        verbs = [("Allow", _OPTIONS_VERBS), ("Public", _OPTIONS_VERBS)]
        return self._response(200, verbs)

    def _response(
        self, status: int, extra: list[tuple[str, str]] | None = None, body: bytes = b"",
        *, head_only: bool = False,
    ) -> Response:
        headers = [("Date", email.utils.formatdate(usegmt=True))]
        if self.server_header:
            headers.append(("Server", self.server_header))
        headers += extra or []
        headers += [("Content-Length", str(len(body))), ("Connection", "close")]
        return Response(status, tuple(headers), b"" if head_only else body)

    @staticmethod
    def render(response: Response) -> bytes:
        lines = [f"HTTP/1.1 {response.status} {_REASONS[response.status]}"]
        lines += [f"{name}: {value}" for name, value in response.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


def _read_head(conn: socket.socket, deadline: float) -> bytes | None:
    """The request head, or None when the client goes quiet, hangs up, or sends too much.

    Bytes that cannot start an HTTP request (a TLS ClientHello, say) are returned at once so
    that they get a 400, as http.sys does, instead of waiting for a blank line."""
    buffer = bytearray()
    while b"\r\n\r\n" not in buffer and b"\n\n" not in buffer:
        if buffer and not _METHOD_START.match(buffer):
            return bytes(buffer)
        remaining = deadline - time.monotonic()
        if remaining <= 0 or len(buffer) > _MAX_REQUEST_HEAD:
            return None
        conn.settimeout(remaining)
        try:
            data = conn.recv(4096)
        except TimeoutError:
            return None
        if not data:
            return None
        buffer += data
    return bytes(buffer)


def _note_sni(tls: ssl.SSLSocket, server_name: str | None, context: ssl.SSLContext) -> None:
    """Keep the name the client sent as SNI on its connection, for the request log."""
    tls.cwh_sni = server_name  # type: ignore[attr-defined]


def _request_path(head: bytes) -> str:
    parts = head.decode("latin-1").split("\n", 1)[0].split(" ")
    return parts[1] if len(parts) >= 2 else ""


def _parse_request(head: bytes) -> tuple[str, str, dict[str, str]] | None:
    """(method, version, lower-cased headers) or None for a malformed request."""
    lines = head.decode("latin-1").replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0] or not parts[1]:
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            break
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            return None
        headers.setdefault(name.strip().lower(), value.strip())
    return parts[0], parts[2], headers


class ClosedPort(_Port):
    """Reserves a port with nothing listening on it, so connects are refused (RST).

    A bound socket that never listens keeps the port out of other hands; this is what the lab
    uses for 135/139/445 when a host has them closed."""

    def __init__(self, address: str, port: int = 0) -> None:
        super().__init__(address, port)
        self._sock: socket.socket | None = None

    def start(self) -> Self:
        if self._sock is not None:
            raise RuntimeError(f"{self!r} is already started")
        family = _family(self._address)
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.bind((self._address, self._requested_port))
        self._started(self._sock.getsockname()[1])
        return self

    def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._running = False


class FilteredPort(ClosedPort):
    """A port whose connects time out, as behind a firewall that drops packets.

    A listening socket with backlog 0 that never accepts: once its accept queue holds a
    connection, Linux drops further SYNs, so clients see no answer at all. start() fills the
    queue; the first port of a process also checks that a further connect really times out,
    and later ones are filled to the depth that proved enough."""

    def __init__(self, address: str, port: int = 0, *, check_timeout: float = 0.05,
                 max_fill: int = 16) -> None:
        super().__init__(address, port)
        self.check_timeout = check_timeout
        self.max_fill = max_fill
        self._fillers: list[socket.socket] = []

    def start(self) -> Self:
        super().start()
        assert self._sock is not None
        self._sock.listen(0)
        if not self._fill(self._sock.family):
            self.stop()
            raise RuntimeError(f"could not make {self._address} look filtered on this kernel")
        return self

    # Connections that filled the queue on this kernel, per address family: proving it costs
    # one check_timeout per port, so it is proven once and later ports are filled to match.
    _proven_fill: dict[int, int] = {}

    def _fill(self, family: int) -> bool:
        known = FilteredPort._proven_fill.get(family)
        if known is not None and self._fill_to(family, known):
            return True
        for _ in range(self.max_fill):
            client = socket.socket(family, socket.SOCK_STREAM)
            client.settimeout(self.check_timeout)
            try:
                client.connect((self._address, self.port))
            except TimeoutError:
                client.close()
                FilteredPort._proven_fill[family] = len(self._fillers)
                return True  # the queue is full: SYNs are being dropped
            except OSError:
                client.close()
                return False
            self._fillers.append(client)
        return False

    def _fill_to(self, family: int, count: int) -> bool:
        """Fill the queue with as many connections as proved enough before on this kernel."""
        while len(self._fillers) < count:
            client = socket.socket(family, socket.SOCK_STREAM)
            client.settimeout(self.check_timeout)
            try:
                client.connect((self._address, self.port))
            except OSError:  # a timeout too: this queue behaves differently, prove it instead
                client.close()
                return False
            self._fillers.append(client)
        return True

    def stop(self) -> None:
        for client in self._fillers:
            client.close()
        self._fillers.clear()
        super().stop()
