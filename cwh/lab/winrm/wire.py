"""Minimal HTTP/1.1 framing over a blocking socket: read one request, write one response.

Kept to what WS-Management clients send (POST with Content-Length); the connection object keeps any
bytes read past the current request so keep-alive stays in step.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from http import HTTPStatus

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    wire_bytes: int

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class HttpConnection:
    def __init__(self, sock: socket.socket, serial: int) -> None:
        self.sock = sock
        self.serial = serial
        self._buf = bytearray()

    def has_buffered(self) -> bool:
        if self._buf:
            return True
        return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def read_request(self) -> HttpRequest | None:
        """The next request, or None if the peer closed the connection between requests."""
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self._buf) > MAX_HEADER_BYTES:
                raise HttpError(431, "request header too large")
            if not self._fill():
                if self._buf:
                    raise HttpError(400, "connection closed mid-request")
                return None
        head = bytes(self._buf[:end]).decode("latin-1")
        del self._buf[: end + 4]
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise HttpError(400, f"bad request line {lines[0]!r}") from None
        if not version.startswith("HTTP/1."):
            raise HttpError(505, "HTTP/1.x only")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HttpError(400, f"bad header line {line!r}")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise HttpError(411, "chunked request bodies are not supported; send Content-Length")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise HttpError(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise HttpError(413, "request body too large")
        while len(self._buf) < length:
            if not self._fill():
                raise HttpError(400, "connection closed mid-body")
        body = bytes(self._buf[:length])
        del self._buf[:length]
        return HttpRequest(method, target, version, headers, body, end + 4 + length)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


def render_response(
    status: int,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    close: bool,
) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", "Server: Microsoft-HTTPAPI/2.0"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    # One buffer, one sendall: separate writes for head and body cost a delayed-ACK round trip.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
