"""inspect_certificate against lab endpoints serving good and bad certificates."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from cwh.certs import Issued, issue
from cwh.lab.listeners import ClosedPort, TcpListener
from cwh.probes.certificate import (
    CertificateObservation,
    dns_name_matches,
    hostname_matches,
    inspect_certificate,
    is_self_signed,
    key_strong_enough,
)
from tests.probes.probe_helpers import (
    SERVER_NAME,
    lab_ca,
    leaf,
    leaf_valid_between,
    next_address,
    raw_server,
    ssl_server,
    stay_silent,
    utcnow,
    web_endpoint,
)


def _inspect(cert: Issued, *, server_name: str = SERVER_NAME, trusted: bool = True,
             **kwargs: object) -> CertificateObservation:
    ca_bundle = lab_ca().bundle if trusted else None
    with web_endpoint(tls=cert) as web:
        return inspect_certificate(web.address, web.port, server_name=server_name,
                                   ca_bundle=ca_bundle, timeout=3.0, **kwargs)


def test_valid_certificate_from_a_trusted_ca() -> None:
    cert = leaf()
    seen = _inspect(cert)
    assert seen.error is None
    assert seen.chain_valid is True and seen.chain_error is None
    assert seen.hostname_matches is True
    assert (seen.expired, seen.not_yet_valid, seen.expiring_soon) == (False, False, False)
    assert (seen.key_type, seen.key_bits, seen.key_strong_enough) == ("RSA", 2048, True)
    assert seen.self_signed is False
    assert seen.sha256 == hashlib.sha256(cert.cert_der).hexdigest()
    assert seen.sha1 == hashlib.sha1(cert.cert_der).hexdigest()
    assert seen.serial == format(cert.certificate.serial_number, "x")
    assert seen.subject == f"CN={SERVER_NAME}"
    assert seen.issuer == "CN=CWH Probe Test CA"
    assert seen.sans == (f"DNS:{SERVER_NAME}", "IP:127.0.0.1")
    assert 363 <= seen.days_left <= 365
    assert seen.not_after == cert.certificate.not_valid_after_utc.isoformat()


def test_same_certificate_is_untrusted_against_the_system_store() -> None:
    seen = _inspect(leaf(), trusted=False)
    assert seen.chain_valid is False
    assert seen.chain_error == "unable to get local issuer certificate"
    assert seen.hostname_matches is True  # computed independently of the chain


def test_expired_certificate() -> None:
    now = utcnow()
    seen = _inspect(leaf_valid_between(now - dt.timedelta(days=400), now - dt.timedelta(days=2)))
    assert seen.expired is True
    assert seen.days_left < 0
    assert seen.chain_valid is False
    assert seen.chain_error == "certificate has expired"


def test_not_yet_valid_certificate() -> None:
    now = utcnow()
    seen = _inspect(leaf_valid_between(now + dt.timedelta(days=2), now + dt.timedelta(days=300)))
    assert seen.not_yet_valid is True and seen.expired is False
    assert seen.chain_valid is False
    assert seen.chain_error == "certificate is not yet valid"


def test_wrong_host_name_with_a_valid_chain() -> None:
    seen = _inspect(leaf(("other.lab.test",)))
    assert seen.hostname_matches is False
    assert seen.chain_valid is True
    assert seen.san_dns == ("other.lab.test",)


def test_ip_address_server_name_matches_ip_san_only() -> None:
    assert _inspect(leaf(), server_name="127.0.0.1").hostname_matches is True
    assert _inspect(leaf((SERVER_NAME,)), server_name="127.0.0.1").hostname_matches is False


def test_self_signed_certificate() -> None:
    seen = _inspect(leaf(self_signed=True))
    assert seen.self_signed is True
    assert seen.chain_valid is False
    assert seen.chain_error == "self-signed certificate"
    assert seen.subject == seen.issuer


@pytest.mark.parametrize(
    ("key_type", "key_size", "strong"),
    [("rsa", 1024, False), ("rsa", 2048, True), ("ec", 256, True), ("ec", 384, True)],
)
def test_key_strength(key_type: str, key_size: int, strong: bool) -> None:
    seen = _inspect(leaf(key_type=key_type, key_size=key_size))
    assert seen.error is None, seen.error
    assert seen.key_type == key_type.upper()
    assert seen.key_bits == key_size
    assert seen.key_strong_enough is strong


def test_expiring_in_ten_days_warns_at_thirty() -> None:
    now = utcnow()
    cert = leaf_valid_between(now - dt.timedelta(days=80), now + dt.timedelta(days=10))
    with web_endpoint(tls=cert) as web:
        soon = inspect_certificate(web.address, web.port, server_name=SERVER_NAME,
                                   ca_bundle=lab_ca().bundle, warn_days=30, now=now)
        relaxed = inspect_certificate(web.address, web.port, server_name=SERVER_NAME,
                                      ca_bundle=lab_ca().bundle, warn_days=5, now=now)
    assert soon.expiring_soon is True and soon.expired is False and soon.chain_valid is True
    assert soon.days_left in (9, 10)
    assert relaxed.expiring_soon is False


def test_now_is_used_for_validity_judgements() -> None:
    cert = leaf()
    later = cert.certificate.not_valid_after_utc + dt.timedelta(days=1)
    seen = _inspect(cert, now=later)
    assert seen.expired is True and seen.days_left == -1
    assert seen.checked_at == later.isoformat()


def test_certificate_is_fetched_from_a_tls10_only_server() -> None:
    with ssl_server("TLSv1", "TLSv1", cert=leaf()) as server:
        seen = inspect_certificate(server.address, server.port, server_name=SERVER_NAME,
                                   ca_bundle=lab_ca().bundle)
    assert seen.error is None
    assert seen.tls_version == "TLSv1"
    assert seen.chain_valid is True


def test_refused_port_reports_an_error_and_no_facts() -> None:
    with ClosedPort(next_address()) as closed:
        seen = inspect_certificate(closed.address, closed.port, server_name=SERVER_NAME)
    assert seen.error is not None and "refused" in seen.error
    assert seen.sha256 is None and seen.chain_valid is None and seen.expired is None


def test_plain_tcp_port_is_not_tls() -> None:
    with TcpListener(next_address(), idle_timeout=0.3) as listener:
        seen = inspect_certificate(listener.address, listener.port, server_name=SERVER_NAME,
                                   timeout=2.0)
    assert seen.error is not None and seen.error.startswith("TLS handshake failed")
    assert seen.subject is None


def test_plain_http_port_is_not_tls() -> None:
    with web_endpoint() as web:
        seen = inspect_certificate(web.address, web.port, server_name=SERVER_NAME, timeout=2.0)
    assert seen.error is not None and "TLS handshake failed" in seen.error


def test_silent_server_times_out_within_the_timeout() -> None:
    with raw_server(stay_silent) as server:
        seen = inspect_certificate(server.address, server.port, server_name=SERVER_NAME,
                                   timeout=0.6)
    assert seen.error is not None and "timeout" in seen.error
    assert seen.elapsed_ms < 1100


def test_evidence_is_plain_json() -> None:
    decoded = json.loads(json.dumps(_inspect(leaf()).to_evidence()))
    assert decoded["chain_valid"] is True
    assert decoded["sans"] == [f"DNS:{SERVER_NAME}", "IP:127.0.0.1"]
    assert decoded["probe"] == "tls_certificate"


def test_bad_arguments_raise_value_error() -> None:
    with pytest.raises(ValueError):
        inspect_certificate("127.0.0.1", 443, server_name="")
    with pytest.raises(ValueError):
        inspect_certificate("127.0.0.1", 443, server_name="x", now=dt.datetime(2025, 1, 1))


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("sc.example.com", "sc.example.com", True),
        ("SC.Example.COM.", "sc.example.com", True),
        ("*.example.com", "sc.example.com", True),
        ("*.example.com", "a.b.example.com", False),
        ("*.example.com", "example.com", False),
        ("*.com", "example.com", False),
        ("s*.example.com", "sc.example.com", False),
        ("*.*.example.com", "a.b.example.com", False),
        ("other.example.com", "sc.example.com", False),
    ],
)
def test_dns_name_matching(pattern: str, name: str, matches: bool) -> None:
    assert dns_name_matches(pattern, name) is matches


def test_hostname_matching_uses_ip_sans_for_ip_names() -> None:
    assert hostname_matches("10.0.0.5", ("10.0.0.5",), ()) is False
    assert hostname_matches("10.0.0.5", (), ("10.0.0.5",)) is True
    assert hostname_matches("[2001:db8::1]", (), ("2001:db8:0::1",)) is True
    assert hostname_matches("sc.example.com", (), ("10.0.0.5",)) is False


@pytest.mark.parametrize(
    ("key_type", "bits", "strong"),
    [("RSA", 1024, False), ("RSA", 2048, True), ("RSA", 4096, True), ("EC", 224, False),
     ("EC", 256, True), ("Ed25519", 256, True), ("DSA", 2048, False), ("Unknown", None, None)],
)
def test_key_strength_rule(key_type: str, bits: int | None, strong: bool | None) -> None:
    assert key_strong_enough(key_type, bits) is strong


def test_self_issued_by_another_key_is_not_self_signed() -> None:
    ca = lab_ca().issued
    impostor = issue(["CWH Probe Test CA"], ca=ca)  # subject CN equals the issuer CN
    assert impostor.certificate.subject == ca.certificate.subject
    assert is_self_signed(impostor.certificate) is False
    assert is_self_signed(ca.certificate) is True
