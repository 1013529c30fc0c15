"""The lab runs ~200 hosts x 4 listeners in one process: that must be cheap and quick."""

from __future__ import annotations

import threading
import time

from cwh.lab.listeners import ClosedPort, TcpListener, TlsSettings, WebEndpoint
from cwh.probes.http import request
from cwh.probes.tcp import check_port
from tests.probes.probe_helpers import leaf

HOSTS = 200


def _host_listeners(n: int, tls: TlsSettings) -> list:
    address = f"127.88.{n // 250}.{n % 250 + 1}"
    return [
        WebEndpoint(address, tls=None, server_header="ScreenConnect/23.9.7.8804",
                    options_allowed=True),
        WebEndpoint(address, tls=tls, server_header=None, options_allowed=False),
        TcpListener(address),  # relay
        ClosedPort(address),  # 445 closed
    ]


def test_200_hosts_with_4_listeners_each_start_and_stop_quickly() -> None:
    tls = TlsSettings(leaf().cert_pem, leaf().key_pem)
    listeners = [item for n in range(HOSTS) for item in _host_listeners(n, tls)]
    threads_before = threading.active_count()

    started = time.monotonic()
    for listener in listeners:
        listener.start()
    start_s = time.monotonic() - started
    # The shared accept loop, not a thread per idle listener (it may start right now).
    assert threading.active_count() <= threads_before + 1

    try:
        http_web, https_web, relay, closed = listeners[-4:]
        assert request(http_web.url, timeout=2).status == 200
        assert request(https_web.url, timeout=2).status == 200
        assert check_port(relay.address, relay.port, timeout=2).state == "open"
        assert check_port(closed.address, closed.port, timeout=2).state == "refused"
        assert check_port(listeners[0].address, listeners[0].port, timeout=2).state == "open"
    finally:
        stopping = time.monotonic()
        for listener in listeners:
            listener.stop()
        stop_s = time.monotonic() - stopping

    assert start_s < 4.0, f"starting {len(listeners)} listeners took {start_s:.2f}s"
    assert stop_s < 2.0, f"stopping {len(listeners)} listeners took {stop_s:.2f}s"
    assert check_port(relay.address, relay.port, timeout=1).state == "refused"
