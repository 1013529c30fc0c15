"""The lab endpoint's WS-Management shell operations, driven by unmodified pywinrm."""

from __future__ import annotations

import base64
import os
import time
import uuid

import pytest
import xmltodict
from winrm.exceptions import WinRMOperationTimeoutError, WinRMTransportError, WSManFaultError

from cwh.lab.winrm import CMD_LINE_LIMIT, CREATE_PROCESS_LIMIT, CommandResult

from .support import Lab, actions, output, run

SHELL_NOT_FOUND = 2150858843
TIMED_OUT = 2150858793


@pytest.fixture
def lab(tmp_path):
    with Lab(tmp_path) as lab:
        yield lab


def test_ntlm_over_http_runs_command_with_encrypted_bodies(lab):
    lab.handler.on("whoami", lambda _: CommandResult(b"lab\\auditor\r\n", b"warn", 5))
    ep = lab.endpoint("enc")

    out, err, code = run(lab.client(ep), "whoami", ("/all",))

    assert (out, err, code) == (b"lab\\auditor\r\n", b"warn", 5)
    assert lab.handler.calls == [("whoami /all", False)]
    soap = [e for e in lab.events(ep) if e["action"]]
    assert actions(soap) == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert all(e["encrypted"] and e["status"] == 200 for e in soap)


def test_plain_body_after_ntlm_auth_is_rejected_over_http(lab):
    ep = lab.endpoint("plain")
    client = lab.client(ep, message_encryption="never")

    with pytest.raises(WinRMTransportError) as info:
        client.open_shell()

    assert info.value.code == 400
    last = lab.events(ep)[-1]
    assert (last["status"], last["auth"], last["action"]) == (400, "ntlm-authenticate", None)
    assert "unencrypted" in last["error"]
    assert lab.handler.calls == []


def test_request_count_for_one_stdin_command_over_ntlm_http(lab):
    lab.handler.on("ps", lambda stdin: CommandResult(stdin.upper()), reads_stdin=True)
    ep = lab.endpoint("count")
    client = lab.client(ep)

    shell = client.open_shell()
    command = client.run_command(shell, "ps", ["-"], console_mode_stdin=False)
    client.send_command_input(shell, command, b"script", end=True)
    out, _err, code, done = client.get_command_output_raw(shell, command)
    client.close_shell(shell)

    assert (out, code, done) == (b"SCRIPT", 0, True)
    events = lab.events(ep)
    assert [(e["status"], e["auth"], e["action"]) for e in events] == [
        (401, "none", None),
        (401, "ntlm-negotiate", None),
        (200, "ntlm-authenticate", None),  # pywinrm's empty POST before it sets up encryption
        (200, "session", "Create"),
        (200, "session", "Command"),
        (200, "session", "Send"),
        (200, "session", "Receive"),
        (200, "session", "Delete"),
    ]
    assert len({e["conn"] for e in events}) == 1
    assert [e["command_length"] for e in events if e["action"] == "Command"] == [4]


def test_stdin_is_buffered_until_end_and_process_runs_once(lab):
    lab.handler.on("cat", lambda stdin: CommandResult(stdin, b"", 0), reads_stdin=True)
    ep = lab.endpoint("stdin")
    client = lab.client(ep, operation_timeout_sec=1, read_timeout_sec=3)
    shell = client.open_shell()
    command = client.run_command(shell, "cat", console_mode_stdin=False)

    # Before stdin is closed the command has no output: the Receive waits, then times out.
    started = time.monotonic()
    with pytest.raises(WinRMOperationTimeoutError):
        client.get_command_output_raw(shell, command)
    assert time.monotonic() - started >= 0.9

    client.send_command_input(shell, command, b"first ")
    client.send_command_input(shell, command, "second\u00e9", end=True)  # str: pywinrm sends cp437
    out, err, code = output(client, shell, command)
    client.close_shell(shell)

    assert (out, err, code) == (b"first second\x82", b"", 0)
    assert [p.runs for p in lab.handler.processes] == [1]
    sends = [e for e in lab.events(ep) if e["action"] == "Send"]
    assert len(sends) == 2


def test_send_after_end_is_a_fault(lab):
    lab.handler.on("cat", lambda stdin: CommandResult(stdin), reads_stdin=True)
    ep = lab.endpoint("stdin-closed")
    client = lab.client(ep)
    shell = client.open_shell()
    command = client.run_command(shell, "cat", console_mode_stdin=False)
    client.send_command_input(shell, command, b"x", end=True)

    with pytest.raises(WSManFaultError) as info:
        client.send_command_input(shell, command, b"y", end=True)

    assert info.value.code == 500
    assert info.value.fault_subcode == "w:InvalidParameter"


def test_large_output_spans_several_receives_within_envelope_limit(lab):
    payload = os.urandom(300 * 1024)
    lab.handler.on("big", lambda _: CommandResult(payload, b"tail", 0))
    ep = lab.endpoint("big")
    client = lab.client(ep)
    shell = client.open_shell()
    command = client.run_command(shell, "big")

    out, err, code = output(client, shell, command)
    client.close_shell(shell)

    assert out == payload and err == b"tail" and code == 0
    receives = [e for e in lab.events(ep) if e["action"] == "Receive"]
    assert len(receives) == 3  # 153600-byte envelopes carry about 114 KB of output each
    assert all(e["soap_bytes"] <= client.max_env_sz for e in receives)
    assert sum(e["stdout_bytes"] for e in receives) == len(payload)


def test_receive_chunk_bytes_splits_small_output(lab):
    lab.handler.on("chunky", lambda _: CommandResult(b"0123456789" * 3 + b"abcde", b"ERR12", 7))
    ep = lab.endpoint("chunks", receive_chunk_bytes=10)
    client = lab.client(ep)
    shell = client.open_shell()
    command = client.run_command(shell, "chunky")

    pieces = []
    done = False
    while not done:
        out, err, code, done = client.get_command_output_raw(shell, command)
        pieces.append((out, err, code, done))
    client.close_shell(shell)

    assert pieces == [
        (b"0123456789", b"", -1, False),
        (b"0123456789", b"", -1, False),
        (b"0123456789", b"", -1, False),
        (b"abcde", b"ERR12", 7, True),
    ]


def test_command_line_over_cmd_limit_runs_silently_without_the_handler(lab):
    ep = lab.endpoint("cmdlimit")
    client = lab.client(ep)
    shell = client.open_shell()

    at_limit = client.run_command(shell, "a" * CMD_LINE_LIMIT)
    out_ok, _, code_ok = output(client, shell, at_limit)
    over = client.run_command(shell, "powershell", ["-EncodedCommand", "b" * CMD_LINE_LIMIT])
    out_over, err_over, code_over = output(client, shell, over)
    client.close_shell(shell)

    assert out_ok == b"a" * CMD_LINE_LIMIT and code_ok == 0
    assert (out_over, err_over, code_over) == (b"", b"", 0)
    assert [len(line) for line, _ in lab.handler.calls] == [CMD_LINE_LIMIT]
    lengths = [e["command_length"] for e in lab.events(ep) if e["action"] == "Command"]
    assert lengths == [CMD_LINE_LIMIT, len("powershell -EncodedCommand ") + CMD_LINE_LIMIT]


def test_skip_cmd_shell_raises_the_limit_to_create_process(lab):
    ep = lab.endpoint("skip")
    client = lab.client(ep)
    shell = client.open_shell()

    long_ok = client.run_command(shell, "c" * 20000, skip_cmd_shell=True)
    out_ok, _, _ = output(client, shell, long_ok)
    at_limit = client.run_command(shell, "d" * CREATE_PROCESS_LIMIT, skip_cmd_shell=True)
    output(client, shell, at_limit)
    over = client.run_command(shell, "e" * (CREATE_PROCESS_LIMIT + 1), skip_cmd_shell=True)
    out_over, _, code_over = output(client, shell, over)
    client.close_shell(shell)

    assert out_ok == b"c" * 20000
    assert (out_over, code_over) == (b"", 0)
    assert [(len(line), skip) for line, skip in lab.handler.calls] == [
        (20000, True),
        (CREATE_PROCESS_LIMIT, True),
    ]


def test_slow_command_times_out_receives_then_succeeds(lab):
    lab.handler.on("slow", lambda _: CommandResult(b"finally", runtime_s=2.2))
    ep = lab.endpoint("slow")
    client = lab.client(ep, operation_timeout_sec=1, read_timeout_sec=3)
    shell = client.open_shell()
    started = time.monotonic()
    command = client.run_command(shell, "slow")

    out, _, code = output(client, shell, command)  # pywinrm retries TimedOut silently
    elapsed = time.monotonic() - started
    client.close_shell(shell)

    assert (out, code) == (b"finally", 0)
    assert 2.2 <= elapsed < 3.5
    receives = [e for e in lab.events(ep) if e["action"] == "Receive"]
    assert [(e["status"], e.get("fault_code")) for e in receives] == [
        (500, TIMED_OUT),
        (500, TIMED_OUT),
        (200, None),
    ]


def test_unknown_shell_id_is_a_wsman_fault(lab):
    ep = lab.endpoint("noshell")
    client = lab.client(ep)
    shell = client.open_shell()
    client.close_shell(shell, close_session=False)

    with pytest.raises(WSManFaultError) as info:
        client.run_command(shell, "dir")
    with pytest.raises(WSManFaultError) as bogus:
        client.get_command_output_raw(str(uuid.uuid4()), str(uuid.uuid4()))

    for err in (info.value, bogus.value):
        assert err.code == 500
        assert err.wsman_fault_code == SHELL_NOT_FOUND
        assert err.fault_subcode == "w:InvalidSelectors"
        assert "shell was not found" in err.reason
    assert lab.handler.calls == []


def _envelope(action: str, *, prefix: str = "env", addr: str = "a", message_id: str) -> str:
    ns = {
        "env": "http://www.w3.org/2003/05/soap-envelope",
        "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
        "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    }
    return (
        f'<{prefix}:Envelope xmlns:{prefix}="{ns["env"]}" xmlns:{addr}="{ns["a"]}" '
        f'xmlns:ws="{ns["w"]}"><{prefix}:Header>'
        f"<{addr}:Action>{action}</{addr}:Action><{addr}:MessageID>{message_id}</{addr}:MessageID>"
        "<ws:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</ws:ResourceURI>"
        "<ws:OperationTimeout>PT5S</ws:OperationTimeout>"
        f"</{prefix}:Header><{prefix}:Body>"
        '<Shell xmlns="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">'
        "<InputStreams>stdin</InputStreams></Shell>"
        f"</{prefix}:Body></{prefix}:Envelope>"
    )


def test_elements_are_matched_by_namespace_not_prefix(lab):
    ep = lab.endpoint("prefixes")
    client = lab.client(ep)
    message_id = f"uuid:{uuid.uuid4()}"
    create = _envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create",
        prefix="soap12",
        addr="wsa",
        message_id=message_id,
    )

    reply = xmltodict.parse(
        client.send_message(create), process_namespaces=True, namespace_separator="|"
    )

    envelope = reply["http://www.w3.org/2003/05/soap-envelope|Envelope"]
    header = envelope["http://www.w3.org/2003/05/soap-envelope|Header"]
    assert header["http://schemas.xmlsoap.org/ws/2004/08/addressing|RelatesTo"] == message_id
    shell = envelope["http://www.w3.org/2003/05/soap-envelope|Body"][
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell|Shell"
    ]
    shell_id = shell["http://schemas.microsoft.com/wbem/wsman/1/windows/shell|ShellId"]
    assert [e["action"] for e in lab.events(ep) if e["action"]] == ["Create"]
    client.close_shell(shell_id)  # the id from rsp:Shell/rsp:ShellId is the live shell


def test_unknown_action_is_a_fault(lab):
    ep = lab.endpoint("badaction")
    client = lab.client(ep)
    enumerate_ = _envelope(
        "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate",
        message_id=f"uuid:{uuid.uuid4()}",
    )

    with pytest.raises(WSManFaultError) as info:
        client.send_message(enumerate_)

    assert info.value.wsman_fault_code == 2150858771
    assert info.value.fault_subcode == "a:ActionNotSupported"
    assert lab.events(ep)[-1]["action"] == "Enumerate"


def test_create_response_carries_selector_and_shell_id(lab):
    ep = lab.endpoint("create")
    client = lab.client(ep)
    message_id = f"uuid:{uuid.uuid4()}"
    raw = client.send_message(
        _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", message_id=message_id)
    )

    text = raw.decode()
    shell_id = text.split('<w:Selector Name="ShellId">', 1)[1].split("<", 1)[0]
    assert f"<rsp:ShellId>{shell_id}</rsp:ShellId>" in text
    assert f"<a:RelatesTo>{message_id}</a:RelatesTo>" in text
    assert ep.url in text
    client.close_shell(shell_id)


def test_handler_failure_surfaces_as_fault_not_hang(lab):
    def boom(_stdin: bytes) -> CommandResult:
        raise RuntimeError("handler bug")

    lab.handler.on("boom", boom)
    ep = lab.endpoint("boom")
    client = lab.client(ep)
    shell = client.open_shell()
    command = client.run_command(shell, "boom")

    with pytest.raises(WSManFaultError) as info:
        output(client, shell, command)

    assert "handler bug" in info.value.reason
    client.close_shell(shell)


def test_binary_stdin_round_trip(lab):
    blob = bytes(range(256)) * 64
    lab.handler.on("b64", lambda stdin: CommandResult(base64.b64encode(stdin)), reads_stdin=True)
    ep = lab.endpoint("binary")
    client = lab.client(ep)
    shell = client.open_shell()
    command = client.run_command(shell, "b64", console_mode_stdin=False)
    client.send_command_input(shell, command, blob, end=True)

    out, _, _ = output(client, shell, command)
    client.close_shell(shell)

    assert base64.b64decode(out) == blob
