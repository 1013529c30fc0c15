"""The WinRS options and limits Windows enforces, played by the lab: console-mode stdin,
MaxEnvelopeSizekb (HTTP 413 for larger requests, responses capped), the shell's code page and
profile options, and a Receive's DesiredStream."""

from __future__ import annotations

import os

import pytest
from winrm.exceptions import WinRMTransportError, WSManFaultError

from cwh.catalog.model import load_catalog
from cwh.collect.document import DocumentError, parse_output
from cwh.collect.request import request_for
from cwh.collect.script import bootstrap_command, build_collector, stdin_payload
from cwh.errors import ConfigError
from cwh.lab.emulator import ImageCommandHandler
from cwh.lab.fleet import max_envelope_kb
from cwh.lab.image import Image, load_image
from cwh.lab.winrm import CommandResult, EndpointConfig

from .support import Lab, output

CODE_PAGE_NOT_SUPPORTED = 2150859072


@pytest.fixture
def lab(tmp_path):
    with Lab(tmp_path) as lab:
        yield lab


def collector_stdin() -> bytes:
    return stdin_payload(build_collector(request_for(load_catalog().controls).to_json()))


def _bootstrap(client, console_mode_stdin: bool) -> tuple[bytes, bytes, int]:
    shell = client.open_shell(codepage=65001, noprofile=True)
    command = client.run_command(shell, bootstrap_command(), console_mode_stdin=console_mode_stdin)
    client.send_command_input(shell, command, collector_stdin(), end=True)
    result = output(client, shell, command)
    client.close_shell(shell)
    return result


def test_console_mode_stdin_gives_the_bootstrap_no_input(lab):
    """WINRS_CONSOLEMODE_STDIN=TRUE (pywinrm's default): the Send is accepted, but PowerShell's
    $input reads a console, not the pipe the Send fills. The bootstrap runs an empty script:
    no output, exit 0, which the suite must read as an error, never as facts."""
    ep = lab.endpoint("console", handler=ImageCommandHandler(load_image("hardened")))

    stdout, stderr, code = _bootstrap(lab.client(ep), console_mode_stdin=True)

    assert (stdout, stderr, code) == (b"", b"", 0)
    with pytest.raises(DocumentError, match="no output"):
        parse_output(stdout, stderr, code)
    sends = [e for e in lab.events(ep) if e["action"] == "Send"]
    assert sends and all(e["status"] == 200 for e in sends)
    commands = [e["winrs"] for e in lab.events(ep) if e["action"] == "Command"]
    assert commands == [{"skip_cmd_shell": False, "console_mode_stdin": True}]


def test_pipe_mode_stdin_reaches_the_bootstrap(lab):
    ep = lab.endpoint("pipe", handler=ImageCommandHandler(load_image("hardened")))

    document = parse_output(*_bootstrap(lab.client(ep), console_mode_stdin=False))

    assert document["sections"]["os"]["ok"] is True
    commands = [e["winrs"] for e in lab.events(ep) if e["action"] == "Command"]
    assert commands == [{"skip_cmd_shell": False, "console_mode_stdin": False}]


def test_console_stdin_fault_withholds_stdin_whatever_the_client_asks(lab):
    ep = lab.endpoint("forced", handler=ImageCommandHandler(load_image("hardened")),
                      fault="console_stdin")

    assert _bootstrap(lab.client(ep), console_mode_stdin=False) == (b"", b"", 0)


def _cat(lab: Lab, **config) -> tuple:
    lab.handler.on("cat", lambda stdin: CommandResult(stdin), reads_stdin=True)
    ep = lab.endpoint("envelope", **config)
    client = lab.client(ep)
    shell = client.open_shell()
    command = client.run_command(shell, "cat", console_mode_stdin=False)
    return ep, client, shell, command


def test_a_send_over_max_envelope_size_gets_http_413_and_changes_nothing(lab):
    ep, client, shell, command = _cat(lab)

    with pytest.raises(WinRMTransportError) as info:
        client.send_command_input(shell, command, os.urandom(8 * 1024 * 1024))

    assert info.value.code == 413
    refused = lab.events(ep)[-1]
    assert (refused["action"], refused["status"]) == ("Send", 413)
    assert "exceeded the configured MaxEnvelopeSize quota" in refused["error"]
    assert refused["bytes_out"] < 300  # no SOAP fault in the body, as on Windows
    # Nothing of the refused Send reached the process, and the NTLM-sealed session goes on.
    client.send_command_input(shell, command, b"small", end=True)
    assert output(client, shell, command) == (b"small", b"", 0)
    client.close_shell(shell)


@pytest.mark.parametrize("kb", [32, 150, 500])
def test_the_envelope_limit_is_the_hosts_max_envelope_size_kb(lab, kb):
    ep, client, shell, command = _cat(lab, max_envelope_kb=kb)
    limit = kb * 1024
    # base64 makes 3 bytes 4; the rest of a pywinrm Send envelope is about 1.5 KB.
    fits, too_big = (limit - 3000) * 3 // 4, limit * 3 // 4

    client.send_command_input(shell, command, b"a" * fits)
    with pytest.raises(WinRMTransportError) as info:
        client.send_command_input(shell, command, b"b" * too_big)
    client.send_command_input(shell, command, b"", end=True)
    out, _, _ = output(client, shell, command)
    client.close_shell(shell)

    assert info.value.code == 413
    assert out == b"a" * fits
    sends = [(e["status"], e["bytes_in"] <= limit + 1024) for e in lab.events(ep)
             if e["action"] == "Send"]
    assert sends == [(200, True), (413, False), (200, True)]


def test_envelope_limit_below_windows_minimum_is_rejected(lab):
    with pytest.raises(ValueError, match="max_envelope_kb"):
        EndpointConfig("tiny", "127.0.0.1", 0, max_envelope_kb=31)


def test_no_receive_is_larger_than_the_hosts_limit_whatever_the_client_asks(lab):
    payload = os.urandom(600 * 1024)
    lab.handler.on("big", lambda _: CommandResult(payload))
    ep = lab.endpoint("capped", max_envelope_kb=150)
    client = lab.client(ep)
    client.max_env_sz = 8 * 1024 * 1024  # the MaxEnvelopeSize header asks for 8 MB
    shell = client.open_shell()
    command = client.run_command(shell, "big")

    out, _, _ = output(client, shell, command)
    client.close_shell(shell)

    assert out == payload
    receives = [e for e in lab.events(ep) if e["action"] == "Receive"]
    assert len(receives) >= 5
    assert all(e["soap_bytes"] <= 150 * 1024 for e in receives)


def test_create_records_code_page_and_profile_options(lab):
    ep = lab.endpoint("options")
    client = lab.client(ep)

    client.close_shell(client.open_shell(codepage=65001, noprofile=True), close_session=False)
    client.close_shell(client.open_shell(), close_session=False)

    creates = [e["winrs"] for e in lab.events(ep) if e["action"] == "Create"]
    assert creates == [{"codepage": 65001, "noprofile": True},
                       {"codepage": 437, "noprofile": False}]


@pytest.mark.parametrize("codepage", ["99999", "0", "utf8", "-1"])
def test_a_code_page_windows_cannot_set_is_a_fault(lab, codepage):
    ep = lab.endpoint("badcp")

    with pytest.raises(WSManFaultError) as info:
        lab.client(ep).open_shell(codepage=codepage)

    assert info.value.wsman_fault_code == CODE_PAGE_NOT_SUPPORTED
    assert "cannot set Code Page" in info.value.reason


def test_a_winrs_flag_that_is_neither_true_nor_false_is_a_fault(lab):
    ep = lab.endpoint("badflag")

    with pytest.raises(WSManFaultError) as info:
        lab.client(ep).open_shell(noprofile="maybe")

    assert info.value.fault_subcode == "w:InvalidParameter"
    assert "WINRS_NOPROFILE" in info.value.reason


@pytest.mark.parametrize(("winrm", "expected"), [
    (None, 500), ({}, 500), ({"max_envelope_size_kb": 150}, 150),
    ({"max_envelope_size_kb": 32}, 32),
])
def test_an_image_sets_its_hosts_max_envelope_size(tmp_path, winrm, expected):
    data = {} if winrm is None else {"winrm": winrm}
    assert max_envelope_kb(Image("h", tmp_path / "h.yml", data)) == expected


@pytest.mark.parametrize("winrm", [
    {"max_envelope_size_kb": 31}, {"max_envelope_size_kb": "500"},
    {"max_envelope_size_kb": True}, {"maxenvelopesizekb": 500}, "500",
])
def test_an_image_with_an_impossible_envelope_size_is_one_line(tmp_path, winrm):
    with pytest.raises(ConfigError, match=r"lab image .*h\.yml: .*winrm"):
        max_envelope_kb(Image("h", tmp_path / "h.yml", {"winrm": winrm}))
