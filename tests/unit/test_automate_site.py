"""Review of issue 13, finding 8: CWH-CWA-12 honours a declared TLS front end (as CWH-WEB-05
does for ScreenConnect) and checks the http.sys binding of the port the site is reached on."""

from __future__ import annotations

import copy

from cwh.judge import judge
from cwh.judge.verdict import Status
from cwh.probes.certificate import CertificateObservation
from tests.unit.helpers import CATALOG
from tests.unit.test_automate_judges import ADDRESS, automate, facts_for, runner

BOUND = "ef" * 20


def _served(port: int, host: str, sha1: str) -> CertificateObservation:
    return CertificateObservation(
        ADDRESS, port, host, "system", "2026-12-01T00:00:00Z", 30,
        subject=f"CN={host}", issuer="CN=Public CA", sans=(host,), san_dns=(host,),
        not_before="2026-01-01T00:00:00Z", not_after="2027-06-01T00:00:00Z", days_left=180,
        sha256="ab" * 32, sha1=sha1, key_type="RSA", key_bits=2048, key_strong_enough=True,
        self_signed=False, chain_valid=True, hostname_matches=True)


def _cwa12(endpoint: str, inputs: dict, port: int, served_sha1: str):
    image = automate()
    sslcert = copy.deepcopy(image.data["http_sslcert"])
    sslcert["bindings"] = [{"endpoint": endpoint, "cert_hash": BOUND}]
    image.data["http_sslcert"] = sslcert
    facts = facts_for(image)
    facts.document["sections"]["certificates"] = {"ok": True, "ms": 1, "data": {
        "store": "LocalMachine\\My", "certificates": [{"thumbprint": BOUND.upper(),
                                                       "subject": "CN=cwa-internal"}]}}
    view = runner(facts, **inputs)
    view.adopt({("cert", port): _served(port, "cwa.example.com", served_sha1)})
    return judge(CATALOG["CWH-CWA-12"], facts, inputs, view)


def test_a_declared_front_end_serving_its_own_certificate_is_judged_on_it() -> None:
    inputs = {"cwh_automate_url": "https://cwa.example.com/", "cwh_tls_front_end": True}
    result = _cwa12("0.0.0.0:443", inputs, 443, "cd" * 20)
    assert result.status is Status.NOT_A_FINDING, result.reason
    assert "declared front end (cwh_tls_front_end) serves its own certificate" in result.reason


def test_without_a_front_end_another_certificate_is_still_open() -> None:
    inputs = {"cwh_automate_url": "https://cwa.example.com/"}
    result = _cwa12("0.0.0.0:443", inputs, 443, "cd" * 20)
    assert result.status is Status.OPEN, result.reason


def test_the_binding_of_the_urls_port_is_checked_not_443() -> None:
    inputs = {"cwh_automate_url": "https://cwa.example.com:8443/"}
    result = _cwa12("0.0.0.0:8443", inputs, 8443, BOUND)
    assert result.status is Status.NOT_A_FINDING, result.reason
    assert "binding port 8443" in result.reason
