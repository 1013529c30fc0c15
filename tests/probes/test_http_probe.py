"""http.request against the lab web endpoint (http and https) and misbehaving servers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from cwh.lab.listeners import ClosedPort, WebEndpoint
from cwh.probes import http
from cwh.probes.http import (
    FROM_URL,
    advertised_methods,
    leaked_internal_addresses,
    request,
    screenconnect_version,
    server_disclosure,
)
from tests.probes.probe_helpers import (
    SC_SERVER,
    answer_with,
    leaf,
    next_address,
    raw_server,
    stay_silent,
    web_endpoint,
)

INTERNAL = "http://10.0.0.15:8040/"


@pytest.fixture(params=["http", "https"])
def scheme(request: pytest.FixtureRequest) -> str:
    return request.param


def _endpoint(scheme: str, **kwargs: object):
    return web_endpoint(tls=leaf() if scheme == "https" else None, **kwargs)


@pytest.fixture
def disclosing(scheme: str) -> Iterator[WebEndpoint]:
    """An unhardened endpoint: Server header, OPTIONS allowed, internal redirect."""
    with _endpoint(scheme, server_header=SC_SERVER, options_allowed=True,
                   internal_redirect=INTERNAL) as web:
        yield web


@pytest.fixture
def hardened(scheme: str) -> Iterator[WebEndpoint]:
    with _endpoint(scheme, server_header=None, options_allowed=False) as web:
        yield web


def test_server_header_disclosed(disclosing: WebEndpoint) -> None:
    seen = request(disclosing.url, "HEAD")
    assert seen.error is None, seen.error
    assert seen.status == 200
    assert server_disclosure(seen.headers) == SC_SERVER
    assert screenconnect_version(seen.headers) == "23.9.7.8804"


def test_no_server_header(hardened: WebEndpoint) -> None:
    seen = request(hardened.url)
    assert seen.status == 200
    assert seen.header_values("Server") == []
    assert server_disclosure(seen.headers) is None


def test_options_allowed(disclosing: WebEndpoint) -> None:
    seen = request(disclosing.url, "OPTIONS")
    assert seen.status == 200
    assert advertised_methods(seen.headers) == ["OPTIONS", "TRACE", "GET", "HEAD", "POST"]


def test_options_denied(hardened: WebEndpoint) -> None:
    seen = request(hardened.url, "OPTIONS")
    assert seen.status == 405
    assert advertised_methods(seen.headers) == []


@pytest.mark.parametrize("host_header", ["", None], ids=["empty-host", "no-host"])
def test_guide_probe_detects_internal_redirect(disclosing: WebEndpoint,
                                               host_header: str | None) -> None:
    seen = request(disclosing.url, "HEAD", host_header=host_header, http10=True)
    assert seen.request_line == "HEAD / HTTP/1.0"
    assert seen.status == 302
    assert seen.header_values("Location") == [INTERNAL]
    assert leaked_internal_addresses(seen.headers, disclosing.address) == ["10.0.0.15"]


@pytest.mark.parametrize("host_header", ["", None], ids=["empty-host", "no-host"])
def test_guide_probe_without_internal_redirect(hardened: WebEndpoint,
                                               host_header: str | None) -> None:
    seen = request(hardened.url, "HEAD", host_header=host_header, http10=True)
    assert seen.status == 200
    assert seen.header_values("Location") == []
    assert leaked_internal_addresses(seen.headers, hardened.address) == []


def test_normal_host_header_gets_no_redirect(disclosing: WebEndpoint) -> None:
    seen = request(disclosing.url, "HEAD", http10=True)
    assert seen.status == 200


def test_request_is_exactly_what_was_asked(disclosing: WebEndpoint) -> None:
    empty = request(disclosing.url, "HEAD", host_header="", http10=True)
    absent = request(disclosing.url, "HEAD", host_header=None, http10=True)
    normal = request(disclosing.url + "Login?Reason=0")
    assert empty.request_headers[0] == ("Host", "")
    assert [n for n, _ in absent.request_headers] == ["User-Agent", "Accept"]
    assert normal.request_line == "GET /Login?Reason=0 HTTP/1.1"
    assert normal.request_headers[0] == ("Host", f"{disclosing.address}:{disclosing.port}")
    assert ("Connection", "close") in normal.request_headers
    for seen in (empty, absent, normal):
        assert all(name.lower() != "authorization" for name, _ in seen.request_headers)


def test_unknown_method_is_not_implemented(disclosing: WebEndpoint) -> None:
    assert request(disclosing.url, "PROPFIND").status == 501


def test_https_records_the_tls_session(scheme: str) -> None:
    with _endpoint(scheme, server_header=None, options_allowed=False) as web:
        seen = request(web.url)
    if scheme == "https":
        assert seen.tls_version == "TLSv1.3" and seen.tls_cipher
        assert seen.server_name is None  # IP literal: no SNI
    else:
        assert seen.tls_version is None


def test_does_not_wait_for_the_body() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nServer: Microsoft-IIS/10.0\r\n\r\n"
    with raw_server(answer_with(head + b"partial body", then_hold=5)) as server:
        seen = request(f"http://{server.address}:{server.port}/", timeout=4.0)
    assert seen.status == 200 and seen.error is None
    assert server_disclosure(seen.headers) == "Microsoft-IIS/10.0"
    assert seen.elapsed_ms < 1000


def test_silent_server_times_out_within_the_timeout() -> None:
    with raw_server(stay_silent) as server:
        seen = request(f"http://{server.address}:{server.port}/", timeout=0.6)
    assert seen.status is None
    assert seen.error_stage == "receive" and "timed out" in seen.error
    assert seen.timed_out and seen.inconclusive  # says nothing about the server
    assert seen.elapsed_ms < 1100


def test_oversized_header_block_is_reported() -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"a" * 5000 + b"\r\n\r\n"
    with raw_server(answer_with(head, then_hold=2)) as server:
        seen = request(f"http://{server.address}:{server.port}/", max_header_bytes=1024)
    assert seen.error is not None and "exceeds 1024 bytes" in seen.error


def test_non_http_answer_is_a_parse_error() -> None:
    with raw_server(answer_with(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")) as server:
        seen = request(f"http://{server.address}:{server.port}/")
    assert seen.status is None and seen.error_stage == "parse" and not seen.inconclusive
    assert seen.raw_excerpt is not None and seen.raw_excerpt.startswith("SSH-2.0")


def test_closed_without_response() -> None:
    with raw_server(answer_with(b"")) as server:
        seen = request(f"http://{server.address}:{server.port}/")
    assert seen.error == "connection closed without a response"
    assert not seen.timed_out and not seen.inconclusive  # the server did answer: it hung up


def test_https_to_a_plain_http_port_fails_in_tls() -> None:
    with web_endpoint() as web:
        seen = request(f"https://{web.address}:{web.port}/", timeout=2.0)
    assert seen.error_stage == "tls" and seen.status is None


def test_refused_port() -> None:
    with ClosedPort(next_address()) as closed:
        seen = request(f"http://{closed.address}:{closed.port}/")
    assert seen.error_stage == "connect" and "refused" in seen.error


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_endpoint_and_ipv6_leak() -> None:
    endpoint = WebEndpoint("::1", tls=None, server_header="Microsoft-HTTPAPI/2.0",
                           options_allowed=False, internal_redirect="http://[fd00:10::15]:8040/")
    with endpoint:
        seen = request(endpoint.url, "HEAD", host_header=None, http10=True)
        normal = request(endpoint.url)
    assert endpoint.url == f"http://[::1]:{endpoint.port}/"
    assert seen.status == 302
    assert leaked_internal_addresses(seen.headers, "::1") == ["fd00:10::15"]
    assert normal.request_headers[0] == ("Host", f"[::1]:{endpoint.port}")


def test_evidence_is_plain_json(disclosing: WebEndpoint) -> None:
    decoded = json.loads(json.dumps(request(disclosing.url, "OPTIONS").to_evidence()))
    assert decoded["status"] == 200
    assert ["Allow", "OPTIONS, TRACE, GET, HEAD, POST"] in decoded["headers"]
    assert decoded["request_line"] == "OPTIONS / HTTP/1.1"


@pytest.mark.parametrize(
    ("url", "method", "host_header"),
    [
        ("ftp://example.com/", "GET", FROM_URL),
        ("http://user:secret@example.com/", "GET", FROM_URL),
        ("http:///nohost", "GET", FROM_URL),
        ("http://example.com/", "GET /x", FROM_URL),
        ("http://example.com/", "GET", "evil\r\nX-Injected: 1"),
    ],
)
def test_bad_arguments_raise_value_error(url: str, method: str, host_header: object) -> None:
    with pytest.raises(ValueError):
        request(url, method, host_header=host_header)  # type: ignore[arg-type]


def test_parse_head_handles_folding_and_bare_newlines() -> None:
    version, status, reason, headers = http.parse_head(
        b"HTTP/1.0 302 Found\nLocation: http://sc-web01/\nX-Long: a\n\tb\n\n"
    )
    assert (version, status, reason) == ("HTTP/1.0", 302, "Found")
    assert headers == (("Location", "http://sc-web01/"), ("X-Long", "a b"))


def test_encode_request_writes_an_empty_host_line() -> None:
    line, headers = http.build_request("HEAD", "/aspnet_client", "", True)
    assert http.encode_request(line, headers).startswith(
        b"HEAD /aspnet_client HTTP/1.0\r\nHost:\r\nUser-Agent: "
    )
