"""Preflight (`pytest --cwh-doctor`): can each host be audited, and if not, what to fix.

For each host, in order, stopping at the first failure: the name resolves, the WinRM port
answers, its TLS certificate is trusted (https), the credentials work, the machine that
answers is the one the inventory means (cwh/identity.py, as the audit checks it), and the
account has the rights the collection needs. One line per host: OK with what was found, or the
problem and fix.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cwh.collect.document import DocumentError, parse_output
from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.collect.request import FactRequest
from cwh.collect.script import build_collector
from cwh.errors import HostError
from cwh.identity import EXPECTED_VAR, check_identity, claim_for
from cwh.inventory import ConnectionSettings, Target
from cwh.probes.certificate import inspect_certificate
from cwh.probes.tcp import check_port
from cwh.text import printable
from cwh.transport.session import PowerShellSession


@dataclass(frozen=True)
class Finding:
    host: str
    ok: bool
    message: str

    def line(self) -> str:
        return f"{'OK   ' if self.ok else 'FAIL '} {self.host}: {printable(self.message)}"


def _resolves(settings: ConnectionSettings) -> str | None:
    try:
        socket.getaddrinfo(settings.address, settings.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"cannot resolve {settings.address!r} ({exc.strerror or exc}): check " \
               "ansible_host or DNS"
    return None


def _port(settings: ConnectionSettings, timeout: float) -> str | None:
    observation = check_port(settings.address, settings.port, timeout)
    if observation.state == "open":
        return None
    hint = {"refused": "is WinRM listening there? (winrm quickconfig; 5985 http, 5986 https)",
            "filtered": "a firewall drops it, or the host is down"}.get(
        observation.state, "check the address and the network path")
    return f"WinRM port {settings.address}:{settings.port} {observation.state}: {hint}"


def _certificate(settings: ConnectionSettings, timeout: float) -> str | None:
    if settings.scheme != "https" or settings.server_cert_validation == "ignore":
        return None
    cert = inspect_certificate(settings.address, settings.port, server_name=settings.address,
                               ca_bundle=settings.ca_trust_path, timeout=timeout)
    if cert.error:
        return f"no TLS certificate from {settings.address}:{settings.port} ({cert.error}): " \
               "is this an HTTPS listener? (ansible_winrm_scheme)"
    problems = []
    if not cert.chain_valid:
        problems.append(f"not trusted ({cert.chain_error})")
    if not cert.hostname_matches:
        problems.append(f"issued for {', '.join(cert.sans) or cert.subject}, "
                        f"not {settings.address}")
    if cert.expired:
        problems.append(f"expired on {cert.not_after}")
    if problems:
        return "the WinRM certificate is " + "; ".join(problems) + ": set " \
               "ansible_winrm_ca_trust_path to its CA (or fix the listener's certificate)"
    return None


def _login_and_rights(target: Target) -> tuple[str | None, str]:
    """Run the collector for identity only: proves authentication and reports rights."""
    request = FactRequest(sections={"os", "identity"})
    session = PowerShellSession(target.connection)
    try:
        stdout, stderr, code = session.run_script(build_collector(request.to_json()))
        facts = HostFacts(target.name, parse_output(stdout, stderr, code))
        identity = facts.identity()
    except HostError as exc:
        return f"{exc.problem}" + (f": {exc.fix}" if exc.fix else ""), ""
    except (DocumentError, FactUnavailable) as exc:
        return f"logged on, but the collector's answer is unusable ({exc})", ""
    finally:
        session.close()
    # Whose facts are these? The audit refuses a host whose identity does not match, so the
    # doctor says so now, with the same reason and way out.
    check = check_identity(claim_for(target.name, target.connection.address,
                                     target.var(EXPECTED_VAR)), identity)
    if not check.confirmed:
        return check.reason("the audit would make every control Not_Reviewed"), ""
    who = identity.get("user") or target.connection.user
    if identity.get("is_admin") is not True:
        return (f"{who} is not a local administrator: secedit /export and other sections "
                "will fail; add the account to Administrators"), ""
    os_note = facts.os_summary()
    if facts.os_version is None:
        os_note += " (no Windows Server STIG mapped for this build: STIG IDs stay empty)"
    return None, f"{os_note}; {who} is a local administrator"


def check_host(target: Target, timeout: float = 5.0) -> Finding:
    settings = target.connection
    for step in (_resolves(settings), _port(settings, timeout),
                 _certificate(settings, timeout)):
        if step:
            return Finding(target.name, False, step)
    problem, summary = _login_and_rights(target)
    if problem:
        return Finding(target.name, False, problem)
    return Finding(target.name, True, f"{settings.transport} over {settings.scheme} to "
                                      f"{settings.address}:{settings.port}; {summary}")


def run_doctor(targets: Iterable[Target], workers: int = 16) -> list[Finding]:
    targets = sorted(targets, key=lambda t: t.name)
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(check_host, targets))
