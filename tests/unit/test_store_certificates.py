"""Certificates of LocalMachine\\My as Windows PowerShell 5.1 reports them (issue 10, item 20):
ECC keys have a size (PublicKey.Key throws for them on .NET 4.x), and the dates are .NET
round-trip strings (`...0000000Z`) that the lab writes and the suite reads exactly."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cwh import certs
from cwh.collect.facts import FactUnavailable, StoreCertificate
from cwh.collect.script import collector_body
from cwh.lab.emulator import run_collector
from cwh.lab.section_kit import Context, windows_round_trip
from tests.unit.helpers import facts, image, ok

ROUND_TRIP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7}Z")


def _function(name: str) -> str:
    body = collector_body()
    start = body.index(f"function {name} {{")
    return body[start:body.index("\n}\n", start)]


def test_the_collector_reads_key_sizes_without_publickey_key_first() -> None:
    key_size = _function("Get-CwhKeySize")
    assert "RSACertificateExtensions]::GetRSAPublicKey($Certificate)" in key_size
    assert "ECDsaCertificateExtensions]::GetECDsaPublicKey($Certificate)" in key_size
    # PublicKey.Key only as the last resort (DSA and the like), after both extension methods.
    assert key_size.index("PublicKey.Key") > key_size.index("GetECDsaPublicKey")
    listing = _function("Get-CwhCertificates")
    assert "PublicKey.Key" not in listing and "key_error" in listing


def test_round_trip_format() -> None:
    moment = dt.datetime(2027, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)
    assert windows_round_trip(moment) == "2027-03-04T05:06:07.1234560Z"
    assert windows_round_trip(moment.astimezone(dt.timezone(dt.timedelta(hours=2)))) == \
        "2027-03-04T05:06:07.1234560Z"


@pytest.fixture(scope="module")
def store() -> dict:
    ca = certs.make_ca()
    issued = {"ec": certs.issue(["sc.example"], ca=ca, key_type="ec", key_size=384),
              "rsa": certs.issue(["sc.example"], key_type="rsa", key_size=2048)}
    document = run_collector(image("hardened"), {"sections": ["certificates"]}, Context(issued))
    return {entry["lab_name"]: entry
            for entry in document["sections"]["certificates"]["data"]["certificates"]} | \
        {"_issued": issued, "_document": document}


def test_the_lab_writes_dates_the_way_windows_does(store: dict) -> None:
    for name in ("ec", "rsa"):
        assert ROUND_TRIP.fullmatch(store[name]["not_before"]), store[name]["not_before"]
        assert ROUND_TRIP.fullmatch(store[name]["not_after"])


@pytest.mark.parametrize(("name", "algorithm", "bits"), [("ec", "ECC", 384), ("rsa", "RSA", 2048)])
def test_store_certificates_are_read_with_their_dates_and_keys(store: dict, name: str,
                                                               algorithm: str, bits: int) -> None:
    host = facts(certificates=store["_document"]["sections"]["certificates"])
    issued = store["_issued"][name].certificate
    cert = host.store_certificate(store[name]["thumbprint"].lower())
    assert (cert.key_algorithm, cert.key_bits) == (algorithm, bits)
    assert (cert.not_before, cert.not_after) == (issued.not_valid_before_utc,
                                                 issued.not_valid_after_utc)
    assert cert.not_before.tzinfo is dt.UTC and cert.dns_names == ("sc.example",)


def _entry(**changes: object) -> dict:
    base = {"thumbprint": "AB" * 20, "subject": "CN=sc", "issuer": "CN=ca",
            "not_before": "2026-01-01T00:00:00.0000000Z",
            "not_after": "2027-01-01T00:00:00.0000000Z", "has_private_key": True,
            "dns_names": ["sc"], "key_algorithm": "ECC", "key_bits": 256, "key_error": None}
    return {**base, **changes}


def test_windows_dates_parse_exactly() -> None:
    cert = StoreCertificate.from_entry(_entry(not_after="2027-01-01T23:59:59.9999999Z"))
    assert cert.not_after == dt.datetime(2027, 1, 1, 23, 59, 59, 999999, tzinfo=dt.UTC)


@pytest.mark.parametrize("changes", [
    {"not_after": "2027-01-01T00:00:00.0000000"},  # no zone
    {"not_after": "\\/Date(1798761600000)\\/"},  # ConvertTo-Json's own DateTime form
    {"not_before": None},
    {"key_bits": "256"}, {"key_bits": True},
])
def test_garbled_certificate_answers_are_unavailable(changes: dict) -> None:
    with pytest.raises(FactUnavailable):
        StoreCertificate.from_entry(_entry(**changes))


def test_an_unreadable_key_is_a_null_size_not_a_weak_key() -> None:
    cert = StoreCertificate.from_entry(_entry(key_bits=None,
                                              key_error="The certificate key algorithm is "
                                                        "not supported."))
    assert cert.key_bits is None


def test_a_thumbprint_listed_twice_with_different_data_is_unavailable() -> None:
    host = facts(certificates=ok({"store": "LocalMachine\\My", "certificates": [
        _entry(), _entry(thumbprint="ab" * 20, not_after="2020-01-01T00:00:00.0000000Z")]}))
    with pytest.raises(FactUnavailable, match="listed twice"):
        host.certificates()


def test_a_missing_certificate_is_unavailable() -> None:
    host = facts(certificates=ok({"store": "LocalMachine\\My", "certificates": [_entry()]}))
    with pytest.raises(FactUnavailable, match="not in LocalMachine"):
        host.store_certificate("cd" * 20)
