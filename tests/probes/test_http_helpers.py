"""Pure helpers that extract facts from response headers, with realistic values."""

from __future__ import annotations

import pytest

from cwh.probes.http import (
    advertised_methods,
    disclosure_headers,
    is_internal_host,
    leaked_internal_addresses,
    product_tokens,
    screenconnect_version,
    server_disclosure,
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("Server", "ScreenConnect/23.9.7.8804-2863243764")],
         "ScreenConnect/23.9.7.8804-2863243764"),
        ([("Server", "Microsoft-IIS/10.0")], "Microsoft-IIS/10.0"),
        ([("Server", "Microsoft-HTTPAPI/2.0")], "Microsoft-HTTPAPI/2.0"),
        ([("server", "Kestrel")], "Kestrel"),
        ([("Server", "Microsoft-IIS/10.0"), ("Server", "Microsoft-HTTPAPI/2.0")],
         "Microsoft-IIS/10.0, Microsoft-HTTPAPI/2.0"),
        ([("Server", "")], None),
        ([("Server", "   ")], None),
        ([("Server", "-")], None),
        ([("Content-Type", "text/html"), ("X-Powered-By", "ASP.NET")], None),
        ([], None),
    ],
)
def test_server_disclosure(headers: list[tuple[str, str]], expected: str | None) -> None:
    assert server_disclosure(headers) == expected


@pytest.mark.parametrize(
    ("value", "tokens"),
    [
        ("Microsoft-IIS/10.0", [("Microsoft-IIS", "10.0")]),
        ("ScreenConnect/23.9.8.8811-2863243764", [("ScreenConnect", "23.9.8.8811-2863243764")]),
        ("Apache/2.4.41 (Ubuntu) OpenSSL/1.1.1f", [("Apache", "2.4.41"), ("OpenSSL", "1.1.1f")]),
        ("nginx", [("nginx", None)]),
        ("Foo/1 (nested (comment)) Bar", [("Foo", "1"), ("Bar", None)]),
    ],
)
def test_product_tokens(value: str, tokens: list[tuple[str, str | None]]) -> None:
    assert product_tokens(value) == tokens


@pytest.mark.parametrize(
    ("value", "version"),
    [
        ("ScreenConnect/23.9.7.8804-1234567890", "23.9.7.8804"),
        ("ScreenConnect/24.1.0.8811", "24.1.0.8811"),
        ("Microsoft-HTTPAPI/2.0", None),
    ],
)
def test_screenconnect_version(value: str, version: str | None) -> None:
    assert screenconnect_version([("Server", value)]) == version


def test_disclosure_headers_collects_stack_headers() -> None:
    headers = [
        ("Cache-Control", "private"), ("Server", "Microsoft-IIS/10.0"),
        ("X-AspNet-Version", "4.0.30319"), ("X-Powered-By", "ASP.NET"), ("X-Empty", ""),
    ]
    assert disclosure_headers(headers) == [
        ("Server", "Microsoft-IIS/10.0"), ("X-AspNet-Version", "4.0.30319"),
        ("X-Powered-By", "ASP.NET"),
    ]


@pytest.mark.parametrize(
    ("headers", "methods"),
    [
        ([("Allow", "OPTIONS, TRACE, GET, HEAD, POST"),
          ("Public", "OPTIONS, TRACE, GET, HEAD, POST")],
         ["OPTIONS", "TRACE", "GET", "HEAD", "POST"]),
        ([("Public", "OPTIONS,PROPFIND, MKCOL")], ["OPTIONS", "PROPFIND", "MKCOL"]),
        ([("allow", "get, head,")], ["GET", "HEAD"]),
        ([("Allow", "")], []),
        ([("Content-Length", "0")], []),
    ],
)
def test_advertised_methods(headers: list[tuple[str, str]], methods: list[str]) -> None:
    assert advertised_methods(headers) == methods


@pytest.mark.parametrize(
    ("location", "probed", "leaked"),
    [
        ("http://10.0.0.15:8040/", "sc.example.com", ["10.0.0.15"]),
        ("https://192.168.1.20/Login", "203.0.113.7", ["192.168.1.20"]),
        ("http://172.20.3.4/", "sc.example.com", ["172.20.3.4"]),
        ("http://127.0.0.1:8040/", "sc.example.com", ["127.0.0.1"]),
        ("http://169.254.10.1/", "sc.example.com", ["169.254.10.1"]),
        ("http://100.64.0.9/", "sc.example.com", ["100.64.0.9"]),
        ("http://[fe80::1ff:fe23:4567:890a]:8040/", "sc.example.com",
         ["fe80::1ff:fe23:4567:890a"]),
        ("http://[fd12:3456:789a::15]/", "sc.example.com", ["fd12:3456:789a::15"]),
        ("http://[::1]/", "sc.example.com", ["::1"]),
        ("http://[::ffff:10.1.2.3]/", "sc.example.com", ["::ffff:10.1.2.3"]),
        ("http://SC-WEB01:8040/", "sc.example.com", ["sc-web01"]),
        ("http://sc-web01.corp.local/", "sc.example.com", ["sc-web01.corp.local"]),
        ("http://sc.lan/", "sc.example.com", ["sc.lan"]),
        ("https://sc.svc.internal/", "sc.example.com", ["sc.svc.internal"]),
        ("//10.9.8.7/path", "sc.example.com", ["10.9.8.7"]),
        # Not leaks:
        ("https://sc.example.com/Login", "sc.example.com", []),
        ("/Login?Reason=0", "sc.example.com", []),
        ("http://203.0.113.50/", "sc.example.com", []),
        ("http://[2001:db8::5]/", "sc.example.com", []),
        ("http://10.0.0.15:8040/", "10.0.0.15", []),  # the address we probed ourselves
        ("http://[fd00::1]/", "[fd00:0::1]", []),
        ("http://SC-WEB01/", "sc-web01", []),
        ("http://[broken/", "sc.example.com", []),
    ],
)
def test_leaked_internal_addresses(location: str, probed: str, leaked: list[str]) -> None:
    assert leaked_internal_addresses([("Location", location)], probed) == leaked


def test_leaks_are_read_from_content_location_too_and_deduplicated() -> None:
    headers = [
        ("Server", "Microsoft-IIS/10.0"), ("Location", "http://10.0.0.15/a"),
        ("Content-Location", "http://10.0.0.15/b"), ("Content-Location", "http://sc-web01/"),
        ("Link", "<http://10.0.0.99/>; rel=preload"),
    ]
    assert leaked_internal_addresses(headers, "sc.example.com") == ["10.0.0.15", "sc-web01"]


@pytest.mark.parametrize(
    ("host", "internal"),
    [("localhost", True), ("sc.example.com", False), ("8.8.8.8", False), ("0.0.0.0", True),
     ("SC-WEB01.LOCAL.", True), ("home.arpa.example.com", False)],
)
def test_is_internal_host(host: str, internal: bool) -> None:
    assert is_internal_host(host) is internal
