"""cwh.parse.httpsys: http.sys certificate bindings as the registry holds them (CWH-WEB-05)."""

from __future__ import annotations

import base64
import uuid

import pytest

from cwh.parse.httpsys import (
    HttpSysRegistryError,
    bindings_at_port,
    parse_registry_bindings,
)
from cwh.parse.netsh import SslBinding

HASH = "3f2a9c41d8e07b55a1c6f0e2d94b7a8c1e5d3b20"
FULLWIDTH_8040 = "\uff18\uff10\uff14\uff10"  # digits Python's isdigit() accepts
APP = uuid.UUID("4dc3e181-e14b-4a21-b022-59fc669b0914")


def binary(data: bytes) -> dict:
    return {"kind": "Binary", "value": base64.b64encode(data).decode()}


def entry(store: str, endpoint: str, **values: dict) -> dict:
    """One binding subkey as the collector reports it (every value with its registry kind)."""
    defaults = {"SslCertHash": binary(bytes.fromhex(HASH)), "AppId": binary(APP.bytes_le),
                "SslCertStoreName": {"kind": "String", "value": "MY"},
                "DefaultCertCheckMode": {"kind": "DWord", "value": 0},
                "DefaultFlags": {"kind": "DWord", "value": 0}}
    return {"store": store, "endpoint": endpoint,
            "values": {k: v for k, v in {**defaults, **values}.items() if v is not None}}


def answer(*entries: dict) -> dict:
    return {"path": r"HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters", "error": None,
            "bindings": list(entries)}


def test_ip_sni_ipv6_and_ccs_bindings() -> None:
    parsed = parse_registry_bindings(answer(
        entry("SslBindingInfo", "0.0.0.0:8040"),
        entry("SslSniBindingInfo", "SC.Example.com:443"),
        entry("SslBindingInfo", "[::]:8040", SslCertStoreName=None),
        entry("SslCcsBindingInfo", "0.0.0.0:443", SslCertHash=None)))
    assert parsed == [
        SslBinding("0.0.0.0:8040", "ip", 8040, HASH, "{4dc3e181-e14b-4a21-b022-59fc669b0914}",
                   "MY"),
        SslBinding("SC.Example.com:443", "hostname", 443, HASH,
                   "{4dc3e181-e14b-4a21-b022-59fc669b0914}", "MY"),
        SslBinding("[::]:8040", "ip", 8040, HASH, "{4dc3e181-e14b-4a21-b022-59fc669b0914}", None),
        SslBinding("443", "ccs", 443, None, "{4dc3e181-e14b-4a21-b022-59fc669b0914}", "MY"),
    ]


def test_no_binding_at_all() -> None:
    assert parse_registry_bindings(answer()) == []


def test_one_binding_collapsed_by_powershell() -> None:
    data = answer()
    data["bindings"] = entry("SslBindingInfo", "10.20.30.11:8040")
    assert [b.endpoint for b in parse_registry_bindings(data)] == ["10.20.30.11:8040"]


@pytest.mark.parametrize(("bad", "message"), [
    (entry("SslBindingInfo", "0.0.0.0:8040", SslCertHash={"kind": "String", "value": HASH}),
     "SslCertHash of 0.0.0.0:8040 is String"),
    (entry("SslBindingInfo", "0.0.0.0:8040", SslCertHash={"kind": "Binary", "value": "!!"}),
     "SslCertHash of 0.0.0.0:8040 is not base64"),
    (entry("SslBindingInfo", "0.0.0.0:8040", SslCertHash=binary(b"")),
     "SslCertHash of 0.0.0.0:8040 is empty"),
    (entry("SslBindingInfo", "0.0.0.0:8040", SslCertHash=None),
     "'0.0.0.0:8040' has no SslCertHash"),
    (entry("SslBindingInfo", "0.0.0.0"), "'0.0.0.0' is not host:port"),
    (entry("SslBindingInfo", "0.0.0.0:" + FULLWIDTH_8040), "is not 1-65535"),
    (entry("SslBindingInfo", "0.0.0.0:70000"), "port '70000' is not 1-65535"),
    (entry("SslFooBindingInfo", "0.0.0.0:8040"), "unknown binding store 'SslFooBindingInfo'"),
    ({"store": "SslBindingInfo", "endpoint": "0.0.0.0:8040", "values": None}, "no values"),
    ("0.0.0.0:8040", "not an object"),
])
def test_garbled_entries_are_errors(bad, message: str) -> None:
    with pytest.raises(HttpSysRegistryError, match=message):
        parse_registry_bindings(answer(bad))


@pytest.mark.parametrize("data", [None, [], {"error": None}, {"bindings": "x"}])
def test_unusable_answers_are_errors(data) -> None:
    with pytest.raises(HttpSysRegistryError):
        parse_registry_bindings(data)


def test_a_malformed_app_id_is_shown_not_guessed() -> None:
    [parsed] = parse_registry_bindings(answer(entry("SslBindingInfo", "0.0.0.0:8040",
                                                    AppId=binary(b"\x01\x02"))))
    assert parsed.app_id is None and parsed.cert_hash == HASH


def test_bindings_at_port_compare_across_sources() -> None:
    registry = parse_registry_bindings(answer(entry("SslBindingInfo", "0.0.0.0:8040"),
                                              entry("SslSniBindingInfo", "sc.example.com:443")))
    netsh = [SslBinding("0.0.0.0:8040", "ip", 8040, HASH, None, None),
             SslBinding("SC.EXAMPLE.COM:443", "hostname", 443, HASH, None, "My")]
    assert bindings_at_port(registry, 8040) == bindings_at_port(netsh, 8040)
    assert bindings_at_port(registry, 443) == bindings_at_port(netsh, 443)
    assert bindings_at_port(registry, 8041) == frozenset()
