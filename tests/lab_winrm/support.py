"""Helpers for the lab WinRM endpoint tests: a scripted command handler, certificates, and a `Lab`
that starts endpoints, builds pywinrm clients for them and checks that nothing is left running."""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winrm.protocol import Protocol

from cwh.certs import Issued, issue, make_ca
from cwh.lab.winrm import (
    CommandResult,
    Credential,
    EndpointConfig,
    RequestLog,
    WinRMEndpoint,
)

USER = "auditor"
PASSWORD = "S3cret:pa ss"  # a colon and a space: the credential store must cope with both

Produce = Callable[[bytes], CommandResult]


@dataclass
class FakeProcess:
    reads_stdin: bool
    produce: Produce
    runs: int = 0

    def run(self, stdin: bytes) -> CommandResult:
        self.runs += 1
        return self.produce(stdin)


@dataclass
class ScriptedHandler:
    """Commands whose line starts with a registered prefix get that behaviour; anything else
    echoes its command line. Every start() is recorded."""

    routes: list[tuple[str, bool, Produce]] = field(default_factory=list)
    calls: list[tuple[str, bool]] = field(default_factory=list)
    processes: list[FakeProcess] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, prefix: str, produce: Produce, *, reads_stdin: bool = False) -> None:
        self.routes.append((prefix, reads_stdin, produce))

    def start(self, command_line: str, *, skip_cmd_shell: bool) -> FakeProcess:
        with self._lock:
            self.calls.append((command_line, skip_cmd_shell))
        for prefix, reads_stdin, produce in self.routes:
            if command_line.startswith(prefix):
                process = FakeProcess(reads_stdin, produce)
                break
        else:
            process = FakeProcess(False, lambda _stdin: CommandResult(command_line.encode()))
        with self._lock:
            self.processes.append(process)
        return process


@functools.cache
def lab_ca() -> Issued:
    return make_ca("CWH WinRM lab test CA")


@functools.cache
def server_cert(address: str) -> Issued:
    return issue([address, "localhost"], ca=lab_ca(), key_type="ec", key_size=256)


def lab_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("winrm-lab")]


_addresses = itertools.count(1)


def next_address() -> str:
    """A fresh loopback address per endpoint, so tests also cover binding to 127.x.y.z."""
    n = next(_addresses)
    return f"127.0.{10 + n // 250}.{1 + n % 250}"


class Lab:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.log = RequestLog()
        self.handler = ScriptedHandler()
        self.endpoints: list[WinRMEndpoint] = []
        self.ca_file = tmp_path / "ca.pem"
        self.ca_file.write_bytes(lab_ca().cert_pem)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        for ep in self.endpoints:
            ep.stop()
        self.endpoints.clear()
        # Worker threads are joined by stop(); the reactor thread ends with its last endpoint.
        deadline = time.monotonic() + 2
        while lab_threads() and time.monotonic() < deadline:
            time.sleep(0.02)
        leftover = lab_threads()
        assert not leftover, f"lab threads still running after stop(): {leftover}"

    def endpoint(
        self,
        name: str = "host1",
        *,
        credentials: tuple[Credential, ...] = (Credential(USER, PASSWORD),),
        handler: Any = None,
        log: RequestLog | None = None,
        **config: Any,
    ) -> WinRMEndpoint:
        address = config.pop("address", None) or next_address()
        if config.get("scheme") == "https" and "cert_file" not in config:
            cert, key = server_cert(address).write(self.tmp, f"{name}-{address}")
            config.update(cert_file=str(cert), key_file=str(key))
        cfg = EndpointConfig(
            name, address, config.pop("port", 0), credentials=credentials, **config
        )
        ep = WinRMEndpoint(cfg, handler or self.handler, log or self.log)
        ep.start()
        self.endpoints.append(ep)
        return ep

    def client(
        self,
        ep: WinRMEndpoint,
        *,
        transport: str = "ntlm",
        username: str = USER,
        password: str = PASSWORD,
        **kwargs: Any,
    ) -> Protocol:
        # Explicit trust and no proxy: never pick up REQUESTS_CA_BUNDLE or *_PROXY from the host.
        kwargs.setdefault(
            "ca_trust_path", str(self.ca_file) if ep.config.scheme == "https" else None
        )
        kwargs.setdefault("proxy", None)
        kwargs.setdefault("read_timeout_sec", 10)
        kwargs.setdefault("operation_timeout_sec", 5)
        return Protocol(ep.url, transport=transport, username=username, password=password, **kwargs)

    def events(self, ep: WinRMEndpoint) -> list[dict[str, Any]]:
        return self.log.events(ep.config.name)


def output(
    protocol: Protocol, shell: str, command: str, timeout: float = 15
) -> tuple[bytes, bytes, int]:
    """pywinrm's own get_command_output, which retries TimedOut forever, run under a deadline so a
    broken server fails the test instead of hanging it."""
    result: list[tuple[bytes, bytes, int]] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(protocol.get_command_output(shell, command))
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=target, name="test-output-poller", daemon=True)
    worker.start()
    worker.join(timeout)
    if errors:
        raise errors[0]
    assert result, f"command output incomplete after {timeout}s (pywinrm still polling)"
    return result[0]


def run(protocol: Protocol, command: str, args: tuple[str, ...] = ()) -> tuple[bytes, bytes, int]:
    """What winrm.Session.run_cmd does, on an explicit Protocol."""
    shell = protocol.open_shell()
    command_id = protocol.run_command(shell, command, args)
    out, err, code = output(protocol, shell, command_id)
    protocol.cleanup_command(shell, command_id)
    protocol.close_shell(shell)
    return out, err, code


def actions(events: list[dict[str, Any]]) -> list[str | None]:
    return [e["action"] for e in events]
