"""Start the lab hosts an inventory describes: one WinRM endpoint per host on its own loopback
address, answering the collector from the host's image, plus (later) its network listeners.

The CA and server certificates live in a state directory (default `.cwh-lab/`) so inventories can
point `ansible_winrm_ca_trust_path` at the CA file, as they would for a real private CA.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cwh import certs
from cwh.errors import ConfigError
from cwh.inventory import Target
from cwh.lab.emulator import Context, ImageCommandHandler
from cwh.lab.faults import split_faults
from cwh.lab.image import Image, load_image
from cwh.lab.listeners import FilteredPort, TcpListener, TlsSettings, WebEndpoint
from cwh.lab.winrm import Credential, EndpointConfig, RequestLog, WinRMEndpoint
from cwh.lab.winrm.model import DEFAULT_MAX_ENVELOPE_KB, MIN_MAX_ENVELOPE_KB

LAB_TRANSPORTS = {"ntlm": "ntlm", "basic": "basic"}
WEB_LOG_ENV = "CWH_LAB_WEB_LOG"


def ensure_ca(state_dir: Path) -> certs.Issued:
    """The lab CA, created once and reused so CA paths in inventories stay valid."""
    state_dir.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = state_dir / "ca.pem", state_dir / "ca.key"
    try:
        # O_EXCL makes one of several concurrently starting labs the creator.
        fd = os.open(state_dir / "ca.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        deadline = time.monotonic() + 30
        while not (cert_path.exists() and key_path.exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
    else:
        os.close(fd)
        if not (cert_path.exists() and key_path.exists()):
            ca = certs.make_ca()
            tmp_cert, tmp_key = ca.write(state_dir, ".ca-new")
            os.replace(tmp_key, key_path)
            os.replace(tmp_cert, cert_path)
    return certs.Issued(cert_path.read_bytes(), key_path.read_bytes())


def _credential(target: Target) -> Credential:
    user = target.connection.user
    domain, _, name = user.rpartition("\\")
    return Credential(name, target.var("cwh_lab_password") or target.connection.password, domain)


def max_envelope_kb(image: Image) -> int:
    """The host's WSMan:\\localhost\\MaxEnvelopeSizekb (image key winrm.max_envelope_size_kb)."""
    winrm = image.get("winrm") or {}
    unknown = sorted(set(winrm) - {"max_envelope_size_kb"}) if isinstance(winrm, dict) else [winrm]
    if unknown:
        raise ConfigError(f"lab image {image.path}: unknown winrm setting {unknown[0]!r} "
                          "(known: max_envelope_size_kb)")
    value = winrm.get("max_envelope_size_kb", DEFAULT_MAX_ENVELOPE_KB)
    if isinstance(value, bool) or not isinstance(value, int) or \
            not MIN_MAX_ENVELOPE_KB <= value <= 0xFFFFFFFF:
        raise ConfigError(f"lab image {image.path}: winrm.max_envelope_size_kb must be an "
                          f"integer of at least {MIN_MAX_ENVELOPE_KB} (Windows' minimum), "
                          f"not {value!r}")
    return value


def probe_address(target: Target) -> str:
    """Where the runner reaches the host, and so where the lab serves its network side."""
    return str(target.var("cwh_probe_address") or target.connection.address)


def host_certificates(target: Target, image: Image, ca: certs.Issued) -> dict[str, certs.Issued]:
    """The certificates the image puts in LocalMachine\\My, generated for this run.

    `issuer: lab-ca` gives one the runner can trust through the lab CA; `issuer: self` a
    self-signed one; `expired: true` one that ran out a month ago.
    """
    identity = image.get("identity") or {}
    default_names = [probe_address(target), str(identity.get("dns_host_name") or target.name)]
    issued = {}
    for name, spec in (image.get("certificates") or {}).items():
        spec = spec or {}
        now = dt.datetime.now(dt.UTC)
        validity: dict[str, Any] = {}
        if spec.get("expired"):
            validity = {"not_before": now - dt.timedelta(days=400),
                        "not_after": now - dt.timedelta(days=30)}
        elif spec.get("days_left") is not None:
            validity = {"not_after": now + dt.timedelta(days=int(spec["days_left"]))}
        # EC keys by default: generating RSA keys dominates starting a fleet of lab hosts.
        key_type = spec.get("key_type", "ec")
        issued[name] = certs.issue(
            list(spec.get("names") or default_names),
            ca=ca if spec.get("issuer", "lab-ca") == "lab-ca" else None, key_type=key_type,
            key_size=int(spec.get("key_size", 256 if key_type == "ec" else 2048)), **validity)
    return issued


def lab_port(target: Target, port: int) -> int:
    """Where the lab serves one of the image's ports: cwh_lab_port_map (the lab's stand-in for
    NAT and port forwarding: the host is configured with one port, reached on another), else
    cwh_port_map (so 445 and friends need no root), else the port itself."""
    mapping = {**(target.var("cwh_port_map") or {}), **(target.var("cwh_lab_port_map") or {})}
    return int(mapping.get(port, mapping.get(str(port), port)))


def web_request_log() -> RequestLog | None:
    """Every HTTP request head the lab's web endpoints receive, as JSON lines in the file that
    CWH_LAB_WEB_LOG names (tests read it to see exactly what the probes sent)."""
    path = os.environ.get(WEB_LOG_ENV)
    return RequestLog(path) if path else None


def start_listeners(target: Target, image: Image, certificates: dict[str, certs.Issued],
                    web_log: RequestLog | None = None) -> list[Any]:
    """The ports the image says the host exposes, on the probe address, each on the port
    lab_port() gives. A web endpoint's Script.ashx names the image's ScreenConnect version
    (as every ScreenConnect server's does) unless the entry sets `product_version`."""
    address = probe_address(target)
    version = (image.get("screenconnect") or {}).get("file_version")
    started: list[Any] = []
    for entry in image.get("network") or []:
        port = lab_port(target, int(entry["port"]))
        if entry.get("serve", "tcp") == "web":
            tls = entry.get("tls")
            settings = None
            if tls:
                cert = certificates[tls["certificate"]]
                settings = TlsSettings(cert.cert_pem, cert.key_pem,
                                       tls.get("min", "TLSv1.2"), tls.get("max", "TLSv1.3"))
            on_request = None if web_log is None else functools.partial(
                _log_web_request, web_log, target.name)
            listener: Any = WebEndpoint(
                address, port, tls=settings, server_header=entry.get("server_header"),
                options_allowed=bool(entry.get("options_allowed")),
                internal_redirect=entry.get("internal_redirect"),
                redirect_path=entry.get("internal_redirect_path"),
                product_version=_text(entry.get("product_version", version)),
                on_request=on_request)
        elif entry.get("serve", "tcp") == "filtered":  # a host firewall dropping SYNs
            listener = FilteredPort(address, port)
        else:
            listener = TcpListener(address, port)
        try:
            listener.start()
        except OSError as exc:
            for other in started:
                other.stop()
            raise ConfigError(f"lab host {target.name}: cannot listen on {address}:{port} "
                              f"({exc.strerror or exc})") from None
        started.append(listener)
    return started


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _log_web_request(log: RequestLog, host: str, entry: dict) -> None:
    log.record(endpoint=f"{host} (web)", **entry)


@dataclass
class LabHost:
    target: Target
    image: Image
    endpoint: WinRMEndpoint | None  # None for a network-only host: nothing speaks WinRM
    listeners: list[Any] = field(default_factory=list)

    def describe(self) -> dict:
        return {"host": self.target.name, "winrm": self.endpoint.url if self.endpoint else None,
                "image": self.image.name,
                "listens": [f"{x.address}:{x.port}" for x in self.listeners]}

    def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.stop()
        for listener in self.listeners:
            listener.stop()


@dataclass
class LabFleet:
    targets: list[Target]
    inventory_dir: Path
    state_dir: Path
    log: RequestLog
    hosts: list[LabHost] = field(default_factory=list)
    web_log: RequestLog | None = field(default_factory=web_request_log)

    def _endpoint(self, target: Target, image: Image, ca: certs.Issued,
                  certificates: dict[str, certs.Issued]) -> WinRMEndpoint:
        conn = target.connection
        if conn.transport not in LAB_TRANSPORTS:
            raise ConfigError(f"lab host {target.name}: the lab speaks ntlm and basic, not "
                              f"{conn.transport}")
        transport_fault, output_faults = split_faults(target.var("cwh_lab_fault"), target.name)
        cert_file = key_file = None
        if conn.scheme == "https":
            leaf = certs.issue([conn.address, target.name, "localhost"], ca=ca, key_type="ec",
                               key_size=256)
            cert_path, key_path = leaf.write(self.state_dir / "hosts", target.name)
            cert_file, key_file = str(cert_path), str(key_path)
        config = EndpointConfig(
            name=target.name,
            address=conn.address,
            port=conn.port,
            scheme=conn.scheme,
            auth=frozenset({LAB_TRANSPORTS[conn.transport]}),
            credentials=(_credential(target),),
            cert_file=cert_file,
            key_file=key_file,
            latency_ms=int(target.var("cwh_lab_latency_ms", 0)),
            receive_chunk_bytes=target.var("cwh_lab_chunk_bytes"),
            fault=transport_fault,
            max_envelope_kb=max_envelope_kb(image),
        )
        handler = ImageCommandHandler(image, output_faults, Context(certificates))
        return WinRMEndpoint(config, handler, self.log)

    def start(self) -> None:
        ca = ensure_ca(self.state_dir)
        try:
            for target in self.targets:
                self.hosts.append(self._start_host(target, ca))
        except ConfigError:
            self.stop()
            raise

    def _start_host(self, target: Target, ca: certs.Issued) -> LabHost:
        image = load_image(target.lab_image, self.inventory_dir)
        certificates = host_certificates(target, image, ca)
        if target.network_only:  # the host's network side only: no WinRM endpoint at all
            return LabHost(target, image, None,
                           start_listeners(target, image, certificates, self.web_log))
        endpoint = self._endpoint(target, image, ca, certificates)
        try:
            endpoint.start()
        except OSError as exc:
            conn = target.connection
            raise ConfigError(f"lab host {target.name}: cannot listen on {conn.address}:"
                              f"{conn.port} ({exc.strerror or exc})") from None
        try:
            listeners = start_listeners(target, image, certificates, self.web_log)
        except ConfigError:
            endpoint.stop()
            raise
        return LabHost(target, image, endpoint, listeners)

    def stop(self) -> None:
        for host in self.hosts:
            host.stop()
        self.hosts.clear()
