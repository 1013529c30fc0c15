"""Preflight (`pytest --cwh-doctor`): can each host be audited, and if not, what to fix.

For a WinRM host, in order, stopping at the first failure: the name resolves, the WinRM port
answers, its TLS certificate is trusted (https), the credentials work, the machine that answers
is the one the inventory means (cwh/identity.py, as the audit checks it), and the account has
the rights the collection needs. Then, for every host, the probe targets: the web URL's connect
address resolves, the web and relay ports accept a connection where the inventory says the
server is reached, and an https URL completes a TLS handshake. A `cwh_access: network` host is
checked for the probe targets only (it has no WinRM side).

One line per problem: FAIL where the host cannot be audited (for a network-only host, a web
endpoint the runner cannot reach), WARN where the audit runs but the runner's view will be
wrong or empty (a WinRM host's probes, a relay port that does not answer, which may also be
what CWH-NET-02 reports). A host with no FAIL is ready, and prints OK with what was found.
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
from cwh.probes._net import Deadline, ResolveError, ip_literal, resolve
from cwh.probes.certificate import inspect_certificate
from cwh.probes.runner import Endpoint, RunnerView
from cwh.probes.tcp import PortObservation, check_port
from cwh.text import printable
from cwh.transport.session import PowerShellSession

FAIL, WARN = "FAIL", "WARN"


@dataclass(frozen=True)
class Problem:
    level: str  # FAIL | WARN
    message: str


@dataclass(frozen=True)
class Finding:
    host: str
    ok: bool
    message: str
    more: tuple[Problem, ...] = ()  # further problems, one line each

    def line(self) -> str:
        """The host's lines: its verdict first (OK, or its first FAIL), then one per further
        problem."""
        lines = [f"{'OK   ' if self.ok else 'FAIL '} {self.host}: {printable(self.message)}"]
        lines += [f"{p.level:<5} {self.host}: {printable(p.message)}" for p in self.more]
        return "\n".join(lines)


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


def _login_and_rights(target: Target) -> tuple[str | None, str, HostFacts | None]:
    """Run the collector for identity (and web.config, for the probe targets) only: proves
    authentication and reports rights."""
    request = FactRequest(sections={"os", "identity", "screenconnect"})
    session = PowerShellSession(target.connection)
    try:
        stdout, stderr, code = session.run_script(build_collector(request.to_json()))
        facts = HostFacts(target.name, parse_output(stdout, stderr, code))
        identity = facts.identity()
    except HostError as exc:
        return f"{exc.problem}" + (f": {exc.fix}" if exc.fix else ""), "", None
    except (DocumentError, FactUnavailable) as exc:
        return f"logged on, but the collector's answer is unusable ({exc})", "", None
    finally:
        session.close()
    # Whose facts are these? The audit refuses a host whose identity does not match, so the
    # doctor says so now, with the same reason and way out (and probes nothing that machine's
    # web.config points at).
    check = check_identity(claim_for(target.name, target.connection.address,
                                     target.var(EXPECTED_VAR)), identity)
    if not check.confirmed:
        return check.reason("the audit would make every control Not_Reviewed"), "", None
    who = identity.get("user") or target.connection.user
    if identity.get("is_admin") is not True:
        return (f"{who} is not a local administrator: secedit /export and other sections "
                "will fail; add the account to Administrators"), "", facts
    os_note = facts.os_summary()
    if facts.os_version is None:
        os_note += " (no Windows Server STIG mapped for this build: STIG IDs stay empty)"
    return None, f"{os_note}; {who} is a local administrator", facts


# --- the probe targets ------------------------------------------------------------------------

def _hint(target: Target, what: str) -> str:
    """Which inventory variables decide where the runner connects for `what`."""
    if what == "relay":
        return "cwh_relay_port / cwh_port_map, or is the ScreenConnect Relay service stopped?"
    if target.var("cwh_web_url"):
        return "cwh_web_url / cwh_probe_address / cwh_port_map"
    return "cwh_probe_address / cwh_port_map (or set cwh_web_url, the URL users open)"


def _resolve_problem(address: str, timeout: float) -> str | None:
    if ip_literal(address) is not None:
        return None
    try:
        resolve(address, 1, Deadline(timeout))
    except (ResolveError, OSError) as exc:
        return f"cannot resolve {address!r} ({exc}): set cwh_probe_address to the address " \
               "users reach, or fix DNS"
    return None


def probe_problems(runner: RunnerView, *, blocking: str) -> tuple[list[Problem], str]:
    """The probe targets of one host: problems (the web side at level `blocking`, the relay a
    WARN) and, when all is well, what was reached."""
    target, timeout = runner.target, runner.timeout
    web, relay = runner.web(), runner.relay()
    if web.unknown:
        return [Problem(WARN, f"the web endpoint is unknown ({web.unknown})")], ""
    for address in dict.fromkeys((web.address, relay.address)):
        if (problem := _resolve_problem(address, timeout)) is not None:
            return [Problem(blocking, problem)], ""
    web_tcp = check_port(web.address, web.connect_port, timeout)
    relay_tcp = None if relay.unknown else check_port(relay.address, relay.connect_port, timeout)
    problems: list[Problem] = []
    if web_tcp.state != "open" and relay_tcp is not None and relay_tcp.state != "open" and \
            web.address == relay.address:
        # One wrong address, not two problems.
        where = "cwh_probe_address" + ("" if target.var("cwh_probe_address") else
                                       " / ansible_host")
        return [Problem(blocking, f"nothing answers at {web.address} (web :{web.connect_port} "
                                  f"{web_tcp.state}, relay :{relay.connect_port} "
                                  f"{relay_tcp.state}): check {where}")], ""
    reached = []
    if web_tcp.state != "open":
        problems.append(Problem(blocking, _port_problem("web", web, web_tcp,
                                                        _hint(target, "web"))))
    elif web.scheme == "https":
        cert = inspect_certificate(web.address, web.connect_port, server_name=web.host,
                                   timeout=timeout)
        if cert.error:
            problems.append(Problem(blocking, f"web {web.describe().partition('; ')[0]}: TLS "
                                              f"handshake failed ({cert.error}): is it https? "
                                              "(check the scheme of cwh_web_url)"))
        else:
            reached.append(f"web {web.describe().partition('; ')[0]} ({cert.tls_version})")
    else:
        reached.append(f"web {web.describe().partition('; ')[0]}")
    if relay_tcp is not None and relay_tcp.state != "open":
        problems.append(Problem(WARN, _port_problem("relay", relay, relay_tcp,
                                                    _hint(target, "relay"))))
    elif relay_tcp is not None:
        reached.append(f"relay {relay.address}:{relay.connect_port} open")
    return problems, "probes: " + "; ".join(reached)


def _port_problem(what: str, endpoint: Endpoint, seen: PortObservation, hint: str) -> str:
    where, _, origin = endpoint.describe().partition("; ")
    return f"{what} {where} {seen.state} ({seen.detail}; from {origin}): check {hint}"


def check_host(target: Target, timeout: float = 5.0) -> Finding:
    if target.network_only:
        runner = RunnerView(target, HostFacts(target.name, {"sections": {}}))
        problems, reached = probe_problems(runner, blocking=FAIL)
        return _finding(target.name, "network only (cwh_access: network), no WinRM", problems,
                        reached)
    settings = target.connection
    problem, summary, facts = None, "", None
    for step in (_resolves(settings), _port(settings, timeout), _certificate(settings, timeout)):
        if step:
            problem = step
            break
    if problem is None:
        problem, summary, facts = _login_and_rights(target)
    problems = [Problem(FAIL, problem)] if problem else []
    reached = ""
    if facts is not None or target.var("cwh_web_url"):
        # Without the host's web.config only an inventory URL tells where to probe.
        probes, reached = probe_problems(
            RunnerView(target, facts or HostFacts.failed(target.name, problem or "")),
            blocking=WARN)
        problems += probes
    summary = f"{settings.transport} over {settings.scheme} to {settings.address}:" \
              f"{settings.port}; {summary}"
    return _finding(target.name, summary, problems, reached)


def _finding(host: str, summary: str, problems: list[Problem], reached: str) -> Finding:
    failed = [p for p in problems if p.level == FAIL]
    if failed:
        first = failed[0]
        return Finding(host, False, first.message, tuple(p for p in problems if p is not first))
    message = f"{summary}; {reached}" if reached else summary
    return Finding(host, True, message, tuple(problems))


def run_doctor(targets: Iterable[Target], workers: int = 16) -> list[Finding]:
    targets = sorted(targets, key=lambda t: t.name)
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(check_host, targets))
