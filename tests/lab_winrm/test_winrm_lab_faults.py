"""Transport-level faults and latency on the lab endpoint, as pywinrm experiences them."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from winrm.exceptions import WinRMOperationTimeoutError, WinRMTransportError

from cwh.lab.winrm import CommandResult

from .support import Lab, lab_threads, run

TIMED_OUT = 2150858793


@pytest.fixture
def lab(tmp_path):
    with Lab(tmp_path) as lab:
        yield lab


def test_refuse_closes_the_port(lab):
    ep = lab.endpoint("refuse", fault="refuse")
    assert ep.port > 0

    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        lab.client(ep).open_shell()

    assert time.monotonic() - started < 1
    assert "refused" in str(info.value).lower()
    assert lab.events(ep) == []


def test_hang_reads_the_request_and_never_answers(lab):
    ep = lab.endpoint("hang", fault="hang")
    client = lab.client(ep, read_timeout_sec=2, operation_timeout_sec=1)

    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.open_shell()
    elapsed = time.monotonic() - started

    assert 1.9 <= elapsed < 3.5
    assert [(e["status"], e["fault"]) for e in lab.events(ep)] == [(None, "hang")]
    assert lab_threads(), "the hung request should still hold its worker"
    started = time.monotonic()
    ep.stop()
    assert time.monotonic() - started < 1
    assert [t for t in lab_threads() if t.name == "winrm-lab-hang"] == []


def test_http500_answers_every_request_with_a_non_soap_error(lab):
    ep = lab.endpoint("http500", fault="http500")

    with pytest.raises(WinRMTransportError) as info:
        lab.client(ep).open_shell()

    assert info.value.code == 500
    assert "Internal Server Error" in info.value.response_text
    assert [(e["status"], e["auth"]) for e in lab.events(ep)] == [(500, "none")]


def test_slow_receive_times_out_every_poll(lab):
    ep = lab.endpoint("slowrecv", fault="slow_receive")
    client = lab.client(ep, operation_timeout_sec=1, read_timeout_sec=3)
    shell = client.open_shell()
    command = client.run_command(shell, "ver")

    for _ in range(2):
        started = time.monotonic()
        with pytest.raises(WinRMOperationTimeoutError):
            client.get_command_output_raw(shell, command)
        assert 0.9 <= time.monotonic() - started < 2
    client.cleanup_command(shell, command)  # the suite's deadline path: Signal terminate
    client.close_shell(shell)

    receives = [e for e in lab.events(ep) if e["action"] == "Receive"]
    assert [(e["status"], e["fault_code"]) for e in receives] == [(500, TIMED_OUT)] * 2


def test_drop_after_auth_over_http_breaks_the_next_request(lab):
    ep = lab.endpoint("drop", fault="drop_after_auth")

    # The next request goes out on a new connection; requests-ntlm re-authenticates but resends
    # the body sealed with the old connection's keys, which the new context cannot unseal.
    with pytest.raises(WinRMTransportError) as info:
        lab.client(ep).open_shell()

    assert info.value.code == 400
    events = lab.events(ep)
    assert [(e["conn"], e["status"], e["auth"]) for e in events] == [
        (1, 401, "none"),
        (1, 401, "ntlm-negotiate"),
        (1, 200, "ntlm-authenticate"),
        (2, 401, "none"),
        (2, 401, "ntlm-negotiate"),
        (2, 400, "ntlm-authenticate"),
    ]
    assert "cannot decrypt" in events[-1]["error"]
    assert lab.handler.calls == []


def test_drop_after_auth_over_https_costs_a_handshake_per_request(lab):
    ep = lab.endpoint("drop-tls", scheme="https", fault="drop_after_auth")

    out, _, _ = run(lab.client(ep), "ver")  # pywinrm recovers: nothing is sealed over HTTPS

    assert out == b"ver"
    events = lab.events(ep)
    assert len(events) == 15
    assert len({e["conn"] for e in events}) == 5
    assert not [e for e in events if e["auth"] == "session"]


def test_latency_is_added_to_every_response(lab):
    ep = lab.endpoint("latency", latency_ms=120)

    started = time.monotonic()
    run(lab.client(ep), "ver")
    elapsed = time.monotonic() - started

    events = lab.events(ep)
    assert len(events) == 8
    assert elapsed >= 8 * 0.12
    assert all(e["elapsed_ms"] >= 120 for e in events)
    assert [e["status"] for e in events[:2]] == [401, 401]  # 401s are delayed too


def test_unknown_fault_name_is_rejected(lab):
    with pytest.raises(ValueError, match="unknown fault"):
        lab.endpoint("typo", fault="hang_forever")


@pytest.mark.parametrize("fault", [None, "slow_receive"])
def test_stop_interrupts_a_waiting_receive(lab, fault):
    lab.handler.on("sleep", lambda _: CommandResult(b"", runtime_s=60))
    ep = lab.endpoint("waiting", fault=fault)
    client = lab.client(ep, operation_timeout_sec=20, read_timeout_sec=30)
    shell = client.open_shell()
    command = client.run_command(shell, "sleep")
    outcome: list[BaseException] = []

    def poll() -> None:
        try:
            client.get_command_output_raw(shell, command)
        except BaseException as exc:
            outcome.append(exc)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    deadline = time.monotonic() + 2
    while not [t for t in lab_threads() if t.name == "winrm-lab-waiting"]:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.1)

    started = time.monotonic()
    ep.stop()
    poller.join(2)

    assert time.monotonic() - started < 1
    assert len(outcome) == 1
    assert isinstance(outcome[0], requests.exceptions.ConnectionError)
