"""WinRMEndpoint: one lab host's WinRM listener (HTTP/HTTPS, auth, message encryption, faults).

Per request: transport fault -> authentication -> (un)sealing -> WS-Man operation -> response.
Auth and sealing state live on the TCP connection, as NTLM is connection-oriented; shells live on
the endpoint, as on Windows they outlive connections.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import logging
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from . import framing, reactor
from .auth import (
    NTLM_AUTHENTICATE,
    NTLM_NEGOTIATE,
    AuthFailure,
    NtlmAcceptor,
    check_basic,
    ntlm_message_type,
)
from .log import RequestLog
from .model import CommandHandler, EndpointConfig
from .reactor import Watch
from .shells import Stopped
from .wire import HttpConnection, HttpError, HttpRequest, render_response
from .wsman import WsmanService

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
IO_TIMEOUT_S = 30.0  # a client stalling inside one request
IDLE_TIMEOUT_S = 120.0  # http.sys closes idle keep-alive connections after 2 minutes
TLS_HANDSHAKE_TIMEOUT_S = 10.0
STOP_JOIN_TIMEOUT_S = 5.0


@dataclass(eq=False)
class _Conn:
    http: HttpConnection
    tls_pending: bool
    fd: int  # stays the same when the socket object is replaced by its TLS wrapper
    busy: bool = False
    ntlm_pending: Any = None  # context between NEGOTIATE and AUTHENTICATE
    ntlm: Any = None  # established context: authenticates later requests and seals bodies
    principal: str = ""


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False  # send Connection: close and close
    drop: bool = False  # close abruptly after sending, without announcing it
    hang: bool = False  # never answer


@dataclass
class _Auth:
    ok: bool
    kind: str  # ntlm-negotiate, ntlm-authenticate, basic, session, none
    principal: str = ""
    fresh_ntlm: bool = False
    response: _Response | None = None


def _interrupt(conn: _Conn) -> None:
    """Wake a worker blocked on this connection. Call with the endpoint lock held: a busy
    connection's socket is only closed under that lock, so its descriptor is still ours.
    Shutting down a duplicate descriptor reaches the same socket even while the worker swaps in a
    TLS wrapper, and never touches the worker's SSL object."""
    with contextlib.suppress(OSError):
        dup = socket.fromfd(conn.fd, socket.AF_INET, socket.SOCK_STREAM)
        try:
            dup.shutdown(socket.SHUT_RDWR)
        finally:
            dup.close()


class WinRMEndpoint:
    def __init__(self, config: EndpointConfig, handler: CommandHandler, log: RequestLog) -> None:
        self.config = config
        self._log = log
        self._stopping = threading.Event()
        self._service = WsmanService(
            config.name,
            handler,
            receive_chunk_bytes=config.receive_chunk_bytes,
            slow_receive=config.fault == "slow_receive",
            stopping=self._stopping,
            max_envelope_bytes=config.max_envelope_kb * 1024,
            console_stdin=config.fault == "console_stdin",
        )
        self._lock = threading.Lock()
        self._conns: set[_Conn] = set()
        self._workers: set[threading.Thread] = set()
        self._serials = itertools.count(1)
        self._listener: socket.socket | None = None
        self._reactor: reactor.Reactor | None = None
        self._port = config.port
        self._started = False
        self._stopped = False
        self._ssl: ssl.SSLContext | None = None
        cert_der = None
        if config.scheme == "https":
            assert config.cert_file and config.key_file
            pem = Path(config.cert_file).read_bytes()
            cert_der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
        self._ntlm = NtlmAcceptor(config.credentials, cert_der) if "ntlm" in config.auth else None
        # Basic over plain HTTP needs AllowUnencrypted=true; the lab models hosts that refuse it.
        self._basic = "basic" in config.auth and config.scheme == "https"

    # -- public ----------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"{self.config.scheme}://{self.config.address}:{self._port}/wsman"

    def start(self) -> None:
        if self._started:
            raise RuntimeError("endpoint already started")
        self._started = True
        cfg = self.config
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((cfg.address, cfg.port))
            self._port = sock.getsockname()[1]
            if cfg.fault == "refuse":
                # Bound but not listening: Linux answers SYN with RST, and the port stays reserved.
                self._listener = sock
                return
            if cfg.scheme == "https":
                assert cfg.cert_file and cfg.key_file
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
                self._ssl = ctx
            sock.listen(128)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self._listener = sock
        self._service.address = self.url
        if self._ntlm:
            self._ntlm.open()
        self._reactor = reactor.acquire()
        self._reactor.watch(Watch(sock, self, self._accept, oneshot=False))

    def stop(self) -> None:
        if not self._started or self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        self._service.stop()
        if self._reactor is not None:
            # Closes the listener and every idle connection.
            self._reactor.drop_owner(self)
        elif self._listener is not None:
            self._listener.close()
        with self._lock:
            workers = list(self._workers)
            for conn in self._conns:
                if conn.busy:
                    _interrupt(conn)
        deadline = time.monotonic() + STOP_JOIN_TIMEOUT_S
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = list(self._conns)
            self._conns.clear()
        for conn in leftovers:
            with contextlib.suppress(OSError):
                conn.http.sock.close()
        if self._ntlm:
            self._ntlm.close()
        if self._reactor is not None:
            self._reactor = None
            reactor.release()

    # -- connection plumbing (reactor thread) -----------------------------------------------------

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(64):
            try:
                sock, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(
                HttpConnection(sock, next(self._serials)),
                tls_pending=self._ssl is not None,
                fd=sock.fileno(),
            )
            with self._lock:
                if self._stopping.is_set():
                    sock.close()
                    return
                self._conns.add(conn)
            self._idle(conn)

    def _idle(self, conn: _Conn) -> None:
        assert self._reactor is not None
        self._reactor.watch(
            Watch(
                conn.http.sock,
                self,
                lambda: self._dispatch(conn),
                oneshot=True,
                deadline=time.monotonic() + IDLE_TIMEOUT_S,
                on_expire=lambda: self._close(conn),
            )
        )

    def _dispatch(self, conn: _Conn) -> None:
        with self._lock:
            if self._stopping.is_set():
                self._conns.discard(conn)
                conn.http.sock.close()
                return
            conn.busy = True
            worker = threading.Thread(
                target=self._work, args=(conn,), name=f"winrm-lab-{self.config.name}", daemon=True
            )
            self._workers.add(worker)
        worker.start()

    def _close(self, conn: _Conn) -> None:
        with self._lock:
            self._conns.discard(conn)
        with contextlib.suppress(OSError):
            conn.http.sock.close()

    # -- worker thread ----------------------------------------------------------------------------

    def _work(self, conn: _Conn) -> None:
        keep = False
        try:
            if conn.tls_pending:
                assert self._ssl is not None
                conn.http.sock.settimeout(TLS_HANDSHAKE_TIMEOUT_S)
                conn.http.sock = self._ssl.wrap_socket(conn.http.sock, server_side=True)
                conn.tls_pending = False
            conn.http.sock.settimeout(IO_TIMEOUT_S)
            while True:
                try:
                    request = conn.http.read_request()
                except HttpError as err:
                    if self._stopping.is_set():
                        break  # the request was cut short by stop(), not by the client
                    event = self._event(conn, None, None, bytes_in=0)
                    event["error"] = str(err)
                    self._send(conn, _Response(err.status, str(err).encode(), close=True), event)
                    break
                if request is None:
                    break
                keep = self._serve(conn, request)
                if not keep or not conn.http.has_buffered():
                    break
        except (OSError, ssl.SSLError, Stopped) as exc:
            log.debug("%s: connection %d ended: %s", self.config.name, conn.http.serial, exc)
            keep = False
        except Exception:
            log.exception("%s: connection %d failed", self.config.name, conn.http.serial)
            keep = False
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())
                conn.busy = False
                if keep and not self._stopping.is_set():
                    self._idle(conn)
                else:
                    self._conns.discard(conn)
                    with contextlib.suppress(OSError):
                        conn.http.sock.close()

    def _serve(self, conn: _Conn, request: HttpRequest) -> bool:
        """Answer one request; returns whether the connection stays open."""
        started = time.monotonic()
        event = self._event(conn, request.method, request.target, request.wire_bytes)
        response = self._respond(conn, request, event)
        if response.hang:
            event.update(status=None, bytes_out=0, fault="hang")
            self._log.record(**event)
            self._stopping.wait()
            return False
        close = response.close or not request.keep_alive
        if self.config.latency_ms and self._stopping.wait(self.config.latency_ms / 1000):
            return False
        self._send(conn, response, event, close=close, started=started)
        return not (close or response.drop)

    def _event(
        self, conn: _Conn, method: str | None, path: str | None, bytes_in: int
    ) -> dict[str, Any]:
        return {
            "endpoint": self.config.name,
            "ts": time.time(),
            "method": method,
            "path": path,
            "conn": conn.http.serial,
            "action": None,
            "auth": "none",
            "encrypted": False,
            "bytes_in": bytes_in,
        }

    def _send(
        self,
        conn: _Conn,
        response: _Response,
        event: dict[str, Any],
        *,
        close: bool | None = None,
        started: float | None = None,
    ) -> None:
        close = response.close if close is None else close
        data = render_response(response.status, response.headers, response.body, close=close)
        event.update(status=response.status, bytes_out=len(data))
        if started is not None:
            event["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
        # Logged before sending, so a client that has its answer always finds the event.
        self._log.record(**event)
        if not response.drop:
            conn.http.send(data)
            return
        # Drop without warning, yet deterministically: with the socket corked, the last data
        # segment waits in the kernel and leaves with the FIN tacked on, so the client sees EOF by
        # the time it has the whole response and never reuses the connection. A plain close()
        # after sendall() races the client thread for the GIL.
        raw = conn.http.sock
        socket.socket.setsockopt(raw, socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        conn.http.send(data)
        socket.socket.shutdown(raw, socket.SHUT_RDWR)

    # -- one request ------------------------------------------------------------------------------

    def _respond(self, conn: _Conn, request: HttpRequest, event: dict[str, Any]) -> _Response:
        fault = self.config.fault
        if fault == "hang":
            return _Response(0, hang=True)
        if fault == "http500":
            event["fault"] = "http500"
            return _Response(
                500, b"Internal Server Error", [("Content-Type", "text/plain; charset=utf-8")]
            )
        if request.path.lower() != "/wsman":
            return self._plain_error(event, 404, "not found")
        if request.method != "POST":
            return self._plain_error(event, 405, "method not allowed")

        auth = self._authenticate(conn, request)
        event["auth"] = auth.kind
        if auth.principal:
            event["user"] = auth.principal
        if not auth.ok:
            assert auth.response is not None
            if auth.response.body:
                event["error"] = auth.response.body.decode("utf-8", "replace")
                auth.response.body = b""
            return auth.response

        response = self._soap(conn, request, event, auth)
        if auth.fresh_ntlm and self.config.fault == "drop_after_auth":
            response.drop = True
            event["fault"] = "drop_after_auth"
        return response

    def _plain_error(self, event: dict[str, Any], status: int, message: str) -> _Response:
        event["error"] = message
        return _Response(status, message.encode(), [("Content-Type", "text/plain; charset=utf-8")])

    def _soap(
        self, conn: _Conn, request: HttpRequest, event: dict[str, Any], auth: _Auth
    ) -> _Response:
        content_type = request.headers.get("content-type", "")
        sealed = framing.is_encrypted(content_type)
        if sealed:
            if conn.ntlm is None:
                return self._plain_error(event, 400, "encrypted body without an NTLM session")
            try:
                plain = framing.unseal(conn.ntlm, content_type, request.body)
            except (framing.FramingError, AuthFailure) as exc:
                # Typically a body sealed with keys from an earlier connection (client re-auth).
                return self._plain_error(
                    event, 400, f"cannot decrypt body: {type(exc).__name__}: {exc}"
                )
            event["encrypted"] = True
        elif not request.body:
            # pywinrm's empty POST that completes the handshake before it sets up encryption.
            return _Response(200)
        elif conn.ntlm is not None and auth.kind != "basic" and self.config.scheme == "http":
            return self._plain_error(
                event, 400, "unencrypted body rejected (AllowUnencrypted=false)"
            )
        else:
            plain = request.body

        event["soap_bytes_in"] = len(plain)
        reply = self._service.handle(plain, auth.principal or conn.principal)
        event["action"] = reply.action
        event["soap_bytes"] = len(reply.body)
        if reply.fault_code is not None:
            event["fault_code"] = reply.fault_code
        if reply.command_length is not None:
            event["command_length"] = reply.command_length
        if reply.stdout_bytes is not None:
            event["stdout_bytes"] = reply.stdout_bytes
        if reply.winrs is not None:
            event["winrs"] = reply.winrs
        if reply.error is not None:
            event["error"] = reply.error
        if sealed and reply.body:  # an empty body (HTTP 413) goes out as it is
            return _Response(
                reply.status,
                framing.seal(conn.ntlm, reply.body),
                [("Content-Type", framing.CONTENT_TYPE)],
            )
        return _Response(reply.status, reply.body, [("Content-Type", SOAP_CONTENT_TYPE)])

    def _challenges(self) -> list[tuple[str, str]]:
        headers = []
        if self._ntlm is not None:
            headers.append(("WWW-Authenticate", "Negotiate"))
        if self._basic:
            headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        return headers

    def _deny(self, kind: str, reason: str = "", principal: str = "") -> _Auth:
        return _Auth(
            False, kind, principal, response=_Response(401, reason.encode(), self._challenges())
        )

    def _authenticate(self, conn: _Conn, request: HttpRequest) -> _Auth:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.strip().partition(" ")
        lowered = scheme.lower()
        if header and lowered in ("negotiate", "ntlm") and self._ntlm is not None:
            return self._ntlm_leg(conn, scheme, token.strip())
        if header and lowered == "basic":
            if not self._basic:
                return self._deny("basic", "Basic is not enabled on this listener")
            principal = check_basic(token, self.config.credentials)
            if principal is None:
                return self._deny("basic", "Basic credentials rejected")
            return _Auth(True, "basic", principal)
        if header:
            return self._deny(lowered or "none", f"unsupported Authorization scheme {scheme!r}")
        if conn.ntlm is not None:
            return _Auth(True, "session", conn.principal)
        return self._deny("none")

    def _ntlm_leg(self, conn: _Conn, scheme: str, token_b64: str) -> _Auth:
        assert self._ntlm is not None
        try:
            token = base64.b64decode(token_b64, validate=True)
        except (binascii.Error, ValueError):
            return self._deny("ntlm", "Authorization token is not base64")
        kind = ntlm_message_type(token)
        if kind == NTLM_NEGOTIATE:
            # A new handshake replaces whatever this connection had.
            conn.ntlm = None
            conn.principal = ""
            try:
                conn.ntlm_pending, challenge = self._ntlm.challenge(token)
            except AuthFailure as exc:
                conn.ntlm_pending = None
                return self._deny("ntlm-negotiate", f"NTLM negotiate rejected: {exc}")
            header = f"{scheme} {base64.b64encode(challenge).decode()}"
            return _Auth(
                False,
                "ntlm-negotiate",
                response=_Response(401, headers=[("WWW-Authenticate", header)]),
            )
        if kind == NTLM_AUTHENTICATE:
            context, conn.ntlm_pending = conn.ntlm_pending, None
            if context is None:
                return self._deny("ntlm-authenticate", "AUTHENTICATE without a preceding NEGOTIATE")
            try:
                principal = self._ntlm.authenticate(context, token)
            except AuthFailure as exc:
                return self._deny(
                    "ntlm-authenticate", f"NTLM authentication failed: {type(exc).__name__}"
                )
            conn.ntlm = context
            conn.principal = principal
            return _Auth(True, "ntlm-authenticate", principal, fresh_ntlm=True)
        return self._deny("ntlm", "only raw NTLMSSP tokens are supported")
