"""cwh.collect.collect: one host's collection, through a stand-in for the testinfra host, so the
step from raw output to HostFacts is tested exactly as the audit takes it."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from cwh.collect import collect as collect_module
from cwh.collect.collect import collect_host
from cwh.collect.request import FactRequest
from cwh.collect.script import split_collector
from cwh.inventory import ConnectionSettings, Target
from cwh.lab.emulator import encode_document
from cwh.lab.faults import split_faults
from tests.unit.helpers import LSA, document, reg, registry

DOC = document({"registry": registry(reg(LSA, "RestrictAnonymous", "DWord", 1))})


@dataclass
class _Result:
    stdout_bytes: bytes
    stderr_bytes: bytes
    rc: int


class _Host:
    def __init__(self, result: _Result) -> None:
        self.result = result
        self.scripts: list[str] = []

    def run(self, script: str) -> _Result:
        self.scripts.append(script)
        return self.result


def _target(timeout: int = 120) -> Target:
    settings = ConnectionSettings(name="sc01", address="192.0.2.10", port=5985, scheme="http",
                                  transport="ntlm", user="auditor", command_timeout_sec=timeout)
    return Target("sc01", (), settings, {})


def _collect(monkeypatch: pytest.MonkeyPatch, result: _Result, timeout: int = 120):
    host = _Host(result)
    monkeypatch.setattr(collect_module, "host_for", lambda settings: host)
    return collect_host(_target(timeout), FactRequest()), host


def test_a_complete_document_with_a_non_zero_exit_is_kept_with_a_warning(monkeypatch) -> None:
    """Issue 10, item 15: the whole document was thrown away before."""
    stderr = b'#< CLIXML\r\n<Objs Version="1.1.0.1"><S S="Error">boom_x000D__x000A_</S></Objs>'
    facts, _ = _collect(monkeypatch, _Result(encode_document(DOC), stderr, 1))
    assert facts.ok and facts.error is None
    assert facts.registry(LSA, "RestrictAnonymous").value == 1
    [warning] = facts.warnings
    assert "exited with code 1" in warning and "boom" in warning
    assert facts.document["_collection"]["warnings"] == facts.warnings


def test_a_clean_run_has_no_warnings(monkeypatch) -> None:
    facts, _ = _collect(monkeypatch, _Result(encode_document(DOC), b"", 0))
    assert facts.ok and facts.warnings == []


def test_no_document_with_a_non_zero_exit_is_still_a_host_error(monkeypatch) -> None:
    facts, _ = _collect(monkeypatch, _Result(b"", b"boom", 1))
    assert not facts.ok and "no output (exit code 1)" in facts.error
    assert facts.warnings == []


def test_the_lab_fault_exit_nonzero_is_read_like_the_clean_answer() -> None:
    _, output_filter = split_faults("exit_nonzero", "lab")
    assert output_filter is not None
    result = output_filter(DOC, encode_document(DOC))
    assert result.exit_code == 1 and result.stdout == encode_document(DOC)


@pytest.mark.parametrize(("timeout", "budget"), [(120, 94.0), (10, 6.0)])
def test_the_request_gives_sections_a_budget_inside_the_host_deadline(monkeypatch, timeout,
                                                                     budget) -> None:
    _, host = _collect(monkeypatch, _Result(encode_document(DOC), b"", 0), timeout)
    [script] = host.scripts
    request_json, _ = split_collector(script)
    assert json.loads(request_json)["section_budget_sec"] == budget
