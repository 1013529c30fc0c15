"""The transport limits the lab reproduces (powershell-pitfalls.md), met by the suite itself:
the cmd.exe command line and output that arrives over several Receive calls."""

from __future__ import annotations

import json

from winrm.protocol import Protocol

from cwh.catalog.model import load_catalog
from cwh.collect.document import DocumentError, parse_output
from cwh.collect.request import request_for
from cwh.collect.script import CMD_LINE_LIMIT, bootstrap_command, build_collector, encoded_command
from cwh.lab.emulator import ImageCommandHandler
from cwh.lab.image import load_image
from cwh.lab.winrm import Credential, EndpointConfig, RequestLog, WinRMEndpoint
from tests.e2e.audit_run import lab_host, loopback, run_audit, write_inventory


def test_the_collector_cannot_travel_on_the_command_line():
    """Sent the obvious way (-EncodedCommand), the collector passes cmd.exe's limit and comes
    back empty with exit code 0: the suite reads that as an error, never as "no findings"."""
    script = build_collector(request_for(load_catalog().controls).to_json())
    command = encoded_command(script)
    assert len(command) > CMD_LINE_LIMIT and len(bootstrap_command()) < CMD_LINE_LIMIT // 4
    endpoint = WinRMEndpoint(
        EndpointConfig("limit", loopback(), 0, credentials=(Credential("auditor", "pw"),)),
        ImageCommandHandler(load_image("hardened")), RequestLog())
    endpoint.start()
    try:
        protocol = Protocol(endpoint.url, transport="ntlm", username="auditor", password="pw",
                            proxy=None)
        shell = protocol.open_shell()
        command_id = protocol.run_command(shell, command)
        stdout, stderr, code = protocol.get_command_output(shell, command_id)
        protocol.close_shell(shell)
    finally:
        endpoint.stop()
    assert (stdout, code) == (b"", 0)
    try:
        parse_output(stdout, stderr, code)
    except DocumentError as exc:
        assert "no output" in str(exc)
    else:
        raise AssertionError("empty output was accepted")


def test_output_over_many_receives_gives_the_same_verdicts(tmp_path):
    inventory = write_inventory(tmp_path, {
        "whole": lab_host("drifted"),
        "chunked": lab_host("drifted", cwh_lab_chunk_bytes=512),
    })
    run = run_audit(tmp_path, inventory, "-m", "guide")
    receives = [r for r in run.lab_requests()
                if r["endpoint"] == "chunked" and r["action"] == "Receive"]
    assert len(receives) > 3, receives
    addresses = {name: run.document["hosts"][name]["address"] for name in ("whole", "chunked")}

    def comparable(name: str) -> dict:
        # Each lab host gets its own certificate, so CWH-WEB-05's dates may differ by a second.
        return {control: (r["status"], r["expected"], "" if control == "CWH-WEB-05" else
                          r["observed"].replace(addresses[name], "ADDRESS"))
                for control, r in run.by_control(name).items()}

    assert comparable("whole") == comparable("chunked")
    assert json.dumps(run.document["host_errors"]) == "{}"
