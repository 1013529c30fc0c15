"""cwh.parse.netsh: `netsh http show sslcert` (CWH-WEB-05, CWH-SC-03 with an https listener)."""

from __future__ import annotations

import re

import pytest

from cwh.parse.netsh import NetshParseError, SslBinding, binding_for_port, parse_sslcert

WS2022_BLOCK_TAIL = """    Verify Client Certificate Revocation         : Enabled
    Verify Revocation Using Cached Client Certificate Only : Disabled
    Usage Check                  : Enabled
    Revocation Freshness Time    : 0
    URL Retrieval Timeout        : 0
    Ctl Identifier               : (null)
    Ctl Store Name               : (null)
    DS Mapper Usage              : Disabled
    Negotiate Client Certificate : Disabled
    Reject Connections           : Disabled
    Disable HTTP2                : Not Set
    Disable QUIC                 : Not Set
    Disable TLS1.2               : Not Set
    Disable TLS1.3               : Not Set
    Disable OCSP Stapling        : Not Set
    Enable Token Binding         : Not Set
    Log Extended Events          : Not Set
    Disable Legacy TLS Versions  : Not Set
    Enable Session Ticket        : Not Set
    Disable Session ID TLS1.2    : Not Set
    Enable Client Correlation    : Not Set
"""

# Windows Server 2022 (English), three bindings: IP, SNI hostname, IPv6 wildcard.
WS2022 = f"""
SSL Certificate bindings:
-------------------------

    IP:port                      : 0.0.0.0:443
    Certificate Hash             : 3f2a9c41d8e07b55a1c6f0e2d94b7a8c1e5d3b20
    Application ID               : {{00000000-0000-0000-0000-000000000000}}
    Certificate Store Name       : MY
{WS2022_BLOCK_TAIL}
    Hostname:port                : sc.example.com:443
    Certificate Hash             : 9D8C7B6A5F4E3D2C1B0A99887766554433221100
    Application ID               : {{4dc3e181-e14b-4a21-b022-59fc669b0914}}
    Certificate Store Name       : My
{WS2022_BLOCK_TAIL}
    IP:port                      : [::]:8040
    Certificate Hash             : aabbccddeeff00112233445566778899aabbccdd
    Application ID               : {{00000000-0000-0000-0000-000000000000}}
    Certificate Store Name       : (null)
{WS2022_BLOCK_TAIL}
"""

# Windows Server 2016: the shorter block of the reference (§6.4), CRLF, trailing spaces.
WS2016 = "\r\n".join([
    "",
    "SSL Certificate bindings:",
    "-------------------------",
    "",
    "    IP:port                 : 10.20.30.12:8040 ",
    "    Certificate Hash        : 112233445566778899aabbccddeeff0011223344   ",
    "    Application ID          : {00000000-0000-0000-0000-000000000000}",
    "    Certificate Store Name  : (null)",
    "    Verify Client Certificate Revocation    : Enabled",
    "    Verify Revocation Using Cached Client Certificate Only    : Disabled",
    "    Usage Check    : Enabled",
    "    Revocation Freshness Time : 0 ",
    "    URL Retrieval Timeout   : 0",
    "    Ctl Identifier          : (null)",
    "    Ctl Store Name          : (null)",
    "    DS Mapper Usage    : Disabled",
    "    Negotiate Client Certificate    : Disabled",
    "  ",
    "    IP:port                 : 0.0.0.0:8040",
    "    Certificate Hash        : 00112233445566778899AABBCCDDEEFF00112233",
    "    Application ID          : {00000000-0000-0000-0000-000000000000}",
    "    Certificate Store Name  : MY",
    "    Negotiate Client Certificate    : Disabled",
    "",
    "",
])

EMPTY = "\r\nSSL Certificate bindings:\r\n-------------------------\r\n\r\n\r\n"

GERMAN = """
SSL-Zertifikatbindungen:
-------------------------

    IP:Port                      : 0.0.0.0:443
    Zertifikathash               : 3f2a9c41d8e07b55a1c6f0e2d94b7a8c1e5d3b20
    Anwendungs-ID                : {00000000-0000-0000-0000-000000000000}
    Zertifikatspeichername       : MY
"""


def test_three_bindings() -> None:
    assert parse_sslcert(WS2022) == [
        SslBinding(endpoint="0.0.0.0:443", kind="ip", port=443,
                   cert_hash="3f2a9c41d8e07b55a1c6f0e2d94b7a8c1e5d3b20",
                   app_id="{00000000-0000-0000-0000-000000000000}", store="MY"),
        SslBinding(endpoint="sc.example.com:443", kind="hostname", port=443,
                   cert_hash="9d8c7b6a5f4e3d2c1b0a99887766554433221100",
                   app_id="{4dc3e181-e14b-4a21-b022-59fc669b0914}", store="My"),
        SslBinding(endpoint="[::]:8040", kind="ip", port=8040,
                   cert_hash="aabbccddeeff00112233445566778899aabbccdd",
                   app_id="{00000000-0000-0000-0000-000000000000}", store=None),
    ]


def test_crlf_and_trailing_spaces() -> None:
    first, second = parse_sslcert(WS2016)
    assert first.endpoint == "10.20.30.12:8040"
    assert first.cert_hash == "112233445566778899aabbccddeeff0011223344"
    assert first.store is None
    assert second.endpoint == "0.0.0.0:8040"
    assert second.cert_hash == "00112233445566778899aabbccddeeff00112233"
    assert second.wildcard is True and first.wildcard is False


def test_same_output_with_crlf_and_lf() -> None:
    assert parse_sslcert(WS2022.replace("\n", "\r\n")) == parse_sslcert(WS2022)


@pytest.mark.parametrize("text", [
    EMPTY,
    "\nSSL Certificate bindings:\n-------------------------\n\n",
    "SSL Certificate bindings:\n",
    "\ufeff\r\nSSL Certificate bindings:\r\n-------------------------\r\n",
])
def test_no_bindings(text: str) -> None:
    assert parse_sslcert(text) == []


def test_central_certificate_store_binding() -> None:
    text = EMPTY + "    Central Certificate Store    : 443\r\n" \
        "    Certificate Hash             : (null)\r\n" \
        "    Application ID               : {4dc3e181-e14b-4a21-b022-59fc669b0914}\r\n" \
        "    Certificate Store Name       : (null)\r\n"
    assert parse_sslcert(text) == [SslBinding(endpoint="443", kind="ccs", port=443,
                                              cert_hash=None,
                                              app_id="{4dc3e181-e14b-4a21-b022-59fc669b0914}",
                                              store=None)]


def test_missing_hash_line_is_none_not_a_guess() -> None:
    text = EMPTY + "    IP:port                 : 0.0.0.0:443\r\n"
    assert parse_sslcert(text) == [SslBinding("0.0.0.0:443", "ip", 443, None, None, None)]


@pytest.mark.parametrize("text", [
    GERMAN,
    GERMAN.replace("\n", "\r\n"),
    # French Windows: "Liaisons de certificat SSL :"
    "\r\nLiaisons de certificat SSL :\r\n-------------------------\r\n\r\n",
    "The parameter is incorrect.\r\n\r\n",
    "\r\nThe following command was not found: http show sslcert.\r\n",
    "Access is denied.\r\n",
    "netsh : The term 'netsh' is not recognized as the name of a cmdlet.",
    "\x00\x01garbage\xff",
    "",
    "   \r\n\r\n",
])
def test_unrecognised_output_is_an_error(text: str) -> None:
    with pytest.raises(NetshParseError, match=r"not recognised|empty"):
        parse_sslcert(text)


def test_localized_output_names_the_reason() -> None:
    with pytest.raises(NetshParseError) as caught:
        parse_sslcert(GERMAN)
    message = str(caught.value)
    assert "localized Windows or a netsh error" in message
    assert "SSL-Zertifikatbindungen" in message


@pytest.mark.parametrize(("text", "message"), [
    (EMPTY + "The parameter is incorrect.\r\n", "not 'Label : value'"),
    (EMPTY + "Error: 5 Access is denied.\r\n", "not 'Label : value'"),
    (EMPTY + "    Certificate Hash        : 112233\r\n", "starts a binding with"),
    (EMPTY + "    Scoped CCS              : sc.example.com:443\r\n", "starts a binding with"),
    (EMPTY + "    IP:port                 : 0.0.0.0:0\r\n", "port '0'"),
    (EMPTY + "    IP:port                 : 0.0.0.0:99999\r\n", "port '99999'"),
    (EMPTY + "    IP:port                 : 0.0.0.0\r\n", "port '0.0.0.0'"),
    (EMPTY + "    IP:port                 : :443\r\n", "has no host"),
    (EMPTY + "    IP:port                 : 0.0.0.0:443\r\n"
             "    Certificate Hash        : not-a-thumbprint\r\n", "not hex"),
    ("garbage before\r\n" + EMPTY, "not recognised"),
])
def test_malformed_blocks_are_errors(text: str, message: str) -> None:
    with pytest.raises(NetshParseError, match=re.escape(message)):
        parse_sslcert(text)


def test_size_cap() -> None:
    with pytest.raises(NetshParseError, match="cap"):
        parse_sslcert(EMPTY + " " * (8 * 1024 * 1024))


def test_many_bindings_stay_fast() -> None:
    block = WS2022.split("-------------------------\n", 1)[1]
    bindings = parse_sslcert(WS2022 + block * 500)
    assert len(bindings) == 3 + 3 * 500


# --- binding_for_port ------------------------------------------------------------------------

def b(endpoint: str, kind: str = "ip", port: int | None = None) -> SslBinding:
    return SslBinding(endpoint, kind, port or int(endpoint.rpartition(":")[2]),  # type: ignore[arg-type]
                      "00" * 20, None, None)


def test_binding_for_port_exact_port_only() -> None:
    bindings = parse_sslcert(WS2022)
    assert binding_for_port(bindings, 8040) == bindings[2]
    assert binding_for_port(bindings, 443) == bindings[0]
    assert binding_for_port(bindings, 8443) is None
    assert binding_for_port([b("0.0.0.0:44")], 443) is None
    assert binding_for_port([], 443) is None


@pytest.mark.parametrize(("bindings", "expected"), [
    ([b("sc.example.com:443", "hostname"), b("0.0.0.0:443")], "0.0.0.0:443"),
    ([b("0.0.0.0:443"), b("10.20.30.12:443")], "10.20.30.12:443"),
    ([b("[::]:443"), b("[2001:db8::5]:443")], "[2001:db8::5]:443"),
    ([b("[::]:443"), b("0.0.0.0:443")], "[::]:443"),
    ([b("443", "ccs", 443), b("sc.example.com:443", "hostname")], "sc.example.com:443"),
    ([b("443", "ccs", 443)], "443"),
    ([b("sc.example.com:443", "hostname")], "sc.example.com:443"),
])
def test_binding_for_port_preference(bindings: list[SslBinding], expected: str) -> None:
    found = binding_for_port(bindings, 443)
    assert found is not None and found.endpoint == expected


# Current builds print http.sys's extended properties inside each binding: a label ending in a
# colon with no value, then PropertyId lines (issue 10, item 13).
EXTENDED = """    Extended Properties:
    PropertyId                   : 0
    Receive Window               : 1048576
    Extended Properties:
    PropertyId                   : 1
    Max Settings Per Frame       : 2796202
    Max Settings Per Minute      : 4294967295
"""


def test_extended_properties_block_is_accepted() -> None:
    text = WS2022.replace(WS2022_BLOCK_TAIL, WS2022_BLOCK_TAIL + EXTENDED)
    assert text.count("Extended Properties:") == 6
    assert parse_sslcert(text) == parse_sslcert(WS2022)


def test_extended_properties_never_supply_binding_fields() -> None:
    """A 'Certificate Hash' inside the extended block is not the binding's hash."""
    text = ("\nSSL Certificate bindings:\n-------------------------\n\n"
            "    IP:port                 : 0.0.0.0:8040\n"
            "    Extended Properties:\n"
            "    Certificate Hash        : 00112233445566778899aabbccddeeff00112233\n")
    [binding] = parse_sslcert(text)
    assert binding.cert_hash is None


@pytest.mark.parametrize("line", ["    Extended Properties: 7", "    Something Else:"])
def test_other_colon_lines_stay_errors(line: str) -> None:
    text = WS2022.replace(WS2022_BLOCK_TAIL, WS2022_BLOCK_TAIL + line + "\n")
    with pytest.raises(NetshParseError, match="is not 'Label : value'"):
        parse_sslcert(text)
