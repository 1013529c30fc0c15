"""One WinRM shell per host, PowerShell scripts delivered over stdin, and a deadline of our own.

pywinrm polls Receive forever while a command runs, so the Receive loop here enforces the
suite's deadline and terminates the command when it passes. A finished command needs no Signal:
the shell's Delete right after it cleans it up, which saves one request per host.

The bootstrap reads the collector from stdin, so the command is started with
WINRS_CONSOLEMODE_STDIN=FALSE (a pipe; Ansible does the same whenever it sends stdin): with
pywinrm's default TRUE the process gets a console, never reads the Sends, and runs an empty script.
"""

from __future__ import annotations

import contextlib
import threading
import time
import types

import requests
import winrm.transport
from winrm import exceptions as winrm_exc
from winrm.protocol import Protocol

from cwh.inventory import ConnectionSettings
from cwh.transport.delivery import bootstrap_command, stdin_payload
from cwh.transport.errors import CommandTimeout, EnvelopeTooLarge, OutputTooLarge, describe

SHELL_NOT_FOUND = 2150858843
MAX_OUTPUT_BYTES = 96 * 1024 * 1024
# Windows answers HTTP 413 to a request over its MaxEnvelopeSizekb (500 now, 150 on older
# builds; pywinrm announces 150 KiB as its own MaxEnvelopeSize). Every envelope the suite sends,
# header included, stays this far under 150 KiB, so no host with a default setting refuses one.
ENVELOPE_LIMIT = Protocol.DEFAULT_MAX_ENV_SIZE
ENVELOPE_MARGIN = 8 * 1024
# A Send envelope without its data (pywinrm's header, selectors, stream element) is ~1.5 KB.
_SEND_SKELETON_ALLOWANCE = 4 * 1024


def send_chunk_bytes(limit: int = ENVELOPE_LIMIT) -> int:
    """Stdin bytes per Send such that the whole envelope, data in base64, fits the limit."""
    room = limit - ENVELOPE_MARGIN - _SEND_SKELETON_ALLOWANCE
    return room // 4 * 3


class _EnvFreeSession(requests.Session):
    """A requests session that never reads os.environ.

    With trust_env, requests reads (and, for no_proxy, briefly rewrites) os.environ on every
    request, while pytest sets and deletes PYTEST_CURRENT_TEST in the main thread around every
    test phase: a gathering thread then dies of KeyError and its host goes unaudited. The
    suite uses no proxy for WinRM and gives CA paths explicitly: the environment adds nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False


# pywinrm builds its session with `requests.Session()` inside Transport.build_session and offers
# no hook: give its module a `requests` whose Session is ours, leaving the real module alone.
winrm.transport.requests = types.SimpleNamespace(  # type: ignore[assignment]
    **{k: getattr(requests, k) for k in dir(requests) if not k.startswith("__")})
winrm.transport.requests.Session = _EnvFreeSession


class _SizedProtocol(Protocol):
    """pywinrm's Protocol, refusing to send any envelope over the suite's own limit: the host
    would refuse it anyway, and a local error names the cause where HTTP 413 cannot."""

    def send_message(self, message: str | bytes) -> bytes:
        size = len(message.encode("utf-8") if isinstance(message, str) else message)
        if size > self.max_env_sz - ENVELOPE_MARGIN:
            raise EnvelopeTooLarge(size, self.max_env_sz - ENVELOPE_MARGIN)
        return super().send_message(message)


class PowerShellSession:
    """Runs PowerShell scripts on one host over one WinRM shell."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self._protocol: Protocol | None = None
        self._shell_id: str | None = None
        self._lock = threading.Lock()

    def _connect(self) -> Protocol:
        if self._protocol is None:
            s = self.settings
            self._protocol = _SizedProtocol(
                endpoint=s.endpoint,
                transport=s.transport,
                username=s.user or None,
                password=s.password or None,
                server_cert_validation=s.server_cert_validation,
                ca_trust_path=s.ca_trust_path,  # None: requests' own bundle, never env vars
                cert_pem=s.cert_pem,
                cert_key_pem=s.cert_key_pem,
                read_timeout_sec=s.read_timeout_sec,
                operation_timeout_sec=s.operation_timeout_sec,
                proxy=None,
            )
        return self._protocol

    def _shell(self, protocol: Protocol) -> str:
        if self._shell_id is None:
            self._shell_id = protocol.open_shell(codepage=65001, noprofile=True)
        return self._shell_id

    def run_script(self, script: str) -> tuple[bytes, bytes, int]:
        """Run a PowerShell script; returns (stdout, stderr, exit code).

        Raises HostError with a readable one-line message for every transport failure.
        """
        with self._lock:
            try:
                try:
                    return self._run(script)
                except winrm_exc.WSManFaultError as exc:
                    if exc.wsman_fault_code != SHELL_NOT_FOUND:
                        raise
                    # The server reaped our idle shell (or WinRM restarted): one new shell.
                    self._shell_id = None
                    return self._run(script)
            except Exception as exc:  # every failure becomes one readable line
                if isinstance(exc, (CommandTimeout, OutputTooLarge)):
                    # The host answers, only our command went too far: leave no shell behind.
                    self._delete_shell()
                self._discard()
                raise describe(exc, self.settings) from None

    def _run(self, script: str) -> tuple[bytes, bytes, int]:
        deadline = time.monotonic() + self.settings.command_timeout_sec
        protocol = self._connect()
        shell_id = self._shell(protocol)
        command_id = protocol.run_command(shell_id, bootstrap_command(),
                                          console_mode_stdin=False, skip_cmd_shell=False)
        payload = stdin_payload(script)
        chunk_bytes = send_chunk_bytes(protocol.max_env_sz)
        for start in range(0, len(payload), chunk_bytes):
            chunk = payload[start:start + chunk_bytes]
            protocol.send_command_input(shell_id, command_id, chunk,
                                        end=start + chunk_bytes >= len(payload))
        return self._receive(protocol, shell_id, command_id, deadline)

    def _receive(self, protocol: Protocol, shell_id: str, command_id: str,
                 deadline: float) -> tuple[bytes, bytes, int]:
        stdout: list[bytes] = []
        stderr: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                self._terminate(protocol, shell_id, command_id)
                raise CommandTimeout()
            try:
                out, err, code, done = protocol.get_command_output_raw(shell_id, command_id)
            except winrm_exc.WinRMOperationTimeoutError:
                continue  # one OperationTimeout period passed with no output; check the deadline
            stdout.append(out)
            stderr.append(err)
            size += len(out) + len(err)
            if size > MAX_OUTPUT_BYTES:
                self._terminate(protocol, shell_id, command_id)
                raise OutputTooLarge(f"more than {MAX_OUTPUT_BYTES} bytes")
            if done:
                return b"".join(stdout), b"".join(stderr), code

    @staticmethod
    def _terminate(protocol: Protocol, shell_id: str, command_id: str) -> None:
        # Best effort: the host may be gone, and the timeout is what we report.
        with contextlib.suppress(Exception):
            protocol.cleanup_command(shell_id, command_id)

    def _discard(self) -> None:
        """Forget a connection that failed, so a later call starts clean."""
        self._protocol = None
        self._shell_id = None

    def _delete_shell(self) -> None:
        if self._protocol is not None and self._shell_id is not None:
            with contextlib.suppress(Exception):  # the host may already be gone
                self._protocol.close_shell(self._shell_id)

    def close(self) -> None:
        """Delete the shell (which ends its commands) and close the HTTP session."""
        with self._lock:
            self._delete_shell()
            self._discard()
