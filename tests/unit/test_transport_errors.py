"""cwh.transport.errors.describe: real pywinrm / requests exceptions -> one line naming the host,
the problem and the fix, and never the password."""

from __future__ import annotations

import socket

import pytest
import requests
import urllib3
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError
from winrm import exceptions as winrm_exc

from cwh.errors import HostError
from cwh.inventory import ConnectionSettings
from cwh.transport.errors import CommandTimeout, EnvelopeTooLarge, OutputTooLarge, describe

PASSWORD = "Zebra-Staple-7741!"
SETTINGS = ConnectionSettings(name="sc-prod-01", address="10.20.30.40", port=5986,
                              scheme="https", transport="ntlm", user="CORP\\auditor",
                              password=PASSWORD, read_timeout_sec=30, operation_timeout_sec=20,
                              command_timeout_sec=120)


def _pool_error(reason: Exception) -> MaxRetryError:
    pool = urllib3.HTTPSConnectionPool("10.20.30.40", 5986)
    return MaxRetryError(pool, "/wsman", reason)


def _conn() -> urllib3.connection.HTTPSConnection:
    return urllib3.connection.HTTPSConnection("10.20.30.40", 5986)


def refused_for_real() -> requests.exceptions.ConnectionError:
    """The exception requests raises for a port nobody listens on (loopback, immediate)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        requests.post(f"http://127.0.0.1:{port}/wsman", data=b"", timeout=2)
    except requests.exceptions.ConnectionError as exc:
        return exc
    raise AssertionError("something listens on a port that was just closed")


CASES = {
    "invalid-credentials": (
        winrm_exc.InvalidCredentialsError(
            f"the specified credentials were rejected by the server ({PASSWORD})"),
        "authentication failed for user 'CORP\\auditor' (ntlm over https)",
        "check ansible_user / ansible_password"),
    "access-denied": (
        winrm_exc.WSManFaultError(
            500, "Bad HTTP response returned from server. Code 500", "<s:Envelope/>",
            f"Access is denied. (user CORP\\auditor, password {PASSWORD})",
            fault_code="s:Sender", fault_subcode="w:AccessDenied", wsman_fault_code=5),
        "WinRM refused access: Access is denied.",
        "must be a local administrator"),
    "wsman-fault": (
        winrm_exc.WSManFaultError(
            500, "Bad HTTP response returned from server. Code 500", "<s:Envelope/>",
            f"The WS-Management service cannot process the request {PASSWORD}",
            fault_code="s:Receiver", fault_subcode="w:InternalError",
            wsman_fault_code=2150858770),
        "WS-Management fault 2150858770",
        "see the WinRM event log"),
    "transport-error": (
        winrm_exc.WinRMTransportError("http", 500, f"<html><body>Server Error {PASSWORD}"
                                                   "</body></html>"),
        "the WinRM endpoint https://10.20.30.40:5986/wsman answered HTTP 500",
        "message encryption or the scheme"),
    "kerberos": (
        winrm_exc.WinRMError(f"requested auth method is kerberos, but pykerberos is not "
                             f"installed ({PASSWORD})"),
        "kerberos", "pip install 'pywinrm[kerberos]'"),
    "refused": (
        requests.exceptions.ConnectionError(_pool_error(NewConnectionError(
            _conn(), f"Failed to establish a new connection: [Errno 111] Connection refused "
                     f"{PASSWORD}"))),
        "connection refused at 10.20.30.40:5986", "winrm quickconfig"),
    "name-resolution": (
        requests.exceptions.ConnectionError(_pool_error(NameResolutionError(
            "10.20.30.40", _conn(), socket.gaierror(-2, f"Name or service not known {PASSWORD}")
        ))),
        "cannot resolve host name '10.20.30.40'", "check ansible_host or DNS"),
    "connect-timeout": (
        requests.exceptions.ConnectTimeout(_pool_error(urllib3.exceptions.ConnectTimeoutError(
            _conn(), f"Connection to 10.20.30.40 timed out. (connect timeout=30) {PASSWORD}"))),
        "no answer from 10.20.30.40:5986 within 30 s (host down or port filtered)",
        "firewalls between runner and host"),
    "read-timeout": (
        requests.exceptions.ReadTimeout(
            f"HTTPSConnectionPool(host='10.20.30.40', port=5986): Read timed out. "
            f"(read timeout=30) {PASSWORD}"),
        "10.20.30.40:5986 accepted the connection but did not answer within 30 s",
        "raise ansible_winrm_read_timeout_sec"),
    "self-signed": (
        requests.exceptions.SSLError(_pool_error(urllib3.exceptions.SSLError(
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed "
            "certificate (_ssl.c:1006)"))),
        "TLS certificate verification failed at 10.20.30.40:5986: self-signed certificate",
        "set ansible_winrm_ca_trust_path"),
    "wrong-version": (
        requests.exceptions.SSLError(_pool_error(urllib3.exceptions.SSLError(
            "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"))),
        "TLS handshake with 10.20.30.40:5986 failed: WRONG_VERSION_NUMBER",
        "check ansible_winrm_scheme"),
    "reset": (
        requests.exceptions.ConnectionError(
            f"('Connection aborted.', RemoteDisconnected('Remote end closed connection without "
            f"response')) {PASSWORD}"),
        "10.20.30.40:5986 closed the connection without answering",
        "the scheme is right"),
    "other-connection-error": (
        requests.exceptions.ConnectionError(f"[Errno 113] No route to host {PASSWORD}"),
        "cannot connect to 10.20.30.40:5986: [Errno 113] No route to host",
        "the network path"),
    "command-timeout": (
        CommandTimeout(), "did not finish within 120 s", "raise cwh_command_timeout_sec"),
    "output-too-large": (
        OutputTooLarge("more than 64 MiB"), "too large (more than 64 MiB)", "runaway output"),
    # Windows refuses a request over MaxEnvelopeSizekb with HTTP 413 and no SOAP fault.
    "request-too-large": (
        winrm_exc.WinRMTransportError("http", 413, ""),
        "the WinRM service at 10.20.30.40:5986 refused a request as too large (HTTP 413: the "
        "request size exceeded the configured MaxEnvelopeSize quota)",
        "set WSMan:\\localhost\\MaxEnvelopeSizekb on the host to at least 150"),
    "request-too-large-fault": (
        winrm_exc.WSManFaultError(
            413, "Bad HTTP response returned from server. Code 413", "<s:Envelope/>",
            f"too large {PASSWORD}", fault_code="s:Sender", fault_subcode="w:EncodingLimit"),
        "refused a request as too large (HTTP 413", "MaxEnvelopeSizekb on the host"),
    "envelope-over-own-limit": (
        EnvelopeTooLarge(200000, 145408),
        "the suite built a 200000-byte WS-Management request, over the 145408 bytes it keeps "
        "every request to; nothing was sent", "a defect in the suite"),
    "certificate-file": (
        FileNotFoundError(2, f"No such file or directory: '/etc/winrm/{PASSWORD}.pem'"),
        "FileNotFoundError", "check certificate and key paths"),
    "unexpected": (
        RuntimeError(f"boom {PASSWORD}"), "unexpected RuntimeError: boom",
        "please report this"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_describe(case: str) -> None:
    exc, problem, fix = CASES[case]
    error = describe(exc, SETTINGS)
    message = str(error)
    assert isinstance(error, HostError)
    assert error.host == "sc-prod-01" and message.startswith("sc-prod-01: ")
    assert problem in message
    assert error.fix and fix in error.fix and f"({error.fix})" in message
    assert PASSWORD not in message
    assert "\n" not in message


def test_the_password_really_is_in_the_exception_texts() -> None:
    """Keeps test_describe honest: the secret is there to leak."""
    leaky = [c for c, (exc, _, _) in CASES.items() if PASSWORD in str(exc)
             or PASSWORD in str(getattr(exc, "reason", "")) or
             PASSWORD in str(getattr(exc, "response_text", ""))]
    assert len(leaky) >= 12


def test_real_connection_refused() -> None:
    exc = refused_for_real()
    settings = ConnectionSettings(name="lab-1", address="127.0.0.1", port=5985, scheme="http",
                                  transport="ntlm", user="auditor", password=PASSWORD)
    error = describe(exc, settings)
    assert str(error).startswith("lab-1: connection refused at 127.0.0.1:5985")


def test_host_error_passes_through() -> None:
    original = HostError("sc-prod-01", "already described", "nothing to do")
    assert describe(original, SETTINGS) is original


def test_long_texts_are_cut() -> None:
    error = describe(RuntimeError("x" * 1000), SETTINGS)
    assert len(str(error)) < 400 and "..." in str(error)


def test_unrecognised_ssl_error_does_not_leak_the_password() -> None:
    exc = requests.exceptions.SSLError(f"EOF occurred in violation of protocol {PASSWORD}")
    assert PASSWORD not in str(describe(exc, SETTINGS))


def test_pywinrm_sessions_never_read_the_environment():
    """pytest rewrites os.environ in the main thread while hosts are gathered in threads; a
    session that consults it per request can die of KeyError. The suite uses no proxy for
    WinRM, so the environment has nothing to give."""
    from winrm.protocol import Protocol

    import cwh.transport.session  # noqa: F401  (installs the session class pywinrm uses)

    protocol = Protocol("http://127.0.0.1:5985/wsman", transport="basic", username="u",
                        password="p", server_cert_validation="ignore", proxy=None)
    session = protocol.transport.build_session()
    assert session.trust_env is False
