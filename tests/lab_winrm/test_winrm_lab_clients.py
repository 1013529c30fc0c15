"""The suite's own WinRM client (cwh.transport.session) and an independent one (pypsrp's WinRS)
against the lab: the options the suite depends on, the envelope limit it must respect, and the
same facts document whichever client asks."""

from __future__ import annotations

import hashlib
import json
import secrets

import pytest
from pypsrp.shell import Process, SignalCode, WinRS
from pypsrp.wsman import WSMan

from cwh.catalog.model import load_catalog
from cwh.collect.document import DocumentError, parse_output
from cwh.collect.request import request_for
from cwh.collect.script import (
    bootstrap_command,
    build_collector,
    decode_stdin_payload,
    stdin_payload,
)
from cwh.errors import HostError
from cwh.inventory import ConnectionSettings
from cwh.lab.emulator import ImageCommandHandler
from cwh.lab.image import load_image
from cwh.lab.winrm import CommandResult
from cwh.transport import session as session_module
from cwh.transport.session import ENVELOPE_LIMIT, ENVELOPE_MARGIN, PowerShellSession

from .support import PASSWORD, USER, Lab


@pytest.fixture
def lab(tmp_path):
    with Lab(tmp_path) as lab:
        yield lab


def _incompressible(size: int) -> str:
    """A PowerShell comment of `size` characters that gzip cannot shrink (the payload is
    compressed, so a run of one letter would fit any envelope)."""
    return "# " + secrets.token_hex(size // 2)


def settings(ep, **extra) -> ConnectionSettings:
    return ConnectionSettings(name=ep.config.name, address=ep.config.address, port=ep.port,
                              scheme="http", transport="ntlm", user=USER, password=PASSWORD,
                              read_timeout_sec=10, operation_timeout_sec=5,
                              command_timeout_sec=20, **extra)


def collector() -> str:
    return build_collector(request_for(load_catalog().controls).to_json())


def run_suite(ep, script: str) -> tuple[bytes, bytes, int]:
    session = PowerShellSession(settings(ep))
    try:
        return session.run_script(script)
    finally:
        session.close()


def comparable(document: dict) -> str:
    """The document without what differs from one run to the next (section timings)."""
    for section in document["sections"].values():
        section.pop("ms", None)
    return json.dumps(document, sort_keys=True)


def test_the_suite_starts_the_bootstrap_with_a_pipe_for_stdin(lab):
    """Against a lab that gives console-mode commands no input, as Windows does, the suite gets
    its facts only if it asks for pipe-mode stdin."""
    ep = lab.endpoint("suite", handler=ImageCommandHandler(load_image("hardened")))

    document = parse_output(*run_suite(ep, collector()))

    assert document["sections"]["identity"]["ok"] is True
    events = lab.events(ep)
    assert [e["winrs"] for e in events if e["action"] == "Create"] == \
        [{"codepage": 65001, "noprofile": True}]
    assert [e["winrs"] for e in events if e["action"] == "Command"] == \
        [{"skip_cmd_shell": False, "console_mode_stdin": False}]
    assert {e["winrs"]["streams"] for e in events if e["action"] == "Receive"} == \
        {"stdout stderr"}


def test_a_host_that_withholds_stdin_is_no_output_never_facts(lab):
    ep = lab.endpoint("nostdin", handler=ImageCommandHandler(load_image("hardened")),
                      fault="console_stdin")

    stdout, stderr, code = run_suite(ep, collector())

    assert (stdout, code) == (b"", 0)
    with pytest.raises(DocumentError, match="produced no output"):
        parse_output(stdout, stderr, code)


def _digest_handler(lab: Lab) -> None:
    lab.handler.on(bootstrap_command(), reads_stdin=True, produce=lambda stdin: CommandResult(
        hashlib.sha256(decode_stdin_payload(stdin).encode()).hexdigest().encode()))


def test_every_envelope_of_a_large_script_fits_the_limit_with_margin(lab):
    """A collector grown to 1 MB (the full STIG will grow it) travels in several Sends, each
    envelope, header included, under the 150 KiB that every default Windows accepts."""
    _digest_handler(lab)
    ep = lab.endpoint("large", max_envelope_kb=150)
    script = _incompressible(1024 * 1024)

    out, _, code = run_suite(ep, script)

    assert (out, code) == (hashlib.sha256(script.encode()).hexdigest().encode(), 0)
    sends = [e for e in lab.events(ep) if e["action"] == "Send"]
    assert len(sends) == -(-len(stdin_payload(script)) // session_module.send_chunk_bytes())
    assert all(e["status"] == 200 for e in sends)
    assert max(e["soap_bytes_in"] for e in sends) <= ENVELOPE_LIMIT - ENVELOPE_MARGIN
    assert max(e["soap_bytes_in"] for e in sends) > ENVELOPE_LIMIT - 2 * ENVELOPE_MARGIN


def test_an_envelope_over_the_suites_limit_is_never_sent(lab, monkeypatch):
    _digest_handler(lab)
    ep = lab.endpoint("guard")
    monkeypatch.setattr(session_module, "send_chunk_bytes", lambda limit: 200 * 1024)

    with pytest.raises(HostError) as info:
        run_suite(ep, _incompressible(400 * 1024))

    assert "over the 145408 bytes it keeps every request to" in str(info.value)
    assert [e for e in lab.events(ep) if e["action"] == "Send"] == []


def test_a_host_with_a_smaller_max_envelope_size_is_one_readable_line(lab):
    """MaxEnvelopeSizekb 32 (Windows' minimum): the first Send gets HTTP 413."""
    _digest_handler(lab)
    ep = lab.endpoint("small", max_envelope_kb=32)

    with pytest.raises(HostError) as info:
        run_suite(ep, _incompressible(100 * 1024))

    message = str(info.value)
    assert "\n" not in message and PASSWORD not in message
    assert message.startswith("small: the WinRM service at ")
    assert "refused a request as too large (HTTP 413: the request size exceeded the configured " \
           "MaxEnvelopeSize quota)" in message
    assert "MaxEnvelopeSizekb on the host to at least 150" in message
    assert [e["status"] for e in lab.events(ep) if e["action"] == "Send"] == [413]


def pypsrp_document(ep, script: str) -> dict:
    """The collector run through pypsrp's WinRS: its own NTLM, sealing, envelopes and
    Receive loop; no console-mode option at all (so stdin is a pipe)."""
    wsman = WSMan(ep.config.address, port=ep.port, username=USER, password=PASSWORD, ssl=False,
                  auth="ntlm", no_proxy=True, operation_timeout=5, read_timeout=10)
    with wsman, WinRS(wsman, codepage=65001, no_profile=True) as shell:
        process = Process(shell, bootstrap_command())
        process.begin_invoke()
        process.send(stdin_payload(script), end=True)
        process.end_invoke()
        process.signal(SignalCode.TERMINATE)
    return parse_output(process.stdout, process.stderr, process.rc or 0)


def test_pypsrp_gets_the_same_facts_document_as_the_suite(lab):
    ep = lab.endpoint("second-client", handler=ImageCommandHandler(load_image("drifted")))
    script = collector()

    by_suite = parse_output(*run_suite(ep, script))
    by_pypsrp = pypsrp_document(ep, script)

    assert comparable(by_pypsrp) == comparable(by_suite)
    pypsrp_events = [e for e in lab.events(ep) if e["action"]][-6:]
    assert [e["action"] for e in pypsrp_events] == \
        ["Create", "Command", "Send", "Receive", "Signal", "Delete"]
    assert all(e["encrypted"] and e["status"] == 200 for e in pypsrp_events)


def test_pypsrp_receives_only_the_streams_it_asks_for(lab):
    lab.handler.on("both", lambda _: CommandResult(b"out-bytes", b"err-bytes", 3))
    ep = lab.endpoint("desired")
    wsman = WSMan(ep.config.address, port=ep.port, username=USER, password=PASSWORD, ssl=False,
                  auth="ntlm", no_proxy=True, operation_timeout=5, read_timeout=10)
    with wsman, WinRS(wsman) as shell:
        process = Process(shell, "both")
        process.begin_invoke()
        state_out, rc_out, only_out = shell.receive("stdout", process.id)
        state_err, rc_err, only_err = shell.receive("stderr", process.id)
        process.signal(SignalCode.TERMINATE)

    assert only_out == {"stdout": b"out-bytes"} and state_out.endswith("/Done") and rc_out == 3
    assert only_err == {"stderr": b"err-bytes"} and state_err.endswith("/Done") and rc_err == 3
    assert [e["winrs"]["streams"] for e in lab.events(ep) if e["action"] == "Receive"] == \
        ["stdout", "stderr"]
