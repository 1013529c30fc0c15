"""check_port against real loopback listeners: open, refused, filtered, error."""

from __future__ import annotations

import json

import pytest

from cwh.lab.listeners import ClosedPort, FilteredPort, TcpListener
from cwh.probes.tcp import check_port
from tests.probes.probe_helpers import next_address


def test_open_port() -> None:
    with TcpListener(next_address()) as listener:
        seen = check_port(listener.address, listener.port, timeout=2.0)
    assert seen.state == "open"
    assert seen.attempts[0].outcome == "open"
    assert seen.elapsed_ms < 1000


def test_refused_port() -> None:
    with ClosedPort(next_address()) as closed:
        seen = check_port(closed.address, closed.port, timeout=2.0)
    assert seen.state == "refused"
    assert "ECONNREFUSED" in seen.detail


def test_filtered_port_ends_within_its_timeout() -> None:
    with FilteredPort(next_address()) as filtered:
        seen = check_port(filtered.address, filtered.port, timeout=0.8)
    assert seen.state == "filtered"
    # It must wait for the timeout (not give up early) and not much longer.
    assert 750 <= seen.elapsed_ms <= 1300


def test_unresolvable_name_is_an_error_not_a_closed_port() -> None:
    seen = check_port("cwh-no-such-host.invalid", 445, timeout=2.0)
    assert seen.state == "error"
    assert "cwh-no-such-host.invalid" in seen.detail
    assert seen.elapsed_ms <= 2500


def test_evidence_is_plain_json() -> None:
    with TcpListener(next_address()) as listener:
        evidence = check_port(listener.address, listener.port).to_evidence()
    decoded = json.loads(json.dumps(evidence))
    assert decoded["state"] == "open"
    assert decoded["address"] == listener.address
    assert decoded["port"] == listener.port
    assert decoded["attempts"][0]["outcome"] == "open"
    assert isinstance(decoded["elapsed_ms"], float)


@pytest.mark.parametrize(
    ("address", "port", "timeout"),
    [("127.0.0.1", 0, 1.0), ("127.0.0.1", 70000, 1.0), ("", 80, 1.0), ("127.0.0.1", 80, 0)],
)
def test_bad_arguments_raise_value_error(address: str, port: int, timeout: float) -> None:
    with pytest.raises(ValueError):
        check_port(address, port, timeout=timeout)
