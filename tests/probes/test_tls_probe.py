"""probe_tls_version and client_capability against real local TLS servers."""

from __future__ import annotations

import json
import warnings

import pytest

from cwh.lab.listeners import ClosedPort, FilteredPort
from cwh.probes import tls
from cwh.probes.tls import client_capability, parse_server_answer, probe_tls_version
from tests.probes.probe_helpers import (
    OPENSSL_DEFAULT_CIPHERS,
    PYTHON_DEFAULT_CIPHERS,
    SERVER_NAME,
    answer_with,
    leaf,
    next_address,
    raw_server,
    read_then_close,
    read_then_reset,
    ssl_server,
    stay_silent,
    web_endpoint,
)

LEGACY = ["TLSv1", "TLSv1.1"]


@pytest.mark.parametrize("version", LEGACY)
def test_legacy_only_server_accepts_pinned_handshake(version: str) -> None:
    with ssl_server(version, version) as server:
        seen = probe_tls_version(server.address, server.port, version, timeout=3.0)
    assert seen.outcome == "accepted", seen.detail
    assert seen.negotiated_version == version
    assert seen.cipher  # e.g. ECDHE-RSA-AES256-SHA
    assert seen.server_answer.kind == "server_hello"
    assert seen.server_answer.selected_version == version


@pytest.mark.parametrize("version", LEGACY)
def test_modern_server_refuses_legacy_version_with_an_alert(version: str) -> None:
    with ssl_server("TLSv1.2", "TLSv1.3") as server:
        seen = probe_tls_version(server.address, server.port, version, timeout=3.0)
    assert seen.outcome == "refused", seen.detail
    assert seen.ssl_reason == "TLSV1_ALERT_PROTOCOL_VERSION"
    assert seen.server_answer.kind == "alert"
    assert seen.server_answer.alert == "protocol_version"
    assert seen.bytes_sent > 0 and seen.bytes_received > 0
    assert seen.negotiated_version is None
    # A refusal only means something because this client can speak the version.
    assert client_capability(version).capable


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
def test_lab_endpoint_with_full_range_accepts_every_version(version: str) -> None:
    with web_endpoint(tls=leaf(), min_version="TLSv1", max_version="TLSv1.3") as web:
        seen = probe_tls_version(web.address, web.port, version, timeout=3.0)
    assert seen.outcome == "accepted", seen.detail
    assert seen.negotiated_version == version


def test_hardened_lab_endpoint_refuses_tls10_and_tls11() -> None:
    with web_endpoint(tls=leaf(), min_version="TLSv1.2") as web:
        outcomes = {
            v: probe_tls_version(web.address, web.port, v).outcome for v in tls.TLS_VERSIONS
        }
    assert outcomes == {
        "TLSv1": "refused", "TLSv1.1": "refused", "TLSv1.2": "accepted", "TLSv1.3": "accepted",
    }


def test_server_answering_with_another_version_is_a_refusal() -> None:
    with ssl_server("TLSv1", "TLSv1") as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1.2", timeout=3.0)
    assert seen.outcome == "refused", seen.detail
    assert seen.server_answer.selected_version == "TLSv1"
    assert "server selected TLSv1, not TLSv1.2" in seen.detail


def test_tls13_refused_by_a_tls12_only_server() -> None:
    with ssl_server("TLSv1.2", "TLSv1.2") as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1.3", timeout=3.0)
    assert seen.outcome == "refused"
    assert seen.server_answer.alert == "protocol_version"


def test_reset_after_client_hello_is_a_refusal() -> None:
    with raw_server(read_then_reset) as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1", timeout=3.0)
    assert seen.outcome == "refused", seen.detail
    assert "reset" in seen.detail
    assert seen.bytes_sent > 0 and seen.bytes_received == 0


def test_eof_after_client_hello_is_a_refusal() -> None:
    with raw_server(read_then_close) as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1.1", timeout=3.0)
    assert seen.outcome == "refused", seen.detail
    assert "closed the connection" in seen.detail


def test_non_tls_answer_is_a_refusal_and_says_so() -> None:
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
    with raw_server(answer_with(reply)) as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1", timeout=3.0)
    assert seen.outcome == "refused"
    assert seen.server_answer.kind == "not_tls"


def test_silent_server_is_inconclusive_within_the_timeout() -> None:
    with raw_server(stay_silent) as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1", timeout=0.6)
    assert seen.outcome == "inconclusive"
    assert seen.bytes_sent > 0 and seen.bytes_received == 0
    assert seen.elapsed_ms < 1100


def test_refused_port_is_inconclusive() -> None:
    with ClosedPort(next_address()) as closed:
        seen = probe_tls_version(closed.address, closed.port, "TLSv1", timeout=2.0)
    assert seen.outcome == "inconclusive"
    assert seen.connect_attempts[0].outcome == "refused"


def test_filtered_port_is_inconclusive_within_the_timeout() -> None:
    with FilteredPort(next_address()) as filtered:
        seen = probe_tls_version(filtered.address, filtered.port, "TLSv1", timeout=0.6)
    assert seen.outcome == "inconclusive"
    assert seen.connect_attempts[0].outcome == "filtered"
    assert seen.elapsed_ms < 1100


def test_local_failure_before_client_hello_is_inconclusive_not_refused() -> None:
    with ssl_server("TLSv1", "TLSv1") as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1",
                                 ciphers=PYTHON_DEFAULT_CIPHERS)
    assert seen.outcome == "inconclusive"
    assert seen.ssl_reason == "NO_CIPHERS_AVAILABLE"
    assert seen.bytes_sent == 0


def test_local_failure_after_server_picked_the_version_is_inconclusive() -> None:
    # The server said yes to TLS 1.0; our client then balked (SHA-1 at security level 1+).
    with ssl_server("TLSv1", "TLSv1") as server:
        seen = probe_tls_version(server.address, server.port, "TLSv1",
                                 ciphers=OPENSSL_DEFAULT_CIPHERS)
    assert seen.outcome == "inconclusive"
    assert seen.server_answer.selected_version == "TLSv1"
    assert seen.ssl_reason == "LEGACY_SIGALG_DISALLOWED_OR_UNSUPPORTED"


@pytest.mark.parametrize("version", LEGACY)
def test_capability_holds_with_the_default_client(version: str) -> None:
    seen = client_capability(version)
    assert seen.capable, seen.detail
    assert seen.probe is not None and seen.probe.negotiated_version == version


@pytest.mark.parametrize("ciphers", [PYTHON_DEFAULT_CIPHERS, OPENSSL_DEFAULT_CIPHERS])
@pytest.mark.parametrize("version", LEGACY)
def test_capability_can_be_forced_to_fail(version: str, ciphers: str) -> None:
    seen = client_capability(version, ciphers=ciphers)
    assert seen.capable is False
    assert seen.probe is not None and seen.probe.outcome == "inconclusive"
    assert json.loads(json.dumps(seen.to_evidence()))["capable"] is False


def test_capability_is_cached_per_version_and_ciphers() -> None:
    first = client_capability("TLSv1.2")
    assert client_capability("TLSv1.2") is first
    assert client_capability("TLSv1.2", ciphers=PYTHON_DEFAULT_CIPHERS) is not first
    tls.clear_capability_cache()
    assert client_capability("TLSv1.2") is not first


def test_sni_is_sent_when_given_and_omitted_for_ip_literals() -> None:
    with ssl_server("TLSv1", "TLSv1.3") as server:
        named = probe_tls_version(server.address, server.port, "TLSv1",
                                  server_name=SERVER_NAME)
        bare = probe_tls_version(server.address, server.port, "TLSv1")
    assert (named.server_name, bare.server_name) == (SERVER_NAME, None)
    assert server.seen == [SERVER_NAME, None]


def test_deprecation_warning_stays_inside_the_probe() -> None:
    filters_before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ssl_server("TLSv1.2", "TLSv1.3") as server:
            probe_tls_version(server.address, server.port, "TLSv1")
            probe_tls_version(server.address, server.port, "TLSv1.1")
        after_probe_filters = list(warnings.filters)
    assert not [w for w in caught if "TLSVersion" in str(w.message)]
    assert after_probe_filters[1:] == filters_before  # only our own "always" was added
    assert warnings.filters == filters_before


def test_evidence_is_plain_json_and_names_what_was_sent() -> None:
    with ssl_server("TLSv1.2", "TLSv1.3") as server:
        evidence = probe_tls_version(server.address, server.port, "TLSv1").to_evidence()
    decoded = json.loads(json.dumps(evidence))
    assert decoded["outcome"] == "refused"
    assert "TLSv1" in decoded["sent"]
    assert decoded["server_answer"]["alert"] == "protocol_version"
    assert "OpenSSL" in decoded["openssl_version"]


@pytest.mark.parametrize("version", ["SSLv3", "TLSv1.0", "tls1", ""])
def test_unknown_version_is_a_value_error(version: str) -> None:
    with pytest.raises(ValueError):
        probe_tls_version("127.0.0.1", 443, version)


# -- parse_server_answer on hand-made records ------------------------------------------------


def _server_hello(legacy: int, supported: int | None = None) -> bytes:
    body = legacy.to_bytes(2, "big") + bytes(32) + b"\x00" + b"\xc0\x2f" + b"\x00"
    if supported is not None:
        ext = b"\x00\x2b\x00\x02" + supported.to_bytes(2, "big")
        body += len(ext).to_bytes(2, "big") + ext
    handshake = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + len(handshake).to_bytes(2, "big") + handshake


@pytest.mark.parametrize(
    ("data", "kind", "detail"),
    [
        (b"", "none", None),
        (b"\x15\x03\x01\x00\x02\x02\x46", "alert", "protocol_version"),
        (b"\x15\x03\x03\x00\x02\x02\x28", "alert", "handshake_failure"),
        (_server_hello(0x0301), "server_hello", "TLSv1"),
        (_server_hello(0x0303), "server_hello", "TLSv1.2"),
        (_server_hello(0x0303, 0x0304), "server_hello", "TLSv1.3"),
        (b"\x16\x03\x03\x00\x04\x0b\x00\x00\x00", "handshake_other", None),
        (b"HTTP/1.1 400 Bad Request\r\n", "not_tls", None),
        (b"\x16\x03", "partial", None),
        (_server_hello(0x0303, 0x0304)[:-3], "partial", None),  # cut inside the extension
    ],
)
def test_parse_server_answer(data: bytes, kind: str, detail: str | None) -> None:
    answer = parse_server_answer(data)
    assert answer.kind == kind
    assert (answer.alert or answer.selected_version) == detail
