"""Turn pywinrm / requests exceptions into one line naming the host, the problem and the fix.

pywinrm raises its own classes for WS-Management problems but lets requests' exceptions through
unwrapped (refused, timeout, TLS), so both families are mapped here.
"""

from __future__ import annotations

import re

import requests
from winrm import exceptions as winrm_exc

from cwh.errors import HostError
from cwh.inventory import ConnectionSettings


class CommandTimeout(Exception):
    """The remote command did not finish before the suite's own deadline."""


class OutputTooLarge(Exception):
    """The remote command wrote more than the suite accepts; it was stopped."""


class EnvelopeTooLarge(Exception):
    """The suite built a WS-Management request over its own envelope limit (never sent)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"{size} bytes, over {limit}")
        self.size = size
        self.limit = limit


# HTTP 413 is how Windows refuses a request over MaxEnvelopeSizekb; its own client reports it as
# ERROR_WSMAN_HTTP_REQUEST_TOO_LARGE_STATUS (0x80338111) with these words.
REQUEST_TOO_LARGE = "the request size exceeded the configured MaxEnvelopeSize quota"


def _clean(text: str, secret: str, limit: int = 180) -> str:
    text = re.sub(r"\s+", " ", str(text)).strip()
    if secret:
        text = text.replace(secret, "***")
    return text if len(text) <= limit else text[:limit] + "..."


def _ssl_reason(exc: BaseException, secret: str) -> str:
    text = str(exc)
    for pattern in (r"certificate verify failed: ([^()'\"]+)", r"\[SSL: ([A-Z_]+)\]"):
        match = re.search(pattern, text)
        if match:
            return _clean(match.group(1).strip().rstrip("."), secret)
    return _clean(text, secret)


def describe(exc: BaseException, settings: ConnectionSettings) -> HostError:
    """The HostError a user sees for a connection or protocol failure."""
    host, where = settings.name, f"{settings.address}:{settings.port}"
    secret = settings.password
    if isinstance(exc, HostError):
        return exc
    if isinstance(exc, CommandTimeout):
        return HostError(host, "the fact collection did not finish within "
                               f"{settings.command_timeout_sec} s",
                         "the command was stopped; raise cwh_command_timeout_sec if the host is "
                         "slow, or check it for a hung PowerShell")
    if isinstance(exc, OutputTooLarge):
        return HostError(host, f"the host's answer was too large ({exc})",
                         "check the host for runaway output; the command was stopped")
    if isinstance(exc, EnvelopeTooLarge):
        return HostError(host, f"the suite built a {exc.size}-byte WS-Management request, over "
                               f"the {exc.limit} bytes it keeps every request to; nothing was "
                               "sent", "please report this: it is a defect in the suite")
    if isinstance(exc, (winrm_exc.WSManFaultError, winrm_exc.WinRMTransportError)) and \
            exc.code == 413:
        return HostError(host, f"the WinRM service at {where} refused a request as too large "
                               f"(HTTP 413: {REQUEST_TOO_LARGE})",
                         "the suite keeps every request under 150 KiB; set "
                         "WSMan:\\localhost\\MaxEnvelopeSizekb on the host to at least 150 "
                         "(the Windows default is 500)")
    if isinstance(exc, winrm_exc.InvalidCredentialsError):
        return HostError(host, f"authentication failed for user '{settings.user}' "
                               f"({settings.transport} over {settings.scheme})",
                         "check ansible_user / ansible_password and that the WinRM service "
                         f"accepts the {settings.transport} transport")
    if isinstance(exc, winrm_exc.WSManFaultError):
        reason = _clean(exc.reason or "", secret)
        if (exc.fault_subcode or "").endswith("AccessDenied"):
            return HostError(host, f"WinRM refused access: {reason}",
                             "the account must be a local administrator (secedit needs it)")
        return HostError(host, f"WS-Management fault {exc.wsman_fault_code}: {reason}",
                         "see the WinRM event log on the host")
    if isinstance(exc, winrm_exc.WinRMTransportError):
        body = _clean(exc.response_text or "", secret, 120)
        return HostError(host, f"the WinRM endpoint {settings.endpoint} answered HTTP {exc.code}"
                               + (f": {body}" if body else ""),
                         "check that this is a WinRM listener and that message encryption or "
                         "the scheme matches its configuration")
    if isinstance(exc, winrm_exc.WinRMError):
        text = _clean(str(exc), secret)
        if "kerberos" in text.lower():
            return HostError(host, text, "pip install 'pywinrm[kerberos]' and run kinit")
        if "credssp" in text.lower():
            return HostError(host, text, "pip install 'pywinrm[credssp]'")
        return HostError(host, f"WinRM error: {text}", "check the connection variables")
    if isinstance(exc, requests.exceptions.SSLError):
        reason = _ssl_reason(exc, secret)
        if "verify failed" in str(exc) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return HostError(host, f"TLS certificate verification failed at {where}: {reason}",
                             "set ansible_winrm_ca_trust_path to the CA that issued the WinRM "
                             "certificate (ansible_winrm_server_cert_validation: ignore only "
                             "for a lab)")
        return HostError(host, f"TLS handshake with {where} failed: {reason}",
                         "check ansible_winrm_scheme and that the port is an HTTPS listener")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return HostError(host, f"no answer from {where} within {settings.read_timeout_sec} s "
                               "(host down or port filtered)",
                         "check ansible_host / ansible_port and firewalls between runner and host")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return HostError(host, f"{where} accepted the connection but did not answer within "
                               f"{settings.read_timeout_sec} s",
                         "check the WinRM service on the host; raise "
                         "ansible_winrm_read_timeout_sec for slow links")
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "Name or service not known" in text or "getaddrinfo failed" in text or \
                "Temporary failure in name resolution" in text or "nodename nor servname" in text:
            return HostError(host, f"cannot resolve host name {settings.address!r}",
                             "check ansible_host or DNS")
        if "Connection refused" in text or "ECONNREFUSED" in text or "actively refused" in text:
            return HostError(host, f"connection refused at {where}",
                             "check that WinRM listens there (5985 http, 5986 https; "
                             "winrm quickconfig)")
        if "RemoteDisconnected" in text or "Connection aborted" in text or \
                "Connection reset" in text:
            return HostError(host, f"{where} closed the connection without answering",
                             "check that the port is a WinRM listener and the scheme is right")
        return HostError(host, f"cannot connect to {where}: {_clean(text, secret, 120)}",
                         "check ansible_host / ansible_port and the network path")
    if isinstance(exc, requests.exceptions.RequestException):
        return HostError(host, f"HTTP error talking to {where}: {_clean(str(exc), secret)}",
                         "check the connection variables")
    if isinstance(exc, OSError):
        return HostError(host, f"{exc.__class__.__name__}: {_clean(str(exc), secret)}",
                         "check certificate and key paths in the inventory")
    return HostError(host, f"unexpected {exc.__class__.__name__}: {_clean(str(exc), secret)}",
                     "please report this with the host's WinRM configuration")
