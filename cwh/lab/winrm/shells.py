"""Shell and command state for one endpoint: stdin buffering, when output becomes available, and
handing output out in Receive-sized pieces."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from .model import CommandResult, LabProcess
from .soap import SoapError, invalid_parameter, shell_not_found, timed_out


class Stopped(Exception):
    """The endpoint is stopping; the waiting request will never be answered."""


@dataclass
class Command:
    id: str
    process: LabProcess | None  # None: the command line was over the limit and "ran" silently
    started: float
    # WINRS_CONSOLEMODE_STDIN=TRUE: stdin is a console, so Sends are accepted and never read.
    console_stdin: bool = False
    stdin: bytearray = field(default_factory=bytearray)
    stdin_closed_at: float | None = None
    result: CommandResult | None = None
    error: str | None = None  # the lab process raised; every Receive reports it
    ready_at: float | None = None
    running: bool = False
    out_pos: int = 0
    err_pos: int = 0

    def input_ready_at(self) -> float | None:
        """When the process has all the input it waits for (None: not yet)."""
        if self.process is None or not self.process.reads_stdin or self.console_stdin:
            return self.started
        return self.stdin_closed_at

    def process_input(self) -> bytes:
        return b"" if self.console_stdin else bytes(self.stdin)


@dataclass
class Shell:
    id: str
    owner: str
    output_streams: tuple[str, ...] = ("stdout", "stderr")
    codepage: int = 437  # WINRS_CODEPAGE; absent, the console's OEM code page
    noprofile: bool = False  # WINRS_NOPROFILE
    commands: dict[str, Command] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    stdout: bytes
    stderr: bytes
    exit_code: int | None  # None: more output follows (CommandState Running)


class ShellTable:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shells: dict[str, Shell] = {}
        self._stopping = False

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._shells.clear()
            self._cond.notify_all()

    def create(
        self,
        owner: str,
        *,
        output_streams: tuple[str, ...] = ("stdout", "stderr"),
        codepage: int = 437,
        noprofile: bool = False,
    ) -> Shell:
        shell = Shell(str(uuid.uuid4()).upper(), owner, output_streams, codepage, noprofile)
        with self._cond:
            self._shells[shell.id] = shell
        return shell

    def delete(self, shell_id: str | None) -> None:
        with self._cond:
            if self._shells.pop(shell_id or "", None) is None:
                raise shell_not_found(shell_id)
            self._cond.notify_all()

    def require_shell(self, shell_id: str | None) -> Shell:
        with self._cond:
            shell = self._shells.get(shell_id or "")
        if shell is None:
            raise shell_not_found(shell_id)
        return shell

    def add_command(
        self, shell_id: str | None, process: LabProcess | None, *, console_stdin: bool = False
    ) -> Command:
        with self._cond:
            shell = self._shells.get(shell_id or "")
            if shell is None:
                raise shell_not_found(shell_id)
            command = Command(
                str(uuid.uuid4()).upper(), process, time.monotonic(), console_stdin=console_stdin
            )
            if process is None:
                command.result = CommandResult(b"")
                command.ready_at = command.started
            shell.commands[command.id] = command
            return command

    def _command(self, shell_id: str | None, command_id: str | None) -> Command:
        shell = self._shells.get(shell_id or "")
        if shell is None:
            raise shell_not_found(shell_id)
        command = shell.commands.get(command_id or "")
        if command is None:
            raise invalid_parameter(
                f"The command identifier {command_id} does not exist in shell {shell_id}."
            )
        return command

    def send(self, shell_id: str | None, command_id: str | None, data: bytes, end: bool) -> None:
        with self._cond:
            command = self._command(shell_id, command_id)
            if command.stdin_closed_at is not None:
                raise invalid_parameter("stdin of this command has already been closed")
            command.stdin += data
            if end:
                command.stdin_closed_at = time.monotonic()
            self._cond.notify_all()

    def signal(self, shell_id: str | None, command_id: str | None) -> None:
        with self._cond:
            self._command(shell_id, command_id)
            # Terminate: the command is gone; its output, if unread, is discarded as on Windows.
            self._shells[shell_id or ""].commands.pop(command_id or "", None)
            self._cond.notify_all()

    def receive(
        self,
        shell_id: str | None,
        command_id: str | None,
        timeout_s: float,
        max_bytes: int,
        streams: tuple[str, ...] = ("stdout", "stderr"),
    ) -> Chunk:
        """The next piece of the `streams` asked for (DesiredStream), waiting up to `timeout_s`
        for it (then the TimedOut fault). The process runs once, on the first Receive after its
        input is complete. Output of a stream not asked for stays for a Receive that asks."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._cond:
                if self._stopping:
                    raise Stopped
                command = self._command(shell_id, command_id)
                now = time.monotonic()
                if command.error is not None:
                    raise SoapError(2150858755, "w:InternalError", command.error, receiver=True)
                if (
                    command.result is not None
                    and command.ready_at is not None
                    and now >= command.ready_at
                ):
                    return _take(command, max_bytes, streams)
                input_at = command.input_ready_at()
                must_run = command.result is None and not command.running and input_at is not None
                if must_run:
                    command.running = True
                else:
                    if now >= deadline:
                        raise timed_out()
                    wake = deadline if command.ready_at is None else min(deadline, command.ready_at)
                    self._cond.wait(max(0.0, wake - now))
                    continue
                stdin = command.process_input()
                process = command.process
            # Run outside the lock: a handler may be slow, and other shells must not wait for it.
            assert process is not None and input_at is not None
            result, error = None, None
            try:
                result = process.run(stdin)
            except Exception as exc:  # a broken lab handler must surface, not hang the client
                error = f"lab process failed: {type(exc).__name__}: {exc}"
            with self._cond:
                command.running = False
                if result is not None:
                    command.result = result
                    command.ready_at = input_at + max(0.0, result.runtime_s)
                else:
                    command.error = error
                self._cond.notify_all()


def _take(command: Command, max_bytes: int, streams: tuple[str, ...]) -> Chunk:
    result = command.result
    assert result is not None
    out = err = b""
    if "stdout" in streams:
        out = result.stdout[command.out_pos : command.out_pos + max_bytes]
        command.out_pos += len(out)
    if "stderr" in streams:
        err = result.stderr[command.err_pos : command.err_pos + (max_bytes - len(out))]
        command.err_pos += len(err)
    # Done once every stream asked for is drained; the others keep what they hold.
    finished = ("stdout" not in streams or command.out_pos >= len(result.stdout)) and (
        "stderr" not in streams or command.err_pos >= len(result.stderr)
    )
    return Chunk(out, err, result.exit_code if finished else None)
