"""The runner's view of one host: where the server is configured to listen, where the runner
reaches it, and the probes' results.

Two questions are kept apart, because NAT, port forwarding and reverse proxies make their
answers differ:
- what the server is configured with (web.config's WebServerListenUri and RelayListenUri, else
  ScreenConnect's defaults): the host view judges these ports (`web_config`, `relay_config`);
- where the runner reaches it (the inventory: `cwh_web_url` is the URL users open,
  `cwh_relay_port` the relay port as reached, `cwh_port_map` maps a configured port to the port
  reached, `cwh_probe_address` is where every connection goes): the runner connects there
  (`web`, `web_listener`, `relay`, `port_endpoint`). The URL's host name is still the name
  sent as SNI and Host header and checked against the certificate.

Each probe runs at most once per host and run, when a selected control first needs it.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from cwh.collect.facts import FactUnavailable, HostFacts
from cwh.inventory import Target
from cwh.parse.webconfig import ListenUriError, app_setting, parse_listen_uri
from cwh.probes import certificate, http, tcp, tls

DEFAULT_WEB_PORT = 8040
DEFAULT_RELAY_PORT = 8041
LEGACY_VERSIONS = ("TLSv1", "TLSv1.1")
# Script.ashx is a few hundred kB; the version sits in its SC.context near the start.
SCRIPT_BODY_LIMIT = 1024 * 1024
NO_HOST_ACCESS = "no host access (cwh_access: network): the host's configuration is not read"


@dataclass(frozen=True)
class Configured:
    """A ScreenConnect listener as the host's web.config sets it up (the host view)."""

    key: str  # WebServerListenUri | RelayListenUri
    scheme: str
    port: int
    origin: str
    loopback: bool = False  # bound to 127.0.0.1 / localhost only
    unknown: str = ""  # why the configuration could not be read (scheme and port: a guess)


@dataclass(frozen=True)
class Endpoint:
    """Something the runner connects to, and why it chose it."""

    url: str  # the URL users open, for the web endpoint; "" for a bare port
    scheme: str
    host: str  # the name users use: SNI, Host header, certificate name check
    address: str  # where the runner connects
    port: int  # the port as the URL or the configuration names it
    connect_port: int  # where the runner connects (after cwh_port_map)
    origin: str  # how it was chosen
    unknown: str = ""  # why the host's configuration could not tell (then this is only a guess)
    assumed: str = ""  # a default nobody declared (a network-only host's relay port)

    def describe(self) -> str:
        reached = f"{_bracket(self.address)}:{self.connect_port}"
        if self.url:
            parts = urlsplit(self.url)
            same = parts.hostname == self.address.strip("[]") and \
                (parts.port or _default_port(self.scheme)) == self.connect_port
            what = self.url if same else f"{self.url} reached at {reached}"
        else:
            what = reached if self.connect_port == self.port else \
                f"{reached} (port {self.port} per cwh_port_map)"
        return f"{what}; {self.origin}"


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


class RunnerView:
    """Lazily run, cached runner-side probes for one host."""

    def __init__(self, target: Target, facts: HostFacts, timeout: float | None = None) -> None:
        self.target = target
        self.facts = facts
        self.timeout = float(timeout or target.var("cwh_probe_timeout_sec", 5))
        self._cache: dict[Any, Any] = {}
        self._lock = threading.Lock()

    # --- where the server is configured to listen (host view) ------------------------------

    @property
    def network_only(self) -> bool:
        return self.target.network_only

    @property
    def front_end(self) -> bool:
        """A TLS front end (reverse proxy) declared in front of ScreenConnect."""
        return bool(self.target.var("cwh_tls_front_end"))

    def _configured(self, key: str, default: str, default_port: int) -> Configured:
        if self.network_only:
            return Configured(key, default.partition(":")[0], default_port,
                              f"ScreenConnect default {default}", unknown=NO_HOST_ACCESS)
        try:
            uri = app_setting(self.facts.screenconnect_settings(), key)
        except FactUnavailable as exc:
            return Configured(key, default.partition(":")[0], default_port,
                              f"ScreenConnect default {default}",
                              unknown=f"{exc}; set cwh_web_url / cwh_relay_port to probe anyway")
        if not uri:
            return Configured(key, default.partition(":")[0], default_port,
                              f"ScreenConnect default {default} (no {key} in web.config)")
        try:
            parsed = parse_listen_uri(uri)
        except ListenUriError as exc:
            return Configured(key, default.partition(":")[0], default_port,
                              f"ScreenConnect default {default}",
                              unknown=f"web.config {key} {uri!r} is not understood ({exc})")
        return Configured(key, parsed.scheme, parsed.port, f"web.config {key} {uri}",
                          loopback=parsed.loopback)

    def web_config(self) -> Configured:
        """WebServerListenUri as configured (http.sys serves ScreenConnect on this port)."""
        return self._configured("WebServerListenUri", "http://+:8040/", DEFAULT_WEB_PORT)

    def relay_config(self) -> Configured:
        """RelayListenUri as configured."""
        return self._configured("RelayListenUri", "relay://+:8041/", DEFAULT_RELAY_PORT)

    # --- where the runner reaches it --------------------------------------------------------

    @property
    def address(self) -> str:
        return str(self.target.var("cwh_probe_address") or self.target.connection.address)

    def connect_port(self, port: int) -> int:
        mapping = self.target.var("cwh_port_map") or {}
        return int(mapping.get(port, mapping.get(str(port), port)))

    def _mapped(self, port: int) -> bool:
        mapping = self.target.var("cwh_port_map") or {}
        return port in mapping or str(port) in mapping

    def web(self) -> Endpoint:
        """The web interface as users reach it: cwh_web_url (connected to at cwh_probe_address
        when that is set), else ScreenConnect's own listener."""
        configured = self.target.var("cwh_web_url")
        if not configured:
            return self._listener_endpoint(self.web_config())
        parts = urlsplit(configured)
        port = parts.port or _default_port(parts.scheme)
        host = parts.hostname or self.address
        probe_address = self.target.var("cwh_probe_address")
        origin = "inventory cwh_web_url" + \
            (f", reached at cwh_probe_address {probe_address}" if probe_address else "")
        return Endpoint(configured, parts.scheme, host, str(probe_address or host), port,
                        self.connect_port(port), origin)

    def _listener_endpoint(self, config: Configured) -> Endpoint:
        port = config.port
        host = _bracket(self.address)
        return Endpoint(f"{config.scheme}://{host}:{port}/", config.scheme, self.address,
                        self.address, port, self.connect_port(port), config.origin,
                        config.unknown)

    def web_listener(self) -> Endpoint:
        """Where the runner checks that the web interface is reachable inbound (CWH-NET-01):
        the front end users reach when one is declared; the configured port where cwh_port_map
        maps it; the URL users open when it speaks the listener's own scheme (NAT or a port
        forward to the listener); else the configured port at the probe address."""
        config = self.web_config()
        url = self.target.var("cwh_web_url")
        if config.unknown or not url:
            return self._listener_endpoint(config)
        web = self.web()
        if self.front_end:
            return _with_origin(web, f"the front end users reach (cwh_web_url, "
                                     f"cwh_tls_front_end); listener from {config.origin}")
        if self._mapped(config.port):
            return self._listener_endpoint(config)
        if web.scheme == config.scheme:
            return _with_origin(web, f"cwh_web_url reaches the listener (same scheme, no front "
                                     f"end declared); listener from {config.origin}")
        return self._listener_endpoint(config)

    def relay(self) -> Endpoint:
        """The relay as the runner reaches it: cwh_relay_port, else the configured port (through
        cwh_port_map)."""
        declared = self.target.var("cwh_relay_port")
        if declared:
            port = int(declared)
            return Endpoint("", "tcp", self.address, self.address, port, port,
                            "inventory cwh_relay_port (the relay port as reached)")
        config = self.relay_config()
        if self.network_only:
            return Endpoint("", "tcp", self.address, self.address, config.port,
                            self.connect_port(config.port), config.origin,
                            assumed="cwh_relay_port is not set: ScreenConnect's default 8041 "
                                    "is only assumed")
        return Endpoint("", "tcp", self.address, self.address, config.port,
                        self.connect_port(config.port), config.origin, config.unknown)

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
        """Run one of the catalog's probe names (prefetching, so judges find it done). An
        endpoint that is only a guess is not probed: its judges say Not_Reviewed without it."""
        if name in ("listener_port", "listener_http"):
            endpoint = self.web_listener()
            # The judge asks for HTTP only once TCP got through; don't wait twice on a drop.
            if not endpoint.unknown and self.port(endpoint).state == "open" and \
                    name == "listener_http":
                self.http(endpoint)
        elif name in ("web_port", "web_http", "web_http10_no_host", "web_options", "web_tls",
                      "web_certificate", "web_script"):
            self._run_web(name, self.web())
        elif name == "relay_port":
            endpoint = self.relay()
            if not endpoint.unknown:
                self.port(endpoint)
        elif name.startswith("port_"):
            self.port(self.port_endpoint(int(name.removeprefix("port_"))))
        else:
            raise ValueError(f"unknown probe {name!r}")

    def _run_web(self, name: str, endpoint: Endpoint) -> None:
        if endpoint.unknown:
            return
        if name == "web_port":
            self.port(endpoint)
        elif name == "web_http":
            self.http(endpoint)
        elif name == "web_http10_no_host":
            self.http(endpoint, guide_probe=True)
        elif name == "web_options":
            self.http(endpoint, "OPTIONS")
        elif name == "web_script":
            self.script(endpoint)
        elif name == "web_tls" and endpoint.scheme == "https":
            for version in LEGACY_VERSIONS:
                self.capability(version)
                self.tls_version(endpoint, version)
        elif name == "web_certificate" and endpoint.scheme == "https":
            self.certificate(endpoint)

    def port(self, endpoint: Endpoint) -> tcp.PortObservation:
        return self._once(("tcp", endpoint.address, endpoint.connect_port),
                          lambda: tcp.check_port(endpoint.address, endpoint.connect_port,
                                                 self.timeout))

    def http(self, endpoint: Endpoint, method: str = "GET", *, guide_probe: bool = False,
             path: str | None = None, read_body: int = 0) -> http.HttpObservation:
        """One request to the endpoint's URL (or `path` relative to it), connected to the
        endpoint's address and port; the URL's host is the SNI and the Host header."""
        url = urljoin(endpoint.url, path) if path else endpoint.url
        where = (endpoint.address, endpoint.connect_port)
        if guide_probe:
            # The guide's `curl -H 'Host:' <url> --http1.0 -I`: curl drops the header entirely.
            return self._once(("http10", url, where), lambda: http.request(
                url, "HEAD", host_header=None, http10=True, timeout=self.timeout,
                connect_address=endpoint.address, connect_port=endpoint.connect_port))
        return self._once(("http", method, url, where, read_body), lambda: http.request(
            url, method, timeout=self.timeout, connect_address=endpoint.address,
            connect_port=endpoint.connect_port, read_body=read_body))

    def script(self, endpoint: Endpoint) -> http.HttpObservation:
        """GET Script.ashx, the script every visitor of the login page loads (it names the
        product version): the version as the server discloses it, no exploit path."""
        return self.http(endpoint, path=http.SCRIPT_PATH, read_body=SCRIPT_BODY_LIMIT)

    def tls_version(self, endpoint: Endpoint, version: str) -> tls.TlsVersionObservation:
        return self._once(("tls", version, endpoint.connect_port), lambda: tls.probe_tls_version(
            endpoint.address, endpoint.connect_port, version,
            server_name=_sni(endpoint.host), timeout=self.timeout))

    def capability(self, version: str) -> tls.CapabilityObservation:
        """Whether this client can speak `version` at all (a self-test against a local server):
        a refused legacy handshake proves nothing without it."""
        return self._once(("capability", version), lambda: tls.client_capability(version))

    def certificate(self, endpoint: Endpoint) -> certificate.CertificateObservation:
        # One web endpoint per host, so its port identifies it within this view.
        return self._once(("cert", endpoint.connect_port), lambda: certificate.inspect_certificate(
            endpoint.address, endpoint.connect_port, server_name=endpoint.host,
            ca_bundle=self.target.var("cwh_ca_bundle"), timeout=self.timeout,
            warn_days=int(self.target.var("cwh_cert_warn_days", 30))))


def _with_origin(endpoint: Endpoint, origin: str) -> Endpoint:
    return Endpoint(endpoint.url, endpoint.scheme, endpoint.host, endpoint.address, endpoint.port,
                    endpoint.connect_port, origin, endpoint.unknown, endpoint.assumed)


class _Slot:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.done = False
        self.value: Any = None


def _sni(host: str) -> str | None:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        return host
