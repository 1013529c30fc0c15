"""A raw-socket HTTP client that sends exactly what it is told and reads only the headers.

Exact control matters here: the guide's probe is an HTTP/1.0 request without a usable Host
header, which ordinary clients refuse to send. HTTPS is not verified (the certificate probe
judges the certificate); the request never carries credentials.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from cwh.probes._net import (
    Channel,
    ConnectAttempt,
    Deadline,
    client_context,
    connect,
    connect_failure,
    describe_os_error,
    ip_literal,
)

USER_AGENT = "cwh-hardening-probe/1.0"
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_STATUS_LINE = re.compile(r"^(HTTP/[0-9](?:\.[0-9])?) ([0-9]{3})(?: (.*))?$")  # ASCII digits
_DEFAULT_PORTS = {"http": 80, "https": 443}
_EXCERPT_CHARS = 200

Headers = tuple[tuple[str, str], ...]


class _FromUrl:
    def __repr__(self) -> str:
        return "FROM_URL"


FROM_URL = _FromUrl()
"""Default for `host_header`: the URL's host[:port], as any client would send."""


@dataclass(frozen=True)
class HttpObservation:
    """One request and the status line and headers that came back.

    `error` says what went wrong (with `error_stage`: connect, tls, send, receive, parse);
    status is None when no status line was read."""

    url: str
    method: str
    address: str
    port: int
    scheme: str
    server_name: str | None
    request_line: str
    request_headers: Headers
    status: int | None = None
    reason: str | None = None
    http_version: str | None = None
    headers: Headers = ()
    error: str | None = None
    error_stage: str | None = None
    timed_out: bool = False  # the error is that time ran out (TLS, send or reading the head)
    raw_excerpt: str | None = None
    tls_version: str | None = None
    tls_cipher: str | None = None
    connect_attempts: tuple[ConnectAttempt, ...] = ()
    elapsed_ms: float = 0.0
    timeout_s: float = 0.0
    # Only when asked for (read_body > 0): the first bytes of the body, never kept in evidence.
    body: bytes = b""
    body_complete: bool = False  # the whole body arrived within the limit and the deadline

    def header_values(self, name: str) -> list[str]:
        return header_values(self.headers, name)

    @property
    def inconclusive(self) -> bool:
        """No answer for a reason that says nothing about the server: time ran out (a loaded
        runner or network), or this connection failed although a TCP probe got through."""
        return self.status is None and (self.error_stage == "connect" or self.timed_out)

    def to_evidence(self) -> dict:
        return {
            "probe": "http_request",
            "url": self.url,
            "address": self.address,
            "port": self.port,
            "scheme": self.scheme,
            "server_name": self.server_name,
            "method": self.method,
            "request_line": self.request_line,
            "request_headers": [[n, v] for n, v in self.request_headers],
            "status": self.status,
            "reason": self.reason,
            "http_version": self.http_version,
            "headers": [[n, v] for n, v in self.headers],
            "error": self.error,
            "error_stage": self.error_stage,
            "timed_out": self.timed_out,
            "raw_excerpt": self.raw_excerpt,
            "tls_version": self.tls_version,
            "tls_cipher": self.tls_cipher,
            "connect_attempts": [a.to_evidence() for a in self.connect_attempts],
            "elapsed_ms": self.elapsed_ms,
            "timeout_s": self.timeout_s,
            "body_bytes_read": len(self.body),
            "body_complete": self.body_complete,
        }


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    netloc: str
    path: str


def request(
    url: str,
    method: str = "GET",
    *,
    host_header: str | _FromUrl | None = FROM_URL,
    http10: bool = False,
    timeout: float = 5.0,
    max_header_bytes: int = 65536,
    connect_address: str | None = None,
    connect_port: int | None = None,
    read_body: int = 0,
) -> HttpObservation:
    """Send one request and read the response head (and, with read_body > 0, up to that many
    bytes of the body).

    host_header: FROM_URL (default) sends the URL's host; "" sends an empty `Host:` line;
    None sends no Host header at all (what `curl -H 'Host:'` does: curl removes a header
    given without a value). connect_address / connect_port: where the connection goes instead
    of the URL's host and port (NAT, a name without DNS); the URL's host name is still the SNI
    and the Host header, as a browser that reached the same place would send them."""
    target = parse_url(url)
    if isinstance(max_header_bytes, bool) or not isinstance(max_header_bytes, int) \
            or max_header_bytes < 64:
        raise ValueError(f"max_header_bytes must be an int >= 64, got {max_header_bytes!r}")
    if isinstance(read_body, bool) or not isinstance(read_body, int) or read_body < 0:
        raise ValueError(f"read_body must be an int >= 0, got {read_body!r}")
    host = target.netloc if isinstance(host_header, _FromUrl) else host_header
    request_line, headers = build_request(method, target.path, host, http10)
    deadline = Deadline(timeout)
    sni = None if ip_literal(target.host) is not None else target.host
    address = connect_address or target.host
    port = connect_port or target.port
    base = {
        "url": url, "method": method, "address": address, "port": port,
        "scheme": target.scheme, "server_name": sni if target.scheme == "https" else None,
        "request_line": request_line, "request_headers": tuple(headers),
        "timeout_s": deadline.timeout,
    }
    sock, attempts, resolve_error = connect(address, port, deadline)
    if sock is None:
        return HttpObservation(
            **base, error=f"no TCP connection: {connect_failure(attempts, resolve_error)}",
            error_stage="connect", elapsed_ms=deadline.elapsed_ms(),
        )
    channel = Channel(sock, deadline)
    try:
        result = _exchange(channel, target, sni, encode_request(request_line, headers),
                           max_header_bytes)
        leftover = result.pop("_leftover", b"")
        if read_body and result.get("status") is not None and not result.get("error") \
                and method != "HEAD":
            body, complete = _read_body(channel, leftover, result["headers"], read_body)
            result.update(body=body, body_complete=complete)
    finally:
        channel.close()
    return HttpObservation(
        **base, **result, connect_attempts=attempts, elapsed_ms=deadline.elapsed_ms()
    )


def _exchange(
    channel: Channel, target: _Target, sni: str | None, payload: bytes, max_header_bytes: int
) -> dict:
    """Observation fields for TLS set-up, sending, and reading the head."""
    result: dict = {}
    if target.scheme == "https":
        try:
            tls = channel.start_tls(client_context(), sni)
        except (ssl.SSLError, OSError) as exc:
            return {"error": f"TLS handshake failed: {_describe(exc)}", "error_stage": "tls",
                    "timed_out": isinstance(exc, TimeoutError)}
        cipher = tls.cipher()
        result.update(tls_version=tls.version(), tls_cipher=cipher[0] if cipher else None)
    try:
        channel.send(payload)
    except (ssl.SSLError, OSError) as exc:
        return {**result, "error": f"sending the request failed: {_describe(exc)}",
                "error_stage": "send", "timed_out": isinstance(exc, TimeoutError)}
    head, read_error, leftover = _read_head(channel, max_header_bytes)
    if read_error and not head:
        return {**result, "error": read_error, "error_stage": "receive",
                "timed_out": read_error == _HEAD_TIMEOUT}
    try:
        version, status, reason, headers = parse_head(head)
    except ValueError as exc:
        return {**result, "error": read_error or str(exc), "error_stage": "parse",
                "raw_excerpt": head[:_EXCERPT_CHARS].decode("latin-1")}
    result.update(http_version=version, status=status, reason=reason, headers=headers,
                  _leftover=leftover)
    if read_error:
        result.update(error=read_error, error_stage="receive")
    return result


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) if isinstance(exc, ssl.SSLError) else describe_os_error(exc)


_HEAD_TIMEOUT = "timed out waiting for the response headers"


def _read_head(channel: Channel, limit: int) -> tuple[bytes, str | None, bytes]:
    """The bytes up to and including the blank line, or what arrived plus why it stopped; and
    what arrived after the blank line (the start of the body)."""
    buffer = bytearray()
    while True:
        end = _head_end(buffer)
        if end is not None and end <= limit:
            return bytes(buffer[:end]), None, bytes(buffer[end:])
        if len(buffer) > limit:
            return bytes(buffer[:limit]), f"response header block exceeds {limit} bytes", b""
        try:
            data = channel.recv(4096)
        except TimeoutError:
            return bytes(buffer), _HEAD_TIMEOUT, b""
        except (ssl.SSLError, OSError) as exc:
            return bytes(buffer), f"reading the response failed: {_describe(exc)}", b""
        if not data:
            if buffer:
                return bytes(buffer), "connection closed before the end of the response " \
                    "headers", b""
            return b"", "connection closed without a response", b""
        buffer += data


def _read_body(channel: Channel, start: bytes, headers: Headers, limit: int) -> \
        tuple[bytes, bool]:
    """Up to `limit` bytes of the body (de-chunked), and whether that is all of it. Stops at
    Content-Length, the end of the chunks, the peer closing, the limit or the deadline."""
    raw = bytearray(start)
    length_values = header_values(headers, "Content-Length")
    length = int(length_values[0]) if length_values and length_values[0].isdigit() else None
    chunked = any("chunked" in v.lower() for v in header_values(headers, "Transfer-Encoding"))
    closed = False
    while len(raw) < limit and not (length is not None and not chunked and len(raw) >= length):
        if chunked and _dechunk(bytes(raw))[1]:
            break
        try:
            data = channel.recv(16384)
        except (TimeoutError, ssl.SSLError, OSError):
            break
        if not data:
            closed = True
            break
        raw += data
    if chunked:
        body, complete = _dechunk(bytes(raw))
    elif length is not None:
        body, complete = bytes(raw[:length]), len(raw) >= length
    else:
        body, complete = bytes(raw), closed
    return body[:limit], complete and len(body) <= limit


def _dechunk(raw: bytes) -> tuple[bytes, bool]:
    """The data of a chunked body so far, and whether its last (empty) chunk arrived."""
    body, pos = bytearray(), 0
    while True:
        end = raw.find(b"\r\n", pos)
        if end < 0:
            return bytes(body), False
        size_text = raw[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return bytes(body), False
        if size == 0:
            return bytes(body), True
        body += raw[end + 2:end + 2 + size]
        if len(raw) < end + 2 + size + 2:
            return bytes(body), False
        pos = end + 2 + size + 2


def _head_end(buffer: bytearray) -> int | None:
    for marker in (b"\r\n\r\n", b"\n\n"):
        index = buffer.find(marker)
        if index >= 0:
            return index + len(marker)
    return None


# -- pure helpers ---------------------------------------------------------------------------


def parse_url(url: str) -> _Target:
    """Split an http(s) URL; ValueError for other schemes, credentials or a missing host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"only http and https URLs are supported, got {url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials in the URL are not allowed (they would end up in evidence)")
    if not parts.hostname:
        raise ValueError(f"URL has no host: {url!r}")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    if any(ch.isspace() for ch in path):
        raise ValueError(f"URL path contains whitespace: {url!r}")
    port = parts.port or _DEFAULT_PORTS[scheme]
    return _Target(scheme, parts.hostname, port, parts.netloc, path)


# The CVE-2024-1709 exploit reaches the setup wizard through this page (with a trailing slash or
# any other spelling): an audit never requests it, whatever URL it is given.
_SETUP_WIZARD = re.compile(r"setupwizard", re.IGNORECASE)


def build_request(
    method: str, target: str, host_header: str | None, http10: bool
) -> tuple[str, list[tuple[str, str]]]:
    """The request line and headers, in order. No body, no credentials, ever, and never the
    setup wizard's path (that request is the exploit, not an observation)."""
    if not _TOKEN.match(method):
        raise ValueError(f"invalid HTTP method {method!r}")
    if _SETUP_WIZARD.search(unquote(unquote(target))):
        raise ValueError("refusing to request the setup wizard (SetupWizard.aspx is the "
                         "CVE-2024-1709 exploit path; the audit only observes)")
    if host_header is not None and any(ch in host_header for ch in "\r\n\0"):
        raise ValueError("host_header must not contain CR, LF or NUL")
    request_line = f"{method} {target} {'HTTP/1.0' if http10 else 'HTTP/1.1'}"
    headers: list[tuple[str, str]] = []
    if host_header is not None:
        headers.append(("Host", host_header))
    headers += [("User-Agent", USER_AGENT), ("Accept", "*/*")]
    if not http10:
        headers.append(("Connection", "close"))
    return request_line, headers


def encode_request(request_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [request_line]
    lines += [f"{name}: {value}" if value else f"{name}:" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(head: bytes) -> tuple[str, int, str, Headers]:
    """(http_version, status, reason, headers) from a response head; ValueError if not HTTP."""
    lines = re.split(r"\r?\n", head.decode("latin-1"))
    match = _STATUS_LINE.match(lines[0])
    if not match:
        raise ValueError(f"not an HTTP status line: {lines[0][:_EXCERPT_CHARS]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return match.group(1), int(match.group(2)), match.group(3) or "", tuple(headers)


def header_values(headers: Headers | list[tuple[str, str]], name: str) -> list[str]:
    """All values of header `name` (case-insensitive), in order."""
    wanted = name.lower()
    return [value for key, value in headers if key.lower() == wanted]


def server_disclosure(headers: Headers | list[tuple[str, str]]) -> str | None:
    """The Server header if it names a product or version ("Microsoft-IIS/10.0",
    "ScreenConnect/23.9.7.8804"); None when absent, empty or only punctuation."""
    disclosing = [v for v in header_values(headers, "Server") if any(c.isalnum() for c in v)]
    return ", ".join(disclosing) if disclosing else None


def product_tokens(server_value: str) -> list[tuple[str, str | None]]:
    """RFC 9110 product tokens of a Server value, comments dropped:
    "Apache/2.4.41 (Ubuntu) OpenSSL/1.1.1" -> [("Apache", "2.4.41"), ("OpenSSL", "1.1.1")]."""
    depth, kept = 0, []
    for ch in server_value:
        if ch == "(":
            depth += 1
            kept.append(" ")
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            kept.append(ch)
    tokens = []
    for word in "".join(kept).split():
        product, _, version = word.partition("/")
        if product:
            tokens.append((product, version or None))
    return tokens


def screenconnect_version(headers: Headers | list[tuple[str, str]]) -> str | None:
    """The dotted version from a `ScreenConnect/<version>[-build]` Server header."""
    for value in header_values(headers, "Server"):
        match = re.search(r"ScreenConnect/([0-9]+(?:\.[0-9]+)+)", value)  # ASCII only
        if match:
            return match.group(1)
    return None


# The login page loads Script.ashx, whose SC.context names the product version
# ("productVersion":"21.13.5058.7951" in a public copy of a 21.13 server's script; community
# detectors read the same field): served to every anonymous visitor, whatever the headers say.
SCRIPT_PATH = "Script.ashx"
_PRODUCT_VERSION = re.compile(rb'"productVersion"\s*:\s*"([^"\\]{0,64})"')


def script_product_version(body: bytes) -> tuple[str, str] | None:
    """(the productVersion text, a short excerpt around it) from a Script.ashx body, or None
    when the body names no product version. The text is returned as sent: the judge decides
    whether it is a version."""
    match = _PRODUCT_VERSION.search(body)
    if not match:
        return None
    start, end = max(0, match.start() - 40), min(len(body), match.end() + 20)
    excerpt = body[start:end].decode("utf-8", errors="replace")
    return match.group(1).decode("utf-8", errors="replace"), excerpt


_DISCLOSURE_HEADERS = ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version")


def disclosure_headers(headers: Headers | list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers that commonly name the software stack (Server, X-Powered-By, X-AspNet*)."""
    return [(n, v) for n, v in headers if n.lower() in _DISCLOSURE_HEADERS and v.strip()]


def advertised_methods(headers: Headers | list[tuple[str, str]]) -> list[str]:
    """Methods listed in Allow and Public (IIS sends both), upper-cased, first seen first."""
    methods: list[str] = []
    for value in header_values(headers, "Allow") + header_values(headers, "Public"):
        for item in value.split(","):
            method = item.strip().upper()
            if method and method not in methods:
                methods.append(method)
    return methods


_INTERNAL_V4 = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
              "169.254.0.0/16", "100.64.0.0/10", "0.0.0.0/8")
)
_INTERNAL_V6 = tuple(
    ipaddress.ip_network(n) for n in ("::1/128", "::/128", "fe80::/10", "fec0::/10", "fc00::/7")
)
_INTERNAL_SUFFIXES = (
    ".local", ".lan", ".internal", ".localdomain", ".home.arpa", ".intranet", ".corp",
    ".localhost",
)
_LEAK_HEADERS = ("location", "content-location")


def is_internal_host(host: str) -> bool:
    """Private, loopback, link-local (or CGNAT/ULA) IP literals, and host names that only
    resolve inside a network: single labels, .local, .lan, .internal and similar."""
    address = ip_literal(host)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return any(address in net for net in _INTERNAL_V4)
    if isinstance(address, ipaddress.IPv6Address):
        return any(address in net for net in _INTERNAL_V6)
    name = host.rstrip(".").lower()
    return bool(name) and ("." not in name or name.endswith(_INTERNAL_SUFFIXES))


def leaked_internal_addresses(
    headers: Headers | list[tuple[str, str]], probed_host: str
) -> list[str]:
    """Internal hosts named by Location / Content-Location that differ from the probed host."""
    found: list[str] = []
    for name, value in headers:
        if name.lower() not in _LEAK_HEADERS:
            continue
        host = _url_host(value.strip())
        if not host or host in found or _same_host(host, probed_host):
            continue
        if is_internal_host(host):
            found.append(host)
    return found


def _url_host(value: str) -> str | None:
    try:
        return urlsplit(value).hostname  # None for relative references
    except ValueError:
        return None


def _same_host(a: str, b: str) -> bool:
    ip_a, ip_b = ip_literal(a), ip_literal(b)
    if ip_a is not None or ip_b is not None:
        return ip_a == ip_b
    return a.rstrip(".").lower() == b.strip("[]").rstrip(".").lower()
