"""Many lab endpoints in one process, connection lifecycle, and the request log file."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from cwh.lab.winrm import RequestLog

from .support import PASSWORD, Lab, lab_threads, run

FLEET = 250


@pytest.fixture
def lab(tmp_path):
    with Lab(tmp_path) as lab:
        yield lab


def _post_status(address: str, port: int) -> int:
    with socket.create_connection((address, port), timeout=5) as sock:
        sock.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, "connection closed before a response"
            head += chunk
    return int(head.split(b" ", 2)[1])


def test_fleet_of_endpoints_starts_and_stops_quickly(lab, record_property):
    threads_before = threading.active_count()

    started = time.monotonic()
    endpoints = [lab.endpoint(f"fleet{i:03d}") for i in range(FLEET)]
    start_s = time.monotonic() - started
    threads_running = threading.active_count()

    statuses = {_post_status(ep.config.address, ep.port) for ep in endpoints}
    probe_s = time.monotonic() - started - start_s

    started = time.monotonic()
    lab.stop_all()  # also asserts that no lab thread is left
    stop_s = time.monotonic() - started

    record_property("fleet_start_s", round(start_s, 3))
    record_property("fleet_stop_s", round(stop_s, 3))
    print(f"\n{FLEET} endpoints: start {start_s:.3f}s, probe {probe_s:.3f}s, stop {stop_s:.3f}s")
    assert statuses == {401}
    assert threads_running - threads_before <= 1  # one shared reactor thread, none per endpoint
    assert start_s + stop_s < 5
    with pytest.raises(ConnectionRefusedError):
        _post_status(endpoints[0].config.address, endpoints[0].port)


def test_stop_closes_idle_and_busy_connections_promptly(lab):
    ep = lab.endpoint("idle")
    idle = socket.create_connection((ep.config.address, ep.port), timeout=5)
    idle.sendall(b"POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 401 ")  # kept alive, now idle in the reactor
    busy = socket.create_connection((ep.config.address, ep.port), timeout=5)
    busy.sendall(b"POST /wsman HTTP/1.1\r\nContent-Length: 10\r\n\r\nhalf")  # worker waits
    deadline = time.monotonic() + 2
    while not [t for t in lab_threads() if t.name == "winrm-lab-idle"]:
        assert time.monotonic() < deadline, "no worker picked up the partial request"
        time.sleep(0.01)

    started = time.monotonic()
    ep.stop()

    assert time.monotonic() - started < 1
    for sock in (idle, busy):
        sock.settimeout(2)
        try:
            tail = sock.recv(4096)
        except ConnectionResetError:  # RST when the kernel still held unread request bytes
            tail = b""
        assert tail == b""  # closed by the server, nothing more sent
        sock.close()
    assert [t for t in lab_threads() if t.name == "winrm-lab-idle"] == []


def test_request_log_mirrors_to_jsonl_without_secrets(lab, tmp_path):
    path = tmp_path / "requests.jsonl"
    shared = RequestLog(path)
    one = lab.endpoint("log-one", log=shared)
    two = lab.endpoint("log-two", log=shared, scheme="https", auth={"basic"})

    run(lab.client(one), "ver")
    run(lab.client(two, transport="basic"), "ver")

    from_file = RequestLog.read(path)
    assert from_file == json.loads(json.dumps(shared.events()))
    assert [e["endpoint"] for e in from_file].count("log-one") == 8
    assert [e["endpoint"] for e in from_file].count("log-two") == 5
    assert len(shared.events("log-two")) == 5
    text = path.read_text()
    assert PASSWORD not in text
    assert "Basic " not in text and "Negotiate " not in text and "NTLM " not in text
    required = {"endpoint", "ts", "method", "path", "status", "action", "auth"}
    assert all(required <= e.keys() and "bytes_in" in e and "bytes_out" in e for e in from_file)


def test_request_log_read_tolerates_a_torn_last_line(tmp_path):
    path = tmp_path / "torn.jsonl"
    path.write_text('{"endpoint": "a", "status": 200}\n{"endpoint": "b", "sta')

    assert RequestLog.read(path) == [{"endpoint": "a", "status": 200}]


def test_stop_interrupts_a_stalled_tls_handshake(lab):
    ep = lab.endpoint("stalled", scheme="https")
    sock = socket.create_connection((ep.config.address, ep.port), timeout=5)
    sock.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, then silence
    deadline = time.monotonic() + 2
    while not [t for t in lab_threads() if t.name == "winrm-lab-stalled"]:
        assert time.monotonic() < deadline, "no worker picked up the handshake"
        time.sleep(0.01)

    started = time.monotonic()
    ep.stop()

    assert time.monotonic() - started < 1
    assert [t for t in lab_threads() if t.name == "winrm-lab-stalled"] == []
    sock.close()
