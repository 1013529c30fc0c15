"""The runner's view of one host: which address, URL and ports to probe, and the probes' results.

Where to connect comes from the inventory when it says so (cwh_web_url, cwh_relay_port,
cwh_probe_address, cwh_port_map), else from the host's own web.config (WebServerListenUri,
RelayListenUri), else from ScreenConnect's defaults; the evidence says which. Each probe runs
at most once per host and run, when a selected control first needs it.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.inventory import Target
from cwh.parse.webconfig import ListenUriError, app_setting, parse_listen_uri
from cwh.probes import certificate, http, tcp, tls

DEFAULT_WEB_PORT = 8040
DEFAULT_RELAY_PORT = 8041
LEGACY_VERSIONS = ("TLSv1", "TLSv1.1")


@dataclass(frozen=True)
class Endpoint:
    """Something the runner connects to, and why it chose it."""

    url: str  # for the web endpoint; "" for a bare port
    scheme: str
    host: str  # the name in the URL (certificate name check, Host header)
    address: str  # where the runner connects
    port: int  # the port as configured on the host
    connect_port: int  # after cwh_port_map
    origin: str  # how it was chosen
    unknown: str = ""  # why the host's configuration could not tell (then this is only a guess)

    def describe(self) -> str:
        mapped = f" (connected to {self.connect_port} per cwh_port_map)" \
            if self.connect_port != self.port else ""
        what = self.url or f"{self.address}:{self.port}"
        return f"{what}{mapped}; {self.origin}"


class RunnerView:
    """Lazily run, cached runner-side probes for one host."""

    def __init__(self, target: Target, facts: HostFacts, timeout: float | None = None) -> None:
        self.target = target
        self.facts = facts
        self.timeout = float(timeout or target.var("cwh_probe_timeout_sec", 5))
        self._cache: dict[Any, Any] = {}
        self._lock = threading.Lock()

    # --- where to connect -----------------------------------------------------------------

    @property
    def address(self) -> str:
        return str(self.target.var("cwh_probe_address") or self.target.connection.address)

    def connect_port(self, port: int) -> int:
        mapping = self.target.var("cwh_port_map") or {}
        return int(mapping.get(port, mapping.get(str(port), port)))

    def _listen_uri(self, key: str) -> tuple[str | None, str]:
        """(value, why unknown): an absent key is ScreenConnect's default, a web.config that
        could not be read leaves the endpoint unknown."""
        try:
            return app_setting(self.facts.screenconnect_settings(), key), ""
        except FactUnavailable as exc:
            return None, f"{exc}; set cwh_web_url / cwh_relay_port to probe anyway"

    def web(self) -> Endpoint:
        """The web interface as users reach it: cwh_web_url, else ScreenConnect's listener."""
        configured = self.target.var("cwh_web_url")
        if not configured:
            return self.web_listener()
        parts = urlsplit(configured)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or self.address
        # The URL users open may be a front end on another machine: connect where it points.
        return Endpoint(configured, parts.scheme, host, host, port, self.connect_port(port),
                        "inventory cwh_web_url")

    def web_listener(self) -> Endpoint:
        """ScreenConnect's own web listener (WebServerListenUri), whatever fronts it."""
        uri, unknown = self._listen_uri("WebServerListenUri")
        scheme, port = "http", DEFAULT_WEB_PORT
        origin = "ScreenConnect default http://+:8040/ (no WebServerListenUri in web.config)"
        if uri:
            try:
                parsed = parse_listen_uri(uri)
                scheme, port = parsed.scheme, parsed.port
                origin = f"web.config WebServerListenUri {uri}"
            except ListenUriError as exc:
                unknown = f"web.config WebServerListenUri {uri!r} is not understood ({exc})"
        return Endpoint(f"{scheme}://{self.address}:{port}/", scheme, self.address, self.address,
                        port, self.connect_port(port), origin, unknown)

    def relay(self) -> Endpoint:
        port, origin, unknown = DEFAULT_RELAY_PORT, "ScreenConnect default 8041", ""
        if self.target.var("cwh_relay_port"):
            port, origin = int(self.target.var("cwh_relay_port")), "inventory cwh_relay_port"
        else:
            uri, unknown = self._listen_uri("RelayListenUri")
            if uri:
                try:
                    port, origin = parse_listen_uri(uri).port, f"web.config RelayListenUri {uri}"
                except ListenUriError as exc:
                    unknown = f"web.config RelayListenUri {uri!r} is not understood ({exc})"
        return Endpoint("", "tcp", self.address, self.address, port, self.connect_port(port),
                        origin, unknown)

    def port_endpoint(self, port: int) -> Endpoint:
        return Endpoint("", "tcp", self.address, self.address, port, self.connect_port(port),
                        "guide")

    # --- probes (each once) ---------------------------------------------------------------

    def _once(self, key: Any, run: Any) -> Any:
        """Run a probe the first time it is asked for; callers arriving meanwhile wait for it."""
        with self._lock:
            slot = self._cache.setdefault(key, _Slot())
        with slot.lock:
            if not slot.done:
                slot.value = run()
                slot.done = True
        return slot.value

    def export(self) -> dict[Any, Any]:
        """Finished probe results, to hand to another process (xdist worker)."""
        with self._lock:
            return {key: slot.value for key, slot in self._cache.items() if slot.done}

    def adopt(self, results: dict[Any, Any]) -> None:
        """Take probe results another process already obtained for this host."""
        with self._lock:
            for key, value in results.items():
                slot = self._cache.setdefault(key, _Slot())
                slot.value, slot.done = value, True

    def run_named(self, name: str) -> None:
        """Run one of the catalog's probe names (prefetching, so judges find it done)."""
        if name in ("listener_port", "listener_http"):
            endpoint = self.web_listener()
            # The judge asks for HTTP only once TCP got through; don't wait twice on a drop.
            if self.port(endpoint).state == "open" and name == "listener_http":
                self.http(endpoint)
        elif name in ("web_http", "web_http10_no_host", "web_options", "web_tls",
                      "web_certificate"):
            endpoint = self.web()
            if name == "web_http":
                self.http(endpoint)
            elif name == "web_http10_no_host":
                self.http(endpoint, guide_probe=True)
            elif name == "web_options":
                self.http(endpoint, "OPTIONS")
            elif name == "web_tls" and endpoint.scheme == "https":
                for version in LEGACY_VERSIONS:
                    self.capability(version)
                    self.tls_version(endpoint, version)
            elif name == "web_certificate" and endpoint.scheme == "https":
                self.certificate(endpoint)
        elif name == "relay_port":
            self.port(self.relay())
        elif name.startswith("port_"):
            self.port(self.port_endpoint(int(name.removeprefix("port_"))))
        else:
            raise ValueError(f"unknown probe {name!r}")

    def port(self, endpoint: Endpoint) -> tcp.PortObservation:
        return self._once(("tcp", endpoint.address, endpoint.connect_port),
                          lambda: tcp.check_port(endpoint.address, endpoint.connect_port,
                                                 self.timeout))

    def _connect_url(self, endpoint: Endpoint) -> str:
        """The URL with the connect address and port, keeping the path."""
        parts = urlsplit(endpoint.url)
        host = f"[{endpoint.address}]" if ":" in endpoint.address else endpoint.address
        return parts._replace(netloc=f"{host}:{endpoint.connect_port}").geturl()

    def http(self, endpoint: Endpoint, method: str = "GET", *, guide_probe: bool = False) -> \
            http.HttpObservation:
        url = self._connect_url(endpoint)
        host_header: Any = endpoint.host if endpoint.connect_port == endpoint.port else \
            f"{endpoint.host}:{endpoint.port}"
        if guide_probe:
            # The guide's `curl -H 'Host:' <url> --http1.0 -I`: curl drops the header entirely.
            return self._once(("http10", url), lambda: http.request(
                url, "HEAD", host_header=None, http10=True, timeout=self.timeout))
        return self._once(("http", method, url), lambda: http.request(
            url, method, host_header=host_header, timeout=self.timeout))

    def tls_version(self, endpoint: Endpoint, version: str) -> tls.TlsVersionObservation:
        return self._once(("tls", version, endpoint.connect_port), lambda: tls.probe_tls_version(
            endpoint.address, endpoint.connect_port, version,
            server_name=_sni(endpoint.host), timeout=self.timeout))

    def capability(self, version: str) -> tls.CapabilityObservation:
        """Whether this client can speak `version` at all (a self-test against a local server):
        a refused legacy handshake proves nothing without it."""
        return self._once(("capability", version), lambda: tls.client_capability(version))

    def certificate(self, endpoint: Endpoint) -> certificate.CertificateObservation:
        return self._once(("cert", endpoint.connect_port), lambda: certificate.inspect_certificate(
            endpoint.address, endpoint.connect_port, server_name=endpoint.host,
            ca_bundle=self.target.var("cwh_ca_bundle"), timeout=self.timeout,
            warn_days=int(self.target.var("cwh_cert_warn_days", 30))))


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None


def _sni(host: str) -> str | None:
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        return host
