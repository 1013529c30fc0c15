"""The lab's listeners: lifecycle, timeouts, and the HTTP answers of the web endpoint."""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
import time

import pytest

from cwh.lab.listeners import ClosedPort, FilteredPort, TcpListener, TlsSettings, WebEndpoint
from cwh.probes.tls import set_version_range
from tests.probes.probe_helpers import free_port, leaf, next_address, web_endpoint

INTERNAL = "http://10.0.0.15:8040/"


def _connect(address: str, port: int, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection((address, port), timeout=timeout)


def _exchange(address: str, port: int, payload: bytes) -> bytes:
    with _connect(address, port) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


def _wait_for_close(sock: socket.socket, limit: float) -> float:
    """Seconds until the peer closes (EOF or reset); fails the test if it does not."""
    sock.settimeout(limit)
    started = time.monotonic()
    with contextlib.suppress(ConnectionResetError):
        assert sock.recv(1) == b""
    return time.monotonic() - started


# -- lifecycle ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tcp", "web", "web-tls"])
def test_start_returns_once_listening(kind: str) -> None:
    address = next_address()
    listener = {
        "tcp": lambda: TcpListener(address),
        "web": lambda: WebEndpoint(address, tls=None, server_header=None, options_allowed=False),
        "web-tls": lambda: WebEndpoint(address, tls=TlsSettings(leaf().cert_pem, leaf().key_pem),
                                       server_header=None, options_allowed=False),
    }[kind]()
    assert listener.port == 0 and not listener.running
    listener.start()
    try:
        assert listener.running and listener.port > 0
        _connect(address, listener.port).close()
    finally:
        listener.stop()
    assert not listener.running


def test_requested_port_is_used() -> None:
    address = next_address()
    port = free_port(address)
    with TcpListener(address, port) as listener:
        assert listener.port == port
        _connect(address, port).close()


def test_stop_refuses_new_connections_and_is_idempotent() -> None:
    listener = TcpListener(next_address()).start()
    port = listener.port
    listener.stop()
    listener.stop()
    with pytest.raises(ConnectionRefusedError):
        _connect(listener.address, port)


def test_double_start_raises() -> None:
    with TcpListener(next_address()) as listener, pytest.raises(RuntimeError):
        listener.start()


def test_listener_can_be_restarted_on_the_same_port() -> None:
    listener = TcpListener(next_address()).start()
    port = listener.port
    listener.stop()
    again = TcpListener(listener.address, port).start()
    try:
        _connect(again.address, port).close()
    finally:
        again.stop()


def test_stop_cuts_open_connections_promptly() -> None:
    listener = TcpListener(next_address(), idle_timeout=30).start()
    client = _connect(listener.address, listener.port)
    time.sleep(0.05)  # let the accept loop hand the connection to its thread
    started = time.monotonic()
    listener.stop()
    assert time.monotonic() - started < 1.2
    with client:
        assert _wait_for_close(client, 1.0) < 1.0


def test_stop_cuts_a_stalled_tls_handshake() -> None:
    with web_endpoint(tls=leaf(), io_timeout=30) as web:
        client = _connect(web.address, web.port)
        time.sleep(0.05)
        started = time.monotonic()
    assert time.monotonic() - started < 1.2
    with client:
        assert _wait_for_close(client, 1.0) < 1.0


# -- timeouts -------------------------------------------------------------------------------


def test_tcp_listener_closes_idle_connections() -> None:
    with TcpListener(next_address(), idle_timeout=0.3) as listener, \
            _connect(listener.address, listener.port) as client:
        waited = _wait_for_close(client, 3.0)
    assert 0.2 <= waited <= 1.5


def test_tcp_listener_stays_open_while_the_client_talks() -> None:
    with TcpListener(next_address(), idle_timeout=0.3) as listener, \
            _connect(listener.address, listener.port) as client:
        for _ in range(4):
            client.sendall(b"ping")
            time.sleep(0.15)
        client.settimeout(0.05)
        with pytest.raises(TimeoutError):
            client.recv(1)  # still open after 0.6 s of activity


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_web_endpoint_drops_a_silent_client(tls: bool) -> None:
    with web_endpoint(tls=leaf() if tls else None, io_timeout=0.3) as web, \
            _connect(web.address, web.port) as client:
        waited = _wait_for_close(client, 3.0)
    assert 0.2 <= waited <= 1.5


# -- special ports --------------------------------------------------------------------------


def test_filtered_port_times_out_then_refuses_after_stop() -> None:
    filtered = FilteredPort(next_address()).start()
    probe = socket.socket()
    probe.settimeout(0.5)
    started = time.monotonic()
    with probe, pytest.raises(TimeoutError):
        probe.connect((filtered.address, filtered.port))
    assert time.monotonic() - started >= 0.45
    filtered.stop()
    with pytest.raises(ConnectionRefusedError):
        _connect(filtered.address, filtered.port)


def test_closed_port_refuses_and_reserves_the_port() -> None:
    with ClosedPort(next_address()) as closed:
        with pytest.raises(ConnectionRefusedError):
            _connect(closed.address, closed.port)
        other = socket.socket()
        with other, pytest.raises(OSError) as raised:
            other.bind((closed.address, closed.port))
        assert raised.value.errno == errno.EADDRINUSE


# -- the web endpoint's answers ---------------------------------------------------------------


def _endpoint(**kwargs: object) -> WebEndpoint:
    settings = {"tls": None, "server_header": None, "options_allowed": False, **kwargs}
    return WebEndpoint("127.0.0.1", **settings)  # type: ignore[arg-type]


def _names(headers: tuple[tuple[str, str], ...]) -> list[str]:
    return [name for name, _ in headers]


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost: sc\r\n\r\n", 200),
        (b"HEAD / HTTP/1.0\r\n\r\n", 200),
        (b"POST /Services/PageService.ashx HTTP/1.1\r\nHost: sc\r\n\r\n", 200),
        (b"OPTIONS * HTTP/1.1\r\nHost: sc\r\n\r\n", 405),
        (b"TRACE / HTTP/1.1\r\nHost: sc\r\n\r\n", 501),
        (b"BREW /pot HTTP/1.1\r\nHost: sc\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: sc\r\n\r\n", 505),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
    ],
)
def test_hardened_endpoint_answers(request_head: bytes, status: int) -> None:
    response = _endpoint().respond(request_head)
    assert response.status == status
    assert "Server" not in _names(response.headers)
    assert "Allow" not in _names(response.headers) and "Public" not in _names(response.headers)
    assert "Location" not in _names(response.headers)


def test_server_header_is_sent_on_every_answer() -> None:
    endpoint = _endpoint(server_header="ScreenConnect/23.9.7.8804")
    for head in (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", b"BREW / HTTP/1.1\r\n\r\n", b"x\r\n\r\n"):
        assert ("Server", "ScreenConnect/23.9.7.8804") in endpoint.respond(head).headers


def test_options_allowed_lists_verbs_in_allow_and_public() -> None:
    response = _endpoint(options_allowed=True).respond(b"OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert response.status == 200
    assert ("Allow", "OPTIONS, TRACE, GET, HEAD, POST") in response.headers
    assert ("Public", "OPTIONS, TRACE, GET, HEAD, POST") in response.headers


@pytest.mark.parametrize(
    ("request_head", "redirected"),
    [
        (b"HEAD / HTTP/1.0\r\nHost:\r\n\r\n", True),
        (b"HEAD / HTTP/1.0\r\nHost:   \r\n\r\n", True),
        (b"HEAD / HTTP/1.0\r\nUser-Agent: curl/7.88.1\r\n\r\n", True),
        (b"GET / HTTP/1.0\r\n\r\n", True),
        (b"HEAD / HTTP/1.0\r\nHost: sc.example.com\r\n\r\n", False),
        (b"GET / HTTP/1.1\r\nHost: sc.example.com\r\n\r\n", False),
    ],
)
def test_internal_redirect_only_without_a_usable_host(request_head: bytes,
                                                      redirected: bool) -> None:
    response = _endpoint(internal_redirect=INTERNAL).respond(request_head)
    assert (response.status == 302) is redirected
    assert (("Location", INTERNAL) in response.headers) is redirected


def test_head_has_no_body_but_get_does() -> None:
    endpoint = _endpoint()
    head = endpoint.respond(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n")
    get = endpoint.respond(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert head.body == b"" and get.body.startswith(b"<!DOCTYPE html>")
    assert dict(head.headers)["Content-Length"] == dict(get.headers)["Content-Length"]


def test_over_the_wire_answers_match_respond() -> None:
    with web_endpoint(server_header="Microsoft-HTTPAPI/2.0", internal_redirect=INTERNAL) as web:
        raw = _exchange(web.address, web.port, b"HEAD /aspnet_client HTTP/1.0\r\n\r\n")
        garbage = _exchange(web.address, web.port, b"\x16\x03\x01\x02\x00\x01\x00")
    assert raw.startswith(b"HTTP/1.1 302 Found\r\n")
    assert b"\r\nServer: Microsoft-HTTPAPI/2.0\r\n" in raw
    assert b"\r\nLocation: http://10.0.0.15:8040/\r\n" in raw
    assert garbage.startswith(b"HTTP/1.1 400 Bad Request\r\n")


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1.1"])
def test_tls_settings_go_down_to_legacy_versions(version: str) -> None:
    with web_endpoint(tls=leaf(), min_version=version, max_version=version) as web:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        set_version_range(ctx, version, version)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with _connect(web.address, web.port) as raw, ctx.wrap_socket(raw) as tls:
            assert tls.version() == version
            tls.sendall(b"GET / HTTP/1.1\r\nHost: sc\r\n\r\n")
            assert tls.recv(4096).startswith(b"HTTP/1.1 200 OK")


def test_tls_settings_reject_unknown_versions() -> None:
    with pytest.raises(ValueError):
        TlsSettings(b"", b"", min_version="SSLv3")


def test_weak_rsa_1024_key_loads_in_the_lab() -> None:
    with web_endpoint(tls=leaf(key_size=1024)) as web:
        assert web.running


# --- the login page's script, and what clients sent --------------------------------------------

def test_script_ashx_names_the_product_version_it_was_given() -> None:
    endpoint = _endpoint(product_version="23.9.7.8804")
    for path in (b"/Script.ashx", b"/script.ashx?__Cache=81f2495b", b"/sc/Script.ashx"):
        response = endpoint.respond(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        assert response.status == 200
        assert b'"productVersion":"23.9.7.8804"' in response.body
    assert b"productVersion" not in _endpoint().respond(
        b"GET /Script.ashx HTTP/1.1\r\nHost: a\r\n\r\n").body


def test_the_setup_wizard_is_not_served() -> None:
    response = _endpoint().respond(b"GET /SetupWizard.aspx/ HTTP/1.1\r\nHost: a\r\n\r\n")
    assert response.status == 404


def test_every_request_head_is_kept_and_handed_on() -> None:
    seen = []
    with web_endpoint(tls=leaf()) as web:
        web.on_request = seen.append
        with _connect(web.address, web.port) as raw:
            context = ssl.create_default_context()
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
            with context.wrap_socket(raw, server_hostname="support.example.com") as tls:
                tls.sendall(b"GET /Script.ashx HTTP/1.1\r\nHost: support.example.com\r\n\r\n")
                while tls.recv(65536):
                    pass
    assert list(web.requests) == seen and len(seen) == 1
    assert seen[0]["request_line"] == "GET /Script.ashx HTTP/1.1"
    assert seen[0]["headers"] == ["Host: support.example.com"]
    assert seen[0]["sni"] == "support.example.com"
